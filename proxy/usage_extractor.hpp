#pragma once

#include "raw_usage.hpp"

#include <optional>
#include <string>
#include <string_view>

// Declared, not included: simdjson.h is 30k lines and this header reaches every file that
// includes usage_tap.hpp. Callers that build a padded_string_view include <simdjson.h>.
namespace simdjson {
class padded_string_view;
} // namespace simdjson

namespace tokenmeter {

/// The API dialect whose usage fields a response is read with.
enum class api_schema {
  openai_chat,        ///< Chat Completions, legacy Completions, Embeddings and compatible servers
  openai_responses,   ///< the Responses API
  anthropic_messages, ///< Anthropic Messages
  cohere_v2,          ///< Cohere's native v2 chat
};

/// The schema for a request path as the agent sent it (after any route prefix is stripped):
/// .../messages -> anthropic_messages, .../responses -> openai_responses, .../v2/chat ->
/// cohere_v2, else openai_chat.
api_schema schema_for_path(std::string_view path) noexcept;

/// The schema a config names: openai_chat, openai_responses, anthropic_messages, cohere_v2,
/// or ollama (whose native counters the openai_chat extractor reads); nullopt for anything else.
std::optional<api_schema> parse_schema_name(std::string_view name) noexcept;

std::string_view to_string(api_schema schema) noexcept;

/// Everything one exchange's payloads have told the extractor so far.
struct usage_state {
  raw_usage usage;              ///< merged, latest value per field
  std::string model;            ///< the first non-empty model the response named
  std::string service_tier;     ///< the latest non-empty service_tier the response named
  bool stream_complete = false; ///< a terminal marker was seen
  bool error_seen = false;      ///< an error event or error body was seen
};

/// How one payload was taken.
enum class payload_status {
  ok,      ///< a JSON object was read (it may or may not have carried usage)
  invalid, ///< not a complete JSON object: only the SSE event type was taken into account
};

/// Reads one Chat Completions (or compatible) payload: top-level `usage`, else Groq's
/// `x_groq.usage`, plus Ollama's native counters. `[DONE]` is not JSON and is not passed here.
payload_status extract_openai_chat(simdjson::padded_string_view json, std::string_view event_type,
                                   usage_state& state) noexcept;
/// Reads one Responses payload: `usage` of an unstreamed response or `response.usage`
/// of an event; a terminal event completes the stream.
payload_status extract_openai_responses(simdjson::padded_string_view json,
                                        std::string_view event_type, usage_state& state) noexcept;
/// Reads one Anthropic Messages payload: `usage` of a body or message_delta,
/// `message.usage` of message_start; message_stop completes the stream.
payload_status extract_anthropic_messages(simdjson::padded_string_view json,
                                          std::string_view event_type, usage_state& state) noexcept;
/// Reads one Cohere v2 payload: `usage.billed_units` of a body or `delta.usage.billed_units`
/// of message-end (what is billed, not the raw `tokens`); message-end completes the stream.
payload_status extract_cohere_v2(simdjson::padded_string_view json, std::string_view event_type,
                                 usage_state& state) noexcept;
/// Dispatches to the extractor of schema.
payload_status extract_usage(api_schema schema, simdjson::padded_string_view json,
                             std::string_view event_type, usage_state& state) noexcept;

/// Whether a payload can change the state, judged by a byte search without parsing: the
/// bulk of a stream (content deltas) is never parsed. True while the model is unknown, for
/// error and terminal events, and for payloads that mention usage.
bool may_change_state(api_schema schema, std::string_view event_type, std::string_view payload,
                      const usage_state& state) noexcept;

} // namespace tokenmeter
