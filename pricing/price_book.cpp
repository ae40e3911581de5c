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

std::optional<price_quote> price_book::quote(const price_query& query) const {
  const std::shared_ptr<const price_source> table = source();
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
      {table->table.get(), "price table"},
  };
  for (const auto& [list, list_name] : lists) {
    if (!list) {
      continue;
    }
    for (const std::string& candidate : candidates) {
      if (auto found = list->match(candidate)) {
        price_quote quoted;
        quoted.applied = found->price.rates_for(query.usage, query.service_tier);
        quoted.cost_pico_usd = cost_pico_usd(query.usage, quoted.applied.rates);
        quoted.priced_name = candidate;
        quoted.price_list = std::string(list_name);
        quoted.table_sha256 = table->sha256;
        quoted.match = std::move(*found);
        return quoted;
      }
    }
  }
  return std::nullopt;
}

std::shared_ptr<const price_source> price_book::source() const {
  std::lock_guard lock(mutex_);
  return source_;
}

void price_book::replace(price_source table) {
  auto next = std::make_shared<const price_source>(std::move(table));
  std::lock_guard lock(mutex_);
  source_ = std::move(next);
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
