#include "stream_options_injector.hpp"

#include "ondemand_support.hpp"

namespace tokenmeter {

namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view include_usage_member = R"("include_usage":true)";

/// One textual edit: replace `length` bytes at `offset` with `text`.
struct edit {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string_view text;
};

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// Where a value starts in the padded copy, as an offset into the original body.
std::size_t offset_of(od::value value, const char* base) {
  return static_cast<std::size_t>(value.raw_json_token().data() - base);
}

/// The edit that makes an existing stream_options object ask for usage, or nullopt when it
/// already does or holds include_usage in a form that is not ours to reinterpret.
std::optional<edit> edit_stream_options(od::value options, const char* base, std::string_view body, bool& failed) {
  od::json_type type;
  if (options.type().get(type) != simdjson::SUCCESS) {
    failed = true;
    return std::nullopt;
  }
  const std::size_t start = offset_of(options, base);
  if (type == od::json_type::null) {
    return edit{start, 4, R"({"include_usage":true})"};
  }
  if (type != od::json_type::object) {
    failed = true;
    return std::nullopt;
  }
  od::object object;
  if (options.get_object().get(object) != simdjson::SUCCESS) {
    failed = true;
    return std::nullopt;
  }
  std::optional<edit> change;
  bool has_key = false;
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) {
      failed = true;
      return std::nullopt;
    }
    if (key != "include_usage") {
      continue;
    }
    // A repeated key: the last one is the one upstreams read.
    has_key = true;
    change.reset();
    od::value value = field.value();
    od::json_type value_type;
    bool flag = false;
    if (value.type().get(value_type) != simdjson::SUCCESS) {
      failed = true;
      return std::nullopt;
    }
    const std::size_t at = offset_of(value, base);
    if (value_type == od::json_type::null) {
      change = edit{at, 4, "true"};
    } else if (value_type == od::json_type::boolean && value.get_bool().get(flag) == simdjson::SUCCESS) {
      if (!flag) {
        change = edit{at, 5, "true"};
      }
    } else {
      failed = true;
      return std::nullopt;
    }
  }
  if (has_key) {
    return change;
  }
  // Insert the member right after the opening brace, with a comma unless the object is empty.
  std::size_t after = start + 1;
  while (after < body.size() && is_blank(body[after])) {
    ++after;
  }
  const bool empty = after < body.size() && body[after] == '}';
  return edit{start + 1, 0, empty ? include_usage_member : std::string_view(R"("include_usage":true,)")};
}

} // namespace

std::optional<std::string> inject_include_usage(std::string_view body) {
  std::size_t first = 0;
  while (first < body.size() && is_blank(body[first])) {
    ++first;
  }
  if (first == body.size() || body[first] != '{') {
    return std::nullopt;
  }
  const simdjson::padded_string padded(body);
  od::document document;
  od::object root;
  if (thread_json_parser().iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  const char* base = padded.data();
  bool stream = false;
  bool has_options = false;
  bool failed = false;
  std::optional<edit> change;
  for (auto member : root) {
    od::field field;
    std::string_view key;
    if (std::move(member).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    if (key == "stream") {
      bool flag = false;
      stream = field.value().get_bool().get(flag) == simdjson::SUCCESS && flag;
    } else if (key == "stream_options") {
      has_options = true;
      failed = false;
      change = edit_stream_options(field.value(), base, body, failed);
    }
  }
  if (!at_document_end(document) || !stream || failed) {
    return std::nullopt;
  }
  if (has_options) {
    if (!change) {
      return std::nullopt;
    }
  } else {
    std::size_t last = body.size();
    while (last > 0 && is_blank(body[last - 1])) {
      --last;
    }
    change = edit{last - 1, 0, R"(,"stream_options":{"include_usage":true})"};
  }
  std::string out;
  out.reserve(body.size() + change->text.size());
  out.append(body.substr(0, change->offset));
  out.append(change->text);
  out.append(body.substr(change->offset + change->length));
  return out;
}

} // namespace tokenmeter
