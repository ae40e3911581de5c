#include "usage_extractor.hpp"

#include "ondemand_support.hpp"
#include "pico_usd.hpp"

#include <simdjson.h>

#include <array>
#include <limits>
#include <utility>

namespace tokenmeter {

namespace {

namespace od = simdjson::ondemand;
using count_field = std::optional<std::uint64_t> raw_usage::*;

/// Where each counter of a usage object lands. The names of all dialects share one
/// table: they do not collide, and normalise() applies each dialect's meaning.
constexpr std::array<std::pair<std::string_view, count_field>, 9> usage_counters{{
    {"prompt_tokens", &raw_usage::input},
    {"input_tokens", &raw_usage::input},
    {"completion_tokens", &raw_usage::output},
    {"output_tokens", &raw_usage::output},
    {"total_tokens", &raw_usage::total},
    {"prompt_cache_hit_tokens", &raw_usage::cache_hit},
    {"cached_tokens", &raw_usage::cached_flat},
    {"cache_read_input_tokens", &raw_usage::cache_read},
    {"cache_creation_input_tokens", &raw_usage::cache_write},
}};

/// The detail objects of a usage object and the one counter read from each.
struct detail_counter {
  std::string_view object;
  std::string_view counter;
  count_field target;
};
constexpr std::array<detail_counter, 5> usage_details{{
    {"cache_creation", "ephemeral_1h_input_tokens", &raw_usage::cache_write_1h},
    {"prompt_tokens_details", "cached_tokens", &raw_usage::cached},
    {"input_tokens_details", "cached_tokens", &raw_usage::cached},
    {"completion_tokens_details", "reasoning_tokens", &raw_usage::reasoning},
    {"output_tokens_details", "reasoning_tokens", &raw_usage::reasoning},
}};

/// What one payload said; committed to the exchange's state only if the payload parses.
struct payload_facts {
  raw_usage usage;
  raw_usage nested_usage; ///< a fallback location (Groq's x_groq.usage)
  std::string model;
  std::string service_tier;
  bool complete = false;
  bool error = false;
};

/// Sets a counter from a token count. null means "not reported"; anything else that is not a
/// plausible whole number (negative, fractional, a string, absurdly large) makes the whole
/// usage block untrustworthy rather than silently zero.
void set_count(raw_usage& usage, count_field field, od::value value) {
  if (od::json_type type; value.type().get(type) == simdjson::SUCCESS && type == od::json_type::null) {
    return;
  }
  const std::optional<std::uint64_t> count = token_count(value);
  if (!count) {
    usage.unreadable = true;
    return;
  }
  usage.*field = count;
}

/// Iterates the fields of value if it is an object (anything else is skipped, not an error).
template <class on_field>
simdjson::error_code for_each_field(od::value value, on_field&& visit) {
  od::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return simdjson::SUCCESS;
  }
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (auto error = std::move(member).get(field); error != simdjson::SUCCESS) {
      return error;
    }
    if (auto error = field.unescaped_key().get(key); error != simdjson::SUCCESS) {
      return error;
    }
    if (auto error = visit(key, field.value()); error != simdjson::SUCCESS) {
      return error;
    }
  }
  return simdjson::SUCCESS;
}

/// A cost in USD as exact pico-USD, from the number's own text.
void read_cost(od::value value, raw_usage& usage) {
  od::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS || type != od::json_type::number) {
    return;
  }
  std::string_view token = value.raw_json_token();
  // The token runs up to the next one: drop the whitespace in between.
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' || token.back() == '\n')) {
    token.remove_suffix(1);
  }
  if (auto pico = pico_usd_from_json_number(token)) {
    usage.cost_pico_usd = pico;
  }
}

void read_text(od::value value, std::string& text) {
  std::string_view read;
  if (value.get_string().get(read) == simdjson::SUCCESS && !read.empty()) {
    text.assign(read);
  }
}

/// Reads a usage object's counters into usage; a service_tier inside it (Anthropic) into tier.
simdjson::error_code read_usage(od::value value, raw_usage& usage, std::string& tier) {
  if (od::json_type type; value.type().get(type) != simdjson::SUCCESS || type != od::json_type::object) {
    return simdjson::SUCCESS;
  }
  usage.seen = true;
  return for_each_field(value, [&usage, &tier](std::string_view key, od::value member) {
    if (key == "cost") {
      read_cost(member, usage);
      return simdjson::SUCCESS;
    }
    if (key == "service_tier") {
      read_text(member, tier);
      return simdjson::SUCCESS;
    }
    for (const auto& [name, target] : usage_counters) {
      if (key == name) {
        set_count(usage, target, member);
        return simdjson::SUCCESS;
      }
    }
    for (const auto& detail : usage_details) {
      if (key == detail.object) {
        return for_each_field(member, [&](std::string_view inner, od::value count) {
          if (inner == detail.counter) {
            set_count(usage, detail.target, count);
          }
          return simdjson::SUCCESS;
        });
      }
    }
    return simdjson::SUCCESS;
  });
}

void read_model(od::value value, std::string& model) {
  std::string_view name;
  if (model.empty() && value.get_string().get(name) == simdjson::SUCCESS) {
    model.assign(name);
  }
}

bool is_present(od::value value) {
  od::json_type type;
  return value.type().get(type) == simdjson::SUCCESS && type != od::json_type::null;
}

/// What an event's type (the SSE `event:` line or the payload's `type`) says about the stream.
struct event_kind {
  bool terminal = false;
  bool error = false;
};

event_kind classify_event_type(api_schema schema, std::string_view type) noexcept {
  event_kind kind;
  kind.error = type == "error";
  switch (schema) {
  case api_schema::openai_chat: break;
  case api_schema::openai_responses:
    kind.terminal = type == "response.completed" || type == "response.incomplete" || type == "response.failed";
    kind.error = kind.error || type == "response.failed";
    break;
  case api_schema::anthropic_messages: kind.terminal = type == "message_stop"; break;
  case api_schema::cohere_v2: kind.terminal = type == "message-end"; break;
  }
  return kind;
}

void read_type(api_schema schema, od::value value, payload_facts& facts) {
  std::string_view type;
  if (value.get_string().get(type) == simdjson::SUCCESS) {
    const event_kind kind = classify_event_type(schema, type);
    facts.complete = facts.complete || kind.terminal;
    facts.error = facts.error || kind.error;
  }
}

/// The fields every dialect reads the same way at the top level of a payload.
simdjson::error_code read_common(api_schema schema, std::string_view key, od::value value,
                                 payload_facts& facts) {
  if (key == "usage") {
    return read_usage(value, facts.usage, facts.service_tier);
  }
  if (key == "model") {
    read_model(value, facts.model);
  } else if (key == "service_tier") {
    read_text(value, facts.service_tier);
  } else if (key == "type") {
    read_type(schema, value, facts);
  } else if (key == "error") {
    facts.error = facts.error || is_present(value);
  }
  return simdjson::SUCCESS;
}

/// An object nested in an event that holds that event's usage and model
/// (Responses `response`, Anthropic `message`).
simdjson::error_code read_envelope(od::value value, payload_facts& facts) {
  return for_each_field(value, [&facts](std::string_view key, od::value member) {
    if (key == "usage") {
      return read_usage(member, facts.usage, facts.service_tier);
    }
    if (key == "model") {
      read_model(member, facts.model);
    } else if (key == "service_tier") {
      read_text(member, facts.service_tier);
    }
    return simdjson::SUCCESS;
  });
}

simdjson::error_code read_chat_field(std::string_view key, od::value value, payload_facts& facts) {
  if (key == "x_groq") {
    return for_each_field(value, [&facts](std::string_view inner, od::value member) {
      return inner == "usage" ? read_usage(member, facts.nested_usage, facts.service_tier) : simdjson::SUCCESS;
    });
  }
  if (key == "object") {
    // vLLM reports errors as {"object":"error",...}.
    std::string_view object;
    facts.error = facts.error || (value.get_string().get(object) == simdjson::SUCCESS && object == "error");
  } else if (key == "prompt_eval_count" || key == "eval_count") {
    // Ollama's native API: NDJSON objects with counters at the top level.
    facts.usage.seen = true;
    set_count(facts.usage, key == "eval_count" ? &raw_usage::output : &raw_usage::input, value);
  } else if (key == "done") {
    bool done = false;
    facts.complete = facts.complete || (value.get_bool().get(done) == simdjson::SUCCESS && done);
  } else {
    return read_common(api_schema::openai_chat, key, value, facts);
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_responses_field(std::string_view key, od::value value, payload_facts& facts) {
  if (key == "response") {
    return read_envelope(value, facts);
  }
  return read_common(api_schema::openai_responses, key, value, facts);
}

simdjson::error_code read_anthropic_field(std::string_view key, od::value value, payload_facts& facts) {
  if (key == "message") {
    return read_envelope(value, facts);
  }
  return read_common(api_schema::anthropic_messages, key, value, facts);
}

/// Cohere bills `billed_units`; `tokens` also counts the prompt template and is not read.
simdjson::error_code read_cohere_usage(od::value value, payload_facts& facts) {
  return for_each_field(value, [&facts](std::string_view key, od::value member) {
    return key == "billed_units" ? read_usage(member, facts.usage, facts.service_tier) : simdjson::SUCCESS;
  });
}

simdjson::error_code read_cohere_field(std::string_view key, od::value value, payload_facts& facts) {
  if (key == "usage") {
    return read_cohere_usage(value, facts);
  }
  if (key == "delta") {
    // message-end carries the usage of the whole response under delta.
    return for_each_field(value, [&facts](std::string_view inner, od::value member) {
      return inner == "usage" ? read_cohere_usage(member, facts) : simdjson::SUCCESS;
    });
  }
  return read_common(api_schema::cohere_v2, key, value, facts);
}

/// Parses one payload, visits its top-level fields only, and commits what it found.
template <class field_reader>
payload_status extract(api_schema schema, simdjson::padded_string_view json,
                       std::string_view event_type, usage_state& state, field_reader&& read_field) {
  // The SSE event type counts even when the payload turns out not to be JSON.
  const event_kind kind = classify_event_type(schema, event_type);
  state.stream_complete = state.stream_complete || kind.terminal;
  state.error_seen = state.error_seen || kind.error;

  payload_facts facts;
  od::document document;
  od::value root;
  od::json_type type;
  if (thread_json_parser().iterate(json).get(document) != simdjson::SUCCESS ||
      document.get_value().get(root) != simdjson::SUCCESS || root.type().get(type) != simdjson::SUCCESS ||
      type != od::json_type::object ||
      for_each_field(root, [&](std::string_view key, od::value value) { return read_field(key, value, facts); }) !=
          simdjson::SUCCESS) {
    return payload_status::invalid;
  }

  state.usage.merge(facts.usage.seen ? facts.usage : facts.nested_usage);
  if (state.model.empty()) {
    state.model = std::move(facts.model);
  }
  if (!facts.service_tier.empty()) {
    state.service_tier = std::move(facts.service_tier);
  }
  state.stream_complete = state.stream_complete || facts.complete;
  state.error_seen = state.error_seen || facts.error;
  return payload_status::ok;
}

/// Whether a key named usage has a value other than null: with include_usage every chunk
/// carries "usage":null, which changes nothing and need not be parsed.
bool mentions_usage_value(std::string_view payload) noexcept {
  constexpr std::string_view key = "usage\"";
  for (std::size_t at = payload.find(key); at != std::string_view::npos; at = payload.find(key, at + 1)) {
    std::string_view rest = payload.substr(at + key.size());
    while (!rest.empty() && (rest.front() == ':' || rest.front() == ' ' || rest.front() == '\t' ||
                             rest.front() == '\r' || rest.front() == '\n')) {
      rest.remove_prefix(1);
    }
    if (!rest.starts_with("null")) {
      return true;
    }
  }
  return false;
}

} // namespace

api_schema schema_for_path(std::string_view path) noexcept {
  path = path.substr(0, path.find('?'));
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path.ends_with("/messages")) {
    return api_schema::anthropic_messages;
  }
  if (path.ends_with("/responses")) {
    return api_schema::openai_responses;
  }
  if (path.ends_with("/v2/chat")) {
    return api_schema::cohere_v2;
  }
  return api_schema::openai_chat;
}

std::optional<api_schema> parse_schema_name(std::string_view name) noexcept {
  for (api_schema schema : {api_schema::openai_chat, api_schema::openai_responses, api_schema::anthropic_messages,
                            api_schema::cohere_v2}) {
    if (name == to_string(schema)) {
      return schema;
    }
  }
  if (name == "ollama") {
    return api_schema::openai_chat;
  }
  return std::nullopt;
}

std::string_view to_string(api_schema schema) noexcept {
  switch (schema) {
  case api_schema::openai_chat: return "openai_chat";
  case api_schema::openai_responses: return "openai_responses";
  case api_schema::anthropic_messages: return "anthropic_messages";
  case api_schema::cohere_v2: return "cohere_v2";
  }
  return "openai_chat";
}

payload_status extract_openai_chat(simdjson::padded_string_view json, std::string_view event_type,
                                   usage_state& state) noexcept {
  return extract(api_schema::openai_chat, json, event_type, state, read_chat_field);
}

payload_status extract_openai_responses(simdjson::padded_string_view json, std::string_view event_type,
                                        usage_state& state) noexcept {
  return extract(api_schema::openai_responses, json, event_type, state, read_responses_field);
}

payload_status extract_anthropic_messages(simdjson::padded_string_view json,
                                          std::string_view event_type, usage_state& state) noexcept {
  return extract(api_schema::anthropic_messages, json, event_type, state, read_anthropic_field);
}

payload_status extract_cohere_v2(simdjson::padded_string_view json, std::string_view event_type,
                                 usage_state& state) noexcept {
  return extract(api_schema::cohere_v2, json, event_type, state, read_cohere_field);
}

payload_status extract_usage(api_schema schema, simdjson::padded_string_view json,
                             std::string_view event_type, usage_state& state) noexcept {
  switch (schema) {
  case api_schema::openai_chat: return extract_openai_chat(json, event_type, state);
  case api_schema::openai_responses: return extract_openai_responses(json, event_type, state);
  case api_schema::anthropic_messages: return extract_anthropic_messages(json, event_type, state);
  case api_schema::cohere_v2: return extract_cohere_v2(json, event_type, state);
  }
  return payload_status::invalid;
}

bool may_change_state(api_schema schema, std::string_view event_type, std::string_view payload,
                      const usage_state& state) noexcept {
  const event_kind kind = classify_event_type(schema, event_type);
  if (state.model.empty() || kind.terminal || kind.error) {
    return true;
  }
  // Markers start with a letter rather than the quote that opens every JSON string, so
  // the byte search skips ahead quickly; over-matching only costs a parse.
  const auto mentions = [payload](std::string_view marker) {
    return payload.find(marker) != std::string_view::npos;
  };
  if (mentions_usage_value(payload) || mentions("error\"")) {
    return true;
  }
  switch (schema) {
  case api_schema::openai_chat: return mentions("eval_count\"") || mentions("done\"");
  case api_schema::openai_responses:
    return mentions("response.completed") || mentions("response.incomplete") || mentions("response.failed");
  case api_schema::anthropic_messages: return mentions("message_stop");
  case api_schema::cohere_v2: return mentions("message-end");
  }
  return true;
}

} // namespace tokenmeter
