#pragma once

#include "bpe_ranks.hpp"
#include "pretokenizer.hpp"

#include <cstdint>
#include <string_view>

namespace tokenmeter {

/// A tiktoken-compatible byte-level BPE tokenizer that counts tokens: the split pattern
/// cuts text into pieces, each piece is merged by rank. Special tokens are not recognised:
/// their text counts as ordinary text. Immutable and thread-safe.
class tokenizer {
public:
  tokenizer(bpe_ranks ranks, split_pattern pattern) : ranks_(std::move(ranks)), pretokenizer_(pattern) {}

  /// The number of tokens `text` (UTF-8) encodes to.
  std::uint64_t count(std::string_view text) const;
  /// The vocabulary's size.
  std::size_t vocabulary_size() const noexcept { return ranks_.size(); }

private:
  bpe_ranks ranks_;
  pretokenizer pretokenizer_;
};

} // namespace tokenmeter
