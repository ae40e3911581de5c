// libFuzzer target for the request path's header handling: the agent's bytes go through the
// same Beast parser limits as downstream_session, then through attribution and the hop-by-hop
// filter. Besides "no crash, no leak, no UB", it checks what the relay relies on:
//   - session and node tags are at most max_tag_length bytes and hold no control character;
//   - no hop-by-hop field, and no field the Connection header names, is copied upstream;
//   - the narrowed Accept-Encoding names only codings the tap decodes.
// Input: byte 0 picks max_tag_length (1..64) and byte 1 the read size; the rest is the request.

#include "attribution.hpp"
#include "config.hpp"
#include "request_rewriter.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace tokenmeter;
namespace http = boost::beast::http;

void require(bool condition) {
  if (!condition) std::abort();
}

void require_clean_tag(std::string_view tag, std::size_t max_length) {
  require(tag.size() <= max_length);
  for (const char c : tag) require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

/// True when the comma-separated list names `token` (case-insensitive, spaces trimmed).
bool lists(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty() && boost::beast::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void check_forwarded_fields(const http::fields& from) {
  static constexpr std::array<std::string_view, 9> hop_by_hop{
      "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
      "te",         "trailer",    "transfer-encoding", "upgrade"};
  http::fields to;
  copy_end_to_end_fields(from, to, "X-Upstream");
  const std::string_view connection = from[http::field::connection];
  for (const auto& field : to) {
    for (const auto name : hop_by_hop) require(!boost::beast::iequals(field.name_string(), name));
    require(!boost::beast::iequals(field.name_string(), "x-upstream"));
    require(!lists(connection, field.name_string()));
  }
}

void check_accept_encoding(std::string_view value) {
  const std::string narrowed = narrow_accept_encoding(value);
  std::string_view rest = narrowed;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    require(item.empty() || boost::beast::iequals(item, "gzip") || boost::beast::iequals(item, "deflate") ||
            boost::beast::iequals(item, "identity"));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  config cfg;
  cfg.max_tag_length = 1 + data[0] % 64;
  const std::size_t read_size = 1 + data[1] % 32;
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  http::request_parser<http::string_body> parser;
  parser.header_limit(4096);
  parser.body_limit(16 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  // Fed in small reads, as a slow agent would send it.
  std::string pending;
  while (!input.empty() && !ec && !parser.is_done()) {
    const auto piece = input.substr(0, read_size);
    input.remove_prefix(piece.size());
    pending.append(piece);
    const auto used = parser.put(boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec == http::error::need_more) ec = {};
  }
  if (!parser.is_header_done()) return 0;

  const auto& req = parser.get();
  const std::string_view target = req.target();
  const auto tags = read_request_tags(req.base(), req.body(), cfg, target.substr(0, target.find('?')));
  require_clean_tag(tags.session_id, cfg.max_tag_length);
  require_clean_tag(tags.node, cfg.max_tag_length);
  require(tags.request_model.size() <= cfg.max_tag_length);
  check_forwarded_fields(req.base());
  check_accept_encoding(req[http::field::accept_encoding]);
  return 0;
}
