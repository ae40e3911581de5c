#pragma once

#include "model_price.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// One priced name: a model, or an alias carrying its model's price.
struct named_price {
  std::string name; ///< lower-case
  model_price price;
};

/// One provider section of a price file, for `pricing check` and the logs.
struct provider_info {
  std::string name;
  std::string source;  ///< the public page the prices were read from
  std::string read_on; ///< YYYY-MM-DD
  std::size_t models = 0;
};

/// Every model and alias of a validated price document, in document order.
struct price_list {
  std::string format;                 ///< "tokenmeter" or "litellm"
  std::vector<provider_info> providers;
  std::vector<named_price> models;    ///< one per model entry
  std::vector<named_price> aliases;   ///< one per name listed under a model's `aliases:`
  std::map<std::string, std::size_t> skipped; ///< entries not imported, by reason (LiteLLM)
  std::size_t rounded = 0;            ///< LiteLLM values finer than 1e-12 USD per token, rounded
};

/// The bytes of a price file. Throws std::runtime_error naming the path when it cannot be read.
std::string read_price_file(const std::string& path);

/// Parses a price document in either format: the shipped YAML format when it has a
/// `providers:` map, else LiteLLM's model_prices_and_context_window.json. Throws
/// std::runtime_error listing every problem, each naming `origin`, the line, the model
/// and the field.
price_list parse_price_text(std::string_view text, std::string_view origin);

/// Parses the shipped format only (USD per 1M tokens as decimal text, one section per
/// provider naming its source and reading date).
price_list parse_price_yaml(std::string_view yaml_text, std::string_view origin);

/// Parses a config file's `custom_prices:` value: a YAML list of model entries in the
/// shipped format, without provider sections.
price_list parse_model_list_yaml(std::string_view yaml_text, std::string_view origin);

} // namespace tokenmeter
