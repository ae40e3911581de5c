#pragma once

#include "cost.hpp"
#include "price_loader.hpp"
#include "token_usage.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// An immutable model -> rates table.
class price_table {
public:
  /// Loads the shipped YAML format. Throws std::runtime_error naming the file, the
  /// model and the field on any error.
  static price_table load_file(const std::string& path);
  /// Loads the same format from text; `origin` names it in error messages.
  static price_table load_yaml(std::string_view yaml_text, std::string_view origin);

  /// The rates for a model name as an upstream or agent wrote it, or nullopt if unpriced.
  /// Tries, case-insensitively: the exact name, an alias, the name without an "openai/"
  /// or "anthropic/" prefix, then without a snapshot date. Never a bare prefix match.
  std::optional<model_rates> find(std::string_view model) const;
  /// The number of models, aliases not counted.
  std::size_t size() const noexcept;

private:
  explicit price_table(price_list list);
  std::optional<model_rates> find_exact(std::string_view name) const;

  std::vector<named_rates> entries_; ///< sorted by name
  std::vector<named_rates> aliases_; ///< sorted by name
};

} // namespace tokenmeter
