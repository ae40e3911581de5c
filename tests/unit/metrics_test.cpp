#include "metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <string>
#include <thread>
#include <vector>

namespace tokenmeter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// gpt-4o, cache-heavy, priced at $0.0083, answered in 1.234567 s.
exchange_record jira_gpt4o() {
  exchange_record row;
  row.session_id = "s-secret";
  row.node = "JiraNode";
  row.model = "gpt-4o";
  row.upstream = "openai";
  row.status = 200;
  row.usage.prompt_tokens = 3000;
  row.usage.cached_prompt_tokens = 2560;
  row.usage.completion_tokens = 400;
  row.source = usage_source::reported;
  row.cost_pico_usd = 8'300'000'000;
  row.latency_us = 1'234'567;
  return row;
}

/// Matches a whole line of the scrape, so that "1" never matches a value of "10".
auto has_line(const std::string& text) { return HasSubstr("\n" + text + "\n"); }

/// The start of every token series of jira_gpt4o().
const std::string jira_tokens = R"(tokenmeter_tokens_total{model="gpt-4o",node="JiraNode",)";

TEST(Metrics, CountsTheRequestPerModelNodeAndUpstream) {
  metrics meter;
  meter.record(jira_gpt4o());
  meter.record(jira_gpt4o());
  EXPECT_THAT(
      meter.scrape(),
      has_line(
          R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",status_class="2xx",stream="false",upstream="openai"} 2)m"));
}

TEST(Metrics, CountsReportedTokensByType) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  EXPECT_THAT(
      text, has_line(jira_tokens + R"m(source="reported",type="prompt",upstream="openai"} 3000)m"));
  EXPECT_THAT(text,
              has_line(jira_tokens +
                       R"m(source="reported",type="cached_prompt",upstream="openai"} 2560)m"));
  EXPECT_THAT(text, has_line(jira_tokens +
                             R"m(source="reported",type="completion",upstream="openai"} 400)m"));
}

TEST(Metrics, UnsetTokenFieldsAddNothing) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  EXPECT_THAT(
      text, has_line(jira_tokens + R"m(source="reported",type="reasoning",upstream="openai"} 0)m"));
  EXPECT_THAT(text, has_line(jira_tokens +
                             R"m(source="reported",type="cache_write",upstream="openai"} 0)m"));
}

TEST(Metrics, CountsEstimatedTokensApartFromReported) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.source = usage_source::estimated;
  meter.record(row);
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(jira_tokens +
                             R"m(source="estimated",type="prompt",upstream="openai"} 3000)m"));
  EXPECT_THAT(text,
              has_line(jira_tokens + R"m(source="reported",type="prompt",upstream="openai"} 0)m"));
}

TEST(Metrics, AddsCostInUsd) {
  metrics meter;
  meter.record(jira_gpt4o());
  meter.record(jira_gpt4o());
  EXPECT_THAT(
      meter.scrape(),
      has_line(
          R"m(tokenmeter_cost_usd_total{model="gpt-4o",node="JiraNode",upstream="openai"} 0.0166)m"));
}

TEST(Metrics, UnpricedExchangeAddsNoCost) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.cost_pico_usd.reset();
  meter.record(row);
  EXPECT_THAT(
      meter.scrape(),
      has_line(
          R"m(tokenmeter_cost_usd_total{model="gpt-4o",node="JiraNode",upstream="openai"} 0)m"));
}

TEST(Metrics, ObservesTheDurationInSeconds) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  const std::string labels = R"m(model="gpt-4o",node="JiraNode",stream="false",upstream="openai")m";
  EXPECT_THAT(text, has_line("tokenmeter_request_duration_seconds_count{" + labels + "} 1"));
  EXPECT_THAT(text, has_line("tokenmeter_request_duration_seconds_sum{" + labels + "} 1.234567"));
  EXPECT_THAT(text,
              has_line("tokenmeter_request_duration_seconds_bucket{" + labels + ",le=\"1\"} 0"));
  EXPECT_THAT(text,
              has_line("tokenmeter_request_duration_seconds_bucket{" + labels + ",le=\"2.5\"} 1"));
}

TEST(Metrics, DurationBucketsSpanFiftyMillisecondsToFiveMinutes) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  const std::string labels = R"m(model="gpt-4o",node="JiraNode",stream="false",upstream="openai")m";
  EXPECT_THAT(text,
              has_line("tokenmeter_request_duration_seconds_bucket{" + labels + ",le=\"0.05\"} 0"));
  EXPECT_THAT(text,
              has_line("tokenmeter_request_duration_seconds_bucket{" + labels + ",le=\"300\"} 1"));
  EXPECT_THAT(text,
              has_line("tokenmeter_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 1"));
}

TEST(Metrics, MissingUsageIsCountedAndAddsNoTokens) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.model.clear();
  row.usage = {};
  row.source = usage_source::missing;
  row.cost_pico_usd.reset();
  meter.record(row);
  const std::string text = meter.scrape();
  EXPECT_THAT(
      text, has_line(R"m(tokenmeter_usage_missing_total{model="(unknown)",upstream="openai"} 1)m"));
  EXPECT_THAT(text, Not(HasSubstr("source=\"missing\"")));
  EXPECT_THAT(
      text,
      has_line(
          R"m(tokenmeter_requests_total{model="(unknown)",node="JiraNode",status_class="2xx",stream="false",upstream="openai"} 1)m"));
}

TEST(Metrics, ReportedUsageIsNotCountedAsMissing) {
  metrics meter;
  meter.record(jira_gpt4o());
  EXPECT_THAT(meter.scrape(),
              has_line(R"m(tokenmeter_usage_missing_total{model="gpt-4o",upstream="openai"} 0)m"));
}

TEST(Metrics, EmptyNodeIsLabelledNone) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.node.clear();
  meter.record(row);
  EXPECT_THAT(
      meter.scrape(),
      has_line(R"m(tokenmeter_requests_total{model="gpt-4o",node="(none)",status_class="2xx",stream="false",upstream="openai"} 1)m"));
}

TEST(Metrics, SessionIsNeverALabel) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  EXPECT_THAT(text, Not(HasSubstr("session")));
  EXPECT_THAT(text, Not(HasSubstr("s-secret")));
}

TEST(Metrics, DistinctTuplesHaveDistinctSeries) {
  metrics meter;
  meter.record(jira_gpt4o());
  exchange_record other = jira_gpt4o();
  other.upstream = "azure";
  meter.record(other);
  const std::string text = meter.scrape();
  EXPECT_THAT(
      text,
      has_line(
          R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",status_class="2xx",stream="false",upstream="openai"} 1)m"));
  EXPECT_THAT(
      text,
      has_line(
          R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",status_class="2xx",stream="false",upstream="azure"} 1)m"));
}

TEST(Metrics, NamesCountersWithASingleTotalSuffix) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  EXPECT_THAT(text, HasSubstr("# TYPE tokenmeter_requests_total counter\n"));
  EXPECT_THAT(text, Not(HasSubstr("_total_total")));
}

TEST(Metrics, ConcurrentRecordsAreAllCounted) {
  metrics meter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&meter, t] {
      exchange_record row = jira_gpt4o();
      row.node = "node-" + std::to_string(t % 2);
      for (int i = 0; i < 1000; ++i) meter.record(row);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = meter.scrape();
  EXPECT_THAT(
      text,
      has_line(
          R"m(tokenmeter_requests_total{model="gpt-4o",node="node-0",status_class="2xx",stream="false",upstream="openai"} 2000)m"));
  EXPECT_THAT(
      text,
      has_line(
          R"m(tokenmeter_requests_total{model="gpt-4o",node="node-1",status_class="2xx",stream="false",upstream="openai"} 2000)m"));
}

// --- pricing provenance, unpriced tokens, upstream errors, data quality --------------------

TEST(Metrics, PricingInfoNamesTheTableInForce) {
  metrics meter;
  meter.set_pricing_info("/etc/tokenmeter/prices.yaml", "ab12");
  EXPECT_THAT(meter.scrape(),
              has_line(R"m(tokenmeter_pricing_info{sha256="ab12",source="/etc/tokenmeter/prices.yaml"} 1)m"));
}

TEST(Metrics, PricingInfoOfAReloadedTableReplacesThePreviousSeries) {
  metrics meter;
  meter.set_pricing_info("/etc/prices.yaml", "ab12");
  meter.set_pricing_info("/etc/prices.yaml", "cd34");
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(R"m(tokenmeter_pricing_info{sha256="cd34",source="/etc/prices.yaml"} 1)m"));
  EXPECT_THAT(text, Not(HasSubstr(R"m(sha256="ab12")m")));
}

TEST(Metrics, UnpricedExchangeCountsItsTokensByModel) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.model = "in-house-llm";
  row.cost_pico_usd.reset();
  meter.record(row);
  meter.record(row);
  // 2 x (3000 prompt + 400 completion).
  EXPECT_THAT(meter.scrape(), has_line(R"m(tokenmeter_unpriced_tokens_total{model="in-house-llm"} 6800)m"));
}

TEST(Metrics, PricedExchangeAddsNoUnpricedTokens) {
  metrics meter;
  meter.record(jira_gpt4o());
  EXPECT_THAT(meter.scrape(), has_line(R"m(tokenmeter_unpriced_tokens_total{model="gpt-4o"} 0)m"));
}

TEST(Metrics, UpstreamErrorsAreCountedByUpstreamAndKind) {
  metrics meter;
  meter.record_upstream_error("openai", "connect");
  meter.record_upstream_error("openai", "connect");
  meter.record_upstream_error("openai", "first_byte_timeout");
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(R"m(tokenmeter_upstream_errors_total{kind="connect",upstream="openai"} 2)m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_upstream_errors_total{kind="first_byte_timeout",upstream="openai"} 1)m"));
}

TEST(Metrics, EachNoteOfARowIsADataQualityEvent) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.notes = "total_gap_booked,sse_line_dropped";
  meter.record(row);
  row.notes = "sse_line_dropped";
  meter.record(row);
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(R"m(tokenmeter_data_quality_events_total{kind="total_gap_booked",upstream="openai"} 1)m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_data_quality_events_total{kind="sse_line_dropped",upstream="openai"} 2)m"));
}

TEST(Metrics, EmptyNotesAddNoDataQualityEvent) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.notes = ",";
  meter.record(row);
  EXPECT_THAT(meter.scrape(), Not(HasSubstr("tokenmeter_data_quality_events_total{")));
}

// --- status class, stream, first token, tokens per request, gauges, build info, OTel ---------

/// The same exchange answered as an event stream whose first token came after 0.3 s.
exchange_record jira_stream() {
  exchange_record row = jira_gpt4o();
  row.stream = true;
  row.ttft_us = 300'000;
  return row;
}

TEST(Metrics, LabelsRequestsByStatusClass) {
  metrics meter;
  exchange_record failed = jira_gpt4o();
  failed.status = 503;
  meter.record(failed);
  exchange_record refused = jira_gpt4o();
  refused.status = 429;
  meter.record(refused);
  const std::string text = meter.scrape();
  const std::string prefix = R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",)m";
  EXPECT_THAT(text, has_line(prefix + R"m(status_class="5xx",stream="false",upstream="openai"} 1)m"));
  EXPECT_THAT(text, has_line(prefix + R"m(status_class="4xx",stream="false",upstream="openai"} 1)m"));
}

TEST(Metrics, ExchangeWithoutAnyStatusIsClassedNone) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.status = 0;
  meter.record(row);
  EXPECT_THAT(meter.scrape(),
              HasSubstr(R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",status_class="none",)m"));
}

TEST(Metrics, LabelsRequestsAndDurationByStream) {
  metrics meter;
  meter.record(jira_stream());
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(R"m(tokenmeter_requests_total{model="gpt-4o",node="JiraNode",status_class="2xx",stream="true",upstream="openai"} 1)m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_request_duration_seconds_count{model="gpt-4o",node="JiraNode",stream="true",upstream="openai"} 1)m"));
}

TEST(Metrics, StatusClassesShareTheTokenAndCostSeries) {
  metrics meter;
  meter.record(jira_gpt4o());
  exchange_record failed = jira_gpt4o();
  failed.status = 500;
  meter.record(failed);
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(jira_tokens + R"m(source="reported",type="prompt",upstream="openai"} 6000)m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_cost_usd_total{model="gpt-4o",node="JiraNode",upstream="openai"} 0.0166)m"));
}

TEST(Metrics, ObservesTheTimeToFirstTokenOfStreams) {
  metrics meter;
  meter.record(jira_stream());
  const std::string text = meter.scrape();
  const std::string labels = R"m(model="gpt-4o",node="JiraNode",upstream="openai")m";
  EXPECT_THAT(text, has_line("tokenmeter_time_to_first_token_seconds_count{" + labels + "} 1"));
  EXPECT_THAT(text, has_line("tokenmeter_time_to_first_token_seconds_sum{" + labels + "} 0.3"));
  EXPECT_THAT(text, has_line("tokenmeter_time_to_first_token_seconds_bucket{" + labels + ",le=\"0.25\"} 0"));
  EXPECT_THAT(text, has_line("tokenmeter_time_to_first_token_seconds_bucket{" + labels + ",le=\"0.5\"} 1"));
}

TEST(Metrics, UnstreamedAnswersHaveNoTimeToFirstToken) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.ttft_us = 200'000;
  meter.record(row);
  EXPECT_THAT(meter.scrape(), Not(HasSubstr("tokenmeter_time_to_first_token_seconds_count{")));
}

TEST(Metrics, StreamThatNeverSentAByteAddsNoFirstToken) {
  metrics meter;
  exchange_record row = jira_stream();
  row.ttft_us = 0;
  meter.record(row);
  EXPECT_THAT(meter.scrape(),
              has_line(R"m(tokenmeter_time_to_first_token_seconds_count{model="gpt-4o",node="JiraNode",upstream="openai"} 0)m"));
}

TEST(Metrics, ObservesTheTokensOfEachRequest) {
  metrics meter;
  meter.record(jira_gpt4o());
  const std::string text = meter.scrape();
  const std::string labels = R"m(model="gpt-4o",node="JiraNode",upstream="openai")m";
  EXPECT_THAT(text, has_line("tokenmeter_request_tokens_sum{" + labels + "} 3400"));
  EXPECT_THAT(text, has_line("tokenmeter_request_tokens_bucket{" + labels + ",le=\"1024\"} 0"));
  EXPECT_THAT(text, has_line("tokenmeter_request_tokens_bucket{" + labels + ",le=\"4096\"} 1"));
}

TEST(Metrics, MissingUsageIsNoTokensPerRequestObservation) {
  metrics meter;
  exchange_record row = jira_gpt4o();
  row.usage = {};
  row.source = usage_source::missing;
  meter.record(row);
  EXPECT_THAT(meter.scrape(),
              has_line(R"m(tokenmeter_request_tokens_count{model="gpt-4o",node="JiraNode",upstream="openai"} 0)m"));
}

TEST(Metrics, LedgerQueueDepthIsReadAtEachScrape) {
  metrics meter;
  ledger_state state{7, 0, 0};
  meter.set_ledger_probe([&state] { return state; });
  EXPECT_THAT(meter.scrape(), has_line("tokenmeter_ledger_queue_depth 7"));
  state.queue_depth = 0;
  EXPECT_THAT(meter.scrape(), has_line("tokenmeter_ledger_queue_depth 0"));
}

TEST(Metrics, LedgerLostAndOverflowedRowsAreCountersThatFollowTheLedger) {
  metrics meter;
  ledger_state state{0, 2, 5};
  meter.set_ledger_probe([&state] { return state; });
  meter.scrape();
  state.lost_rows = 3;
  state.overflowed_rows = 9;
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line("tokenmeter_ledger_rows_lost_total 3"));
  EXPECT_THAT(text, has_line("tokenmeter_ledger_queue_overflow_total 9"));
}

TEST(Metrics, RejectedRequestsAreCountedByReason) {
  metrics meter;
  meter.record_rejected("body_too_large");
  meter.record_rejected("body_too_large");
  meter.record_rejected("too_many_connections");
  const std::string text = meter.scrape();
  EXPECT_THAT(text, has_line(R"m(tokenmeter_requests_rejected_total{reason="body_too_large"} 2)m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_requests_rejected_total{reason="too_many_connections"} 1)m"));
}

TEST(Metrics, BuildInfoNamesTheVersion) {
  metrics meter;
  EXPECT_THAT(meter.scrape(), HasSubstr(std::string("tokenmeter_build_info{sqlite_version=\"") + sqlite3_libversion() +
                                        "\",version=\"" + TOKENMETER_VERSION + "\"} 1\n"));
}

TEST(Metrics, OpenTelemetryNamesAreOffByDefault) {
  metrics meter;
  meter.record(jira_gpt4o());
  EXPECT_THAT(meter.scrape(), Not(HasSubstr("gen_ai_")));
}

TEST(Metrics, OpenTelemetryTokenUsageObservesInputAndOutputTokens) {
  metrics meter(100, true);
  exchange_record row = jira_gpt4o();
  row.request_model = "gpt-4o-latest";
  meter.record(row);
  const std::string text = meter.scrape();
  const std::string labels = R"m(gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o-latest",)m";
  EXPECT_THAT(text, has_line("gen_ai_client_token_usage_sum{" + labels + R"m(gen_ai_token_type="input"} 3000)m"));
  EXPECT_THAT(text, has_line("gen_ai_client_token_usage_sum{" + labels + R"m(gen_ai_token_type="output"} 400)m"));
  EXPECT_THAT(text, has_line("gen_ai_client_token_usage_bucket{" + labels + R"m(gen_ai_token_type="input",le="4096"} 1)m"));
}

TEST(Metrics, OpenTelemetryRequestModelFallsBackToTheResponseModel) {
  metrics meter(100, true);
  meter.record(jira_gpt4o());
  EXPECT_THAT(meter.scrape(), HasSubstr(R"m(gen_ai_client_token_usage_count{gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",gen_ai_token_type="input"} 1)m"));
}

TEST(Metrics, OpenTelemetryRequestModelsAreFoldedPastTheBound) {
  metrics meter(1, true);
  exchange_record first = jira_gpt4o();
  first.request_model = "a";
  meter.record(first);
  exchange_record second = jira_gpt4o();
  second.request_model = "b";
  meter.record(second);
  const std::string text = meter.scrape();
  EXPECT_THAT(text, HasSubstr(R"m(gen_ai_request_model="other")m"));
  EXPECT_THAT(text, has_line(R"m(tokenmeter_label_overflow_total{label="request_model"} 1)m"));
}

} // namespace
} // namespace tokenmeter
