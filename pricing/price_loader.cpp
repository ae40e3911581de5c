#include "price_loader.hpp"

#include "micro_usd.hpp"
#include "model_name.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

namespace tokenmeter {
namespace {

// Below 0.001 USD per 1M tokens no model is priced; such a value is almost surely a
// per-token or per-1K price pasted into the per-1M column.
constexpr std::int64_t min_plausible_micro_usd = 1'000;

struct rate_field {
  std::string_view key;
  std::int64_t model_rates::*member;
  bool unit_checked; ///< input and output are never legitimately this small
};

constexpr std::array<rate_field, 4> rate_fields{{
    {"input", &model_rates::input, true},
    {"cached_input", &model_rates::cached_input, false},
    {"cache_write", &model_rates::cache_write, false},
    {"output", &model_rates::output, true},
}};

constexpr std::array<std::string_view, 3> provider_keys{"source", "read_on", "models"};

bool is_model_field(std::string_view key) {
  return key == "name" || key == "aliases" ||
         std::any_of(rate_fields.begin(), rate_fields.end(),
                     [&](const rate_field& field) { return field.key == key; });
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

// Collects every problem instead of stopping at the first, so that one edit-reload cycle
// shows the whole list.
class price_parser {
public:
  explicit price_parser(std::string_view origin) : origin_(origin) {}

  price_list parse(const YAML::Node& root) {
    const YAML::Node providers = root.IsMap() ? root["providers"] : YAML::Node{};
    if (!providers || !providers.IsMap()) {
      fail(root, "the file must be a map with a `providers:` map, one section per provider");
    } else {
      for (const auto& provider : providers) {
        parse_provider(provider.first.as<std::string>(), provider.second);
      }
    }
    if (!errors_.empty()) {
      std::string message = origin_ + ": invalid price file:";
      for (const std::string& error : errors_) {
        message += "\n  " + error;
      }
      throw std::runtime_error(message);
    }
    return std::move(list_);
  }

private:
  void parse_provider(const std::string& provider, const YAML::Node& section) {
    const std::string where = "provider '" + provider + "'";
    if (!section.IsMap()) {
      fail(section, where + ": must be a map with source, read_on and models");
      return;
    }
    for (const auto& key : section) {
      const auto name = key.first.as<std::string>();
      if (std::find(provider_keys.begin(), provider_keys.end(), name) == provider_keys.end()) {
        fail(key.first, where + ": unknown key '" + name + "'");
      }
    }
    if (!is_scalar(section["source"]) || section["source"].Scalar().empty()) {
      fail(section, where + ": field 'source' is missing: name the public price page");
    }
    if (!is_scalar(section["read_on"]) || !is_iso_date(section["read_on"].Scalar())) {
      fail(section, where + ": field 'read_on' must be the YYYY-MM-DD the prices were read");
    }
    const YAML::Node models = section["models"];
    if (!models || !models.IsSequence()) {
      fail(section, where + ": field 'models' must be a list");
      return;
    }
    for (const YAML::Node& model : models) {
      parse_model(model);
    }
  }

  void parse_model(const YAML::Node& model) {
    if (!model.IsMap() || !is_scalar(model["name"]) || model["name"].Scalar().empty()) {
      fail(model, "a model entry has no `name:`");
      return;
    }
    const std::string name = lower_ascii(model["name"].Scalar());
    const std::string where = "model '" + name + "'";
    for (const auto& key : model) {
      const auto field = key.first.as<std::string>();
      if (!is_model_field(field)) {
        fail(key.first, where + ": unknown field '" + field + "'");
      }
    }
    named_rates entry{name, {}};
    for (const rate_field& field : rate_fields) {
      entry.rates.*field.member = parse_rate(model, where, field);
    }
    claim(model, name, where + ": duplicate model name");
    list_.models.push_back(entry);

    const YAML::Node aliases = model["aliases"];
    if (!aliases) {
      return;
    }
    if (!aliases.IsSequence()) {
      fail(aliases, where + ": field 'aliases' must be a list of names");
      return;
    }
    for (const YAML::Node& alias : aliases) {
      if (!is_scalar(alias) || alias.Scalar().empty()) {
        fail(alias, where + ": field 'aliases' must be a list of names");
        continue;
      }
      const std::string alias_name = lower_ascii(alias.Scalar());
      claim(alias, alias_name,
            where + ": alias '" + alias_name + "' duplicates another model name or alias");
      list_.aliases.push_back({alias_name, entry.rates});
    }
  }

  std::int64_t parse_rate(const YAML::Node& model, const std::string& where,
                          const rate_field& field) {
    const YAML::Node value = model[std::string(field.key)];
    const std::string prefix = where + ": field '" + std::string(field.key) + "' ";
    if (!value) {
      fail(model, prefix + "is missing (USD per 1M tokens; write 0 if free)");
      return 0;
    }
    if (!value.IsScalar()) {
      fail(value, prefix + std::string(describe(micro_usd_error::not_decimal)));
      return 0;
    }
    const micro_usd_result parsed = parse_micro_usd(value.Scalar());
    if (parsed.error != micro_usd_error::none) {
      fail(value, prefix + "'" + value.Scalar() + "' " + std::string(describe(parsed.error)));
      return 0;
    }
    if (field.unit_checked && parsed.micro_usd > 0 && parsed.micro_usd < min_plausible_micro_usd) {
      fail(value, prefix + "'" + value.Scalar() +
                      "' is below 0.001 and looks like a per-token price: the unit is USD per "
                      "1M tokens");
    }
    return parsed.micro_usd;
  }

  // Model names and aliases share one namespace: a name may price only one way.
  void claim(const YAML::Node& at, const std::string& name, const std::string& complaint) {
    if (!names_.insert(name).second) {
      fail(at, complaint);
    }
  }

  void fail(const YAML::Node& at, const std::string& what) {
    const YAML::Mark mark = at.Mark();
    const std::string line = mark.is_null() ? "" : "line " + std::to_string(mark.line + 1) + ": ";
    errors_.push_back(line + what);
  }

  std::string origin_;
  price_list list_;
  std::set<std::string> names_;
  std::vector<std::string> errors_;
};

} // namespace

price_list parse_price_yaml(std::string_view yaml_text, std::string_view origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(std::string(origin) + ": not valid YAML: " + error.what());
  }
  try {
    return price_parser(origin).parse(root);
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(std::string(origin) + ": unexpected YAML structure: " + error.what());
  }
}

} // namespace tokenmeter
