#pragma once

#include "model_price.hpp"
#include "price_table.hpp"
#include "token_usage.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tokenmeter {

/// A loaded price file and its provenance.
struct price_source {
  std::shared_ptr<const price_table> table; ///< null when no table is in force
  std::string path;                         ///< the file it was read from
  std::string sha256;                       ///< lower-case hex digest of the file's bytes
};

/// Reads and validates a price file (either format) and hashes its bytes. Throws
/// std::runtime_error naming the file, the model and the field on any error.
price_source load_price_source(const std::string& path);

/// The pricing configuration of one upstream.
struct upstream_prices {
  std::string custom_prices_yaml; ///< a custom_prices list for this upstream only; may be empty
  std::map<std::string, std::string> deployments; ///< Azure deployment name -> model priced
};

/// What is known of an exchange when it is priced.
struct price_query {
  std::string_view model;         ///< the response's model, else empty
  std::string_view request_model; ///< the agent's model or Azure deployment
  std::string_view upstream;      ///< configured upstream name
  std::string_view service_tier;  ///< the response's service_tier
  token_usage usage;
};

/// The price of one exchange and how it was found.
struct price_quote {
  std::int64_t cost_pico_usd = 0;
  std::string priced_name; ///< the name that matched, as tried (maybe upstream-qualified)
  std::string price_list;  ///< "upstream custom prices", "custom prices" or "price table"
  std::string table_sha256; ///< hash of the table in force when it was priced
  price_match match;
  applied_rates applied;
};

/// What the request path needs of a price: the cost, and the table it was computed from.
struct exchange_price {
  std::shared_ptr<const price_source> table; ///< the table in force when it was priced
  std::optional<std::int64_t> cost_pico_usd; ///< nullopt when no list knows the exchange's names
};

/// Every price in force: the reloadable table plus the config's custom prices and
/// deployment maps. Thread-safe; readers take a snapshot of the table and price it
/// without holding any lock.
class price_book {
public:
  /// Parses the custom price lists now, so that a bad one stops start-up. Throws
  /// std::runtime_error naming the list and the model.
  price_book(price_source table, std::string_view global_custom_yaml,
             const std::map<std::string, upstream_prices>& upstreams);

  /// The cost of an exchange, or nullopt when no price list knows any of its names.
  /// Lists are tried in order (this upstream's custom prices, the global custom prices,
  /// the table), and in each the names in order: the response model, the request
  /// model's deployment, the request model; each name first as "<upstream>/<name>",
  /// so that a host's own prices ("groq/...") win over the model maker's.
  std::optional<price_quote> quote(const price_query& query) const;
  /// quote()'s cost alone, for every exchange: which price a (upstream, model, requested
  /// model) gets is looked up once for as long as the table is in force, not per exchange.
  exchange_price price(const price_query& query) const;
  /// The table in force now.
  std::shared_ptr<const price_source> source() const;
  /// Puts a new table in force for every later quote.
  void replace(price_source table);
  /// Re-reads the file of the table in force. On failure the table stays as it was and
  /// the error is returned.
  std::optional<std::string> reload();

private:
  struct upstream_book {
    std::shared_ptr<const price_table> custom;
    std::map<std::string, std::string> deployments;
  };

  /// The price a query's names find, and where.
  struct found_price {
    std::string priced_name;
    std::string_view price_list;
    price_match match;
  };
  std::optional<found_price> find(const price_source& table, const price_query& query) const;

  /// A remembered find(): the price (null when none) stays valid while `table` is held.
  struct remembered_price {
    std::shared_ptr<const price_source> table;
    std::shared_ptr<const model_price> price;
  };
  /// Bounds the names remembered; model names come from upstreams, so they are not trusted.
  static constexpr std::size_t max_remembered = 4096;

  mutable std::mutex mutex_;
  std::shared_ptr<const price_source> source_; ///< guarded by mutex_; the pointee is immutable
  mutable std::unordered_map<std::string, remembered_price> remembered_; ///< guarded by mutex_
  std::shared_ptr<const price_table> global_custom_;
  std::map<std::string, upstream_book, std::less<>> upstreams_;
};

} // namespace tokenmeter
