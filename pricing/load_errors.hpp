#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// The problems found in one price document, each with its line, collected rather than
/// thrown one by one so that a single edit-and-check cycle shows them all.
class load_errors {
public:
  /// `origin` names the document (a path, or "custom_prices") in the final message.
  explicit load_errors(std::string_view origin);

  /// Records a problem found at `at`; the line is added when the node has one.
  void add(const YAML::Node& at, const std::string& what);
  /// Throws std::runtime_error listing every recorded problem, if there is any.
  void throw_if_any() const;

private:
  std::string origin_;
  std::vector<std::string> errors_;
};

/// Loads YAML (JSON included) text, throwing std::runtime_error naming `origin` when it
/// does not parse.
YAML::Node load_yaml_document(std::string_view text, std::string_view origin);

} // namespace tokenmeter
