#include "upstream_connection.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <poll.h>

namespace tokenmeter {

upstream_connection::upstream_connection(boost::asio::any_io_executor executor, const upstream_endpoint& endpoint)
    : endpoint_(endpoint), resolver_(executor), resolve_timer_(executor),
      stream_(executor, endpoint.tls_context.get()) {
  // Beast sizes each socket read by the buffer's free capacity: a small buffer means many small reads.
  buffer_.reserve(16 * 1024);
}

void upstream_connection::async_connect(std::chrono::steady_clock::duration timeout, connect_handler handler) {
  handler_ = std::move(handler);
  connect_deadline_ = std::chrono::steady_clock::now() + timeout;
  resolve_timed_out_ = false;
  // A resolver that gets no answer from its name server would otherwise hold the exchange for
  // the system resolver's own retries, whatever timeouts.connect says.
  resolve_timer_.expires_at(connect_deadline_);
  resolve_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    self->resolve_timed_out_ = true;
    self->resolver_.cancel();
  });
  resolver_.async_resolve(endpoint_.host, endpoint_.port,
                          [self = shared_from_this()](auto ec, auto results) { self->on_resolve(ec, results); });
}

void upstream_connection::on_resolve(boost::system::error_code ec,
                                     boost::asio::ip::tcp::resolver::results_type results) {
  resolve_timer_.cancel();
  if (resolve_timed_out_) return complete(beast::error::timeout, "resolve");
  if (ec) return complete(ec, "resolve");
  // What is left of timeouts.connect bounds the TCP connect and the TLS handshake.
  stream_.tcp().expires_at(connect_deadline_);
  stream_.tcp().async_connect(results, [self = shared_from_this()](auto ec, auto) { self->on_connect(ec); });
}

void upstream_connection::on_connect(boost::system::error_code ec) {
  if (ec) return complete(ec, "connect");
  stream_.tcp().socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  auto* tls = stream_.tls();
  if (!tls) return complete({}, "connect");
  if (!endpoint_.host_is_ip && !SSL_set_tlsext_host_name(tls->native_handle(), endpoint_.host.c_str()))
    return complete(boost::system::error_code(static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category()),
                    "tls_sni");
  tls->set_verify_callback(boost::asio::ssl::host_name_verification(endpoint_.host));
  tls->async_handshake(boost::asio::ssl::stream_base::client,
                       [self = shared_from_this()](auto ec) { self->on_handshake(ec); });
}

void upstream_connection::on_handshake(boost::system::error_code ec) { complete(ec, "tls_handshake"); }

void upstream_connection::complete(boost::system::error_code ec, std::string_view step) {
  connected_ = !ec;
  if (!ec) stream_.expires_never();
  auto handler = std::move(handler_);
  handler(ec, step);
}

bool upstream_connection::reusable() const {
  // Bytes already buffered would be taken for the next response.
  if (!connected_ || buffer_.size() != 0) return false;
  auto& socket = const_cast<http_stream&>(stream_).tcp().socket();
  if (!socket.is_open()) return false;
  // An idle keep-alive connection has nothing to read; readability means the upstream
  // closed it (EOF) or sent something unasked. Either way a request written now could be lost.
  pollfd pfd{socket.native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&pfd, 1, 0) == 0;
}

void upstream_connection::close() noexcept {
  connected_ = false;
  resolve_timer_.cancel();
  resolver_.cancel();
  stream_.close();
}

} // namespace tokenmeter
