#include "price_table.hpp"

#include "model_name.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tokenmeter {
namespace {

std::vector<named_rates> sorted(std::vector<named_rates> names) {
  std::sort(names.begin(), names.end(),
            [](const named_rates& a, const named_rates& b) { return a.name < b.name; });
  return names;
}

std::optional<model_rates> search(const std::vector<named_rates>& names, std::string_view name) {
  const auto found = std::lower_bound(
      names.begin(), names.end(), name,
      [](const named_rates& entry, std::string_view key) { return entry.name < key; });
  if (found == names.end() || found->name != name) {
    return std::nullopt;
  }
  return found->rates;
}

} // namespace

price_table::price_table(price_list list)
    : entries_(sorted(std::move(list.models))), aliases_(sorted(std::move(list.aliases))) {}

price_table price_table::load_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error(path + ": cannot open the price file");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return load_yaml(text.str(), path);
}

price_table price_table::load_yaml(std::string_view yaml_text, std::string_view origin) {
  return price_table(parse_price_yaml(yaml_text, origin));
}

std::optional<model_rates> price_table::find(std::string_view model) const {
  const std::string name = lower_ascii(model);
  if (auto rates = find_exact(name)) {
    return rates;
  }
  const std::string_view bare = without_provider_prefix(name);
  if (bare.size() != name.size()) {
    if (auto rates = find_exact(bare)) {
      return rates;
    }
  }
  const std::string_view undated = without_snapshot_date(bare);
  if (undated.size() != bare.size()) {
    return find_exact(undated);
  }
  return std::nullopt;
}

std::size_t price_table::size() const noexcept {
  return entries_.size();
}

std::optional<model_rates> price_table::find_exact(std::string_view name) const {
  if (auto rates = search(entries_, name)) {
    return rates;
  }
  return search(aliases_, name);
}

} // namespace tokenmeter
