#pragma once

#include "exchange_record.hpp"
#include "ledger.hpp"
#include "metrics.hpp"
#include "price_book.hpp"
#include "usage_estimator.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace tokenmeter {

/// The end of every exchange: price it, append it to the ledger, add it to the metrics.
/// Exchanges whose upstream reported no usage are estimated first, on the recorder's own
/// thread, so that tokenising a large body never blocks an I/O thread.
class usage_recorder {
public:
  /// Without an estimator, exchanges without usage are recorded as missing.
  usage_recorder(ledger& book, metrics& meters, const price_book& prices,
                 const usage_estimator* estimator = nullptr);
  /// Estimates and records what is still queued.
  ~usage_recorder();
  usage_recorder(const usage_recorder&) = delete;
  usage_recorder& operator=(const usage_recorder&) = delete;

  /// Prices `row` (see price_book::quote), stamps the hash of the table in force, then
  /// records it. A row with tokens and no price keeps a null cost and is warned about
  /// once per model.
  void record(exchange_record row);
  /// Records `row`; if it has no usage, estimates it from `input` first, off this thread.
  /// A reported usage is never replaced.
  void record(exchange_record row, estimation_input input);
  /// Blocks until every queued estimate is recorded: before the ledger closes.
  void drain();
  /// Calls `then` once every estimate queued before this call is recorded (at once when none
  /// is), so that a ledger query it queues sees those exchanges too.
  void after_estimates(std::function<void()> then);

private:
  struct estimation_job {
    exchange_record row;
    estimation_input input;
    std::function<void()> then; ///< set on the marker after_estimates() queues, which has no row
  };
  /// More queued estimates than this: an overloaded recorder records the rest as missing.
  static constexpr std::size_t max_queued_estimates = 1024;

  void warn_unpriced_once(const std::string& model);
  void estimate_and_record(estimation_job job);
  void run_estimates();

  ledger& ledger_;
  metrics& metrics_;
  const price_book& prices_;
  const usage_estimator* estimator_;
  std::mutex warned_mutex_;
  std::set<std::string> warned_; ///< models already reported as unpriced

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<estimation_job> queue_;
  std::size_t in_progress_ = 0;
  bool stopping_ = false;
  std::thread worker_; ///< started last, joined first
};

} // namespace tokenmeter
