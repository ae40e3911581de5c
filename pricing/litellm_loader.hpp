#pragma once

#include "price_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <string_view>

namespace tokenmeter {

/// Imports LiteLLM's model_prices_and_context_window.json (already parsed): USD-per-token
/// fields become exact micro-USD per 1M tokens. Entries that are not token-priced chat,
/// completion, responses or embedding models are skipped and counted by reason; a
/// per-token field holding a per-1M value is an error naming the model and the field.
price_list parse_litellm(const YAML::Node& root, std::string_view origin);

} // namespace tokenmeter
