#pragma once

#include "exchange_record.hpp"
#include "ledger_state.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

struct sqlite3;

namespace tokenmeter {

/// The embedded SQLite ledger: one row per exchange, written by its own thread so
/// that no I/O thread ever waits on the disk.
class ledger {
public:
  /// Rows queued beyond which each further row is counted and warned about as overflow. The
  /// row is still kept: a stalled disk costs memory, never a silently dropped exchange.
  static constexpr std::size_t default_queue_bound = 100'000;

  /// Opens (creating if needed) the database in WAL mode and starts the writer thread.
  /// Throws std::runtime_error with a clear message when the file cannot be used.
  explicit ledger(const std::string& path, std::size_t queue_bound = default_queue_bound);
  /// Commits every queued row, then closes. Same as close().
  ~ledger();
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

  /// Queues a row; returns at once.
  void append(exchange_record row);
  /// Runs `job` on the writer thread once every row appended before this call is
  /// committed, so a query sees every exchange that was recorded before it was asked.
  void after_commit(std::function<void(sqlite3&)> job);
  /// Commits every queued row and runs every queued job, then closes the database.
  void close();
  /// Rows appended and not yet committed (or given up on): how far the writer lags.
  std::size_t queue_depth() const noexcept;
  /// The queue depth with the rows lost and overflowed so far.
  ledger_state state() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace tokenmeter
