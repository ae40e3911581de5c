#include "price_table.hpp"

#include "model_name.hpp"

#include <algorithm>

namespace tokenmeter {
namespace {

std::vector<named_price> sorted(std::vector<named_price> names) {
  std::sort(names.begin(), names.end(),
            [](const named_price& a, const named_price& b) { return a.name < b.name; });
  return names;
}

const named_price* search(const std::vector<named_price>& names, std::string_view name) {
  const auto found = std::lower_bound(
      names.begin(), names.end(), name,
      [](const named_price& entry, std::string_view key) { return entry.name < key; });
  return found == names.end() || found->name != name ? nullptr : &*found;
}

void add_step(std::string& rule, std::string_view step) {
  rule += rule.empty() ? "" : " + ";
  rule += step;
}

} // namespace

price_table::price_table(price_list list)
    : entries_(sorted(std::move(list.models))), aliases_(sorted(std::move(list.aliases))) {
  list.models.clear();
  list.aliases.clear();
  summary_ = std::move(list);
}

price_table price_table::load_file(const std::string& path) {
  return load_text(read_price_file(path), path);
}

price_table price_table::load_text(std::string_view text, std::string_view origin) {
  return price_table(parse_price_text(text, origin));
}

price_table price_table::load_yaml(std::string_view yaml_text, std::string_view origin) {
  return price_table(parse_price_yaml(yaml_text, origin));
}

price_table price_table::load_model_list(std::string_view yaml_text, std::string_view origin) {
  return price_table(parse_model_list_yaml(yaml_text, origin));
}

std::optional<model_rates> price_table::find(std::string_view model) const {
  if (auto found = match(model)) {
    return found->price.base;
  }
  return std::nullopt;
}

std::optional<price_match> price_table::match(std::string_view model) const {
  const std::string name = lower_ascii(model);
  const std::optional<std::string_view> base = fine_tune_base(name);
  if (!base) {
    return match_plain(name);
  }
  // A fine-tune costs more than its base: without a fine-tune rate it stays unpriced.
  std::optional<price_match> found = match_plain(*base);
  if (!found || !found->price.fine_tuned) {
    return std::nullopt;
  }
  model_price tuned;
  tuned.base = *found->price.fine_tuned;
  std::string rule = "fine-tune of " + found->entry;
  add_step(rule, found->rule);
  return price_match{found->entry, rule, tuned};
}

std::optional<price_match> price_table::match_plain(std::string_view name) const {
  std::string rule;
  std::string_view current = name;
  // Each rule peels one decoration; the name is looked up again only when one came off.
  const auto try_step = [&](std::string_view next, std::string_view step) -> std::optional<price_match> {
    if (next.size() == current.size()) {
      return std::nullopt;
    }
    current = next;
    add_step(rule, step);
    if (auto found = find_exact(current)) {
      add_step(rule, found->rule);
      found->rule = rule;
      return found;
    }
    return std::nullopt;
  };
  if (auto found = find_exact(current)) {
    return found;
  }
  if (auto found = try_step(without_provider_prefix(current), "provider prefix")) {
    return found;
  }
  if (auto found = try_step(without_bedrock_affixes(current), "Bedrock id")) {
    return found;
  }
  return try_step(without_snapshot_date(current), "snapshot date");
}

std::size_t price_table::size() const noexcept {
  return entries_.size();
}

void price_table::for_each(
    const std::function<void(std::string_view, const model_price&)>& visit) const {
  for (const named_price& entry : entries_) {
    visit(entry.name, entry.price);
  }
}

const price_list& price_table::summary() const noexcept {
  return summary_;
}

std::optional<price_match> price_table::find_exact(std::string_view name) const {
  if (const named_price* entry = search(entries_, name)) {
    return price_match{entry->name, "exact name", entry->price};
  }
  if (const named_price* alias = search(aliases_, name)) {
    return price_match{alias->name, "alias", alias->price};
  }
  return std::nullopt;
}

} // namespace tokenmeter
