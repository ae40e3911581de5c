#include "ondemand_support.hpp"

#include "token_usage.hpp"

#include <cmath>

namespace tokenmeter {

simdjson::ondemand::parser& thread_json_parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

bool at_document_end(simdjson::ondemand::document& document) noexcept {
  // simdjson 3.0 has no document::at_end(); past the last token the location is out of bounds.
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

std::optional<std::uint64_t> token_count(simdjson::ondemand::value value) noexcept {
  simdjson::ondemand::number number;
  if (value.get_number().get(number) != simdjson::SUCCESS) return std::nullopt;
  std::uint64_t count = 0;
  switch (number.get_number_type()) {
  case simdjson::ondemand::number_type::unsigned_integer: count = number.get_uint64(); break;
  case simdjson::ondemand::number_type::signed_integer:
    if (number.get_int64() < 0) return std::nullopt;
    count = static_cast<std::uint64_t>(number.get_int64());
    break;
  case simdjson::ondemand::number_type::floating_point_number: {
    const double d = number.get_double();
    if (!(d >= 0) || d > static_cast<double>(max_plausible_tokens) || std::floor(d) != d) return std::nullopt;
    count = static_cast<std::uint64_t>(d);
    break;
  }
  default: return std::nullopt;
  }
  if (count > max_plausible_tokens) return std::nullopt;
  return count;
}

} // namespace tokenmeter
