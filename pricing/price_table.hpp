#pragma once

#include "cost.hpp"
#include "model_price.hpp"
#include "price_loader.hpp"
#include "token_usage.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// How a model name found its price.
struct price_match {
  std::string entry; ///< the table's name for the model that priced it
  std::string rule;  ///< the matching steps, e.g. "provider prefix + snapshot date"
  model_price price;
};

/// An immutable model -> price table.
class price_table {
public:
  /// Loads a price file in either format (shipped YAML or LiteLLM JSON). Throws
  /// std::runtime_error naming the file, the model and the field on any error.
  static price_table load_file(const std::string& path);
  /// Loads either format from text; `origin` names it in error messages.
  static price_table load_text(std::string_view text, std::string_view origin);
  /// Loads the shipped YAML format only.
  static price_table load_yaml(std::string_view yaml_text, std::string_view origin);
  /// Loads a config file's `custom_prices:` list of model entries.
  static price_table load_model_list(std::string_view yaml_text, std::string_view origin);

  /// The base rates for a model name, or nullopt if unpriced (see match()).
  std::optional<model_rates> find(std::string_view model) const;
  /// The price of a model name as an upstream or agent wrote it, or nullopt if unpriced.
  /// Tries, case-insensitively: the exact name or an alias, then without a provider
  /// prefix, without Bedrock's region/vendor/version affixes, without a snapshot date.
  /// A fine-tune id ("ft:BASE:...") prices at its base's `fine_tuned` rates, or not at
  /// all. Never a bare prefix match: "gpt-4o-mini" is not "gpt-4o".
  std::optional<price_match> match(std::string_view model) const;
  /// The number of models, aliases not counted.
  std::size_t size() const noexcept;
  /// Calls `visit` with each model (aliases not included), in name order.
  void for_each(const std::function<void(std::string_view, const model_price&)>& visit) const;
  /// What the document held besides prices: format, provider sections, skipped entries.
  const price_list& summary() const noexcept;

private:
  explicit price_table(price_list list);
  std::optional<price_match> match_plain(std::string_view name) const;
  std::optional<price_match> find_exact(std::string_view name) const;

  price_list summary_;                ///< models and aliases moved out
  std::vector<named_price> entries_;  ///< sorted by name
  std::vector<named_price> aliases_;  ///< sorted by name
};

} // namespace tokenmeter
