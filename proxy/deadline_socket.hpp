#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

namespace tokenmeter {

/// A TCP socket whose operations share one deadline, as with beast::tcp_stream, for a fraction
/// of its cost. tcp_stream arms, cancels and completes a timer wait around every read and
/// write: a timer-queue insert and removal and two more handler calls each time. Here setting
/// a deadline only stores a time; one timer per socket wakes at the deadline or within a
/// second, whichever is sooner, and only while an operation is pending. An operation still
/// pending at the deadline completes with beast::error::timeout and the socket is closed, as
/// with tcp_stream.
class deadline_socket {
public:
  using executor_type = boost::asio::any_io_executor;
  using clock = std::chrono::steady_clock;
  /// For boost::asio::ssl::stream, which reaches the socket through its lowest layer.
  using lowest_layer_type = deadline_socket;

  /// How long the timer sleeps at most before it looks at the deadline again: a later
  /// deadline costs no timer change, at one wake-up a second per busy connection.
  static constexpr clock::duration tick = std::chrono::seconds(1);

  /// An accepted connection.
  explicit deadline_socket(boost::asio::ip::tcp::socket&& socket);
  /// An unconnected socket.
  explicit deadline_socket(const executor_type& executor);
  ~deadline_socket();
  deadline_socket(const deadline_socket&) = delete;
  deadline_socket& operator=(const deadline_socket&) = delete;

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  boost::asio::ip::tcp::socket& socket() noexcept { return state_->socket; }

  /// Sets the deadline of the operations pending now and started later.
  void expires_after(clock::duration timeout) { expires_at(clock::now() + timeout); }
  void expires_at(clock::time_point deadline);
  void expires_never() noexcept { state_->deadline = clock::time_point::max(); }
  /// Cancels pending operations; they complete with operation_aborted.
  void cancel();

  template <class MutableBuffers, class Handler> auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return initiate<void(boost::system::error_code, std::size_t)>(
        [](auto& socket, const MutableBuffers& b, auto done) { socket.async_read_some(b, std::move(done)); },
        std::forward<Handler>(handler), buffers);
  }

  template <class ConstBuffers, class Handler> auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return initiate<void(boost::system::error_code, std::size_t)>(
        [](auto& socket, const ConstBuffers& b, auto done) { socket.async_write_some(b, std::move(done)); },
        std::forward<Handler>(handler), buffers);
  }

  /// Connects to the first endpoint that accepts, within the deadline.
  template <class Endpoints, class Handler> auto async_connect(const Endpoints& endpoints, Handler&& handler) {
    return initiate<void(boost::system::error_code, typename Endpoints::endpoint_type)>(
        [](auto& socket, const Endpoints& e, auto done) { boost::asio::async_connect(socket, e, std::move(done)); },
        std::forward<Handler>(handler), endpoints);
  }

private:
  /// Shared with the timer's handler, which may run after the socket is gone.
  struct state {
    explicit state(boost::asio::ip::tcp::socket&& s);
    explicit state(const executor_type& executor);

    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();
    clock::time_point wakes_at = clock::time_point::max(); ///< when the timer's wait ends, if waiting
    std::size_t pending = 0;  ///< operations started and not yet completed
    bool waiting = false;     ///< the timer has a wait outstanding
    bool timed_out = false;   ///< the deadline closed the socket under a pending operation
  };

  /// Wraps an operation's handler to count it done and to turn an abort by the deadline into
  /// beast::error::timeout. Keeps the handler's executor and allocator.
  template <class Handler> class completion {
  public:
    completion(std::shared_ptr<state> s, Handler&& handler) : state_(std::move(s)), handler_(std::move(handler)) {}

    using executor_type = boost::asio::associated_executor_t<Handler, deadline_socket::executor_type>;
    executor_type get_executor() const noexcept {
      return boost::asio::get_associated_executor(handler_, state_->socket.get_executor());
    }
    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return boost::asio::get_associated_allocator(handler_); }

    template <class... Results> void operator()(boost::system::error_code ec, Results&&... results) {
      ec = finished(*state_, ec);
      state_.reset();
      std::move(handler_)(ec, std::forward<Results>(results)...);
    }

  private:
    std::shared_ptr<state> state_;
    Handler handler_;
  };

  /// Starts `operation(socket, argument, handler)` as one of this socket's timed operations.
  template <class Signature, class Operation, class Handler, class Argument>
  auto initiate(Operation operation, Handler&& handler, const Argument& argument) {
    return boost::asio::async_initiate<Handler, Signature>(
        [this, operation](auto handler, const Argument& argument) {
          started();
          operation(state_->socket, argument, completion<decltype(handler)>(state_, std::move(handler)));
        },
        handler, argument);
  }

  void started();
  static boost::system::error_code finished(state& s, boost::system::error_code ec) noexcept;
  /// Arms the timer unless it already wakes by the deadline (or there is none).
  static void arm_if_late(const std::shared_ptr<state>& s);
  /// Makes the timer wake at the deadline or a tick from now, whichever is sooner.
  static void arm(const std::shared_ptr<state>& s);
  static void on_timer(const std::shared_ptr<state>& s, boost::system::error_code ec);

  std::shared_ptr<state> state_;
};

} // namespace tokenmeter
