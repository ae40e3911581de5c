#pragma once

#include "http_stream.hpp"
#include "services.hpp"
#include "upstream_connection.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace tokenmeter {

namespace http = boost::beast::http;

/// One agent connection: reads each request within its limits and deadlines, routes it,
/// runs an exchange for it, and keeps the connection alive for the next one. It owns the
/// upstream connection its exchanges reuse. All its work runs on one I/O thread.
class downstream_session : public std::enable_shared_from_this<downstream_session> {
public:
  /// With `over_capacity` the connection answers its first request 503 and closes.
  downstream_session(boost::asio::ip::tcp::socket&& socket, services& svc, bool over_capacity = false);
  ~downstream_session();

  void start();
  /// Ends the connection: at once when idle, after the running exchange otherwise.
  void stop();
  /// Ends the connection now; a running exchange is recorded as cut short.
  void abort();

private:
  void on_handshake(boost::system::error_code ec);
  void do_read_header();
  void on_read_header(boost::system::error_code ec);
  void do_read_body();
  void on_read_body(boost::system::error_code ec);
  void start_exchange();
  void reject_oversized_body();
  void on_exchange_done(bool keep_alive);
  void send_error(http::status status, std::string_view message, std::string_view code, bool keep_alive);
  void close();

  http_stream stream_;
  beast::flat_buffer buffer_;
  services& svc_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<upstream_connection> upstream_;
  std::size_t registry_key_ = 0;
  bool busy_ = false;     ///< an exchange is running
  bool stopping_ = false; ///< a graceful stop was asked: close after the current exchange
  bool first_request_ = true;
  bool over_capacity_ = false;
};

} // namespace tokenmeter
