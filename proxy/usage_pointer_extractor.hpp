#pragma once

#include "usage_extractor.hpp"

#include <string>
#include <string_view>

namespace tokenmeter {

struct usage_pointers; // config.hpp

/// Reads usage from an in-house shape described by configuration rather than code: each
/// counter and the model at an RFC 6901 JSON Pointer into the JSON body or each stream
/// event. The counters keep the OpenAI meaning (cached and reasoning are subsets of prompt
/// and completion). Holds its own copy of the pointers; immutable after construction.
class usage_pointer_extractor {
public:
  /// Copies the pointers; an empty pointer is not read.
  explicit usage_pointer_extractor(const usage_pointers& pointers);

  /// Reads one payload. With cumulative pointers the latest value of each counter wins;
  /// otherwise each payload's counters are added to the state's. Nothing is committed
  /// from a payload that is not a complete JSON document.
  payload_status extract(simdjson::padded_string_view json, usage_state& state) const noexcept;

  /// Whether a config value is a syntactically valid JSON Pointer ("" or "/a/b~1c/0").
  static bool is_valid_pointer(std::string_view pointer) noexcept;

private:
  std::string prompt_;
  std::string completion_;
  std::string cached_;
  std::string reasoning_;
  std::string total_;
  std::string model_;
  bool cumulative_;
};

} // namespace tokenmeter
