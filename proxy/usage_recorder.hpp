#pragma once

#include "exchange_record.hpp"
#include "ledger.hpp"
#include "metrics.hpp"
#include "price_book.hpp"

#include <mutex>
#include <set>
#include <string>

namespace tokenmeter {

/// The end of every exchange: price it, append it to the ledger, add it to the metrics.
class usage_recorder {
public:
  usage_recorder(ledger& book, metrics& meters, const price_book& prices);

  /// Prices `row` (see price_book::quote), stamps the hash of the table in force, then
  /// records it. A row with tokens and no price keeps a null cost and is warned about
  /// once per model.
  void record(exchange_record row);

private:
  void warn_unpriced_once(const std::string& model);

  ledger& ledger_;
  metrics& metrics_;
  const price_book& prices_;
  std::mutex warned_mutex_;
  std::set<std::string> warned_; ///< models already reported as unpriced
};

} // namespace tokenmeter
