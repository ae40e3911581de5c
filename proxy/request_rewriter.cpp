#include "request_rewriter.hpp"

#include <boost/beast/core/string.hpp>

#include <array>

namespace tokenmeter {
namespace {

using boost::beast::iequals;

constexpr std::array<std::string_view, 10> hop_by_hop{
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "expect"};

/// True when the comma-separated Connection value lists `name`.
bool listed_in(std::string_view connection, std::string_view name) {
  while (!connection.empty()) {
    const auto comma = connection.find(',');
    auto token = connection.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (iequals(token, name)) return true;
    if (comma == std::string_view::npos) break;
    connection.remove_prefix(comma + 1);
  }
  return false;
}

/// "." or "..", also with percent-encoded dots.
bool is_dot_segment(std::string_view segment) {
  std::size_t dots = 0;
  while (!segment.empty()) {
    if (segment.front() == '.') segment.remove_prefix(1);
    else if (segment.size() >= 3 && iequals(segment.substr(0, 3), "%2e")) segment.remove_prefix(3);
    else return false;
    ++dots;
  }
  return dots == 1 || dots == 2;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

void copy_end_to_end_fields(const http::fields& from, http::fields& to, std::string_view also_drop) {
  const std::string_view connection = from[http::field::connection];
  for (const auto& f : from) {
    const auto name = f.name_string();
    bool drop = (!also_drop.empty() && iequals(name, also_drop)) || listed_in(connection, name);
    for (auto h : hop_by_hop) drop = drop || iequals(name, h);
    if (!drop) to.insert(name, f.value());
  }
}

std::string_view request_target_problem(std::string_view target) {
  // Only origin-form is forwarded: it is appended to the upstream's base path, so anything
  // else, or a dot segment an upstream might resolve, could reach outside that path.
  if (target.empty() || target.front() != '/') return "the request target must be a path (origin-form)";
  auto path = target.substr(1, target.find('?') - 1);
  while (true) {
    const auto slash = path.find('/');
    if (is_dot_segment(path.substr(0, slash))) return "the request path must not contain . or .. segments";
    if (slash == std::string_view::npos) return {};
    path.remove_prefix(slash + 1);
  }
}

std::string narrow_accept_encoding(std::string_view value) {
  std::string out;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    const auto coding = trim(item.substr(0, item.find(';')));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip") || iequals(coding, "deflate") ||
        iequals(coding, "identity")) {
      if (!out.empty()) out += ", ";
      out += item;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out.empty() ? "identity" : out;
}

http::request<http::string_body> make_upstream_request(http::request<http::string_body>&& agent_request,
                                                       const upstream_endpoint& upstream, std::string_view path,
                                                       std::string_view query, std::string_view consumed_header) {
  http::request<http::string_body> out;
  out.method_string(agent_request.method_string());
  std::string target;
  target.reserve(upstream.base_path.size() + path.size() + query.size() + 1);
  target += upstream.base_path;
  target += path;
  if (!query.empty()) {
    target += '?';
    target += query;
  }
  out.target(target);
  out.version(11);
  copy_end_to_end_fields(agent_request.base(), out.base(), consumed_header);
  out.set(http::field::host, upstream.host_header);
  if (const auto it = out.find(http::field::accept_encoding); it != out.end())
    out.set(http::field::accept_encoding, narrow_accept_encoding(it->value()));
  // The body was read whole (de-chunked), so it goes up with a Content-Length.
  out.erase(http::field::content_length);
  out.body() = std::move(agent_request.body());
  if (!out.body().empty() || agent_request.has_content_length() || agent_request.chunked())
    out.content_length(out.body().size());
  out.keep_alive(true);
  return out;
}

} // namespace tokenmeter
