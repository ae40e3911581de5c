#include "ledger.hpp"

#include "ledger_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tokenmeter {
namespace {

using ::testing::HasSubstr;

using LedgerTest = test_support::temp_dir_test;
using test_support::after_commit;

std::int64_t scalar(sqlite3& db, const char* sql) {
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(&db, sql, -1, &statement, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW) << sql;
  const std::int64_t value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return value;
}

std::int64_t count_rows(ledger& book) {
  return after_commit<std::int64_t>(
      book, [](sqlite3& db) { return scalar(db, "SELECT COUNT(*) FROM exchanges"); });
}

/// Every column of one ledger row as text, "NULL" for SQL NULL.
std::vector<std::string> row_as_text(sqlite3& db, std::int64_t id) {
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(&db, "SELECT * FROM exchanges WHERE id = ?1", -1, &statement, nullptr);
  sqlite3_bind_int64(statement, 1, id);
  std::vector<std::string> columns;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
      columns.emplace_back(text ? text : "NULL");
    }
  }
  sqlite3_finalize(statement);
  return columns;
}

exchange_record priced_row() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'555'123;
  row.session_id = "s-1";
  row.node = "JiraNode";
  row.model = "gpt-4o-2024-08-06";
  row.upstream = "openai";
  row.path = "/v1/chat/completions";
  row.stream = true;
  row.status = 200;
  row.usage.prompt_tokens = 3000;
  row.usage.cached_prompt_tokens = 2560;
  row.usage.cache_write_tokens = 0;
  row.usage.completion_tokens = 400;
  row.usage.reasoning_tokens = 64;
  row.source = usage_source::reported;
  row.cost_pico_usd = 8'300'000'000;
  row.latency_us = 1'234'567;
  row.ttfb_us = 456'789;
  row.request_model = "gpt-4o";
  row.stream_complete = true;
  row.provider_cost_pico_usd = 8'400'000'000;
  row.service_tier = "default";
  row.pricing_sha256 = "5d41402abc4b2a76b9719d911017c592";
  row.notes = "total_gap_booked,sse_line_dropped";
  return row;
}

exchange_record failed_row() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'600'005;
  row.upstream = "openai";
  row.path = "/v1/responses";
  row.source = usage_source::missing;
  row.latency_us = 3'000'000;
  row.error = "upstream_connect";
  return row;
}

TEST_F(LedgerTest, RowSurvivesCloseAndReopenWithExactValues) {
  {
    ledger book(db_path());
    book.append(priced_row());
  }
  ledger reopened(db_path());
  const auto columns = after_commit<std::vector<std::string>>(
      reopened, [](sqlite3& db) { return row_as_text(db, 1); });
  EXPECT_THAT(columns, ::testing::ElementsAre("1", "1796322555123", "s-1", "JiraNode",
                                              "gpt-4o-2024-08-06", "openai", "/v1/chat/completions",
                                              "1", "200", "3000", "2560", "0", "400", "64", "3400",
                                              "reported", "8300000000", "1234567", "456789", "",
                                              "gpt-4o", "1", "8400000000", "default",
                                              "5d41402abc4b2a76b9719d911017c592",
                                              "total_gap_booked,sse_line_dropped", "NULL"));
}

TEST_F(LedgerTest, UnsetFieldsAreStoredAsNull) {
  {
    ledger book(db_path());
    book.append(failed_row());
  }
  ledger reopened(db_path());
  const auto columns = after_commit<std::vector<std::string>>(
      reopened, [](sqlite3& db) { return row_as_text(db, 1); });
  EXPECT_THAT(columns,
              ::testing::ElementsAre("1", "1796322600005", "", "", "", "openai", "/v1/responses",
                                     "0", "0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
                                     "missing", "NULL", "3000000", "0", "upstream_connect", "", "0",
                                     "NULL", "", "", "", "NULL"));
}

TEST_F(LedgerTest, OneHourCacheWritesAreStoredBesideTheWriteTotal) {
  ledger book(db_path());
  exchange_record row = priced_row();
  row.usage.cache_write_tokens = 3000;
  row.usage.cache_write_1h_tokens = 2000;
  book.append(row);
  EXPECT_EQ(after_commit<std::int64_t>(
                book, [](sqlite3& db) { return scalar(db, "SELECT cache_write_1h_tokens FROM exchanges"); }),
            2000);
}

TEST_F(LedgerTest, TotalTokensCountsAnUnsetSideAsZero) {
  ledger book(db_path());
  exchange_record row = failed_row();
  row.usage.completion_tokens = 17;
  book.append(row);
  EXPECT_EQ(after_commit<std::int64_t>(
                book, [](sqlite3& db) { return scalar(db, "SELECT total_tokens FROM exchanges"); }),
            17);
}

TEST_F(LedgerTest, AfterCommitSeesEveryEarlierAppend) {
  ledger book(db_path());
  for (int i = 0; i < 50; ++i) book.append(priced_row());
  EXPECT_EQ(count_rows(book), 50);
  book.append(failed_row());
  EXPECT_EQ(count_rows(book), 51);
}

TEST_F(LedgerTest, QueueDepthIsZeroOnceEveryRowIsCommitted) {
  ledger book(db_path());
  for (int i = 0; i < 20; ++i) book.append(priced_row());
  EXPECT_EQ(count_rows(book), 20);
  EXPECT_EQ(book.queue_depth(), 0u);
}

TEST_F(LedgerTest, QueueDepthCountsRowsWaitingForTheWriter) {
  ledger book(db_path());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // A job holds the writer, so the rows appended behind it wait in the queue.
  book.after_commit([released](sqlite3&) { released.wait(); });
  for (int i = 0; i < 3; ++i) book.append(priced_row());
  EXPECT_EQ(book.queue_depth(), 3u);
  release.set_value();
  EXPECT_EQ(count_rows(book), 3);
  EXPECT_EQ(book.queue_depth(), 0u);
}

TEST_F(LedgerTest, RowsPastTheQueueBoundAreCountedAsOverflowAndStillStored) {
  ledger book(db_path(), 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  book.after_commit([released](sqlite3&) { released.wait(); });
  for (int i = 0; i < 5; ++i) book.append(priced_row());
  const ledger_state stalled = book.state();
  EXPECT_EQ(stalled.queue_depth, 5u);
  EXPECT_EQ(stalled.overflowed_rows, 3u);
  release.set_value();
  EXPECT_EQ(count_rows(book), 5);
  EXPECT_EQ(book.state().overflowed_rows, 3u);
  EXPECT_EQ(book.state().lost_rows, 0u);
}

TEST_F(LedgerTest, ConcurrentAppendsAreAllStored) {
  ledger book(db_path());
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&book, t] {
      for (int i = 0; i < 250; ++i) {
        exchange_record row = priced_row();
        row.session_id = "thread-" + std::to_string(t);
        row.time_unix_ms = i;
        book.append(std::move(row));
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(after_commit<std::int64_t>(book,
                                       [](sqlite3& db) {
                                         return scalar(db,
                                                       "SELECT COUNT(*) FROM (SELECT DISTINCT "
                                                       "session_id, time_unix_ms FROM exchanges)");
                                       }),
            1000);
  EXPECT_EQ(count_rows(book), 1000);
}

TEST_F(LedgerTest, CloseCommitsQueuedRowsAndRunsQueuedJobs) {
  std::int64_t seen = -1;
  {
    ledger book(db_path());
    for (int i = 0; i < 20; ++i) book.append(priced_row());
    book.after_commit(
        [&seen](sqlite3& db) { seen = scalar(db, "SELECT COUNT(*) FROM exchanges"); });
    book.close();
    EXPECT_EQ(seen, 20);
  }
  ledger reopened(db_path());
  EXPECT_EQ(count_rows(reopened), 20);
}

TEST_F(LedgerTest, CloseTwiceIsHarmless) {
  ledger book(db_path());
  book.append(priced_row());
  book.close();
  book.close();
  ledger reopened(db_path());
  EXPECT_EQ(count_rows(reopened), 1);
}

TEST_F(LedgerTest, AppendAfterCloseIsNotStored) {
  {
    ledger book(db_path());
    book.close();
    book.append(priced_row());
  }
  ledger reopened(db_path());
  EXPECT_EQ(count_rows(reopened), 0);
}

TEST_F(LedgerTest, QueryAfterCloseBreaksItsPromiseInsteadOfHanging) {
  ledger book(db_path());
  book.close();
  auto result = std::make_shared<std::promise<int>>();
  std::future<int> future = result->get_future();
  book.after_commit([result](sqlite3&) { result->set_value(1); });
  result.reset();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  EXPECT_THROW(future.get(), std::future_error);
}

TEST_F(LedgerTest, ThrowingJobDoesNotStopTheWriter) {
  ledger book(db_path());
  book.after_commit([](sqlite3&) { throw std::runtime_error("report failed"); });
  book.append(priced_row());
  EXPECT_EQ(count_rows(book), 1);
}

TEST_F(LedgerTest, UsesWalAndSchemaVersionThree) {
  ledger book(db_path());
  EXPECT_EQ(after_commit<std::int64_t>(
                book, [](sqlite3& db) { return scalar(db, "PRAGMA user_version"); }),
            3);
  EXPECT_EQ(after_commit<std::string>(book,
                                      [](sqlite3& db) {
                                        sqlite3_stmt* statement = nullptr;
                                        sqlite3_prepare_v2(&db, "PRAGMA journal_mode", -1,
                                                           &statement, nullptr);
                                        sqlite3_step(statement);
                                        std::string mode = reinterpret_cast<const char*>(
                                            sqlite3_column_text(statement, 0));
                                        sqlite3_finalize(statement);
                                        return mode;
                                      }),
            "wal");
}

TEST_F(LedgerTest, IndexesSessionAndTime) {
  ledger book(db_path());
  EXPECT_EQ(after_commit<std::int64_t>(book,
                                       [](sqlite3& db) {
                                         return scalar(db,
                                                       "SELECT COUNT(*) FROM sqlite_master WHERE "
                                                       "type = 'index' AND tbl_name = 'exchanges'");
                                       }),
            2);
}

TEST_F(LedgerTest, UnwritablePathThrowsNamingThePath) {
  const std::string path = (dir_ / "no-such-dir" / "ledger.db").string();
  try {
    ledger book(path);
    FAIL() << "opened " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("unable to open database file"));
  }
}

TEST_F(LedgerTest, FileThatIsNotADatabaseThrowsNamingThePath) {
  std::ofstream(db_path()) << std::string(4096, 'x');
  try {
    ledger book(db_path());
    FAIL() << "opened " << db_path();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(db_path()));
    EXPECT_THAT(e.what(), HasSubstr("file is not a database"));
  }
}

TEST_F(LedgerTest, NewerSchemaVersionIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 4", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    ledger book(db_path());
    FAIL() << "opened a version 4 ledger";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(db_path()));
    EXPECT_THAT(e.what(), HasSubstr("schema version 4"));
  }
}

// The schema and one row exactly as the first release wrote them.
constexpr const char* version_one_ledger = R"sql(
CREATE TABLE exchanges (
  id INTEGER PRIMARY KEY, time_unix_ms INTEGER NOT NULL, session_id TEXT NOT NULL,
  node TEXT NOT NULL, model TEXT NOT NULL, upstream TEXT NOT NULL, path TEXT NOT NULL,
  stream INTEGER NOT NULL CHECK (stream IN (0, 1)), status INTEGER NOT NULL,
  prompt_tokens INTEGER, cached_prompt_tokens INTEGER, cache_write_tokens INTEGER,
  completion_tokens INTEGER, reasoning_tokens INTEGER, total_tokens INTEGER,
  usage_source TEXT NOT NULL CHECK (usage_source IN ('reported', 'estimated', 'missing')),
  cost_pico_usd INTEGER, latency_us INTEGER NOT NULL, ttfb_us INTEGER NOT NULL, error TEXT NOT NULL);
CREATE INDEX exchanges_by_session ON exchanges (session_id, time_unix_ms);
CREATE INDEX exchanges_by_time ON exchanges (time_unix_ms);
INSERT INTO exchanges VALUES (1, 1796322555123, 's-old', 'n', 'gpt-4o', 'openai', '/v1/chat/completions',
  0, 200, 100, NULL, NULL, 10, NULL, 110, 'reported', 350000000, 1000, 500, '');
PRAGMA user_version = 1;
)sql";

void write_version_one_ledger(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, version_one_ledger, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(LedgerTest, VersionOneLedgerIsMigratedInPlaceKeepingItsRows) {
  write_version_one_ledger(db_path());
  ledger book(db_path());
  EXPECT_EQ(after_commit<std::int64_t>(
                book, [](sqlite3& db) { return scalar(db, "PRAGMA user_version"); }),
            3);
  const auto columns = after_commit<std::vector<std::string>>(
      book, [](sqlite3& db) { return row_as_text(db, 1); });
  EXPECT_THAT(columns, ::testing::ElementsAre("1", "1796322555123", "s-old", "n", "gpt-4o", "openai",
                                              "/v1/chat/completions", "0", "200", "100", "NULL",
                                              "NULL", "10", "NULL", "110", "reported", "350000000",
                                              "1000", "500", "", "", "0", "NULL", "", "", "", "NULL"));
}

TEST_F(LedgerTest, MigratedLedgerTakesRowsWithTheNewFields) {
  write_version_one_ledger(db_path());
  {
    ledger book(db_path());
    book.append(priced_row());
  }
  ledger reopened(db_path());
  const auto columns = after_commit<std::vector<std::string>>(
      reopened, [](sqlite3& db) { return row_as_text(db, 2); });
  ASSERT_EQ(columns.size(), 27u);
  EXPECT_EQ(columns[20], "gpt-4o");
  EXPECT_EQ(columns[22], "8400000000");
  EXPECT_EQ(columns[25], "total_gap_booked,sse_line_dropped");
}

TEST_F(LedgerTest, ReopeningKeepsAddingAfterExistingRows) {
  {
    ledger book(db_path());
    book.append(priced_row());
  }
  ledger reopened(db_path());
  reopened.append(failed_row());
  EXPECT_EQ(after_commit<std::int64_t>(reopened,
                                       [](sqlite3& db) {
                                         return scalar(db, "SELECT id FROM exchanges WHERE error = "
                                                           "'upstream_connect'");
                                       }),
            2);
}

} // namespace
} // namespace tokenmeter
