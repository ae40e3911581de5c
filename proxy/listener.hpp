#pragma once

#include "io_context_pool.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

namespace tokenmeter {

/// Parses "HOST:PORT", "[V6]:PORT" or "localhost:PORT" into an endpoint; throws config_error.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& text);

/// Accepts connections on the pool's primary context and hands each socket, on the pool's
/// contexts in turn, to a session factory.
class listener : public std::enable_shared_from_this<listener> {
public:
  using session_factory = std::function<void(boost::asio::ip::tcp::socket&&)>;

  /// Binds and listens at once, so a busy port fails start-up with a clear message.
  listener(io_context_pool& pool, boost::asio::ip::tcp::endpoint endpoint, session_factory factory);

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  /// Stops accepting; thread-safe.
  void stop();

private:
  void do_accept();

  io_context_pool& pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_; ///< after a failed accept (out of descriptors), before the next
  session_factory factory_;
};

} // namespace tokenmeter
