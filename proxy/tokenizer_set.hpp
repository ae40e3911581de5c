#pragma once

#include "tokenizer.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

/// The BPE vocabularies tokenmeter can count with.
enum class vocabulary : std::uint8_t {
  o200k,  ///< o200k_base: gpt-4o, gpt-4.1, gpt-5, o-series
  cl100k, ///< cl100k_base: gpt-4, gpt-3.5, text-embedding-3
  llama3, ///< Llama 3.x
};

std::string_view to_string(vocabulary v) noexcept;
/// "o200k", "cl100k" or "llama3"; nullopt for anything else.
std::optional<vocabulary> parse_vocabulary(std::string_view name) noexcept;

/// The tokenizers loaded once at start-up from a data directory (o200k_base.tiktoken,
/// cl100k_base.tiktoken, llama3.tiktoken). A missing or broken file leaves that vocabulary
/// out: counts for it fall back to characters per token. Immutable and thread-safe.
class tokenizer_set {
public:
  /// Loads every vocabulary found in `directory` and logs, once, what is missing.
  static tokenizer_set load(const std::string& directory);
  /// The directory a config's empty vocabulary_dir stands for: `vocab` next to the binary,
  /// else ../share/tokenmeter/vocab, else the source tree's build/vocab; `configured` when set.
  static std::string directory_for(const std::string& configured);

  /// Adds (or replaces) one vocabulary: for tests and for load().
  void add(vocabulary v, std::unique_ptr<const tokenizer> t);
  /// The tokenizer of a vocabulary, or null when its data was not loaded.
  const tokenizer* find(vocabulary v) const noexcept;

private:
  std::array<std::unique_ptr<const tokenizer>, 3> tokenizers_;
};

} // namespace tokenmeter
