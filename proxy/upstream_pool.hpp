#pragma once

#include "upstream_connection.hpp"

#include <boost/asio/execution_context.hpp>

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

namespace tokenmeter {

/// The idle upstream connections of one I/O thread, which any agent connection on that thread
/// can take, as nginx's upstream keepalive does: an agent that opens a connection per request
/// does not pay a TCP (and TLS) handshake to the upstream each time. An Asio service of the
/// thread's io_context, so only that thread touches it (no lock) and its sockets are closed
/// before the context goes away.
class upstream_pool : public boost::asio::execution_context::service {
public:
  using key_type = upstream_pool;
  static inline boost::asio::execution_context::id id;

  /// Idle connections kept per upstream and thread; more are closed when given back.
  static constexpr std::size_t max_idle_per_upstream = 32;

  explicit upstream_pool(boost::asio::execution_context& context);

  /// The pool of the context `executor` runs on.
  template <class Executor> static upstream_pool& of(const Executor& executor) {
    return boost::asio::use_service<upstream_pool>(boost::asio::query(executor, boost::asio::execution::context));
  }

  /// An idle connection to `endpoint` that can take a request now, or null.
  std::shared_ptr<upstream_connection> take(const upstream_endpoint& endpoint);
  /// Keeps a connection that finished its exchange for the next taker, or closes it.
  void give(std::shared_ptr<upstream_connection> connection);

private:
  void shutdown() override;

  std::unordered_map<const upstream_endpoint*, std::vector<std::shared_ptr<upstream_connection>>> idle_;
};

} // namespace tokenmeter
