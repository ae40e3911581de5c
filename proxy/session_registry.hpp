#pragma once

#include <boost/asio/post.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tokenmeter {

/// The live connections, so that a graceful stop can reach each of them.
class session_registry {
public:
  /// Called with false to stop gracefully, with true to abort at once. Must be safe to call
  /// from any thread (it posts to the connection's executor).
  using stopper = std::function<void(bool abort)>;

  /// Registers a connection; returns the key for remove().
  std::size_t add(stopper stop);
  void remove(std::size_t key);
  /// Asks every live connection to stop: idle ones close now, busy ones after their exchange.
  void stop_all();
  /// Closes every live connection now; a running exchange is recorded as cut short.
  void abort_all();
  std::size_t size() const;

  /// Registers a connection object whose stop() and abort() must run on `executor`, its own.
  template <class Session, class Executor>
  std::size_t add_session(const std::shared_ptr<Session>& session, Executor executor) {
    return add([weak = std::weak_ptr<Session>(session), executor](bool abort) {
      boost::asio::post(executor, [weak, abort] {
        if (auto self = weak.lock()) abort ? self->abort() : self->stop();
      });
    });
  }

private:
  void call_all(bool abort);

  mutable std::mutex mutex_;
  std::size_t next_key_ = 0;
  std::unordered_map<std::size_t, stopper> sessions_;
};

} // namespace tokenmeter
