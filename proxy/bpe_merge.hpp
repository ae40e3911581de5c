#pragma once

#include "bpe_ranks.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// Byte pair merging of one pre-tokenised piece, exactly as tiktoken does it: repeatedly
/// merge the adjacent pair whose joined bytes have the lowest rank (the leftmost on a tie)
/// until no pair is a token. Counts tokens; keeps its buffers between calls, so one
/// instance belongs to one thread.
class bpe_merge {
public:
  explicit bpe_merge(const bpe_ranks& ranks) noexcept : ranks_(ranks) {}

  /// The number of tokens `piece` encodes to.
  std::size_t count(std::string_view piece);

private:
  struct part {
    std::uint32_t start;
    std::uint32_t rank; ///< rank of the pair that starts here, or none
  };
  struct link {
    std::uint32_t start;
    std::uint32_t next; ///< index of the next live part
    std::uint32_t prev;
    std::uint32_t rank;
  };
  static constexpr std::uint32_t none = UINT32_MAX;
  /// Pieces longer than this merge through a heap: the scan is quadratic in the length.
  static constexpr std::size_t scan_limit = 256;

  std::uint32_t rank_of(std::string_view piece, std::size_t from, std::size_t to) const noexcept;
  std::size_t count_by_scan(std::string_view piece);
  std::size_t count_by_heap(std::string_view piece);

  const bpe_ranks& ranks_;
  std::vector<part> parts_;
  std::vector<link> links_;
  std::vector<std::uint64_t> heap_; ///< (rank << 32 | start index), smallest first
};

} // namespace tokenmeter
