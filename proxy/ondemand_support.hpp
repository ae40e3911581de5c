#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>

namespace tokenmeter {

/// The On-Demand parser of the calling thread, reused across payloads so that parsing does
/// not allocate in steady state. A document it returned dies at its next iterate(): callers
/// finish with one payload before parsing the next and copy what they keep.
simdjson::ondemand::parser& thread_json_parser();

/// Whether a document has been read to its end: after its root value was consumed, false
/// means trailing content (or a document cut short).
bool at_document_end(simdjson::ondemand::document& document) noexcept;

/// A token count: a whole number from 0 to max_plausible_tokens, written as an integer or as a
/// number with nothing after the point (15.0, 1e3, as some gateways serialise counts); nullopt
/// for anything else (negative, fractional, a string, absurdly large).
std::optional<std::uint64_t> token_count(simdjson::ondemand::value value) noexcept;

} // namespace tokenmeter
