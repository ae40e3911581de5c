#include "usage_report.hpp"

#include "ledger.hpp"
#include "ledger_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace tokenmeter {
namespace {

using ::testing::HasSubstr;

/// gpt-4o, cache-heavy: 440 uncached x $2.50 + 2560 cached x $1.25 + 400 out x $10 per 1M.
exchange_record openai_cached() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'555'123;
  row.session_id = "s-1";
  row.node = "JiraNode";
  row.model = "gpt-4o";
  row.upstream = "openai";
  row.path = "/v1/chat/completions";
  row.status = 200;
  row.usage.prompt_tokens = 3000;
  row.usage.cached_prompt_tokens = 2560;
  row.usage.completion_tokens = 400;
  row.source = usage_source::reported;
  row.cost_pico_usd = 8'300'000'000;
  row.latency_us = 1'234'567;
  row.ttfb_us = 456'789;
  return row;
}

/// Claude streaming, no node: 9 uncached x $3 + 2048 cache reads x $0.30 + 120 out x $15 per 1M.
exchange_record anthropic_stream() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'600'005;
  row.session_id = "s-1";
  row.model = "claude-sonnet-4";
  row.upstream = "anthropic";
  row.path = "/v1/messages";
  row.stream = true;
  row.status = 200;
  row.usage.prompt_tokens = 2057;
  row.usage.cached_prompt_tokens = 2048;
  row.usage.cache_write_tokens = 0;
  row.usage.completion_tokens = 120;
  row.source = usage_source::reported;
  row.cost_pico_usd = 2'441'400'000;
  row.latency_us = 8'000'250;
  row.ttfb_us = 700'000;
  return row;
}

/// An upstream that never answered: no model, no usage, no price.
exchange_record connect_failure() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'601'000;
  row.session_id = "s-2";
  row.node = "JiraNode";
  row.upstream = "openai";
  row.path = "/v1/chat/completions";
  row.status = 502;
  row.source = usage_source::missing;
  row.latency_us = 30'000'000;
  row.error = "upstream_connect";
  return row;
}

/// Estimated usage outside any session, with reasoning: 10 in x $2.50 + 5 out x $10 per 1M.
exchange_record estimated_without_session() {
  exchange_record row;
  row.time_unix_ms = 1'796'322'602'000;
  row.node = "CodeNode";
  row.model = "gpt-4o";
  row.upstream = "openai";
  row.path = "/v1/chat/completions";
  row.status = 200;
  row.usage.prompt_tokens = 10;
  row.usage.completion_tokens = 5;
  row.usage.reasoning_tokens = 2;
  row.source = usage_source::estimated;
  row.cost_pico_usd = 75'000'000;
  row.latency_us = 900;
  row.ttfb_us = 800;
  return row;
}

class UsageReportTest : public test_support::temp_dir_test {
protected:
  void SetUp() override {
    temp_dir_test::SetUp();
    ledger_ = std::make_unique<ledger>(db_path());
  }
  void TearDown() override {
    ledger_.reset();
    temp_dir_test::TearDown();
  }

  void append_sample_rows() {
    ledger_->append(openai_cached());
    ledger_->append(anthropic_stream());
    ledger_->append(connect_failure());
    ledger_->append(estimated_without_session());
  }

  // The reports, each run once every earlier append is committed.
  std::string totals() {
    return test_support::after_commit<std::string>(
        *ledger_, [](sqlite3& db) { return usage_report::totals_json(db); });
  }
  std::optional<std::string> session(std::string id) {
    return test_support::after_commit<std::optional<std::string>>(
        *ledger_, [id](sqlite3& db) { return usage_report::session_json(db, id); });
  }
  std::string requests(std::string id) {
    return test_support::after_commit<std::string>(
        *ledger_, [id](sqlite3& db) { return usage_report::requests_json(db, id); });
  }
  std::string top(usage_report::top_sessions_query query) {
    return test_support::after_commit<std::string>(
        *ledger_, [query](sqlite3& db) { return usage_report::top_sessions_json(db, query); });
  }
  std::string csv(std::string id) {
    return test_support::after_commit<std::string>(
        *ledger_, [id](sqlite3& db) { return usage_report::requests_csv(db, id); });
  }

  std::unique_ptr<ledger> ledger_;
};

const std::string empty_block =
    R"j("requests":0,"prompt_tokens":0,"completion_tokens":0,"cached_prompt_tokens":0,)j"
    R"j("cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":0,"cost_usd":0,"unpriced_requests":0,"estimated_requests":0)j";

TEST_F(UsageReportTest, EmptyLedgerTotalsAreZero) {
  EXPECT_EQ(totals(),
            R"j({"total_sessions":0,)j" + empty_block + R"j(,"by_node":{},"by_model":{}})j");
}

TEST_F(UsageReportTest, TotalsSumEveryRowWithByNodeAndByModel) {
  append_sample_rows();
  EXPECT_EQ(
      totals(),
      R"j({"total_sessions":2,)j"
      R"j("requests":4,"prompt_tokens":5067,"completion_tokens":525,"cached_prompt_tokens":4608,)j"
      R"j("cache_write_tokens":0,"reasoning_tokens":2,"total_tokens":5592,"cost_usd":0.0108164,)j"
      R"j("unpriced_requests":1,"estimated_requests":1,)j"
      R"j("by_node":{)j"
      R"j("(none)":{"requests":1,"prompt_tokens":2057,"completion_tokens":120,)j"
      R"j("cached_prompt_tokens":2048,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":2177,)j"
      R"j("cost_usd":0.0024414,"unpriced_requests":0,"estimated_requests":0},)j"
      R"j("CodeNode":{"requests":1,"prompt_tokens":10,"completion_tokens":5,)j"
      R"j("cached_prompt_tokens":0,"cache_write_tokens":0,"reasoning_tokens":2,"total_tokens":15,)j"
      R"j("cost_usd":0.000075,"unpriced_requests":0,"estimated_requests":1},)j"
      R"j("JiraNode":{"requests":2,"prompt_tokens":3000,"completion_tokens":400,)j"
      R"j("cached_prompt_tokens":2560,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":3400,)j"
      R"j("cost_usd":0.0083,"unpriced_requests":1,"estimated_requests":0}},)j"
      R"j("by_model":{)j"
      R"j("(unknown)":{"requests":1,"prompt_tokens":0,"completion_tokens":0,)j"
      R"j("cached_prompt_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":0,)j"
      R"j("cost_usd":null,"unpriced_requests":1,"estimated_requests":0},)j"
      R"j("claude-sonnet-4":{"requests":1,"prompt_tokens":2057,"completion_tokens":120,)j"
      R"j("cached_prompt_tokens":2048,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":2177,)j"
      R"j("cost_usd":0.0024414,"unpriced_requests":0,"estimated_requests":0},)j"
      R"j("gpt-4o":{"requests":2,"prompt_tokens":3010,"completion_tokens":405,)j"
      R"j("cached_prompt_tokens":2560,"cache_write_tokens":0,"reasoning_tokens":2,"total_tokens":3415,)j"
      R"j("cost_usd":0.008375,"unpriced_requests":0,"estimated_requests":1}}})j");
}

TEST_F(UsageReportTest, SessionCoversOnlyItsOwnRows) {
  append_sample_rows();
  EXPECT_EQ(
      session("s-1"),
      R"j({"session_id":"s-1",)j"
      R"j("requests":2,"prompt_tokens":5057,"completion_tokens":520,"cached_prompt_tokens":4608,)j"
      R"j("cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":5577,"cost_usd":0.0107414,)j"
      R"j("unpriced_requests":0,"estimated_requests":0,)j"
      R"j("by_node":{)j"
      R"j("(none)":{"requests":1,"prompt_tokens":2057,"completion_tokens":120,)j"
      R"j("cached_prompt_tokens":2048,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":2177,)j"
      R"j("cost_usd":0.0024414,"unpriced_requests":0,"estimated_requests":0},)j"
      R"j("JiraNode":{"requests":1,"prompt_tokens":3000,"completion_tokens":400,)j"
      R"j("cached_prompt_tokens":2560,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":3400,)j"
      R"j("cost_usd":0.0083,"unpriced_requests":0,"estimated_requests":0}},)j"
      R"j("by_model":{)j"
      R"j("claude-sonnet-4":{"requests":1,"prompt_tokens":2057,"completion_tokens":120,)j"
      R"j("cached_prompt_tokens":2048,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":2177,)j"
      R"j("cost_usd":0.0024414,"unpriced_requests":0,"estimated_requests":0},)j"
      R"j("gpt-4o":{"requests":1,"prompt_tokens":3000,"completion_tokens":400,)j"
      R"j("cached_prompt_tokens":2560,"cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":3400,)j"
      R"j("cost_usd":0.0083,"unpriced_requests":0,"estimated_requests":0}}})j");
}

TEST_F(UsageReportTest, SessionWhoseRequestsAreAllUnpricedHasANullCost) {
  append_sample_rows();
  const std::optional<std::string> json = session("s-2");
  ASSERT_TRUE(json.has_value());
  EXPECT_THAT(*json, HasSubstr(R"j("requests":1,)j"));
  EXPECT_THAT(*json, HasSubstr(R"j("cost_usd":null,"unpriced_requests":1,"estimated_requests":0,"by_node":{"JiraNode":)j"));
}

TEST_F(UsageReportTest, MixedSessionShowsThePricedSumBesideTheUnpricedCount) {
  ledger_->append(openai_cached());
  exchange_record unknown = openai_cached();
  unknown.model = "in-house-llm";
  unknown.cost_pico_usd.reset();
  ledger_->append(unknown);
  const std::optional<std::string> json = session("s-1");
  ASSERT_TRUE(json.has_value());
  EXPECT_THAT(*json, HasSubstr(R"j("requests":2,)j"));
  EXPECT_THAT(*json, HasSubstr(R"j("cost_usd":0.0083,"unpriced_requests":1,"estimated_requests":0,"by_node":)j"));
  EXPECT_THAT(*json, HasSubstr(R"j("in-house-llm":{"requests":1,"prompt_tokens":3000,)j"));
  EXPECT_THAT(*json, HasSubstr(R"j("total_tokens":3400,"cost_usd":null,"unpriced_requests":1,"estimated_requests":0})j"));
}

TEST_F(UsageReportTest, RequestsListProvenanceAndStreamFields) {
  exchange_record row = openai_cached();
  row.request_model = "prod-gpt4o";
  row.stream = true;
  row.stream_complete = true;
  row.provider_cost_pico_usd = 8'400'000'000;
  row.service_tier = "flex";
  row.pricing_sha256 = "ab12";
  row.notes = "total_gap_booked";
  ledger_->append(row);
  EXPECT_THAT(requests("s-1"),
              HasSubstr(R"j("error":"","request_model":"prod-gpt4o","stream_complete":true,)j"
                        R"j("provider_cost_usd":0.0084,"service_tier":"flex",)j"
                        R"j("pricing_sha256":"ab12","notes":"total_gap_booked"})j"));
}

TEST_F(UsageReportTest, UnknownSessionIsNullopt) {
  append_sample_rows();
  EXPECT_EQ(session("s-404"), std::nullopt);
}

TEST_F(UsageReportTest, EmptySessionIdIsNotASession) {
  append_sample_rows();
  EXPECT_EQ(session(""), std::nullopt);
}

TEST_F(UsageReportTest, SessionIdIsBoundNotSpliced) {
  append_sample_rows();
  EXPECT_EQ(session("' OR 1=1 --"), std::nullopt);
  EXPECT_EQ(requests("' OR 1=1 --"), R"j({"requests":[]})j");
}

TEST_F(UsageReportTest, SessionIdIsEscapedInJson) {
  exchange_record row = openai_cached();
  row.session_id = "quote\"back\\slash\nline\x01";
  ledger_->append(row);
  const std::optional<std::string> json = session(row.session_id);
  ASSERT_TRUE(json.has_value());
  EXPECT_THAT(*json, ::testing::StartsWith(R"j({"session_id":"quote\"back\\slash\nline\u0001",)j"));
}

TEST_F(UsageReportTest, RequestsOfASessionListEveryFieldWithNullsWhereUnset) {
  append_sample_rows();
  EXPECT_EQ(requests("s-2"),
            R"j({"requests":[{"id":3,"time":"2026-12-03T18:30:01.000Z","session_id":"s-2",)j"
            R"j("node":"JiraNode","model":"","upstream":"openai","path":"/v1/chat/completions",)j"
            R"j("stream":false,"status":502,"prompt_tokens":null,"cached_prompt_tokens":null,)j"
            R"j("cache_write_tokens":null,"cache_write_1h_tokens":null,"completion_tokens":null,"reasoning_tokens":null,)j"
            R"j("total_tokens":null,"usage_source":"missing","cost_usd":null,)j"
            R"j("latency_ms":30000.000,"ttfb_ms":0.000,"error":"upstream_connect",)j"
            R"j("request_model":"","stream_complete":false,"provider_cost_usd":null,)j"
            R"j("service_tier":"","pricing_sha256":"","notes":""}]})j");
}

TEST_F(UsageReportTest, RequestsOfAPricedStreamShowCostAndTimings) {
  append_sample_rows();
  EXPECT_EQ(
      requests("s-1"),
      R"j({"requests":[{"id":1,"time":"2026-12-03T18:29:15.123Z","session_id":"s-1",)j"
      R"j("node":"JiraNode","model":"gpt-4o","upstream":"openai","path":"/v1/chat/completions",)j"
      R"j("stream":false,"status":200,"prompt_tokens":3000,"cached_prompt_tokens":2560,)j"
      R"j("cache_write_tokens":null,"cache_write_1h_tokens":null,"completion_tokens":400,"reasoning_tokens":null,)j"
      R"j("total_tokens":3400,"usage_source":"reported","cost_usd":0.0083,)j"
      R"j("latency_ms":1234.567,"ttfb_ms":456.789,"error":"","request_model":"",)j"
      R"j("stream_complete":false,"provider_cost_usd":null,"service_tier":"",)j"
      R"j("pricing_sha256":"","notes":""},)j"
      R"j({"id":2,"time":"2026-12-03T18:30:00.005Z","session_id":"s-1",)j"
      R"j("node":"","model":"claude-sonnet-4","upstream":"anthropic","path":"/v1/messages",)j"
      R"j("stream":true,"status":200,"prompt_tokens":2057,"cached_prompt_tokens":2048,)j"
      R"j("cache_write_tokens":0,"cache_write_1h_tokens":null,"completion_tokens":120,"reasoning_tokens":null,)j"
      R"j("total_tokens":2177,"usage_source":"reported","cost_usd":0.0024414,)j"
      R"j("latency_ms":8000.250,"ttfb_ms":700.000,"error":"","request_model":"",)j"
      R"j("stream_complete":false,"provider_cost_usd":null,"service_tier":"",)j"
      R"j("pricing_sha256":"","notes":""}]})j");
}

TEST_F(UsageReportTest, EmptySessionIdListsAllRowsInIdOrder) {
  append_sample_rows();
  const std::string json = requests("");
  const auto first = json.find(R"j({"id":1,)j");
  const auto second = json.find(R"j({"id":2,)j");
  const auto third = json.find(R"j({"id":3,)j");
  const auto fourth = json.find(R"j({"id":4,)j");
  ASSERT_NE(fourth, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, fourth);
  EXPECT_THAT(json, HasSubstr(R"j("session_id":"","node":"CodeNode")j"));
}

TEST_F(UsageReportTest, TimeBeforeTheEpochIsStillUtc) {
  exchange_record row = openai_cached();
  row.time_unix_ms = -1;
  ledger_->append(row);
  EXPECT_THAT(requests("s-1"), HasSubstr(R"j("time":"1969-12-31T23:59:59.999Z")j"));
}

const std::string csv_header =
    "id,time,session_id,node,model,upstream,path,stream,status,prompt_tokens,"
    "cached_prompt_tokens,cache_write_tokens,cache_write_1h_tokens,completion_tokens,reasoning_tokens,total_tokens,"
    "usage_source,cost_usd,latency_ms,ttfb_ms,error,request_model,stream_complete,"
    "provider_cost_usd,service_tier,pricing_sha256,notes\r\n";

TEST_F(UsageReportTest, CsvOfEmptyLedgerIsTheHeaderLine) { EXPECT_EQ(csv(""), csv_header); }

TEST_F(UsageReportTest, CsvRowsMatchTheJsonFields) {
  append_sample_rows();
  EXPECT_EQ(csv("s-2"), csv_header +
                            "3,2026-12-03T18:30:01.000Z,s-2,JiraNode,,openai,/v1/chat/completions,"
                            "false,502,,,,,,,,missing,,30000.000,0.000,upstream_connect,,false,,,,\r\n");
  EXPECT_EQ(csv("s-1").substr(csv_header.size()),
            "1,2026-12-03T18:29:15.123Z,s-1,JiraNode,gpt-4o,openai,/v1/chat/completions,false,"
            "200,3000,2560,,,400,,3400,reported,0.0083,1234.567,456.789,,,false,,,,\r\n"
            "2,2026-12-03T18:30:00.005Z,s-1,,claude-sonnet-4,anthropic,/v1/messages,true,200,"
            "2057,2048,0,,120,,2177,reported,0.0024414,8000.250,700.000,,,false,,,,\r\n");
}

TEST_F(UsageReportTest, CsvQuotesFieldsWithCommasQuotesAndLineBreaks) {
  exchange_record row = connect_failure();
  row.node = "a,b";
  row.model = "say \"hi\"";
  row.error = "line\r\nbreak";
  ledger_->append(row);
  EXPECT_EQ(csv("s-2").substr(csv_header.size()),
            "1,2026-12-03T18:30:01.000Z,s-2,\"a,b\",\"say \"\"hi\"\"\",openai,"
            "/v1/chat/completions,false,502,,,,,,,,missing,,30000.000,0.000,\"line\r\nbreak\",,false,,,,\r\n");
}

TEST_F(UsageReportTest, CsvDefusesSpreadsheetFormulas) {
  exchange_record row = connect_failure();
  row.node = "=HYPERLINK(\"http://x\",\"y\")";
  row.model = "+1";
  row.path = "-2";
  row.error = "@SUM(A1)";
  ledger_->append(row);
  EXPECT_EQ(csv("s-2").substr(csv_header.size()),
            "1,2026-12-03T18:30:01.000Z,s-2,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1,"
            "openai,'-2,false,502,,,,,,,,missing,,30000.000,0.000,'@SUM(A1),,false,,,,\r\n");
}

TEST_F(UsageReportTest, CsvDefusesLeadingTab) {
  exchange_record row = connect_failure();
  row.node = "\t=1";
  ledger_->append(row);
  EXPECT_THAT(csv("s-2"), HasSubstr(",s-2,'\t=1,"));
}

TEST_F(UsageReportTest, CostSumOverflowIsAnErrorNotAWrongNumber) {
  exchange_record row = openai_cached();
  row.cost_pico_usd = std::numeric_limits<std::int64_t>::max() / 2 + 1;
  ledger_->append(row);
  ledger_->append(row);
  try {
    totals();
    FAIL() << "summed past INT64_MAX";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("integer overflow"));
  }
}

TEST_F(UsageReportTest, CostJustBelowOverflowIsExact) {
  exchange_record row = openai_cached();
  row.cost_pico_usd = std::numeric_limits<std::int64_t>::max() / 2;
  ledger_->append(row);
  ledger_->append(row);
  EXPECT_THAT(totals(), HasSubstr(R"j("cost_usd":9223372.036854775806,)j"));
}

// --- GET /usage/sessions?top=N&since=...&by=cost|tokens ------------------------------------

/// Many cheap tokens in session s-3: 100000 prompt tokens for $0.000001.
exchange_record bulk_cheap() {
  exchange_record row = openai_cached();
  row.time_unix_ms = 1'796'322'700'000;
  row.session_id = "s-3";
  row.usage = {};
  row.usage.prompt_tokens = 100'000;
  row.cost_pico_usd = 1'000'000;
  return row;
}

/// The session ids of a top-sessions answer, in order.
std::vector<std::string> session_order(const std::string& json) {
  std::vector<std::string> ids;
  const std::string key = R"("session_id":")";
  for (auto at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
    const auto start = at + key.size();
    ids.push_back(json.substr(start, json.find('"', start) - start));
  }
  return ids;
}

TEST_F(UsageReportTest, TopSessionsByCostListsTheDearestFirst) {
  append_sample_rows();
  ledger_->append(bulk_cheap());
  EXPECT_EQ(session_order(top({})), (std::vector<std::string>{"s-1", "s-3", "s-2"}));
}

TEST_F(UsageReportTest, TopSessionsByTokensListsTheLargestFirst) {
  append_sample_rows();
  ledger_->append(bulk_cheap());
  EXPECT_EQ(session_order(top({.by_cost = false})), (std::vector<std::string>{"s-3", "s-1", "s-2"}));
}

TEST_F(UsageReportTest, TopSessionsStopsAtTop) {
  append_sample_rows();
  ledger_->append(bulk_cheap());
  EXPECT_EQ(session_order(top({.top = 1})), (std::vector<std::string>{"s-1"}));
}

TEST_F(UsageReportTest, TopSessionsCountsOnlyExchangesSinceTheGivenTime) {
  append_sample_rows();
  const std::string json = top({.since_ms = 1'796'322'600'005});
  EXPECT_EQ(session_order(json), (std::vector<std::string>{"s-1", "s-2"}));
  EXPECT_THAT(json, HasSubstr(R"j("since":"2026-12-03T18:30:00.005Z")j"));
  EXPECT_THAT(json, HasSubstr(R"j("session_id":"s-1","first_time":"2026-12-03T18:30:00.005Z",)j"
                              R"j("last_time":"2026-12-03T18:30:00.005Z","requests":1,"prompt_tokens":2057,)j"));
}

TEST_F(UsageReportTest, TopSessionsGivesEachSessionsTotalsAndTimes) {
  append_sample_rows();
  EXPECT_THAT(top({}),
              HasSubstr(R"j({"session_id":"s-1","first_time":"2026-12-03T18:29:15.123Z","last_time":"2026-12-03T18:30:00.005Z",)j"
                        R"j("requests":2,"prompt_tokens":5057,"completion_tokens":520,"cached_prompt_tokens":4608,)j"
                        R"j("cache_write_tokens":0,"reasoning_tokens":0,"total_tokens":5577,"cost_usd":0.0107414,)j"
                        R"j("unpriced_requests":0,"estimated_requests":0)j"));
}

TEST_F(UsageReportTest, TopSessionsLeavesOutExchangesWithoutASession) {
  ledger_->append(estimated_without_session());
  EXPECT_EQ(top({}), R"j({"by":"cost","since":null,"sessions":[]})j");
}

TEST(TopSessionsQuery, DefaultsToTenByCostOverAllTime) {
  const auto parsed = usage_report::parse_top_sessions("", "", "", 0);
  const auto& query = std::get<usage_report::top_sessions_query>(parsed);
  EXPECT_EQ(query.top, 10u);
  EXPECT_TRUE(query.by_cost);
  EXPECT_FALSE(query.since_ms.has_value());
}

TEST(TopSessionsQuery, ReadsAnAgeBackFromNow) {
  const auto parsed = usage_report::parse_top_sessions("5", "2h", "tokens", 10'000'000);
  const auto& query = std::get<usage_report::top_sessions_query>(parsed);
  EXPECT_EQ(query.top, 5u);
  EXPECT_FALSE(query.by_cost);
  EXPECT_EQ(query.since_ms, 10'000'000 - 7'200'000);
}

TEST(TopSessionsQuery, ReadsAnIsoTimeWithMilliseconds) {
  const auto parsed = usage_report::parse_top_sessions("", "2026-12-03T18:29:15.123Z", "", 0);
  EXPECT_EQ(std::get<usage_report::top_sessions_query>(parsed).since_ms, 1'796'322'555'123);
}

TEST(TopSessionsQuery, ReadsAnIsoTimeWithoutMilliseconds) {
  const auto parsed = usage_report::parse_top_sessions("", "2026-12-03T18:30:01Z", "", 0);
  EXPECT_EQ(std::get<usage_report::top_sessions_query>(parsed).since_ms, 1'796'322'601'000);
}

TEST(TopSessionsQuery, RefusesAnImpossibleDate) {
  const auto parsed = usage_report::parse_top_sessions("", "2026-02-30T00:00:00Z", "", 0);
  EXPECT_THAT(std::get<std::string>(parsed), HasSubstr("since must be"));
}

TEST(TopSessionsQuery, RefusesAnAgeWithoutUnit) {
  EXPECT_THAT(std::get<std::string>(usage_report::parse_top_sessions("", "15", "", 0)), HasSubstr("since must be"));
}

TEST(TopSessionsQuery, RefusesZeroAndHugeAndNonNumericTop) {
  for (const char* top : {"0", "1001", "ten", "-1", "99999999999999999999"})
    EXPECT_THAT(std::get<std::string>(usage_report::parse_top_sessions(top, "", "", 0)), HasSubstr("top must be")) << top;
}

TEST(TopSessionsQuery, RefusesAnUnknownRanking) {
  EXPECT_EQ(std::get<std::string>(usage_report::parse_top_sessions("", "", "latency", 0)), "by must be cost or tokens");
}

} // namespace
} // namespace tokenmeter
