#pragma once

#include "http_stream.hpp"
#include "upstream_endpoint.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace tokenmeter {

namespace beast = boost::beast;

/// One connection to an upstream, plain or TLS, kept open between exchanges of the
/// agent connection that owns it. It lives on that connection's thread.
class upstream_connection : public std::enable_shared_from_this<upstream_connection> {
public:
  using connect_handler = std::function<void(boost::system::error_code, std::string_view failed_step)>;

  upstream_connection(boost::asio::any_io_executor executor, const upstream_endpoint& endpoint);

  const upstream_endpoint& endpoint() const noexcept { return endpoint_; }
  /// Resolves, connects and, for https, handshakes with SNI and peer verification, all
  /// within `timeout`. The handler gets the error and the step that failed.
  void async_connect(std::chrono::steady_clock::duration timeout, connect_handler handler);
  /// True when the connection is open and the upstream has neither closed it nor sent
  /// anything unasked, so a request can be written on it without being lost.
  bool reusable() const;
  /// True once connected, until closed; the session asks reusable() before handing it on.
  bool connected() const noexcept { return connected_; }
  /// Sets the deadline of the next operations.
  void expires_after(std::chrono::steady_clock::duration timeout) { stream_.expires_after(timeout); }
  /// Closes the socket at once; pending operations complete with operation_aborted.
  void close() noexcept;
  /// The read buffer the HTTP parser of this connection uses across responses.
  beast::flat_buffer& buffer() noexcept { return buffer_; }

  /// Calls f with the concrete stream, so Beast's algorithms see the right type.
  template <class F> decltype(auto) visit(F&& f) { return stream_.visit(std::forward<F>(f)); }

private:
  void on_resolve(boost::system::error_code ec, boost::asio::ip::tcp::resolver::results_type results);
  void on_connect(boost::system::error_code ec);
  void on_handshake(boost::system::error_code ec);
  void complete(boost::system::error_code ec, std::string_view step);

  const upstream_endpoint& endpoint_;
  boost::asio::ip::tcp::resolver resolver_;
  /// Bounds name resolution, which the stream's own timer does not cover.
  boost::asio::steady_timer resolve_timer_;
  std::chrono::steady_clock::time_point connect_deadline_; ///< resolve + connect + handshake
  bool resolve_timed_out_ = false;
  http_stream stream_;
  beast::flat_buffer buffer_;
  connect_handler handler_;
  bool connected_ = false;
};

} // namespace tokenmeter
