#include "relayed_payloads.hpp"

#include <algorithm>

namespace tokenmeter {

void relayed_payloads::add(std::string_view payload) {
  if (payload.empty()) return;
  if (total_bytes_ + payload.size() > max_bytes) {
    truncated_ = true;
    return;
  }
  const std::string_view last = last_;
  const std::size_t shorter = std::min(last.size(), payload.size());
  const std::size_t prefix =
      static_cast<std::size_t>(std::mismatch(payload.begin(), payload.begin() + shorter, last.begin()).first -
                               payload.begin());
  const std::size_t suffix = static_cast<std::size_t>(
      std::mismatch(payload.rbegin(), payload.rbegin() + (shorter - prefix), last.rbegin()).first - payload.rbegin());
  const std::string_view middle = payload.substr(prefix, payload.size() - prefix - suffix);
  steps_.push_back({static_cast<std::uint32_t>(prefix), static_cast<std::uint32_t>(suffix),
                    static_cast<std::uint32_t>(middles_.size()), static_cast<std::uint32_t>(middle.size())});
  middles_.append(middle);
  last_.assign(payload);
  total_bytes_ += payload.size();
}

void relayed_payloads::for_each(const std::function<void(std::string_view)>& visit) const {
  std::string previous;
  std::string current;
  for (const step& s : steps_) {
    current.assign(previous, 0, s.kept_prefix);
    current.append(middles_, s.offset, s.length);
    current.append(previous, previous.size() - s.kept_suffix, s.kept_suffix);
    visit(current);
    previous.swap(current);
  }
}

} // namespace tokenmeter
