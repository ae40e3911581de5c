#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// A byte-level BPE vocabulary: token bytes -> rank (the token id, which is also the merge
/// priority). Read once at start-up from tiktoken's text format, one `base64 rank` per
/// line; immutable and thread-safe afterwards.
class bpe_ranks {
public:
  /// Parses the text of a .tiktoken file; nullopt with `error` set on any malformed line.
  static std::optional<bpe_ranks> parse(std::string_view text, std::string& error);
  /// Reads and parses a .tiktoken file.
  static std::optional<bpe_ranks> load(const std::string& path, std::string& error);

  /// The rank of these bytes, or nullopt when they are not a token.
  std::optional<std::uint32_t> rank(std::string_view bytes) const noexcept;
  /// The number of tokens.
  std::size_t size() const noexcept { return entries_.size(); }

private:
  struct entry {
    std::uint32_t offset;
    std::uint32_t length;
    std::uint32_t rank;
  };
  static constexpr std::uint32_t empty_slot = UINT32_MAX;

  void insert(std::string_view bytes, std::uint32_t rank);
  std::string_view bytes_of(const entry& e) const noexcept { return {arena_.data() + e.offset, e.length}; }

  std::string arena_;                 ///< every token's bytes, back to back
  std::vector<entry> entries_;
  std::vector<std::uint32_t> slots_;  ///< open addressing: index into entries_, or empty_slot
};

} // namespace tokenmeter
