#include "ondemand_support.hpp"

namespace tokenmeter {

simdjson::ondemand::parser& thread_json_parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

bool at_document_end(simdjson::ondemand::document& document) noexcept {
  // simdjson 3.0 has no document::at_end(); past the last token the location is out of bounds.
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

} // namespace tokenmeter
