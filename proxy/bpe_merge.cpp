#include "bpe_merge.hpp"

#include <algorithm>
#include <functional>

namespace tokenmeter {

std::uint32_t bpe_merge::rank_of(std::string_view piece, std::size_t from, std::size_t to) const noexcept {
  return ranks_.rank(piece.substr(from, to - from)).value_or(none);
}

std::size_t bpe_merge::count(std::string_view piece) {
  if (piece.size() <= 1 || ranks_.rank(piece)) return piece.empty() ? 0 : 1;
  return piece.size() <= scan_limit ? count_by_scan(piece) : count_by_heap(piece);
}

std::size_t bpe_merge::count_by_scan(std::string_view piece) {
  // parts_ holds every boundary plus the end; parts_[i].rank ranks the bytes from
  // parts_[i] to parts_[i + 2], the pair that would merge there.
  parts_.clear();
  for (std::size_t i = 0; i + 1 < piece.size(); ++i)
    parts_.push_back({static_cast<std::uint32_t>(i), rank_of(piece, i, i + 2)});
  parts_.push_back({static_cast<std::uint32_t>(piece.size() - 1), none});
  parts_.push_back({static_cast<std::uint32_t>(piece.size()), none});
  const auto pair_rank = [&](std::size_t i) {
    return i + 3 < parts_.size() ? rank_of(piece, parts_[i].start, parts_[i + 3].start) : none;
  };
  for (;;) {
    const auto lowest = std::min_element(parts_.begin(), parts_.end() - 1,
                                         [](const part& a, const part& b) { return a.rank < b.rank; });
    if (lowest->rank == none) break;
    const auto i = static_cast<std::size_t>(lowest - parts_.begin());
    if (i > 0) parts_[i - 1].rank = pair_rank(i - 1);
    parts_[i].rank = pair_rank(i);
    parts_.erase(parts_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }
  return parts_.size() - 1;
}

std::size_t bpe_merge::count_by_heap(std::string_view piece) {
  // The same merges in the same order as the scan: the heap orders by (rank, position),
  // and an entry whose pair changed since it was pushed is skipped when popped.
  const auto n = static_cast<std::uint32_t>(piece.size());
  links_.clear();
  for (std::uint32_t i = 0; i < n; ++i) links_.push_back({i, i + 1, i == 0 ? none : i - 1, none});
  links_.push_back({n, none, n - 1, none});
  const auto end_of = [&](std::uint32_t i) { return links_[links_[i].next].start; };
  const auto refresh = [&](std::uint32_t i) {
    link& l = links_[i];
    const std::uint32_t second = l.next;
    l.rank = (second == none || second == n || links_[second].next == none)
                 ? none
                 : rank_of(piece, l.start, end_of(second));
    if (l.rank != none) {
      heap_.push_back((std::uint64_t(l.rank) << 32) | i);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
  };
  heap_.clear();
  for (std::uint32_t i = 0; i < n; ++i) refresh(i);
  std::size_t tokens = n;
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    const std::uint64_t top = heap_.back();
    heap_.pop_back();
    const auto i = static_cast<std::uint32_t>(top & 0xFFFFFFFFu);
    const auto rank = static_cast<std::uint32_t>(top >> 32);
    if (links_[i].rank != rank || links_[i].start == none) continue;
    // Merge part i with its successor.
    const std::uint32_t gone = links_[i].next;
    links_[i].next = links_[gone].next;
    links_[links_[gone].next].prev = i;
    links_[gone].start = none;
    links_[gone].rank = none;
    --tokens;
    refresh(i);
    if (links_[i].prev != none) refresh(links_[i].prev);
  }
  return tokens;
}

} // namespace tokenmeter
