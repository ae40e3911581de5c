#include "usage_recorder.hpp"

#include "log.hpp"

namespace tokenmeter {

usage_recorder::usage_recorder(ledger& book, metrics& meters, const price_book& prices)
    : ledger_(book), metrics_(meters), prices_(prices) {}

void usage_recorder::record(exchange_record row) {
  const price_query query{row.model, row.request_model, row.upstream, row.service_tier, row.usage};
  if (row.model.empty()) row.model = row.request_model;
  std::optional<price_quote> quote;
  if (row.usage.any()) quote = prices_.quote(query);
  if (quote) {
    row.cost_pico_usd = quote->cost_pico_usd;
    row.pricing_sha256 = quote->table_sha256;
  } else {
    row.pricing_sha256 = prices_.source()->sha256;
    if (row.usage.any()) warn_unpriced_once(row.model);
  }
  metrics_.record(row);
  if (log_enabled(log_level::debug))
    log_line(log_level::debug, "exchange")
        .kv("session", row.session_id)
        .kv("node", row.node)
        .kv("model", row.model)
        .kv("upstream", row.upstream)
        .kv("path", row.path)
        .kv("status", row.status)
        .kv("usage_source", to_string(row.source))
        .kv("prompt_tokens", row.usage.prompt_tokens.value_or(0))
        .kv("completion_tokens", row.usage.completion_tokens.value_or(0))
        .kv("latency_us", row.latency_us)
        .kv("error", row.error);
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
