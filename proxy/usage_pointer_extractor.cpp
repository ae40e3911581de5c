#include "usage_pointer_extractor.hpp"

#include "config.hpp"
#include "ondemand_support.hpp"

#include <simdjson.h>

#include <array>
#include <limits>
#include <utility>

namespace tokenmeter {

namespace {

namespace od = simdjson::ondemand;

/// A pointer that names nothing in this payload is not an error; a broken payload is.
bool is_absence(simdjson::error_code error) noexcept {
  return error == simdjson::NO_SUCH_FIELD || error == simdjson::INDEX_OUT_OF_BOUNDS ||
         error == simdjson::INCORRECT_TYPE;
}

/// Reads the count at pointer into target (a value that is present but not a plausible count
/// marks `read` unreadable); false when the payload itself is broken.
bool read_count_at(od::document& document, const std::string& pointer, std::optional<std::uint64_t>& target,
                   raw_usage& read) {
  if (pointer.empty()) {
    return true;
  }
  od::value value;
  if (auto error = document.at_pointer(pointer).get(value); error != simdjson::SUCCESS) {
    return is_absence(error);
  }
  if (od::json_type type; value.type().get(type) == simdjson::SUCCESS && type == od::json_type::null) {
    return true;
  }
  read.seen = true;
  if (const std::optional<std::uint64_t> count = token_count(value)) {
    target = count;
  } else {
    read.unreadable = true;
  }
  return true;
}

bool read_text_at(od::document& document, const std::string& pointer, std::string& target) {
  if (pointer.empty()) {
    return true;
  }
  od::value value;
  if (auto error = document.at_pointer(pointer).get(value); error != simdjson::SUCCESS) {
    return is_absence(error);
  }
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    target.assign(text);
  }
  return true;
}

/// Walks the whole document once: a payload cut short or followed by garbage fails here
/// even when every pointer resolved before the damage.
bool is_complete_object(od::document& document) {
  document.rewind();
  od::object root;
  std::string_view raw;
  return document.get_object().get(root) == simdjson::SUCCESS && root.raw_json().get(raw) == simdjson::SUCCESS &&
         at_document_end(document);
}

} // namespace

usage_pointer_extractor::usage_pointer_extractor(const usage_pointers& pointers)
    : prompt_(pointers.prompt), completion_(pointers.completion), cached_(pointers.cached),
      reasoning_(pointers.reasoning), total_(pointers.total), model_(pointers.model),
      cumulative_(pointers.cumulative) {}

payload_status usage_pointer_extractor::extract(simdjson::padded_string_view json, usage_state& state) const noexcept {
  od::document document;
  if (thread_json_parser().iterate(json).get(document) != simdjson::SUCCESS || !is_complete_object(document)) {
    return payload_status::invalid;
  }
  raw_usage read;
  std::string model;
  const std::array<std::pair<const std::string*, std::optional<std::uint64_t>*>, 5> counters{{
      {&prompt_, &read.input},
      {&completion_, &read.output},
      {&cached_, &read.cached},
      {&reasoning_, &read.reasoning},
      {&total_, &read.total},
  }};
  for (const auto& [pointer, target] : counters) {
    if (!read_count_at(document, *pointer, *target, read)) {
      return payload_status::invalid;
    }
  }
  if (!read_text_at(document, model_, model)) {
    return payload_status::invalid;
  }
  if (cumulative_) {
    state.usage.merge(read);
  } else {
    state.usage.accumulate(read);
  }
  if (state.model.empty()) {
    state.model = std::move(model);
  }
  return payload_status::ok;
}

bool usage_pointer_extractor::is_valid_pointer(std::string_view pointer) noexcept {
  if (pointer.empty()) {
    return true;
  }
  if (pointer.front() != '/') {
    return false;
  }
  for (std::size_t at = pointer.find('~'); at != std::string_view::npos; at = pointer.find('~', at + 1)) {
    if (at + 1 == pointer.size() || (pointer[at + 1] != '0' && pointer[at + 1] != '1')) {
      return false;
    }
  }
  return true;
}

} // namespace tokenmeter
