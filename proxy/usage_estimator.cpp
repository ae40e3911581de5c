#include "usage_estimator.hpp"

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
  std::uint64_t per_message; ///< role markers and separators
  std::uint64_t per_name;    ///< a message's `name`
  std::uint64_t reply;       ///< the primed assistant turn
};

/// OpenAI's documented overheads (gpt-3.5-turbo-0613 onwards, gpt-4, gpt-4o); Llama 3's
/// header tokens (<|start_header_id|>, <|end_header_id|>, "\n\n", <|eot_id|>) and BOS.
chat_framing framing_of(vocabulary v) noexcept {
  if (v == vocabulary::llama3) return {4, 1, 5};
  return {3, 1, 3};
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
};

std::string_view string_of(value v) noexcept {
  std::string_view s;
  return v.get_string().get(s) ? std::string_view{} : s;
}

json_type type_of(value v) noexcept {
  json_type t = json_type::null;
  return v.type().get(t) ? json_type::null : t;
}

/// A JSON object or array counted as its text (tool inputs, tool definitions).
void add_raw(value v, tally& t) {
  std::string_view raw;
  const json_type type = type_of(v);
  if (type == json_type::object) {
    object o;
    if (!v.get_object().get(o) && !o.raw_json().get(raw) && raw != "{}") t.text(raw);
  } else if (type == json_type::array) {
    simdjson::ondemand::array a;
    if (!v.get_array().get(a) && !a.raw_json().get(raw) && raw != "[]") t.text(raw);
  } else {
    t.text(string_of(v));
  }
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

/// One chat message (or Responses input item) with its framing.
void add_message(value v, tally& t, const chat_framing& framing) {
  t.fixed(framing.per_message);
  object o;
  if (v.get_object().get(o)) return add_content(v, t, 1);
  for (auto field : o) {
    std::string_view key;
    value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) return;
    if (key == "role" || key == "tool_call_id" || key == "refusal" || key == "arguments" || key == "call_id")
      t.text(string_of(fv));
    else if (key == "name") {
      t.text(string_of(fv));
      t.fixed(framing.per_name);
    } else if (key == "content" || key == "tool_calls" || key == "function_call" || key == "output")
      add_content(fv, t, 1);
  }
}

void add_messages(value v, tally& t, const chat_framing& framing) {
  if (!for_each_element(v, [&](value item) { add_message(item, t, framing); })) add_message(v, t, framing);
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
  bool conversation = false;
  for (auto field : o) {
    std::string_view key;
    value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) break;
    if (key == "messages") {
      add_messages(fv, t, framing);
      conversation = true;
    } else if (key == "system" || key == "instructions") {
      t.fixed(framing.per_message);
      add_content(fv, t, 1);
      conversation = true;
    } else if (key == "input" && schema == api_schema::openai_responses) {
      add_messages(fv, t, framing);
      conversation = true;
    } else if (key == "input" || key == "prompt") {
      add_prompt_list(fv, t, 0);
    } else if (key == "tools" || key == "functions") {
      add_raw(fv, t);
    }
  }
  if (conversation) t.fixed(framing.reply);
  return t.total;
}

usage_estimator::count usage_estimator::completion_tokens(api_schema schema,
                                                          const std::vector<std::string_view>& payloads,
                                                          vocabulary v, std::uint64_t& reasoning) const {
  completion_text text;
  std::string padded;
  for (const std::string_view payload : payloads) collect_payload(schema, payload, text, padded);
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
  const count completion = completion_tokens(input.schema, input.payloads.views(), v, reasoning);
  estimate out;
  out.usage.prompt_tokens = prompt.tokens;
  out.usage.completion_tokens = completion.tokens;
  if (reasoning > 0) out.usage.reasoning_tokens = reasoning;
  out.fallback = prompt.fallback || completion.fallback;
  return out;
}

} // namespace tokenmeter
