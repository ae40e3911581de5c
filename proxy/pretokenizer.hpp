#pragma once

#include <cstddef>
#include <string_view>

namespace tokenmeter {

/// Which split pattern cuts text into pieces before byte pair merging.
enum class split_pattern {
  cl100k, ///< cl100k_base's pattern, which Llama 3 shares
  o200k,  ///< o200k_base's pattern: case-aware words, '/' kept with punctuation
};

/// The regular expression of a tiktoken vocabulary, matched by hand: the same pieces as
/// JavaScript's engine finds with the 'u' flag, without a regex engine. Stateless and
/// thread-safe. Bytes that are not valid UTF-8 count as one punctuation character each.
class pretokenizer {
public:
  explicit pretokenizer(split_pattern pattern) noexcept : pattern_(pattern) {}

  /// Length in bytes of the piece that starts at `pos` (< text.size()); never 0.
  std::size_t piece_length(std::string_view text, std::size_t pos) const noexcept;

private:
  split_pattern pattern_;
};

} // namespace tokenmeter
