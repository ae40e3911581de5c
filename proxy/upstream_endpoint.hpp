#pragma once

#include "config.hpp"
#include "usage_extractor.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace tokenmeter {

/// A configured upstream, parsed and ready: where to connect and how to verify it.
struct upstream_endpoint {
  std::string name;
  std::string host;      ///< host name or IP literal, without brackets
  std::string port;      ///< numeric service, defaulted from the scheme
  std::string host_header; ///< Host value sent upstream (host[:port] as in the URL)
  std::string base_path; ///< prepended to the agent's path; no trailing '/'
  std::string prefix;    ///< agent path prefix routed here, or empty
  bool tls = false;
  bool host_is_ip = false; ///< no SNI for IP literals (RFC 6066)
  bool inject_include_usage = true;  ///< ask streamed chat/completions for usage when the agent did not
  std::optional<api_schema> schema;  ///< forced usage schema; unset: chosen by path
  std::optional<usage_pointers> usage; ///< a custom usage shape
  /// Verification settings for https upstreams (system store plus ca_file); null for http.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
};

/// Parses and checks one upstream; throws config_error naming it on a bad URL or CA file.
upstream_endpoint make_upstream_endpoint(const upstream_config& cfg);

} // namespace tokenmeter
