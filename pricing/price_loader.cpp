#include "price_loader.hpp"

#include "litellm_loader.hpp"
#include "load_errors.hpp"
#include "micro_usd.hpp"
#include "model_name.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tokenmeter {
namespace {

// Below 0.01 USD per 1M tokens no model's input or output is priced (the cheapest listed is
// 0.02). Such a value is a per-token price, or the per-1K price of a model under 10 USD per 1M,
// pasted into the per-1M column. A per-1K price of a dearer model cannot be told apart.
constexpr std::int64_t min_plausible_micro_usd = 10'000;
// Above 1000 USD per 1M tokens (o1-pro's output is 600) a value is a per-1B price or a typo.
constexpr std::int64_t max_plausible_micro_usd = 1'000'000'000;

struct rate_field {
  std::string_view key;
  std::int64_t model_rates::*member;
  bool unit_checked; ///< input and output are never legitimately this small or this large
};

constexpr std::array<rate_field, 4> rate_fields{{
    {"input", &model_rates::input, true},
    {"cached_input", &model_rates::cached_input, false},
    {"cache_write", &model_rates::cache_write, false},
    {"output", &model_rates::output, true},
}};

constexpr std::array<std::string_view, 3> provider_keys{"source", "read_on", "models"};
constexpr std::array<std::string_view, 5> model_keys{"name", "aliases", "long_context", "service_tiers",
                                                     "fine_tuned"};
/// The optional rate of every rates block: Anthropic's one-hour cache write.
constexpr std::string_view one_hour_write_key = "cache_write_1h";

bool is_rate_key(std::string_view key) {
  return key == one_hour_write_key || std::any_of(rate_fields.begin(), rate_fields.end(),
                                                  [&](const rate_field& field) { return field.key == key; });
}

bool is_model_field(std::string_view key) {
  return is_rate_key(key) || std::find(model_keys.begin(), model_keys.end(), key) != model_keys.end();
}

// A missing key yields an invalid node whose type queries throw, so test presence first.
bool is_scalar(const YAML::Node& node) {
  return node && node.IsScalar();
}

bool is_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) {
      return false;
    }
  }
  return true;
}

class price_parser {
public:
  explicit price_parser(std::string_view origin) : errors_(origin) {}

  price_list parse_document(const YAML::Node& root) {
    const YAML::Node providers = root.IsMap() ? root["providers"] : YAML::Node{};
    if (!providers || !providers.IsMap()) {
      errors_.add(root, "the file must be a map with a `providers:` map, one section per provider");
    } else {
      for (const auto& provider : providers) {
        parse_provider(provider.first.as<std::string>(), provider.second);
      }
      // A truncated or emptied file would otherwise leave every exchange unpriced.
      if (list_.models.empty()) {
        errors_.add(providers, "the file prices no model: every `providers:` section needs a `models:` entry");
      }
    }
    return finish();
  }

  price_list parse_model_list(const YAML::Node& root) {
    if (!root.IsSequence()) {
      errors_.add(root, "custom prices must be a list of model entries ({name, input, "
                        "cached_input, cache_write, output})");
    } else {
      list_.providers.push_back({"custom", "configuration file", "", 0});
      parse_models(root);
    }
    return finish();
  }

private:
  price_list finish() {
    errors_.throw_if_any();
    list_.format = "tokenmeter";
    return std::move(list_);
  }

  void parse_provider(const std::string& provider, const YAML::Node& section) {
    const std::string where = "provider '" + provider + "'";
    if (!section.IsMap()) {
      errors_.add(section, where + ": must be a map with source, read_on and models");
      return;
    }
    for (const auto& key : section) {
      const auto name = key.first.as<std::string>();
      if (std::find(provider_keys.begin(), provider_keys.end(), name) == provider_keys.end()) {
        errors_.add(key.first, where + ": unknown key '" + name + "'");
      }
    }
    const YAML::Node source = section["source"];
    const YAML::Node read_on = section["read_on"];
    if (!is_scalar(source) || source.Scalar().empty()) {
      errors_.add(section, where + ": field 'source' is missing: name the public price page");
    }
    if (!is_scalar(read_on) || !is_iso_date(read_on.Scalar())) {
      errors_.add(section, where + ": field 'read_on' must be the YYYY-MM-DD the prices were read");
    }
    const YAML::Node models = section["models"];
    if (!models || !models.IsSequence()) {
      errors_.add(section, where + ": field 'models' must be a list");
      return;
    }
    list_.providers.push_back({provider, is_scalar(source) ? source.Scalar() : "",
                               is_scalar(read_on) ? read_on.Scalar() : "", 0});
    parse_models(models);
  }

  void parse_models(const YAML::Node& models) {
    for (const YAML::Node& model : models) {
      if (parse_model(model)) {
        ++list_.providers.back().models;
      }
    }
  }

  bool parse_model(const YAML::Node& model) {
    if (!model.IsMap() || !is_scalar(model["name"]) || model["name"].Scalar().empty()) {
      errors_.add(model, "a model entry has no `name:`");
      return false;
    }
    const std::string name = lower_ascii(model["name"].Scalar());
    const std::string where = "model '" + name + "'";
    for (const auto& key : model) {
      const auto field = key.first.as<std::string>();
      if (!is_model_field(field)) {
        errors_.add(key.first, where + ": unknown field '" + field + "'");
      }
    }
    named_price entry{name, {}};
    entry.price.base = parse_rates(model, where);
    if (const YAML::Node tier = model["long_context"]) {
      entry.price.long_context = parse_long_context(tier, where + ": long_context");
    }
    if (const YAML::Node tiers = model["service_tiers"]) {
      parse_service_tiers(tiers, where, entry.price);
    }
    if (const YAML::Node tuned = model["fine_tuned"]) {
      entry.price.fine_tuned = parse_rates(tuned, where + ": fine_tuned");
    }
    claim(model, name, where + ": duplicate model name");
    list_.models.push_back(entry);
    parse_aliases(model["aliases"], where, entry.price);
    return true;
  }

  void parse_aliases(const YAML::Node& aliases, const std::string& where, const model_price& price) {
    if (!aliases) {
      return;
    }
    if (!aliases.IsSequence()) {
      errors_.add(aliases, where + ": field 'aliases' must be a list of names");
      return;
    }
    for (const YAML::Node& alias : aliases) {
      if (!is_scalar(alias) || alias.Scalar().empty()) {
        errors_.add(alias, where + ": field 'aliases' must be a list of names");
        continue;
      }
      const std::string alias_name = lower_ascii(alias.Scalar());
      claim(alias, alias_name,
            where + ": alias '" + alias_name + "' duplicates another model name or alias");
      list_.aliases.push_back({alias_name, price});
    }
  }

  long_context_tier parse_long_context(const YAML::Node& tier, const std::string& where) {
    long_context_tier parsed;
    if (!tier.IsMap()) {
      errors_.add(tier, where + ": must be a map with above_prompt_tokens and the four rates");
      return parsed;
    }
    const YAML::Node threshold = tier["above_prompt_tokens"];
    std::uint64_t tokens = 0;
    if (!is_scalar(threshold) || !YAML::convert<std::uint64_t>::decode(threshold, tokens) ||
        tokens == 0) {
      errors_.add(tier, where + ": field 'above_prompt_tokens' must be a positive token count");
    }
    parsed.above_prompt_tokens = tokens;
    parsed.rates = parse_rates(tier, where, {"above_prompt_tokens"});
    return parsed;
  }

  void parse_service_tiers(const YAML::Node& tiers, const std::string& where, model_price& price) {
    if (!tiers.IsMap()) {
      errors_.add(tiers, where + ": field 'service_tiers' must map a tier name to its rates");
      return;
    }
    for (const auto& tier : tiers) {
      const std::string tier_name = lower_ascii(tier.first.as<std::string>());
      price.service_tiers.emplace_back(
          tier_name, parse_rates(tier.second, where + ": service tier '" + tier_name + "'"));
    }
  }

  // The four rates of a block; every key but the rates and `extra_keys` is an error
  // when the block is not the model entry itself (whose other keys are checked above).
  model_rates parse_rates(const YAML::Node& block, const std::string& where,
                          std::initializer_list<std::string_view> extra_keys = {}) {
    model_rates rates;
    if (!block.IsMap()) {
      errors_.add(block, where + ": must be a map of input, cached_input, cache_write, output");
      return rates;
    }
    const bool is_entry = block["name"].IsDefined();
    if (!is_entry) {
      for (const auto& key : block) {
        const auto field = key.first.as<std::string>();
        if (!is_rate_key(field) &&
            std::find(extra_keys.begin(), extra_keys.end(), field) == extra_keys.end()) {
          errors_.add(key.first, where + ": unknown field '" + field + "'");
        }
      }
    }
    for (const rate_field& field : rate_fields) {
      const std::string prefix = where + ": field '" + std::string(field.key) + "' ";
      const YAML::Node value = block[std::string(field.key)];
      if (!value) {
        errors_.add(block, prefix + "is missing (USD per 1M tokens; write 0 if free)");
        continue;
      }
      rates.*field.member = parse_rate(value, prefix, field.unit_checked);
    }
    if (const YAML::Node one_hour = block[std::string(one_hour_write_key)]) {
      rates.cache_write_1h = parse_rate(one_hour, where + ": field '" + std::string(one_hour_write_key) + "' ", false);
    }
    return rates;
  }

  std::int64_t parse_rate(const YAML::Node& value, const std::string& prefix, bool unit_checked) {
    if (!value.IsScalar()) {
      errors_.add(value, prefix + std::string(describe(micro_usd_error::not_decimal)));
      return 0;
    }
    const micro_usd_result parsed = parse_micro_usd(value.Scalar());
    if (parsed.error != micro_usd_error::none) {
      errors_.add(value, prefix + "'" + value.Scalar() + "' " + std::string(describe(parsed.error)));
      return 0;
    }
    if (unit_checked && parsed.micro_usd > 0 && parsed.micro_usd < min_plausible_micro_usd) {
      errors_.add(value, prefix + "'" + value.Scalar() +
                             "' is below 0.01 and looks like a per-token or per-1K price: the unit "
                             "is USD per 1M tokens");
    }
    if (unit_checked && parsed.micro_usd > max_plausible_micro_usd) {
      errors_.add(value, prefix + "'" + value.Scalar() +
                             "' is above 1000 and looks like a price per 1B tokens or a typo: the "
                             "unit is USD per 1M tokens");
    }
    return parsed.micro_usd;
  }

  // Model names and aliases share one namespace: a name may price only one way.
  void claim(const YAML::Node& at, const std::string& name, const std::string& complaint) {
    if (!names_.insert(name).second) {
      errors_.add(at, complaint);
    }
  }

  load_errors errors_;
  price_list list_;
  std::set<std::string> names_;
};

template <typename Parse>
price_list parse_guarded(std::string_view origin, Parse parse) {
  try {
    return parse();
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(std::string(origin) + ": unexpected YAML structure: " + error.what());
  }
}

} // namespace

std::string read_price_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error(path + ": cannot open the price file");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

price_list parse_price_text(std::string_view text, std::string_view origin) {
  const YAML::Node root = load_yaml_document(text, origin);
  return parse_guarded(origin, [&] {
    if (root.IsMap() && !root["providers"]) {
      return parse_litellm(root, origin);
    }
    return price_parser(origin).parse_document(root);
  });
}

price_list parse_price_yaml(std::string_view yaml_text, std::string_view origin) {
  const YAML::Node root = load_yaml_document(yaml_text, origin);
  return parse_guarded(origin, [&] { return price_parser(origin).parse_document(root); });
}

price_list parse_model_list_yaml(std::string_view yaml_text, std::string_view origin) {
  const YAML::Node root = load_yaml_document(yaml_text, origin);
  return parse_guarded(origin, [&] { return price_parser(origin).parse_model_list(root); });
}

} // namespace tokenmeter
