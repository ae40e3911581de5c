#include "upstream_connection.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <poll.h>

namespace tokenmeter {

namespace {

std::variant<upstream_connection::plain_stream, upstream_connection::tls_stream>
make_stream(boost::asio::any_io_executor executor, const upstream_endpoint& endpoint) {
  if (endpoint.tls)
    return std::variant<upstream_connection::plain_stream, upstream_connection::tls_stream>(
        std::in_place_index<1>, executor, *endpoint.tls_context);
  return std::variant<upstream_connection::plain_stream, upstream_connection::tls_stream>(std::in_place_index<0>,
                                                                                          executor);
}

} // namespace

upstream_connection::upstream_connection(boost::asio::any_io_executor executor, const upstream_endpoint& endpoint)
    : endpoint_(endpoint), resolver_(executor), stream_(make_stream(executor, endpoint)) {}

beast::tcp_stream& upstream_connection::lowest_layer() noexcept {
  return visit([](auto& stream) -> beast::tcp_stream& { return beast::get_lowest_layer(stream); });
}

void upstream_connection::async_connect(std::chrono::steady_clock::duration timeout, connect_handler handler) {
  handler_ = std::move(handler);
  lowest_layer().expires_after(timeout);
  resolver_.async_resolve(endpoint_.host, endpoint_.port,
                          [self = shared_from_this()](auto ec, auto results) { self->on_resolve(ec, results); });
}

void upstream_connection::on_resolve(boost::system::error_code ec,
                                     boost::asio::ip::tcp::resolver::results_type results) {
  if (ec) return complete(ec, "resolve");
  lowest_layer().async_connect(results, [self = shared_from_this()](auto ec, auto) { self->on_connect(ec); });
}

void upstream_connection::on_connect(boost::system::error_code ec) {
  if (ec) return complete(ec, "connect");
  lowest_layer().socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  auto* tls = std::get_if<tls_stream>(&stream_);
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
  if (!ec) lowest_layer().expires_never();
  auto handler = std::move(handler_);
  handler(ec, step);
}

bool upstream_connection::reusable() const {
  if (!connected_) return false;
  auto& self = const_cast<upstream_connection&>(*this);
  auto& socket = self.lowest_layer().socket();
  if (!socket.is_open()) return false;
  // An idle keep-alive connection has nothing to read; readability means the upstream
  // closed it (EOF) or sent something unasked. Either way a request written now could be lost.
  pollfd pfd{socket.native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&pfd, 1, 0) == 0;
}

void upstream_connection::expires_after(std::chrono::steady_clock::duration timeout) {
  lowest_layer().expires_after(timeout);
}

void upstream_connection::close() noexcept {
  connected_ = false;
  boost::system::error_code ec;
  resolver_.cancel();
  lowest_layer().socket().close(ec);
}

} // namespace tokenmeter
