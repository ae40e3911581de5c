#include "io_context_pool.hpp"

#include <thread>

namespace tokenmeter {

io_context_pool::io_context_pool(unsigned threads) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    // Concurrency hint 1: each context is run by one thread only.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

boost::asio::io_context& io_context_pool::next() noexcept {
  // Only the primary context's acceptor calls this, so the counter needs no lock.
  auto& chosen = *contexts_[next_];
  next_ = (next_ + 1) % contexts_.size();
  return chosen;
}

void io_context_pool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([&context = *contexts_[i]] { context.run(); });
  primary().run();
  for (auto& thread : threads) thread.join();
}

void io_context_pool::release() noexcept {
  for (auto& guard : guards_) guard.reset();
}

void io_context_pool::stop() noexcept {
  for (auto& context : contexts_) context->stop();
}

} // namespace tokenmeter
