#include "usage_recorder.hpp"

#include "log.hpp"

namespace tokenmeter {

usage_recorder::usage_recorder(ledger& book, metrics& meters, std::shared_ptr<const price_table> prices)
    : ledger_(book), metrics_(meters), prices_(std::move(prices)) {}

void usage_recorder::record(exchange_record row, std::string_view request_model) {
  if (row.model.empty()) row.model = request_model;
  if (row.usage.any() && prices_) {
    auto rates = prices_->find(row.model);
    if (!rates && !request_model.empty() && request_model != row.model) rates = prices_->find(request_model);
    if (rates) row.cost_pico_usd = cost_pico_usd(row.usage, *rates);
    else warn_unpriced_once(row.model);
  }
  metrics_.record(row);
  ledger_.append(std::move(row));
}

void usage_recorder::warn_unpriced_once(const std::string& model) {
  {
    std::lock_guard lock(warned_mutex_);
    if (warned_.size() >= 1000 || !warned_.insert(model).second) return;
  }
  log_line(log_level::warn, "unpriced_model").kv("model", model).kv("detail", "tokens counted, cost recorded as unknown");
}

} // namespace tokenmeter
