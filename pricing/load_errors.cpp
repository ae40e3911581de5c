#include "load_errors.hpp"

#include <stdexcept>

namespace tokenmeter {

load_errors::load_errors(std::string_view origin) : origin_(origin) {}

void load_errors::add(const YAML::Node& at, const std::string& what) {
  const YAML::Mark mark = at.Mark();
  const std::string line = mark.is_null() ? "" : "line " + std::to_string(mark.line + 1) + ": ";
  errors_.push_back(line + what);
}

void load_errors::throw_if_any() const {
  if (errors_.empty()) {
    return;
  }
  std::string message = origin_ + ": invalid price file:";
  for (const std::string& error : errors_) {
    message += "\n  " + error;
  }
  throw std::runtime_error(message);
}

YAML::Node load_yaml_document(std::string_view text, std::string_view origin) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(std::string(origin) + ": not valid YAML: " + error.what());
  }
}

} // namespace tokenmeter
