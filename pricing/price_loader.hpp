#pragma once

#include "cost.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// One priced name: a model, or an alias carrying its model's rates.
struct named_rates {
  std::string name; ///< lower-case
  model_rates rates;
};

/// Every model and alias of a validated price file, in file order.
struct price_list {
  std::vector<named_rates> models;  ///< one per model entry
  std::vector<named_rates> aliases; ///< one per name listed under a model's `aliases:`
};

/// Parses the shipped price format (USD per 1M tokens as decimal text, one section per
/// provider naming its source and reading date). Throws std::runtime_error listing every
/// problem found, each naming `origin`, the line, the model and the field.
price_list parse_price_yaml(std::string_view yaml_text, std::string_view origin);

} // namespace tokenmeter
