#pragma once

#include "token_usage.hpp"

#include <cstdint>
#include <optional>

namespace tokenmeter {

enum class api_schema; // usage_extractor.hpp

/// Usage counters as the upstream named them, before normalisation. Each field holds the
/// latest value reported for it in this exchange; an unset field was never reported.
struct raw_usage {
  std::optional<std::uint64_t> input;         ///< prompt_tokens / input_tokens / prompt_eval_count
  std::optional<std::uint64_t> output;        ///< completion_tokens / output_tokens / eval_count
  std::optional<std::uint64_t> total;         ///< total_tokens
  std::optional<std::uint64_t> cached;        ///< prompt_/input_tokens_details.cached_tokens
  std::optional<std::uint64_t> cache_hit;     ///< DeepSeek prompt_cache_hit_tokens
  std::optional<std::uint64_t> cached_flat;   ///< Together usage.cached_tokens
  std::optional<std::uint64_t> cache_read;    ///< Anthropic cache_read_input_tokens
  std::optional<std::uint64_t> cache_write;   ///< Anthropic cache_creation_input_tokens
  std::optional<std::uint64_t> cache_write_1h; ///< Anthropic cache_creation.ephemeral_1h_input_tokens
  std::optional<std::uint64_t> reasoning;     ///< completion_/output_tokens_details.reasoning_tokens
  std::optional<std::int64_t> cost_pico_usd;  ///< the upstream's own cost (OpenRouter usage.cost)
  bool seen = false;                          ///< a usage object (even an empty one) was read
  bool unreadable = false; ///< a count was present but not a plausible whole number: trust none

  /// Overwrites every field that `later` has set; never adds.
  void merge(const raw_usage& later);
  /// Adds every count that `delta` has set (saturating): for upstreams whose events carry
  /// per-event deltas instead of running totals. The cost is added too.
  void accumulate(const raw_usage& delta);
};

/// The canonical counts of one exchange and what had to be inferred to get them.
struct normalised_usage {
  token_usage usage;
  /// total_tokens exceeded prompt + completion and the gap was booked as hidden
  /// (reasoning) output: the counts are not the ones the upstream itemised.
  bool total_gap_booked = false;
};

/// Turns the merged raw counters into token_usage with the schema's conventions:
/// Anthropic input excludes cache tokens, OpenAI's includes them, Cohere bills billed_units;
/// total_tokens is authoritative.
normalised_usage normalise(api_schema schema, const raw_usage& raw) noexcept;

} // namespace tokenmeter
