#include "model_price.hpp"

#include "model_name.hpp"

#include <algorithm>

namespace tokenmeter {

applied_rates model_price::rates_for(const token_usage& usage,
                                     std::string_view service_tier) const {
  if (!service_tier.empty()) {
    const std::string tier = lower_ascii(service_tier);
    const auto listed = std::find_if(service_tiers.begin(), service_tiers.end(),
                                     [&](const auto& entry) { return entry.first == tier; });
    if (listed != service_tiers.end()) {
      return {listed->second, listed->first};
    }
  }
  if (long_context && usage.prompt_tokens.value_or(0) > long_context->above_prompt_tokens) {
    return {long_context->rates, "long_context"};
  }
  return {base, "standard"};
}

} // namespace tokenmeter
