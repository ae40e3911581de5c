#include "relayed_payloads.hpp"

namespace tokenmeter {

void relayed_payloads::add(std::string_view payload) {
  if (payload.empty()) return;
  if (bytes_.size() + payload.size() > max_bytes) {
    truncated_ = true;
    return;
  }
  spans_.emplace_back(static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(payload.size()));
  bytes_.append(payload);
}

std::vector<std::string_view> relayed_payloads::views() const {
  std::vector<std::string_view> out;
  out.reserve(spans_.size());
  for (const auto& [offset, length] : spans_) out.emplace_back(bytes_.data() + offset, length);
  return out;
}

} // namespace tokenmeter
