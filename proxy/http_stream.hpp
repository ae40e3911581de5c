#pragma once

#include "deadline_socket.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <variant>

namespace tokenmeter {

namespace beast = boost::beast;

/// A TCP connection, plain or TLS, on either side of the proxy. Beast's algorithms are
/// templates on the stream type, so callers reach the concrete stream through visit().
class http_stream {
public:
  using plain_stream = deadline_socket;
  using tls_stream = beast::ssl_stream<deadline_socket>;

  /// An accepted connection; TLS when `tls` is not null.
  http_stream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context* tls);
  /// An unconnected client stream; TLS when `tls` is not null.
  http_stream(boost::asio::any_io_executor executor, boost::asio::ssl::context* tls);

  template <class F> decltype(auto) visit(F&& f) {
    return std::visit([&](auto& stream) -> decltype(auto) { return f(stream); }, stream_);
  }
  /// The TLS layer, or null for a plain stream.
  tls_stream* tls() noexcept { return std::get_if<tls_stream>(&stream_); }
  /// The TCP layer under any TLS.
  deadline_socket& tcp() noexcept;
  boost::asio::any_io_executor get_executor() { return tcp().get_executor(); }

  void expires_after(std::chrono::steady_clock::duration timeout) { tcp().expires_after(timeout); }
  void expires_never() { tcp().expires_never(); }
  /// Cancels pending operations; they complete with operation_aborted.
  void cancel() { tcp().cancel(); }
  /// Sends FIN (without a TLS close_notify) and closes the socket.
  void close() noexcept;

private:
  std::variant<plain_stream, tls_stream> stream_;
};

} // namespace tokenmeter
