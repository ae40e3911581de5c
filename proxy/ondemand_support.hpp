#pragma once

#include <simdjson.h>

namespace tokenmeter {

/// The On-Demand parser of the calling thread, reused across payloads so that parsing does
/// not allocate in steady state. A document it returned dies at its next iterate(): callers
/// finish with one payload before parsing the next and copy what they keep.
simdjson::ondemand::parser& thread_json_parser();

/// Whether a document has been read to its end: after its root value was consumed, false
/// means trailing content (or a document cut short).
bool at_document_end(simdjson::ondemand::document& document) noexcept;

} // namespace tokenmeter
