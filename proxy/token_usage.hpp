#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tokenmeter {

/// Where an exchange's token counts came from.
enum class usage_source : std::uint8_t {
  reported,  ///< the upstream's own usage block
  estimated, ///< counted by tokenmeter with the model family's vocabulary: the upstream reported none
  estimated_fallback, ///< estimated at characters per token: the vocabulary's data was missing
  missing,   ///< no usage at all: counts are unknown, never silently zero
};

std::string_view to_string(usage_source source) noexcept;

/// No single exchange processes this many tokens; a larger count is a broken usage block.
/// The bound also keeps every sum of counts far from overflowing a signed 64-bit total.
inline constexpr std::uint64_t max_plausible_tokens = 1'000'000'000'000;

/// The normalised token counts of one exchange. The same names are used in the
/// ledger, the usage API and the metric labels. A field is unset when the upstream
/// did not report it, which is different from a reported zero.
struct token_usage {
  /// Every input token the upstream processed, cached or not.
  std::optional<std::uint64_t> prompt_tokens;
  /// Subset of prompt_tokens read from a prompt cache.
  std::optional<std::uint64_t> cached_prompt_tokens;
  /// Subset of prompt_tokens written to a prompt cache.
  std::optional<std::uint64_t> cache_write_tokens;
  /// Every billed output token, reasoning included.
  std::optional<std::uint64_t> completion_tokens;
  /// Subset of completion_tokens spent on reasoning.
  std::optional<std::uint64_t> reasoning_tokens;
  /// Subset of cache_write_tokens written with a one-hour lifetime (Anthropic), billed at its
  /// own rate; the other writes are five-minute writes. Last, so that the positional
  /// initialisers of the five fields above keep their meaning.
  std::optional<std::uint64_t> cache_write_1h_tokens;

  /// prompt_tokens + completion_tokens, counting unset fields as zero.
  std::uint64_t total_tokens() const noexcept {
    return prompt_tokens.value_or(0) + completion_tokens.value_or(0);
  }
  /// True when any field is set.
  bool any() const noexcept {
    return prompt_tokens || cached_prompt_tokens || cache_write_tokens || cache_write_1h_tokens ||
           completion_tokens || reasoning_tokens;
  }
  friend bool operator==(const token_usage&, const token_usage&) = default;
};

} // namespace tokenmeter
