#pragma once

#include "cost.hpp"
#include "token_usage.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenmeter {

/// Higher rates for every token of a request whose prompt exceeds a size, as Claude
/// Sonnet 4 and Gemini 2.5 Pro charge above 200K prompt tokens.
struct long_context_tier {
  std::uint64_t above_prompt_tokens = 0; ///< applies when prompt_tokens is strictly greater
  model_rates rates;
  friend bool operator==(const long_context_tier&, const long_context_tier&) = default;
};

/// The rates that priced one exchange and the name of the tier they came from.
struct applied_rates {
  model_rates rates;
  std::string tier; ///< "standard", "long_context" or a service tier such as "flex"
};

/// Everything the table knows about one model's price.
struct model_price {
  model_rates base;                              ///< the standard tier, short context
  std::optional<long_context_tier> long_context; ///< rates above a prompt-size threshold
  /// Rates by the response's `service_tier` (lower-case, e.g. "flex", "priority").
  std::vector<std::pair<std::string, model_rates>> service_tiers;
  std::optional<model_rates> fine_tuned; ///< rates of fine-tunes of this model

  /// The rates for this exchange: a listed service tier wins, then the long-context tier
  /// when the prompt is over its threshold, else the base rates.
  applied_rates rates_for(const token_usage& usage, std::string_view service_tier) const;
  friend bool operator==(const model_price&, const model_price&) = default;
};

} // namespace tokenmeter
