#include "usage_tap.hpp"

#include "body_decoder.hpp"
#include "sse_scanner.hpp"
#include "usage_pointer_extractor.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace tokenmeter {

namespace {

/// An unstreamed body larger than this is not metered (usage missing) rather than buffered.
constexpr std::size_t max_json_body_bytes = std::size_t{8} << 20;
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

/// How the decoded body is cut into JSON payloads.
enum class framing {
  undecided, ///< nothing but whitespace (or a BOM) seen yet
  sse,       ///< text/event-stream: one payload per event
  ndjson,    ///< one payload per line (Ollama's native API)
  json,      ///< the whole body is one payload
};

bool contains_nocase(std::string_view text, std::string_view needle) noexcept {
  // std::search rather than std::ranges::search, which clang 14 (the fuzz build) rejects with libstdc++ 12.
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](unsigned char a, unsigned char b) {
           return std::tolower(a) == std::tolower(b);
         }) != text.end();
}

framing declared_framing(std::string_view content_type) noexcept {
  if (contains_nocase(content_type, "text/event-stream")) {
    return framing::sse;
  }
  if (contains_nocase(content_type, "ndjson") || contains_nocase(content_type, "jsonl")) {
    return framing::ndjson;
  }
  return framing::json;
}

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// The framing the first meaningful byte shows, which beats the header when they disagree:
/// error bodies arrive as JSON on streaming requests, and some relays label SSE as JSON.
framing sniffed_framing(char first, framing declared) noexcept {
  if (first == '{' || first == '[') {
    return declared == framing::ndjson ? framing::ndjson : framing::json;
  }
  // An SSE stream starts with a comment or a field name (data, event, id, retry).
  if (first == ':' || first == 'd' || first == 'e' || first == 'i' || first == 'r') {
    return framing::sse;
  }
  return declared;
}

/// A subset count larger than its total (cache reads and writes above the prompt, reasoning
/// above the completion): kept as reported, but not to be trusted silently.
bool subsets_exceed_totals(const token_usage& usage) {
  const std::uint64_t cache = usage.cached_prompt_tokens.value_or(0) + usage.cache_write_tokens.value_or(0);
  return cache > usage.prompt_tokens.value_or(cache) ||
         usage.reasoning_tokens.value_or(0) > usage.completion_tokens.value_or(usage.reasoning_tokens.value_or(0));
}

void add_note(std::string& notes, bool happened, std::string_view note) {
  if (!happened) {
    return;
  }
  if (!notes.empty()) {
    notes.push_back(',');
  }
  notes.append(note);
}

} // namespace

struct usage_tap::impl {
  api_schema schema;
  framing declared;                    ///< what Content-Type claims
  framing chosen = framing::undecided; ///< what the first meaningful byte showed
  body_decoder decoder;
  sse_scanner scanner;
  std::string body;                    ///< the JSON body, or the unterminated NDJSON line
  bool body_overflow = false;          ///< body exceeded its cap and was dropped
  bool over_cap = false;               ///< some body or line exceeded the cap in this response
  std::string padded;                  ///< one reused, padded copy of the payload being parsed
  usage_state state;
  std::optional<usage_pointer_extractor> custom; ///< an in-house shape read by configured pointers
  std::size_t bom_matched = 0;         ///< leading BOM bytes skipped so far
  bool unparsed_payload = false;       ///< a payload that might have carried usage was not JSON
  bool finished = false;
  bool keep_payloads = false;          ///< copy each payload into payloads
  relayed_payloads payloads;           ///< for an estimate, should no usage arrive
  tap_result result;                   ///< set once by finish()

  impl(api_schema s, std::string_view content_type, std::string_view content_encoding, const usage_pointers* pointers,
       bool keep)
      : schema(s), declared(declared_framing(content_type)), decoder(coding_for(content_encoding)), keep_payloads(keep) {
    if (pointers != nullptr) {
      custom.emplace(*pointers);
    }
  }

  void take(std::string_view bytes) {
    if (chosen == framing::undecided && !choose_framing(bytes)) {
      return;
    }
    switch (chosen) {
    case framing::sse:
      while (scanner.next(bytes)) {
        on_payload(scanner.event().type, scanner.event().data);
      }
      break;
    case framing::ndjson: take_lines(bytes); break;
    case framing::json: append_body(bytes); break;
    case framing::undecided: break;
    }
  }

  /// Skips leading whitespace and a BOM; true once the first meaningful byte chose a framing.
  bool choose_framing(std::string_view& bytes) {
    while (!bytes.empty()) {
      const char c = bytes.front();
      const bool bom_byte = bom_matched < utf8_bom.size() && c == utf8_bom[bom_matched];
      if (!bom_byte && !is_blank(c)) {
        chosen = sniffed_framing(c, declared);
        return true;
      }
      // A BOM only counts at the very start.
      bom_matched = bom_byte ? bom_matched + 1 : utf8_bom.size();
      bytes.remove_prefix(1);
    }
    return false;
  }

  void take_lines(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::size_t eol = bytes.find('\n');
      if (eol == std::string_view::npos) {
        append_body(bytes);
        return;
      }
      const std::string_view piece = bytes.substr(0, eol);
      bytes.remove_prefix(eol + 1);
      if (body.empty() && !body_overflow) {
        on_line(piece);
      } else {
        append_body(piece);
        if (!body_overflow) {
          on_line(body);
        }
        body.clear();
        body_overflow = false;
      }
    }
  }

  void on_line(std::string_view line) {
    while (!line.empty() && is_blank(line.back())) {
      line.remove_suffix(1);
    }
    on_payload({}, line);
  }

  void append_body(std::string_view bytes) {
    if (body_overflow) {
      return;
    }
    if (body.size() + bytes.size() > max_json_body_bytes) {
      body_overflow = true;
      over_cap = true;
      body.clear();
      body.shrink_to_fit();
      return;
    }
    body.append(bytes);
  }

  void on_payload(std::string_view event_type, std::string_view data) {
    if (data.empty()) {
      return;
    }
    if (data == "[DONE]") {
      // Not JSON: the end marker of Chat Completions streams.
      state.stream_complete = state.stream_complete || schema == api_schema::openai_chat || custom;
      return;
    }
    if (keep_payloads) {
      payloads.add(data);
    }
    // An in-house shape may keep usage under any name, so each of its payloads is parsed.
    if (!custom && !may_change_state(schema, event_type, data, state)) {
      return;
    }
    padded.reserve(data.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(data);
    parse(event_type, padded);
  }

  void parse(std::string_view event_type, std::string& json) {
    json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    const simdjson::padded_string_view view(json);
    const payload_status status = custom ? custom->extract(view, state) : extract_usage(schema, view, event_type, state);
    unparsed_payload = unparsed_payload || status == payload_status::invalid;
  }

  void finish() {
    switch (chosen) {
    case framing::sse:
      if (scanner.finish()) {
        on_payload(scanner.event().type, scanner.event().data);
      }
      break;
    case framing::ndjson:
      if (!body_overflow) {
        on_line(body);
      }
      break;
    case framing::json:
      if (!body_overflow && !body.empty()) {
        parse({}, body);
        if (keep_payloads) {
          payloads.add(body);
        }
      }
      break;
    case framing::undecided: break;
    }
    const normalised_usage normalised = normalise(schema, state.usage);
    // Counts next to an unreadable one are not trusted: unknown, never a silent zero.
    if (!state.usage.unreadable) result.usage = normalised.usage;
    result.source = result.usage.any() ? usage_source::reported : usage_source::missing;
    result.model = state.model;
    result.streamed = chosen == framing::sse || chosen == framing::ndjson;
    result.stream_complete = state.stream_complete;
    result.provider_cost_pico_usd = state.usage.cost_pico_usd;
    result.service_tier = state.service_tier;
    add_note(result.notes, state.usage.unreadable, "usage_unreadable");
    add_note(result.notes, normalised.total_gap_booked, "total_gap_booked");
    // Ollama leaves prompt_eval_count out when the prompt came from its cache: the prompt is
    // unknown, not zero, and the row says so.
    add_note(result.notes, result.usage.completion_tokens && !result.usage.prompt_tokens, "prompt_tokens_missing");
    add_note(result.notes, subsets_exceed_totals(result.usage), "usage_inconsistent");
    add_note(result.notes, state.error_seen, "error_event");
    add_note(result.notes, over_cap, "body_over_cap");
    add_note(result.notes, decoder.failed(), "decode_failed");
    add_note(result.notes, scanner.dropped_lines() > 0, "sse_line_dropped");
    add_note(result.notes, unparsed_payload, "payload_unparsed");
    result.unreadable_body = unparsed_payload || decoder.failed();
  }
};

usage_tap::usage_tap(api_schema schema, std::string_view content_type, std::string_view content_encoding,
                     const usage_pointers* custom, bool keep_payloads)
    : impl_(std::make_unique<impl>(schema, content_type, content_encoding, custom, keep_payloads)) {}

usage_tap::~usage_tap() = default;

void usage_tap::feed(std::string_view bytes) {
  if (impl_->finished) {
    return;
  }
  for (std::string_view decoded = impl_->decoder.decode(bytes); !decoded.empty();
       decoded = impl_->decoder.decode(bytes)) {
    impl_->take(decoded);
  }
}

tap_result usage_tap::finish() {
  if (!impl_->finished) {
    impl_->finished = true;
    impl_->finish();
    tap_result first = impl_->result;
    first.payloads = std::move(impl_->payloads);
    return first;
  }
  return impl_->result;
}

} // namespace tokenmeter
