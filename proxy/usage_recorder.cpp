#include "usage_recorder.hpp"

#include "log.hpp"

namespace tokenmeter {

usage_recorder::usage_recorder(ledger& book, metrics& meters, const price_book& prices,
                               const usage_estimator* estimator)
    : ledger_(book), metrics_(meters), prices_(prices), estimator_(estimator) {
  if (estimator_ != nullptr) worker_ = std::thread([this] { run_estimates(); });
}

usage_recorder::~usage_recorder() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void usage_recorder::record(exchange_record row, estimation_input input) {
  if (estimator_ == nullptr || row.source != usage_source::missing) return record(std::move(row));
  {
    std::unique_lock lock(queue_mutex_);
    if (queue_.size() < max_queued_estimates && !stopping_) {
      queue_.push_back({std::move(row), std::move(input), {}});
      lock.unlock();
      queue_changed_.notify_all();
      return;
    }
  }
  row.notes += (row.notes.empty() ? "" : ",") + std::string("estimate_skipped");
  record(std::move(row));
}

void usage_recorder::drain() {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait(lock, [this] { return queue_.empty() && in_progress_ == 0; });
}

void usage_recorder::after_estimates(std::function<void()> then) {
  {
    std::unique_lock lock(queue_mutex_);
    if (!queue_.empty() || in_progress_ > 0) {
      queue_.push_back({{}, {}, std::move(then)});
      lock.unlock();
      queue_changed_.notify_all();
      return;
    }
  }
  then();
}

void usage_recorder::run_estimates() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    estimation_job job = std::move(queue_.front());
    queue_.pop_front();
    ++in_progress_;
    lock.unlock();
    if (job.then) job.then();
    else estimate_and_record(std::move(job));
    lock.lock();
    --in_progress_;
    queue_changed_.notify_all();
  }
}

void usage_recorder::estimate_and_record(estimation_job job) {
  exchange_record& row = job.row;
  const auto estimate = estimator_->estimate_exchange(job.input, row.model.empty() ? row.request_model : row.model);
  row.usage = estimate.usage;
  row.source = estimate.fallback ? usage_source::estimated_fallback : usage_source::estimated;
  const auto note = [&row](std::string_view text) { row.notes += (row.notes.empty() ? "" : ",") + std::string(text); };
  if (estimate.fallback) note("estimated_fallback");
  if (job.input.payloads.truncated()) note("estimate_truncated");
  record(std::move(row));
}

void usage_recorder::record(exchange_record row) {
  const price_query query{row.model, row.request_model, row.upstream, row.service_tier, row.usage};
  if (row.model.empty()) row.model = row.request_model;
  if (row.usage.any()) {
    const exchange_price priced = prices_.price(query);
    row.cost_pico_usd = priced.cost_pico_usd;
    row.pricing_sha256 = priced.table->sha256;
    if (!priced.cost_pico_usd) warn_unpriced_once(row.model);
  } else {
    row.pricing_sha256 = prices_.source()->sha256;
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
