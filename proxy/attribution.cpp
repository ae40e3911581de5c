#include "attribution.hpp"

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
  if (value.size() > max_length) {
    value = value.substr(0, max_length);
    // Drop a UTF-8 sequence the cut left incomplete: continuation bytes are 10xxxxxx.
    std::size_t end = value.size();
    std::size_t continuations = 0;
    while (end > 0 && continuations < 3 && (static_cast<unsigned char>(value[end - 1]) & 0xC0) == 0x80)
      --end, ++continuations;
    if (end > 0) {
      const auto lead = static_cast<unsigned char>(value[end - 1]);
      const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (length > 1 && continuations + 1 < length) value = value.substr(0, end - 1);
    }
  }
  std::string out(value);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
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
