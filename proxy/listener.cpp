#include "listener.hpp"

#include "config.hpp"
#include "log.hpp"

#include <boost/asio/post.hpp>

#include <charconv>

namespace tokenmeter {

namespace net = boost::asio;
using tcp = net::ip::tcp;

tcp::endpoint parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw config_error("listen address '" + text + "' must be HOST:PORT");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    throw config_error("listen address '" + text + "' has a bad port");
  boost::system::error_code bad;
  const auto address = net::ip::make_address(host, bad);
  if (bad) throw config_error("listen address '" + text + "' must name an IP address or localhost");
  return {address, static_cast<unsigned short>(port)};
}

listener::listener(io_context_pool& pool, tcp::endpoint endpoint, session_factory factory)
    : pool_(pool), acceptor_(pool.primary()), backoff_(acceptor_.get_executor()), factory_(std::move(factory)) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw config_error("cannot listen on " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) +
                       ": " + ec.message());
}

tcp::endpoint listener::local_endpoint() const { return acceptor_.local_endpoint(); }

void listener::start() { do_accept(); }

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
  });
}

void listener::do_accept() {
  acceptor_.async_accept(pool_.next(), [self = shared_from_this()](boost::system::error_code ec,
                                                                             tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: say so, and pause rather than spin on the error.
      log_line(log_level::warn, "accept_failed").kv("error", ec.message());
      self->backoff_.expires_after(std::chrono::milliseconds(100));
      return self->backoff_.async_wait([self](boost::system::error_code) { self->do_accept(); });
    }
    socket.set_option(tcp::no_delay(true), ec);
    self->factory_(std::move(socket));
    self->do_accept();
  });
}

} // namespace tokenmeter
