#include "upstream_endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

namespace tokenmeter {

upstream_endpoint make_upstream_endpoint(const upstream_config& cfg) {
  const auto where = "upstream '" + cfg.name + "'";
  const auto parsed = boost::urls::parse_absolute_uri(cfg.url);
  if (!parsed) throw config_error(where + ": '" + cfg.url + "' is not an absolute URL");
  const auto& url = *parsed;

  upstream_endpoint ep;
  ep.name = cfg.name;
  ep.prefix = cfg.prefix;
  ep.inject_include_usage = cfg.inject_include_usage;
  ep.usage = cfg.usage;
  if (!cfg.schema.empty()) {
    ep.schema = parse_schema_name(cfg.schema);
    if (!ep.schema) throw config_error(where + ": unknown schema '" + cfg.schema + "'");
  }
  const auto scheme = url.scheme_id();
  if (scheme == boost::urls::scheme::https) ep.tls = true;
  else if (scheme != boost::urls::scheme::http) throw config_error(where + ": the URL scheme must be http or https");
  if (url.has_query() || url.has_fragment() || url.has_userinfo())
    throw config_error(where + ": the URL must not carry user info, a query or a fragment");

  ep.host = url.host_address();
  if (ep.host.empty()) throw config_error(where + ": the URL has no host");
  ep.port = url.has_port() ? std::string(url.port()) : (ep.tls ? "443" : "80");
  ep.host_header = std::string(url.encoded_host_and_port());
  boost::system::error_code ec;
  boost::asio::ip::make_address(ep.host, ec);
  ep.host_is_ip = !ec;

  ep.base_path = std::string(url.encoded_path());
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();

  if (ep.tls) {
    namespace ssl = boost::asio::ssl;
    ep.tls_context = std::make_shared<ssl::context>(ssl::context::tls_client);
    ep.tls_context->set_verify_mode(ssl::verify_peer);
    ep.tls_context->set_default_verify_paths(ec);
    if (!cfg.ca_file.empty()) {
      ep.tls_context->load_verify_file(cfg.ca_file, ec);
      if (ec) throw config_error(where + ": cannot load ca_file " + cfg.ca_file + ": " + ec.message());
    }
  } else if (!cfg.ca_file.empty()) {
    throw config_error(where + ": ca_file is set but the URL is not https");
  }
  return ep;
}

} // namespace tokenmeter
