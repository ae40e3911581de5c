#include "usage_recorder.hpp"

#include "ledger_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>

namespace tokenmeter {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view table_yaml = R"(providers:
  test:
    source: https://example.invalid/prices
    read_on: 2026-01-02
    models:
      - {name: gpt-4o, input: 2.50, cached_input: 1.25, cache_write: 0, output: 10}
)";

/// One column of the first ledger row as text, "NULL" for SQL NULL.
std::string first_row_column(sqlite3& db, const char* column) {
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(&db, (std::string("SELECT ") + column + " FROM exchanges ORDER BY id LIMIT 1").c_str(),
                     -1, &statement, nullptr);
  std::string value = "missing row";
  if (sqlite3_step(statement) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    value = text ? text : "NULL";
  }
  sqlite3_finalize(statement);
  return value;
}

class UsageRecorderTest : public test_support::temp_dir_test {
protected:
  void SetUp() override {
    temp_dir_test::SetUp();
    const std::string table = (dir_ / "prices.yaml").string();
    std::ofstream(table, std::ios::binary) << table_yaml;
    prices_ = std::make_unique<price_book>(load_price_source(table), "", std::map<std::string, upstream_prices>{});
    book_ = std::make_unique<ledger>(db_path());
    recorder_ = std::make_unique<usage_recorder>(*book_, meters_, *prices_);
  }
  void TearDown() override {
    recorder_.reset();
    book_.reset();
    temp_dir_test::TearDown();
  }

  static exchange_record row(std::string model) {
    exchange_record r;
    r.model = std::move(model);
    r.upstream = "openai";
    r.usage.prompt_tokens = 3000;
    r.usage.cached_prompt_tokens = 2560;
    r.usage.completion_tokens = 400;
    r.source = usage_source::reported;
    return r;
  }

  std::string column(const char* name) {
    return test_support::after_commit<std::string>(
        *book_, [name](sqlite3& db) { return first_row_column(db, name); });
  }

  metrics meters_;
  std::unique_ptr<price_book> prices_;
  std::unique_ptr<ledger> book_;
  std::unique_ptr<usage_recorder> recorder_;
};

TEST_F(UsageRecorderTest, PricedRowCarriesItsCostAndTheTableHash) {
  recorder_->record(row("gpt-4o-2024-08-06"));
  // 440 x $2.50 + 2560 x $1.25 + 400 x $10 per M (bug case B08).
  EXPECT_EQ(column("cost_pico_usd"), "8300000000");
  EXPECT_EQ(column("pricing_sha256"), prices_->source()->sha256);
}

TEST_F(UsageRecorderTest, UnknownModelIsRecordedWithANullCostAndCountedAsUnpriced) {
  recorder_->record(row("mystery-model"));
  EXPECT_EQ(column("cost_pico_usd"), "NULL");
  EXPECT_EQ(column("total_tokens"), "3400");
  EXPECT_THAT(meters_.scrape(), HasSubstr("tokenmeter_unpriced_tokens_total{model=\"mystery-model\"} 3400"));
}

TEST_F(UsageRecorderTest, RowWithoutResponseModelTakesTheRequestModel) {
  exchange_record r = row("");
  r.request_model = "gpt-4o";
  recorder_->record(r);
  EXPECT_EQ(column("model"), "gpt-4o");
  EXPECT_EQ(column("cost_pico_usd"), "8300000000");
}

TEST_F(UsageRecorderTest, RowWithoutUsageHasNoCost) {
  exchange_record r;
  r.model = "gpt-4o";
  r.error = "upstream_connect";
  recorder_->record(r);
  EXPECT_EQ(column("cost_pico_usd"), "NULL");
}

} // namespace
} // namespace tokenmeter
