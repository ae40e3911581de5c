#include "litellm_loader.hpp"

#include "load_errors.hpp"
#include "micro_usd.hpp"
#include "model_name.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string>

namespace tokenmeter {
namespace {

// Above 0.001 USD per token (1000 USD per 1M) no chat model is priced; such a value is a
// per-1M price pasted into a per-token field.
constexpr std::int64_t max_plausible_micro_usd = 1'000'000'000;

constexpr std::array<std::string_view, 4> priced_modes{"chat", "completion", "responses",
                                                       "embedding"};

/// The suffixes of LiteLLM's long-context fields, with the prompt size they start above.
struct long_context_suffix {
  std::string_view suffix;
  std::uint64_t above_prompt_tokens;
};
constexpr std::array<long_context_suffix, 2> long_context_suffixes{{
    {"_above_200k_tokens", 200'000},
    {"_above_128k_tokens", 128'000},
}};

constexpr std::array<std::string_view, 2> service_tier_names{"flex", "priority"};

class litellm_parser {
public:
  explicit litellm_parser(std::string_view origin) : origin_(origin), errors_(origin) {}

  price_list parse(const YAML::Node& root) {
    list_.format = "litellm";
    list_.providers.push_back({"litellm", origin_, "", 0});
    for (const auto& entry : root) {
      parse_entry(entry.first.as<std::string>(), entry.second);
    }
    errors_.throw_if_any();
    return std::move(list_);
  }

private:
  void parse_entry(const std::string& key, const YAML::Node& entry) {
    if (!entry.IsMap()) {
      skip("not a model entry");
      return;
    }
    const YAML::Node mode = entry["mode"];
    const bool priced_mode =
        mode && mode.IsScalar() &&
        std::find(priced_modes.begin(), priced_modes.end(), mode.Scalar()) != priced_modes.end();
    if (!priced_mode) {
      skip("not a chat, completion, responses or embedding model");
      return;
    }
    if (!entry["input_cost_per_token"]) {
      skip("no input_cost_per_token");
      return;
    }
    const std::string name = lower_ascii(key);
    if (!names_.insert(name).second) {
      skip("duplicate name");
      return;
    }
    where_ = "model '" + name + "'";
    entry_ = &entry;

    named_price priced{name, {}};
    model_price& price = priced.price;
    price.base.input = rate("input_cost_per_token").value_or(0);
    price.base.output = rate("output_cost_per_token").value_or(0);
    // A missing cache price bills cache tokens as ordinary input: never cheaper than listed.
    // DeepSeek entries carry only the older input_cost_per_token_cache_hit (bug case B09).
    std::optional<std::int64_t> cached = rate("cache_read_input_token_cost");
    if (!cached) {
      cached = rate("input_cost_per_token_cache_hit");
    }
    price.base.cached_input = cached.value_or(price.base.input);
    price.base.cache_write = rate("cache_creation_input_token_cost").value_or(price.base.input);
    price.base.cache_write_1h = rate("cache_creation_input_token_cost_above_1hr");
    price.long_context = long_context(price.base);
    for (const std::string_view tier : service_tier_names) {
      if (auto rates = tier_rates("_" + std::string(tier), price.base)) {
        price.service_tiers.emplace_back(std::string(tier), *rates);
      }
    }
    list_.models.push_back(std::move(priced));
    ++list_.providers.back().models;
  }

  std::optional<long_context_tier> long_context(const model_rates& base) {
    for (const long_context_suffix& tier : long_context_suffixes) {
      if (auto rates = tier_rates(std::string(tier.suffix), base)) {
        return long_context_tier{tier.above_prompt_tokens, *rates};
      }
    }
    return std::nullopt;
  }

  // The rates of the fields carrying `suffix`, each falling back to the base rate, or
  // nullopt when the entry has none of them.
  std::optional<model_rates> tier_rates(const std::string& suffix, const model_rates& base) {
    const auto input = rate("input_cost_per_token" + suffix);
    const auto output = rate("output_cost_per_token" + suffix);
    const auto cached = rate("cache_read_input_token_cost" + suffix);
    const auto written = rate("cache_creation_input_token_cost" + suffix);
    const auto written_1h = rate("cache_creation_input_token_cost_above_1hr" + suffix);
    if (!input && !output && !cached && !written && !written_1h) {
      return std::nullopt;
    }
    return model_rates{input.value_or(base.input), cached.value_or(base.cached_input),
                       written.value_or(base.cache_write), output.value_or(base.output),
                       written_1h ? written_1h : base.cache_write_1h};
  }

  std::optional<std::int64_t> rate(const std::string& field) {
    const YAML::Node value = (*entry_)[field];
    if (!value) {
      return std::nullopt;
    }
    const std::string prefix = where_ + ": field '" + field + "' ";
    if (!value.IsScalar()) {
      errors_.add(value, prefix + "is not a number");
      return std::nullopt;
    }
    const per_token_result parsed = parse_per_token_usd(value.Scalar());
    if (parsed.error != micro_usd_error::none) {
      errors_.add(value, prefix + "'" + value.Scalar() + "' " + std::string(describe(parsed.error)));
      return std::nullopt;
    }
    if (parsed.micro_usd_per_million > max_plausible_micro_usd) {
      errors_.add(value, prefix + "'" + value.Scalar() +
                             "' is above 0.001 USD per token and looks like a per-1M price: "
                             "LiteLLM fields are USD per token");
      return std::nullopt;
    }
    if (!parsed.exact) {
      ++list_.rounded;
    }
    return parsed.micro_usd_per_million;
  }

  void skip(const std::string& reason) { ++list_.skipped[reason]; }

  std::string origin_;
  load_errors errors_;
  price_list list_;
  std::set<std::string> names_;
  std::string where_;                ///< the entry being read, for messages
  const YAML::Node* entry_ = nullptr; ///< the entry being read
};

} // namespace

price_list parse_litellm(const YAML::Node& root, std::string_view origin) {
  return litellm_parser(origin).parse(root);
}

} // namespace tokenmeter
