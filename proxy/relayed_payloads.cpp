#include "relayed_payloads.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tokenmeter {

namespace {

// The word compares below read the first differing byte off the low (prefix) or high (suffix) bits.
static_assert(std::endian::native == std::endian::little, "common_prefix and common_suffix assume little-endian words");

/// How many leading bytes a and b share, compared a word at a time: this runs for every event.
std::size_t common_prefix(std::string_view a, std::string_view b) noexcept {
  const std::size_t limit = std::min(a.size(), b.size());
  std::size_t at = 0;
  for (; at + sizeof(std::uint64_t) <= limit; at += sizeof(std::uint64_t)) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a.data() + at, sizeof x);
    std::memcpy(&y, b.data() + at, sizeof y);
    if (x != y) return at + static_cast<std::size_t>(std::countr_zero(x ^ y)) / 8;
  }
  while (at < limit && a[at] == b[at]) ++at;
  return at;
}

/// How many trailing bytes a and b share, at most `limit`.
std::size_t common_suffix(std::string_view a, std::string_view b, std::size_t limit) noexcept {
  std::size_t n = 0;
  for (; n + sizeof(std::uint64_t) <= limit; n += sizeof(std::uint64_t)) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a.data() + a.size() - n - sizeof x, sizeof x);
    std::memcpy(&y, b.data() + b.size() - n - sizeof y, sizeof y);
    if (x != y) return n + static_cast<std::size_t>(std::countl_zero(x ^ y)) / 8;
  }
  while (n < limit && a[a.size() - 1 - n] == b[b.size() - 1 - n]) ++n;
  return n;
}

} // namespace

void relayed_payloads::add(std::string_view payload) {
  if (payload.empty()) return;
  if (total_bytes_ + payload.size() > max_bytes) {
    truncated_ = true;
    return;
  }
  const std::string_view last = last_;
  const std::size_t prefix = common_prefix(payload, last);
  const std::size_t suffix = common_suffix(payload, last, std::min(last.size(), payload.size()) - prefix);
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
