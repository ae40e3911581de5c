#include "ledger.hpp"

#include "log.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <iterator>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>
#include <vector>

namespace tokenmeter {
namespace {

constexpr int schema_version = 3;
constexpr int busy_timeout_ms = 5000;
constexpr int write_attempts = 3;
constexpr std::chrono::milliseconds first_retry_delay{100};

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS exchanges (
  id INTEGER PRIMARY KEY,
  time_unix_ms INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  node TEXT NOT NULL,
  model TEXT NOT NULL,
  upstream TEXT NOT NULL,
  path TEXT NOT NULL,
  stream INTEGER NOT NULL CHECK (stream IN (0, 1)),
  status INTEGER NOT NULL,
  prompt_tokens INTEGER,
  cached_prompt_tokens INTEGER,
  cache_write_tokens INTEGER,
  completion_tokens INTEGER,
  reasoning_tokens INTEGER,
  total_tokens INTEGER,
  usage_source TEXT NOT NULL CHECK (usage_source IN ('reported', 'estimated', 'missing')),
  cost_pico_usd INTEGER,
  latency_us INTEGER NOT NULL,
  ttfb_us INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_by_session ON exchanges (session_id, time_unix_ms);
CREATE INDEX IF NOT EXISTS exchanges_by_time ON exchanges (time_unix_ms);
)sql";

// Each step takes a ledger from user_version i + 1 to i + 2 in place, keeping its rows;
// a new file is created at version 1 and walks the same steps, so both end identical.
constexpr const char* migrations[] = {
    R"sql(
ALTER TABLE exchanges ADD COLUMN request_model TEXT NOT NULL DEFAULT '';
ALTER TABLE exchanges ADD COLUMN stream_complete INTEGER NOT NULL DEFAULT 0 CHECK (stream_complete IN (0, 1));
ALTER TABLE exchanges ADD COLUMN provider_cost_pico_usd INTEGER;
ALTER TABLE exchanges ADD COLUMN service_tier TEXT NOT NULL DEFAULT '';
ALTER TABLE exchanges ADD COLUMN pricing_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE exchanges ADD COLUMN notes TEXT NOT NULL DEFAULT '';
)sql",
    R"sql(
ALTER TABLE exchanges ADD COLUMN cache_write_1h_tokens INTEGER;
)sql",
};
static_assert(std::size(migrations) == schema_version - 1);

constexpr const char* insert_sql = R"sql(
INSERT INTO exchanges (time_unix_ms, session_id, node, model, upstream, path, stream, status,
  prompt_tokens, cached_prompt_tokens, cache_write_tokens, completion_tokens, reasoning_tokens,
  total_tokens, usage_source, cost_pico_usd, latency_us, ttfb_us, error, request_model,
  stream_complete, provider_cost_pico_usd, service_tier, pricing_sha256, notes, cache_write_1h_tokens)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
  ?20, ?21, ?22, ?23, ?24, ?25, ?26)
)sql";

using commit_job = std::function<void(sqlite3&)>;
using queued_item = std::variant<exchange_record, commit_job>;

/// SQLite stores signed 64-bit integers; a count past that is absurd, so it saturates
/// instead of wrapping to a negative number.
std::int64_t to_column(std::uint64_t tokens) {
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(tokens, std::numeric_limits<std::int64_t>::max()));
}

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bind_optional(sqlite3_stmt* statement, int index, std::optional<std::int64_t> value) {
  if (value) {
    sqlite3_bind_int64(statement, index, *value);
  } else {
    sqlite3_bind_null(statement, index);
  }
}

void bind_tokens(sqlite3_stmt* statement, int index, std::optional<std::uint64_t> tokens) {
  bind_optional(statement, index,
                tokens ? std::optional<std::int64_t>(to_column(*tokens)) : std::nullopt);
}

void bind_row(sqlite3_stmt* statement, const exchange_record& row) {
  const token_usage& usage = row.usage;
  const bool has_total = usage.prompt_tokens || usage.completion_tokens;
  sqlite3_bind_int64(statement, 1, row.time_unix_ms);
  bind_text(statement, 2, row.session_id);
  bind_text(statement, 3, row.node);
  bind_text(statement, 4, row.model);
  bind_text(statement, 5, row.upstream);
  bind_text(statement, 6, row.path);
  sqlite3_bind_int(statement, 7, row.stream ? 1 : 0);
  sqlite3_bind_int(statement, 8, row.status);
  bind_tokens(statement, 9, usage.prompt_tokens);
  bind_tokens(statement, 10, usage.cached_prompt_tokens);
  bind_tokens(statement, 11, usage.cache_write_tokens);
  bind_tokens(statement, 12, usage.completion_tokens);
  bind_tokens(statement, 13, usage.reasoning_tokens);
  bind_tokens(statement, 14, has_total ? std::optional(usage.total_tokens()) : std::nullopt);
  // The column keeps its three values; a fallback estimate is `estimated` with the note
  // estimated_fallback.
  const std::string_view source =
      to_string(row.source == usage_source::estimated_fallback ? usage_source::estimated : row.source);
  sqlite3_bind_text(statement, 15, source.data(), static_cast<int>(source.size()), SQLITE_STATIC);
  bind_optional(statement, 16, row.cost_pico_usd);
  sqlite3_bind_int64(statement, 17, row.latency_us);
  sqlite3_bind_int64(statement, 18, row.ttfb_us);
  bind_text(statement, 19, row.error);
  bind_text(statement, 20, row.request_model);
  sqlite3_bind_int(statement, 21, row.stream_complete ? 1 : 0);
  bind_optional(statement, 22, row.provider_cost_pico_usd);
  bind_text(statement, 23, row.service_tier);
  bind_text(statement, 24, row.pricing_sha256);
  bind_text(statement, 25, row.notes);
  bind_tokens(statement, 26, usage.cache_write_1h_tokens);
}

} // namespace

/// Rows wait at most this long, or until this many are queued, before they are committed.
constexpr std::chrono::milliseconds group_commit_linger{10};
constexpr std::size_t group_commit_rows = 256;

struct ledger::impl {
  impl(const std::string& file_path, std::size_t bound);
  ~impl();

  /// Closes what was opened and throws an error naming the file and `detail`.
  [[noreturn]] void fail_open(const std::string& detail);
  /// sqlite's message for the last failure on this connection.
  std::string last_error() const;
  /// Runs one statement of the schema set-up, or throws naming the file.
  void exec_or_throw(const char* sql);
  /// Creates the tables of a new file and migrates an older one in place; refuses a file
  /// written by a newer tokenmeter.
  void create_schema();
  /// Queues a row or a job for the writer; false once closing, when nothing will run it.
  bool enqueue(queued_item item);
  /// The writer thread: drains the queue in order until closing and empty.
  void run();
  /// Writes a batch in one transaction, retrying a few times before giving up loudly.
  void write_rows(const std::vector<exchange_record>& rows);
  /// One attempt at writing the batch; returns sqlite's message on failure.
  std::optional<std::string> try_write(const std::vector<exchange_record>& rows);
  /// Runs a query job; its failure is logged, never propagated into the writer.
  void run_job(const commit_job& job);
  /// Lets the writer drain the queue, joins it and closes the database; idempotent.
  void stop();
  /// Releases the statement and the connection; safe on a half-opened impl.
  void close_database() noexcept;

  std::string path;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<queued_item> queue; ///< rows and jobs in call order, guarded by mutex
  std::size_t queued_jobs = 0;   ///< jobs in queue, guarded by mutex
  bool closing = false;          ///< guarded by mutex
  std::size_t queue_bound;
  std::atomic<std::size_t> pending_rows{0}; ///< rows queued or being written
  std::atomic<std::uint64_t> lost_rows{0};  ///< rows given up on; written by the writer thread only
  std::atomic<std::uint64_t> overflowed_rows{0}; ///< rows queued past queue_bound; written under mutex
  std::thread writer;
};

ledger::impl::impl(const std::string& file_path, std::size_t bound) : path(file_path), queue_bound(bound) {
  // SQLite's allocation statistics take a global lock on every malloc and free; nothing reads
  // them. This must precede SQLite's initialisation, that is the first ledger, made before any
  // writer thread runs; later calls fail harmlessly.
  static std::once_flag no_memory_statistics;
  std::call_once(no_memory_statistics, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  // NOMUTEX: only the writer thread uses the connection (the constructor and stop() run while
  // it does not), so SQLite need not lock it on every bind and step.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    fail_open(last_error());
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // The first statement reads the file, so a file that is not a database fails here.
  exec_or_throw("PRAGMA journal_mode=WAL");
  exec_or_throw("PRAGMA synchronous=NORMAL");
  create_schema();
  if (sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr) !=
      SQLITE_OK) {
    fail_open("preparing the insert statement: " + last_error());
  }
  writer = std::thread([this] { run(); });
}

ledger::impl::~impl() { stop(); }

void ledger::impl::fail_open(const std::string& detail) {
  close_database();
  throw std::runtime_error("ledger: cannot use '" + path + "': " + detail);
}

std::string ledger::impl::last_error() const {
  // sqlite3_open_v2 leaves no handle only when it could not allocate one.
  return db ? sqlite3_errmsg(db) : "out of memory";
}

void ledger::impl::exec_or_throw(const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail_open(last_error());
}

void ledger::impl::create_schema() {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) != SQLITE_OK) {
    fail_open("reading the schema version: " + last_error());
  }
  const int step = sqlite3_step(statement);
  const int version = step == SQLITE_ROW ? sqlite3_column_int(statement, 0) : -1;
  sqlite3_finalize(statement);
  if (step != SQLITE_ROW) fail_open("reading the schema version: " + last_error());
  if (version > schema_version) {
    fail_open("schema version " + std::to_string(version) + " is newer than this tokenmeter's " +
              std::to_string(schema_version));
  }
  if (version == schema_version) return;
  exec_or_throw("BEGIN IMMEDIATE");
  if (version == 0) exec_or_throw(schema_sql);
  for (int step = std::max(version, 1); step < schema_version; ++step) exec_or_throw(migrations[step - 1]);
  exec_or_throw(("PRAGMA user_version = " + std::to_string(schema_version)).c_str());
  exec_or_throw("COMMIT");
}

bool ledger::impl::enqueue(queued_item item) {
  bool wake_writer = false;
  std::uint64_t overflow = 0; ///< this row's number among the overflowed ones, 0 if it is not one
  {
    std::lock_guard lock(mutex);
    if (closing) return false;
    const bool is_job = std::holds_alternative<commit_job>(item);
    if (is_job) ++queued_jobs;
    else if (++pending_rows > queue_bound) overflow = ++overflowed_rows;
    // Waking the writer for every row would cost a context switch per exchange. It is woken
    // when the first row of a batch arrives (to start its linger), when the batch is full, and
    // at once for a query, which must see every row queued before it.
    wake_writer = queue.empty() || is_job || queue.size() + 1 == group_commit_rows;
    queue.push_back(std::move(item));
  }
  if (wake_writer) wake.notify_one();
  // One warning per power of two keeps a long stall visible without flooding the log.
  if (overflow != 0 && (overflow & (overflow - 1)) == 0)
    log_line(log_level::warn, "ledger_queue_overflow")
        .kv("path", path)
        .kv("queued_rows", static_cast<std::uint64_t>(pending_rows.load()))
        .kv("bound", static_cast<std::uint64_t>(queue_bound))
        .kv("overflowed_rows_total", overflow)
        .kv("detail", "the database is not keeping up; rows are kept in memory");
  return true;
}

void ledger::impl::run() {
  for (;;) {
    std::deque<queued_item> batch;
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [this] { return closing || !queue.empty(); });
      // Group commit: let rows gather for a moment, so that one transaction and one wake-up
      // serve many exchanges. A query or a stop ends the wait at once.
      wake.wait_for(lock, group_commit_linger,
                    [this] { return closing || queued_jobs > 0 || queue.size() >= group_commit_rows; });
      if (queue.empty()) return;
      batch.swap(queue);
      queued_jobs = 0;
    }
    std::vector<exchange_record> rows;
    for (queued_item& item : batch) {
      if (auto* row = std::get_if<exchange_record>(&item)) {
        rows.push_back(std::move(*row));
        continue;
      }
      write_rows(rows);
      rows.clear();
      run_job(std::get<commit_job>(item));
    }
    write_rows(rows);
  }
}

void ledger::impl::write_rows(const std::vector<exchange_record>& rows) {
  if (rows.empty()) return;
  auto delay = first_retry_delay;
  for (int attempt = 1;; ++attempt) {
    const std::optional<std::string> error = try_write(rows);
    if (!error) {
      pending_rows -= rows.size();
      return;
    }
    if (attempt == write_attempts) {
      pending_rows -= rows.size();
      lost_rows += rows.size();
      log_line(log_level::error, "ledger_rows_lost")
          .kv("path", path)
          .kv("rows", static_cast<std::uint64_t>(rows.size()))
          .kv("attempts", write_attempts)
          .kv("error", *error)
          .kv("lost_rows_total", lost_rows.load());
      return;
    }
    log_line(log_level::warn, "ledger_write_retry")
        .kv("path", path)
        .kv("rows", static_cast<std::uint64_t>(rows.size()))
        .kv("attempt", attempt)
        .kv("error", *error);
    std::this_thread::sleep_for(delay);
    delay *= 4;
  }
}

std::optional<std::string> ledger::impl::try_write(const std::vector<exchange_record>& rows) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(db);
  }
  for (const exchange_record& row : rows) {
    bind_row(insert, row);
    const int step = sqlite3_step(insert);
    sqlite3_reset(insert);
    sqlite3_clear_bindings(insert);
    if (step != SQLITE_DONE) {
      std::string error = sqlite3_errmsg(db);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return error;
    }
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(db);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return std::nullopt;
}

void ledger::impl::run_job(const commit_job& job) {
  // A failing query must not take the writer, and every later row, down with it.
  try {
    job(*db);
  } catch (const std::exception& e) {
    log_line(log_level::error, "ledger_query_failed").kv("path", path).kv("error", e.what());
  } catch (...) {
    log_line(log_level::error, "ledger_query_failed").kv("path", path);
  }
}

void ledger::impl::stop() {
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  wake.notify_one();
  if (writer.joinable()) writer.join();
  close_database();
}

void ledger::impl::close_database() noexcept {
  sqlite3_finalize(insert);
  insert = nullptr;
  sqlite3_close(db);
  db = nullptr;
}

ledger::ledger(const std::string& path, std::size_t queue_bound)
    : impl_(std::make_unique<impl>(path, queue_bound)) {}

ledger::~ledger() { close(); }

void ledger::append(exchange_record row) {
  if (!impl_->enqueue(std::move(row))) {
    log_line(log_level::error, "ledger_append_after_close").kv("path", impl_->path);
  }
}

void ledger::after_commit(std::function<void(sqlite3&)> job) {
  // A refused job is destroyed with its captures (a promise breaks), so no caller waits forever.
  if (!impl_->enqueue(std::move(job))) {
    log_line(log_level::warn, "ledger_query_after_close").kv("path", impl_->path);
  }
}

void ledger::close() { impl_->stop(); }

std::size_t ledger::queue_depth() const noexcept { return impl_->pending_rows.load(); }

ledger_state ledger::state() const noexcept {
  return {impl_->pending_rows.load(), impl_->lost_rows.load(), impl_->overflowed_rows.load()};
}

} // namespace tokenmeter
