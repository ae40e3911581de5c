#include "tokenizer.hpp"

#include "bpe_merge.hpp"

namespace tokenmeter {

std::uint64_t tokenizer::count(std::string_view text) const {
  bpe_merge merge(ranks_);
  std::uint64_t tokens = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = pretokenizer_.piece_length(text, pos);
    tokens += merge.count(text.substr(pos, length));
    pos += length;
  }
  return tokens;
}

} // namespace tokenmeter
