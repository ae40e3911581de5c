#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace tokenmeter {

/// One io_context per I/O thread, as in Asio's "HTTP server 2" example. A connection lives
/// on one context, and so on one thread, for its whole life: its handlers never run at the
/// same time without a strand, whose lock and type-erased executor copies cost several
/// percent of a request's CPU.
class io_context_pool {
public:
  explicit io_context_pool(unsigned threads);

  /// The context of the listeners, signals and timers; run() runs it on the calling thread.
  boost::asio::io_context& primary() noexcept { return *contexts_.front(); }
  /// The context for a new connection, in turn.
  boost::asio::io_context& next() noexcept;
  /// Runs every context, one per thread, until each is out of work (after release()) or stopped.
  void run();
  /// Lets each context return from run() as soon as it has no more work.
  void release() noexcept;
  /// Stops every context at once.
  void stop() noexcept;

private:
  using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::optional<work_guard>> guards_;
  std::size_t next_ = 0;
};

} // namespace tokenmeter
