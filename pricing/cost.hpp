#pragma once

#include "token_usage.hpp"

#include <cstdint>
#include <optional>

namespace tokenmeter {

/// Prices of one model in micro-USD per 1M tokens, so that tokens x rate is an exact
/// count of pico-USD (1e-12 USD).
struct model_rates {
  std::int64_t input = 0;        ///< uncached prompt tokens
  std::int64_t cached_input = 0; ///< prompt tokens read from a cache
  std::int64_t cache_write = 0;  ///< prompt tokens written to a cache
  std::int64_t output = 0;       ///< completion tokens, reasoning included
  /// Prompt tokens written to a cache for one hour (Anthropic); unset: billed at cache_write.
  std::optional<std::int64_t> cache_write_1h;
  friend bool operator==(const model_rates&, const model_rates&) = default;
};

/// The token counts each rate applies to. Reasoning is inside completion and never apart.
struct billed_tokens {
  std::uint64_t uncached_prompt = 0; ///< prompt minus cache reads and writes, never below 0
  std::uint64_t cached_prompt = 0;
  std::uint64_t cache_write_5m = 0;  ///< cache writes that are not one-hour writes
  std::uint64_t cache_write_1h = 0;  ///< one-hour writes, never more than all writes
  std::uint64_t completion = 0;
};

/// Splits a usage into what each rate bills; unset counts are zero.
billed_tokens billed_tokens_of(const token_usage& usage) noexcept;

/// The exact cost in pico-USD: uncached prompt x input + cached x cached_input
/// + five-minute writes x cache_write + one-hour writes x cache_write_1h + completion x output.
/// Unset counts and negative rates count as zero; the result saturates at INT64_MAX instead
/// of wrapping.
std::int64_t cost_pico_usd(const token_usage& usage, const model_rates& rates) noexcept;

} // namespace tokenmeter
