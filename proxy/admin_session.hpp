#pragma once

#include "services.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace tokenmeter {

namespace beast = boost::beast;
namespace http = boost::beast::http;

/// One connection to the admin listener: /healthz, /metrics and the /usage queries.
/// Ledger queries run on the ledger thread and their answer is posted back here.
class admin_session : public std::enable_shared_from_this<admin_session> {
public:
  admin_session(boost::asio::ip::tcp::socket&& socket, services& svc);
  ~admin_session();
  void start();
  /// Ends the connection: at once when idle, after the running exchange otherwise.
  void stop();
  /// Ends the connection now; a running exchange is recorded as cut short.
  void abort();

private:
  void do_read();
  void on_read(boost::system::error_code ec);
  void route(const http::request<http::string_body>& req);
  /// True when no admin token is configured or `header` carries it as a bearer token.
  bool authorized(std::string_view header) const;
  /// Runs `query` against the ledger after every recorded exchange is committed.
  void answer_from_ledger(std::function<http::response<http::string_body>(sqlite3&)> query);
  void send(http::response<http::string_body> res);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  services& svc_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false; ///< the request being answered is a HEAD
  bool busy_ = false;
  bool stopping_ = false;
  std::size_t registry_key_ = 0;
};

} // namespace tokenmeter
