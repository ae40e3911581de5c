#include "attribution.hpp"

#include "utf8.hpp"

#include <algorithm>

#include <simdjson.h>

namespace tokenmeter {
namespace {

/// Reads "model" and "stream" from the top level of a JSON body; anything else,
/// including invalid JSON, leaves the tags as they are.
void read_body_fields(const std::string& body, request_tags& tags, std::size_t max_length) {
  std::size_t start = 0;
  while (start < body.size() && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' || body[start] == '\t'))
    ++start;
  if (start == body.size() || body[start] != '{') return;

  thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return;
    if (key == "model") {
      std::string_view model;
      if (!field.value().get_string().get(model)) tags.request_model = sanitize_tag(model, max_length);
    } else if (key == "stream") {
      bool stream = false;
      if (!field.value().get_bool().get(stream)) tags.stream = stream;
    }
  }
}

} // namespace

std::string sanitize_tag(std::string_view value, std::size_t max_length) {
  const bool cut = value.size() > max_length;
  if (cut) value = value.substr(0, max_length);
  // Nearly every tag is printable ASCII, which needs no cleaning and no cut repair.
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }))
    return std::string(value);
  // Tags become log fields, CSV cells and Prometheus labels, which must be valid UTF-8 without
  // control characters: each malformed byte and each control character becomes '?'.
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const std::size_t length = utf8_sequence_length(value.substr(i));
    // A character the cut left incomplete is dropped, never half kept.
    if (length == std::string_view::npos && cut) break;
    if (length == 0 || length == std::string_view::npos) {
      out.push_back('?');
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    if (length == 1 && (c < 0x20 || c == 0x7f)) out.push_back('?');
    else out.append(value.substr(i, length));
    i += length;
  }
  return out;
}

std::string_view azure_deployment(std::string_view path) noexcept {
  constexpr std::string_view marker = "/openai/deployments/";
  const std::size_t at = path.find(marker);
  if (at == std::string_view::npos) return {};
  std::string_view name = path.substr(at + marker.size());
  name = name.substr(0, name.find_first_of("/?"));
  return name;
}

request_tags read_request_tags(const boost::beast::http::fields& headers, const std::string& body,
                               const config& cfg, std::string_view path) {
  request_tags tags;
  if (const auto it = headers.find(cfg.session_header); it != headers.end())
    tags.session_id = sanitize_tag(it->value(), cfg.max_tag_length);
  if (const auto it = headers.find(cfg.node_header); it != headers.end())
    tags.node = sanitize_tag(it->value(), cfg.max_tag_length);
  read_body_fields(body, tags, cfg.max_tag_length);
  // Azure names the deployment in the path, not the body; the response model is the real snapshot.
  if (tags.request_model.empty()) tags.request_model = sanitize_tag(azure_deployment(path), cfg.max_tag_length);
  return tags;
}

} // namespace tokenmeter
