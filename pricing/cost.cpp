#include "cost.hpp"

#include <algorithm>
#include <limits>

namespace tokenmeter {
namespace {

constexpr std::uint64_t max_cost = std::numeric_limits<std::int64_t>::max();

// tokens x rate, or max_cost when the product does not fit: an overflowing bill must
// read as "huge", never wrap round to a small or negative number.
std::uint64_t saturating_term(std::uint64_t tokens, std::int64_t rate) noexcept {
  if (rate <= 0 || tokens == 0) {
    return 0;
  }
  const auto unsigned_rate = static_cast<std::uint64_t>(rate);
  if (tokens > max_cost / unsigned_rate) {
    return max_cost;
  }
  return tokens * unsigned_rate;
}

} // namespace

billed_tokens billed_tokens_of(const token_usage& usage) noexcept {
  const std::uint64_t prompt = usage.prompt_tokens.value_or(0);
  const std::uint64_t cached = usage.cached_prompt_tokens.value_or(0);
  const std::uint64_t written = usage.cache_write_tokens.value_or(0);
  // Both conventions are normalised so that prompt_tokens includes cache reads and
  // writes; the clamp only guards against an upstream reporting more cache than prompt.
  const std::uint64_t cache_total = cached > std::numeric_limits<std::uint64_t>::max() - written
                                        ? std::numeric_limits<std::uint64_t>::max()
                                        : cached + written;
  const std::uint64_t written_1h = std::min(usage.cache_write_1h_tokens.value_or(0), written);
  return {prompt > cache_total ? prompt - cache_total : 0, cached, written - written_1h, written_1h,
          usage.completion_tokens.value_or(0)};
}

std::int64_t cost_pico_usd(const token_usage& usage, const model_rates& rates) noexcept {
  const billed_tokens billed = billed_tokens_of(usage);
  const std::uint64_t terms[] = {
      saturating_term(billed.uncached_prompt, rates.input),
      saturating_term(billed.cached_prompt, rates.cached_input),
      saturating_term(billed.cache_write_5m, rates.cache_write),
      saturating_term(billed.cache_write_1h, rates.cache_write_1h.value_or(rates.cache_write)),
      saturating_term(billed.completion, rates.output),
  };
  std::uint64_t total = 0;
  for (const std::uint64_t term : terms) {
    total = term > max_cost - total ? max_cost : total + term;
  }
  return static_cast<std::int64_t>(total);
}

} // namespace tokenmeter
