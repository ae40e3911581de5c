#include "deadline_socket.hpp"

#include <boost/beast/core/error.hpp>

namespace tokenmeter {

deadline_socket::state::state(boost::asio::ip::tcp::socket&& s)
    : socket(std::move(s)), timer(socket.get_executor()) {}

deadline_socket::state::state(const executor_type& executor) : socket(executor), timer(executor) {}

deadline_socket::deadline_socket(boost::asio::ip::tcp::socket&& socket)
    : state_(std::make_shared<state>(std::move(socket))) {}

deadline_socket::deadline_socket(const executor_type& executor) : state_(std::make_shared<state>(executor)) {}

deadline_socket::~deadline_socket() {
  // No operation is pending (their handlers keep this socket's owner alive); the timer's
  // handler may still hold the state, so the socket is closed now rather than with it.
  boost::system::error_code ignored;
  state_->timer.cancel();
  state_->socket.close(ignored);
}

void deadline_socket::expires_at(clock::time_point deadline) {
  state_->deadline = deadline;
  if (state_->pending > 0) arm_if_late(state_);
}

void deadline_socket::cancel() {
  boost::system::error_code ignored;
  state_->socket.cancel(ignored);
}

void deadline_socket::started() {
  ++state_->pending;
  arm_if_late(state_);
}

boost::system::error_code deadline_socket::finished(state& s, boost::system::error_code ec) noexcept {
  --s.pending;
  if (ec && s.timed_out) return boost::beast::error::timeout;
  return ec;
}

void deadline_socket::arm_if_late(const std::shared_ptr<state>& s) {
  if (s->deadline != clock::time_point::max() && (!s->waiting || s->deadline < s->wakes_at)) arm(s);
}

void deadline_socket::arm(const std::shared_ptr<state>& s) {
  s->wakes_at = std::min(s->deadline, clock::now() + tick);
  // Re-arming cancels an outstanding wait; its handler sees operation_aborted and leaves.
  s->timer.expires_at(s->wakes_at);
  s->waiting = true;
  s->timer.async_wait([s](boost::system::error_code ec) { on_timer(s, ec); });
}

void deadline_socket::on_timer(const std::shared_ptr<state>& s, boost::system::error_code ec) {
  if (ec) return;
  s->waiting = false;
  // With nothing pending there is nothing to time out; the next operation arms the timer again.
  if (s->pending == 0 || s->deadline == clock::time_point::max()) return;
  if (clock::now() < s->deadline) return arm(s);
  s->timed_out = true;
  boost::system::error_code ignored;
  s->socket.close(ignored);
}

} // namespace tokenmeter
