#pragma once

#include "upstream_endpoint.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace tokenmeter {

namespace http = boost::beast::http;

/// Copies every end-to-end field: hop-by-hop fields (RFC 9110 §7.6.1), those the
/// Connection header names, and `also_drop` stay behind.
void copy_end_to_end_fields(const http::fields& from, http::fields& to, std::string_view also_drop = {});

/// Why a request target cannot be forwarded, or empty when it can: only origin-form paths
/// without dot segments are appended to an upstream's base path.
std::string_view request_target_problem(std::string_view target);

/// Keeps only the content codings the usage tap can decode (gzip, deflate, identity),
/// so that a compressed answer can still be metered. Returns the new header value.
std::string narrow_accept_encoding(std::string_view value);

/// The request sent upstream: the agent's method, body and end-to-end headers, the
/// upstream's base path before the agent's path, and Host set for the upstream.
/// `consumed_header` (the routing header) is not forwarded.
http::request<http::string_body> make_upstream_request(http::request<http::string_body>&& agent_request,
                                                       const upstream_endpoint& upstream, std::string_view path,
                                                       std::string_view query, std::string_view consumed_header);

} // namespace tokenmeter
