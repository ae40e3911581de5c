#include "usage_tap.hpp"

#include "body_decoder.hpp"
#include "sse_scanner.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

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
  return !std::ranges::search(text, needle, [](unsigned char a, unsigned char b) {
            return std::tolower(a) == std::tolower(b);
          }).empty();
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

} // namespace

struct usage_tap::impl {
  api_schema schema;
  framing declared;                    ///< what Content-Type claims
  framing chosen = framing::undecided; ///< what the first meaningful byte showed
  body_decoder decoder;
  sse_scanner scanner;
  std::string body;                    ///< the JSON body, or the unterminated NDJSON line
  bool body_overflow = false;          ///< body exceeded its cap and was dropped
  std::string padded;                  ///< one reused, padded copy of the payload being parsed
  usage_state state;
  std::size_t bom_matched = 0;         ///< leading BOM bytes skipped so far
  bool finished = false;
  tap_result result;                   ///< set once by finish()

  impl(api_schema s, std::string_view content_type, std::string_view content_encoding)
      : schema(s), declared(declared_framing(content_type)), decoder(coding_for(content_encoding)) {}

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
      state.stream_complete = state.stream_complete || schema == api_schema::openai_chat;
      return;
    }
    if (!may_change_state(schema, event_type, data, state)) {
      return;
    }
    padded.reserve(data.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(data);
    parse(event_type, padded);
  }

  void parse(std::string_view event_type, std::string& json) {
    json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    extract_usage(schema, simdjson::padded_string_view(json), event_type, state);
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
      }
      break;
    case framing::undecided: break;
    }
    const normalised_usage normalised = normalise(schema, state.usage);
    result.usage = normalised.usage;
    result.source = normalised.usage.any() ? usage_source::reported : usage_source::missing;
    result.model = state.model;
    result.streamed = chosen == framing::sse || chosen == framing::ndjson;
    result.stream_complete = state.stream_complete;
  }
};

usage_tap::usage_tap(api_schema schema, std::string_view content_type, std::string_view content_encoding)
    : impl_(std::make_unique<impl>(schema, content_type, content_encoding)) {}

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
  }
  return impl_->result;
}

} // namespace tokenmeter
