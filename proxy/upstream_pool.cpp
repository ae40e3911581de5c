#include "upstream_pool.hpp"

namespace tokenmeter {

upstream_pool::upstream_pool(boost::asio::execution_context& context) : service(context) {}

std::shared_ptr<upstream_connection> upstream_pool::take(const upstream_endpoint& endpoint) {
  const auto found = idle_.find(&endpoint);
  if (found == idle_.end()) return nullptr;
  auto& idle = found->second;
  // The most recently used first: the one least likely to have been closed by the upstream.
  while (!idle.empty()) {
    auto connection = std::move(idle.back());
    idle.pop_back();
    if (connection->reusable()) return connection;
    connection->close();
  }
  return nullptr;
}

void upstream_pool::give(std::shared_ptr<upstream_connection> connection) {
  if (!connection) return;
  auto& idle = idle_[&connection->endpoint()];
  if (idle.size() >= max_idle_per_upstream || !connection->connected()) return connection->close();
  idle.push_back(std::move(connection));
}

void upstream_pool::shutdown() {
  for (auto& [endpoint, idle] : idle_)
    for (auto& connection : idle) connection->close();
  idle_.clear();
}

} // namespace tokenmeter
