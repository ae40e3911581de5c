#include "price_book.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

namespace tokenmeter {
namespace {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("cannot compute SHA-256");
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < size; ++i) {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 0xf];
  }
  return text;
}

std::shared_ptr<const price_table> custom_table(std::string_view yaml, std::string_view origin) {
  if (yaml.empty()) {
    return nullptr;
  }
  return std::make_shared<const price_table>(price_table::load_model_list(yaml, origin));
}

} // namespace

price_source load_price_source(const std::string& path) {
  const std::string bytes = read_price_file(path);
  return {std::make_shared<const price_table>(price_table::load_text(bytes, path)), path,
          sha256_hex(bytes)};
}

price_book::price_book(price_source table, std::string_view global_custom_yaml,
                       const std::map<std::string, upstream_prices>& upstreams)
    : source_(std::make_shared<const price_source>(std::move(table))),
      global_custom_(custom_table(global_custom_yaml, "custom_prices")) {
  for (const auto& [name, prices] : upstreams) {
    upstreams_.emplace(name, upstream_book{custom_table(prices.custom_prices_yaml,
                                                        "upstreams." + name + ".custom_prices"),
                                           prices.deployments});
  }
}

std::optional<price_book::found_price> price_book::find(const price_source& table, const price_query& query) const {
  const auto upstream = upstreams_.find(query.upstream);
  const upstream_book* own = upstream == upstreams_.end() ? nullptr : &upstream->second;

  std::vector<std::string> candidates;
  const auto add_name = [&](std::string_view name) {
    if (name.empty()) {
      return;
    }
    if (!query.upstream.empty()) {
      candidates.push_back(std::string(query.upstream) + "/" + std::string(name));
    }
    candidates.emplace_back(name);
  };
  add_name(query.model);
  if (own) {
    if (const auto deployed = own->deployments.find(std::string(query.request_model));
        deployed != own->deployments.end()) {
      add_name(deployed->second);
    }
  }
  if (query.request_model != query.model) {
    add_name(query.request_model);
  }

  const std::pair<const price_table*, std::string_view> lists[] = {
      {own ? own->custom.get() : nullptr, "upstream custom prices"},
      {global_custom_.get(), "custom prices"},
      {table.table.get(), "price table"},
  };
  for (const auto& [list, list_name] : lists) {
    if (!list) {
      continue;
    }
    for (std::string& candidate : candidates) {
      if (auto found = list->match(candidate)) {
        return found_price{std::move(candidate), list_name, std::move(*found)};
      }
    }
  }
  return std::nullopt;
}

std::optional<price_quote> price_book::quote(const price_query& query) const {
  const std::shared_ptr<const price_source> table = source();
  auto found = find(*table, query);
  if (!found) {
    return std::nullopt;
  }
  price_quote quoted;
  quoted.applied = found->match.price.rates_for(query.usage, query.service_tier);
  quoted.cost_pico_usd = cost_pico_usd(query.usage, quoted.applied.rates);
  quoted.priced_name = std::move(found->priced_name);
  quoted.price_list = std::string(found->price_list);
  quoted.table_sha256 = table->sha256;
  quoted.match = std::move(found->match);
  return quoted;
}

exchange_price price_book::price(const price_query& query) const {
  std::string key;
  key.reserve(query.upstream.size() + query.model.size() + query.request_model.size() + 2);
  key.append(query.upstream).append(1, '\n').append(query.model).append(1, '\n').append(query.request_model);
  std::shared_ptr<const price_source> table;
  std::shared_ptr<const model_price> price;
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    table = source_;
    if (const auto at = remembered_.find(key); at != remembered_.end() && at->second.table == table) {
      price = at->second.price;
      known = true;
    }
  }
  if (!known) {
    if (auto found = find(*table, query)) {
      price = std::make_shared<const model_price>(std::move(found->match.price));
    }
    std::lock_guard lock(mutex_);
    if (remembered_.size() >= max_remembered) {
      remembered_.clear();
    }
    remembered_.insert_or_assign(std::move(key), remembered_price{table, price});
  }
  exchange_price priced{std::move(table), std::nullopt};
  if (price) {
    priced.cost_pico_usd = cost_pico_usd(query.usage, price->rates_for(query.usage, query.service_tier).rates);
  }
  return priced;
}

std::shared_ptr<const price_source> price_book::source() const {
  std::lock_guard lock(mutex_);
  return source_;
}

void price_book::replace(price_source table) {
  auto next = std::make_shared<const price_source>(std::move(table));
  std::lock_guard lock(mutex_);
  source_ = std::move(next);
  // What the old table priced is found again in the new one.
  remembered_.clear();
}

std::optional<std::string> price_book::reload() {
  const std::string path = source()->path;
  if (path.empty()) {
    return "no price file is in force, so there is nothing to reload";
  }
  try {
    replace(load_price_source(path));
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
  return std::nullopt;
}

} // namespace tokenmeter
