#pragma once

#include "exchange_record.hpp"
#include "ledger.hpp"
#include "metrics.hpp"
#include "price_table.hpp"

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace tokenmeter {

/// The end of every exchange: price it, append it to the ledger, add it to the metrics.
class usage_recorder {
public:
  usage_recorder(ledger& book, metrics& meters, std::shared_ptr<const price_table> prices);

  /// Prices `row` on its model (the response's), else on its request model, then records it.
  void record(exchange_record row);

private:
  void warn_unpriced_once(const std::string& model);

  ledger& ledger_;
  metrics& metrics_;
  std::shared_ptr<const price_table> prices_;
  std::mutex warned_mutex_;
  std::set<std::string> warned_; ///< models already reported as unpriced
};

} // namespace tokenmeter
