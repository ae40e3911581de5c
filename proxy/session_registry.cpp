#include "session_registry.hpp"

#include <vector>

namespace tokenmeter {

std::size_t session_registry::add(stopper stop) {
  std::lock_guard lock(mutex_);
  const auto key = next_key_++;
  sessions_.emplace(key, std::move(stop));
  return key;
}

void session_registry::remove(std::size_t key) {
  std::lock_guard lock(mutex_);
  sessions_.erase(key);
}

void session_registry::stop_all() { call_all(false); }

void session_registry::abort_all() { call_all(true); }

void session_registry::call_all(bool abort) {
  std::vector<stopper> stoppers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, stop] : sessions_) stoppers.push_back(stop);
  }
  for (auto& stop : stoppers) stop(abort);
}

std::size_t session_registry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

} // namespace tokenmeter
