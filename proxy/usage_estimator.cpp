#include "usage_estimator.hpp"

#include "function_definitions.hpp"
#include "ondemand_support.hpp"

#include <algorithm>
#include <array>

namespace tokenmeter {

namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

/// Nesting deeper than this is not read: real request and response bodies are shallow.
constexpr int max_depth = 16;

/// The tokens a chat format adds around each message and before the reply.
struct chat_framing {
  std::uint64_t per_message;       ///< role markers and separators
  std::uint64_t per_name;          ///< a message's `name`
  std::uint64_t reply;             ///< the primed assistant turn
  std::uint64_t per_function_call; ///< an assistant message's legacy `function_call`
  std::uint64_t function_role;     ///< taken off a `"role": "function"` message
  bool renders_functions;          ///< tool definitions become a TypeScript namespace
};

/// The rendered tool namespace's own wrapping, and what reusing an existing system message for
/// it saves (OpenAI's reported counts, measured by hmarr/openai-chat-tokens).
constexpr std::uint64_t function_namespace_tokens = 9;
constexpr std::uint64_t system_reuse_saving = 4;

/// OpenAI's documented overheads (gpt-3.5-turbo-0613 onwards, gpt-4, gpt-4o), with the legacy
/// function-message adjustments its reported counts show (measured against the API by
/// hmarr/openai-chat-tokens); Llama 3's header tokens (<|start_header_id|>, <|end_header_id|>,
/// "\n\n", <|eot_id|>) and BOS.
chat_framing framing_of(vocabulary v) noexcept {
  if (v == vocabulary::llama3) return {4, 1, 5, 0, 0, false};
  return {3, 1, 3, 3, 2, true};
}

const std::vector<std::pair<std::string, vocabulary>> default_families = {
    {"gpt-4o", vocabulary::o200k},       {"gpt-4.1", vocabulary::o200k},    {"gpt-4.5", vocabulary::o200k},
    {"gpt-5", vocabulary::o200k},        {"gpt-oss", vocabulary::o200k},    {"chatgpt-4o", vocabulary::o200k},
    {"o1", vocabulary::o200k},           {"o3", vocabulary::o200k},         {"o4", vocabulary::o200k},
    {"gpt-4", vocabulary::cl100k},       {"gpt-3.5", vocabulary::cl100k},   {"gpt-35", vocabulary::cl100k},
    {"text-embedding-3", vocabulary::cl100k}, {"text-embedding-ada", vocabulary::cl100k},
    {"llama-3", vocabulary::llama3},     {"llama3", vocabulary::llama3},    {"meta-llama-3", vocabulary::llama3},
};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains(std::string_view text, std::string_view part) noexcept { return text.find(part) != std::string_view::npos; }

/// Adds up the tokens of separate strings.
struct tally {
  const tokenizer* tokens_of;
  usage_estimator::count total;

  void text(std::string_view s) {
    if (s.empty()) return;
    if (tokens_of != nullptr) {
      total.tokens += tokens_of->count(s);
      return;
    }
    const auto code_points = static_cast<std::uint64_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    total.tokens += (code_points + usage_estimator::fallback_chars_per_token - 1) / usage_estimator::fallback_chars_per_token;
    total.fallback = true;
  }
  void fixed(std::uint64_t n) noexcept { total.tokens += n; }
  void take(std::uint64_t n) noexcept { total.tokens -= std::min(total.tokens, n); }
};

std::string_view string_of(value v) noexcept {
  std::string_view s;
  return v.get_string().get(s) ? std::string_view{} : s;
}

json_type type_of(value v) noexcept {
  json_type t = json_type::null;
  return v.type().get(t) ? json_type::null : t;
}

/// The JSON text of a value: an object or array whole, a scalar as its token ("none" quoted).
std::string_view raw_json_of(value v) noexcept {
  std::string_view raw;
  const json_type type = type_of(v);
  if (type == json_type::object) {
    object o;
    if (!v.get_object().get(o) && !o.raw_json().get(raw)) return raw;
  } else if (type == json_type::array) {
    simdjson::ondemand::array a;
    if (!v.get_array().get(a) && !a.raw_json().get(raw)) return raw;
  } else {
    return v.raw_json_token();
  }
  return {};
}

/// A JSON object or array counted as its text (tool inputs); a string as its value.
void add_raw(value v, tally& t) {
  const json_type type = type_of(v);
  if (type != json_type::object && type != json_type::array) return t.text(string_of(v));
  const std::string_view raw = raw_json_of(v);
  if (raw != "{}" && raw != "[]") t.text(raw);
}

/// Calls f on each element of an array; false when v is no array. A malformed element ends
/// the walk: what was read before it still counts.
template <class F> bool for_each_element(value v, F&& f) {
  simdjson::ondemand::array a;
  if (v.get_array().get(a)) return false;
  for (auto element : a) {
    value item;
    if (element.get(item)) break;
    f(item);
  }
  return true;
}

void add_content(value v, tally& t, int depth);

/// One content part or tool block: text, thinking, tool use (name and input), tool result.
void add_part(object o, tally& t, int depth) {
  for (auto field : o) {
    std::string_view key;
    value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return;
    if (key == "text" || key == "thinking" || key == "refusal" || key == "name" || key == "arguments")
      t.text(string_of(v));
    else if (key == "input")
      add_raw(v, t);
    else if (key == "content" || key == "output" || key == "function")
      add_content(v, t, depth + 1);
  }
}

/// A message's content: a string, or parts, or nested blocks.
void add_content(value v, tally& t, int depth) {
  if (depth > max_depth) return;
  switch (type_of(v)) {
  case json_type::string: t.text(string_of(v)); break;
  case json_type::object: {
    object o;
    if (!v.get_object().get(o)) add_part(o, t, depth);
    break;
  }
  case json_type::array: for_each_element(v, [&](value item) { add_content(item, t, depth + 1); }); break;
  default: break;
  }
}

/// A conversation being counted: its framing, and its first system message, which the API
/// extends when it renders tool definitions into it.
struct conversation {
  const chat_framing& framing;
  bool seen = false;
  bool has_system = false;
  std::string_view first_system_text; ///< in the parser's string buffer, valid for the document
};

/// One chat message (or Responses input item) with its framing.
void add_message(value v, tally& t, conversation& c) {
  const chat_framing& framing = c.framing;
  c.seen = true;
  t.fixed(framing.per_message);
  object o;
  if (v.get_object().get(o)) return add_content(v, t, 1);
  std::string_view role;
  std::string_view text;
  for (auto field : o) {
    std::string_view key;
    value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) break;
    if (key == "role") {
      role = string_of(fv);
      t.text(role);
    } else if (key == "content" && type_of(fv) == json_type::string) {
      text = string_of(fv);
      t.text(text);
    } else if (key == "tool_call_id" || key == "refusal" || key == "arguments" || key == "call_id") {
      t.text(string_of(fv));
    } else if (key == "name") {
      t.text(string_of(fv));
      t.fixed(framing.per_name);
    } else if (key == "function_call") {
      t.fixed(framing.per_function_call);
      add_content(fv, t, 1);
    } else if (key == "content" || key == "tool_calls" || key == "output") {
      add_content(fv, t, 1);
    }
  }
  if (role == "function") t.take(framing.function_role);
  if (role == "system" && !c.has_system) {
    c.has_system = true;
    c.first_system_text = text;
  }
}

void add_messages(value v, tally& t, conversation& c) {
  if (!for_each_element(v, [&](value item) { add_message(item, t, c); })) add_message(v, t, c);
}

/// Tool definitions and the request's function choice. OpenAI renders the definitions as a
/// namespace with a wrapping of its own, into the first system message if there is one (which
/// saves a few tokens and adds a newline to that message); a forced function costs its name and
/// 4 tokens, "none" one. Elsewhere, or when the definitions are not a list of named functions,
/// their JSON text is counted.
void add_tool_definitions(std::string_view definitions, std::string_view choice, bool render, tally& t,
                          const conversation& c) {
  const std::optional<std::string> rendered = render ? render_function_namespace(definitions) : std::nullopt;
  if (!rendered) {
    if (definitions != "[]") t.text(definitions);
    return;
  }
  t.text(*rendered);
  t.fixed(function_namespace_tokens);
  if (c.has_system) {
    tally padded{t.tokens_of, {}};
    padded.text(std::string(c.first_system_text) + "\n");
    tally plain{t.tokens_of, {}};
    plain.text(c.first_system_text);
    t.fixed(padded.total.tokens - std::min(padded.total.tokens, plain.total.tokens));
    t.take(system_reuse_saving);
  }
  if (choice == "\"none\"") {
    t.fixed(1);
  } else if (const std::size_t key = choice.find("\"name\""); key != std::string_view::npos) {
    // {"name":"f"}, or {"type":"function","function":{"name":"f"}}
    const std::size_t open = choice.find('"', choice.find(':', key) + 1);
    const std::size_t close = open == std::string_view::npos ? open : choice.find('"', open + 1);
    if (close != std::string_view::npos) t.text(choice.substr(open + 1, close - open - 1));
    t.fixed(4);
  }
}

/// Legacy prompt or embeddings input: strings, or token ids already counted for us.
void add_prompt_list(value v, tally& t, int depth) {
  if (depth > max_depth) return;
  switch (type_of(v)) {
  case json_type::string: t.text(string_of(v)); break;
  case json_type::number: t.fixed(1); break;
  case json_type::array: for_each_element(v, [&](value item) { add_prompt_list(item, t, depth + 1); }); break;
  default: break;
  }
}

/// Where a piece of response text is counted.
enum class channel { visible, reasoning };

/// The text of a response, per channel, concatenated before counting: stream deltas split
/// words, and counting each delta apart would count too many tokens.
struct completion_text {
  std::string visible;
  std::string reasoning;

  void add(channel c, std::string_view s) { (c == channel::reasoning ? reasoning : visible).append(s); }
};

void collect(value v, completion_text& out, channel c, int depth);

void collect_object(object o, completion_text& out, channel c, int depth) {
  for (auto field : o) {
    std::string_view key;
    value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return;
    const json_type type = type_of(v);
    if (key == "type" && type == json_type::string) {
      const std::string_view kind = string_of(v);
      if (contains(kind, "reasoning") || contains(kind, "thinking")) c = channel::reasoning;
    } else if (key == "reasoning_content" || key == "reasoning" || key == "thinking" || key == "summary") {
      collect(v, out, channel::reasoning, depth + 1);
    } else if (key == "input" && type == json_type::object) {
      std::string_view raw;
      object input;
      if (!v.get_object().get(input) && !input.raw_json().get(raw) && raw != "{}") out.add(c, raw);
    } else if (type == json_type::string) {
      if (key == "content" || key == "text" || key == "refusal" || key == "arguments" || key == "partial_json" ||
          key == "name" || key == "response")
        out.add(c, string_of(v));
    } else if (key == "choices" || key == "delta" || key == "message" || key == "content" || key == "tool_calls" ||
               key == "function" || key == "function_call" || key == "content_block" || key == "output") {
      collect(v, out, c, depth + 1);
    }
  }
}

void collect(value v, completion_text& out, channel c, int depth) {
  if (depth > max_depth) return;
  switch (type_of(v)) {
  case json_type::string: out.add(c, string_of(v)); break;
  case json_type::object: {
    object o;
    if (!v.get_object().get(o)) collect_object(o, out, c, depth);
    break;
  }
  case json_type::array: for_each_element(v, [&](value item) { collect(item, out, c, depth + 1); }); break;
  default: break;
  }
}

/// A Responses stream event: only `*.delta` events carry new text (the `*.done` and
/// `response.completed` events repeat it); a function call's name comes when it is added.
void collect_responses_event(object o, std::string_view type, completion_text& out) {
  const channel c = contains(type, "reasoning") ? channel::reasoning : channel::visible;
  const bool delta = type.ends_with(".delta");
  for (auto field : o) {
    std::string_view key;
    value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return;
    if (delta && key == "delta") out.add(c, string_of(v));
    if (type == "response.output_item.added" && key == "item") {
      object item;
      if (v.get_object().get(item)) return;
      for (auto item_field : item) {
        std::string_view item_key;
        value item_value;
        if (item_field.unescaped_key().get(item_key) || item_field.value().get(item_value)) return;
        if (item_key == "name") out.add(channel::visible, string_of(item_value));
      }
    }
  }
}

/// Parses one payload into `out`; a payload that is not JSON adds nothing.
void collect_payload(api_schema schema, std::string_view payload, completion_text& out, std::string& padded) {
  padded.assign(payload);
  padded.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::document doc;
  if (thread_json_parser().iterate(padded.data(), payload.size(), padded.size()).get(doc)) return;
  object o;
  if (doc.get_object().get(o)) return;
  if (schema == api_schema::openai_responses) {
    std::string_view type;
    if (!o["type"].get_string().get(type) && type.starts_with("response.")) {
      // Fields are read in order: start over after reading the type.
      if (o.reset().error()) return;
      return collect_responses_event(o, type, out);
    }
    if (o.reset().error()) return;
  }
  collect_object(o, out, channel::visible, 0);
}

} // namespace

usage_estimator::usage_estimator(const tokenizer_set& tokenizers, const std::map<std::string, std::string>& families)
    : tokenizers_(tokenizers), families_(default_families) {
  for (const auto& [start, name] : families) {
    const auto v = parse_vocabulary(name);
    if (!v) continue;
    const std::string key = lowercase(start);
    const auto same = std::find_if(families_.begin(), families_.end(), [&](const auto& f) { return f.first == key; });
    if (same != families_.end()) same->second = *v;
    else families_.emplace_back(key, *v);
  }
  std::stable_sort(families_.begin(), families_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

vocabulary usage_estimator::vocabulary_for(std::string_view model) const {
  std::string name = lowercase(model);
  if (const auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  for (const auto& [start, v] : families_)
    if (name.starts_with(start)) return v;
  return vocabulary::o200k;
}

usage_estimator::count usage_estimator::text_tokens(std::string_view text, vocabulary v) const {
  tally t{tokenizers_.find(v), {}};
  t.text(text);
  return t.total;
}

usage_estimator::count usage_estimator::prompt_tokens(api_schema schema, std::string_view request_body,
                                                      vocabulary v) const {
  tally t{tokenizers_.find(v), {}};
  const chat_framing framing = framing_of(v);
  std::string padded(request_body);
  padded.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::document doc;
  object o;
  if (thread_json_parser().iterate(padded.data(), request_body.size(), padded.size()).get(doc) ||
      doc.get_object().get(o))
    return t.total;
  conversation c{framing};
  std::string_view definitions;
  std::string_view choice;
  for (auto field : o) {
    std::string_view key;
    value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) break;
    if (key == "messages") {
      add_messages(fv, t, c);
    } else if (key == "system" || key == "instructions") {
      t.fixed(framing.per_message);
      add_content(fv, t, 1);
      c.seen = true;
    } else if (key == "input" && schema == api_schema::openai_responses) {
      add_messages(fv, t, c);
    } else if (key == "input" || key == "prompt") {
      add_prompt_list(fv, t, 0);
    } else if (key == "tools" || key == "functions") {
      definitions = raw_json_of(fv);
    } else if (key == "tool_choice" || key == "function_call") {
      choice = raw_json_of(fv);
    }
  }
  // Read after the loop: the first system message is known wherever the definitions stood.
  if (!definitions.empty())
    add_tool_definitions(definitions, choice, framing.renders_functions && schema != api_schema::anthropic_messages, t, c);
  if (c.seen) t.fixed(framing.reply);
  return t.total;
}

usage_estimator::count usage_estimator::completion_tokens(api_schema schema,
                                                          const relayed_payloads& payloads,
                                                          vocabulary v, std::uint64_t& reasoning) const {
  completion_text text;
  std::string padded;
  payloads.for_each([&](std::string_view payload) { collect_payload(schema, payload, text, padded); });
  tally t{tokenizers_.find(v), {}};
  t.text(text.reasoning);
  reasoning = t.total.tokens;
  t.text(text.visible);
  return t.total;
}

usage_estimator::estimate usage_estimator::estimate_exchange(const estimation_input& input,
                                                             std::string_view model) const {
  const vocabulary v = vocabulary_for(model);
  const count prompt = prompt_tokens(input.schema, input.request_body, v);
  std::uint64_t reasoning = 0;
  const count completion = completion_tokens(input.schema, input.payloads, v, reasoning);
  estimate out;
  out.usage.prompt_tokens = prompt.tokens;
  out.usage.completion_tokens = completion.tokens;
  if (reasoning > 0) out.usage.reasoning_tokens = reasoning;
  out.fallback = prompt.fallback || completion.fallback;
  return out;
}

} // namespace tokenmeter
