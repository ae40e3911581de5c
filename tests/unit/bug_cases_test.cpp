// Regression tests for public metering failures (B01-B10 of the project's bug log): each
// replays a synthetic response in the shape of the report and asserts the right record.

#include "usage_tap.hpp"

#include "metering_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

using test::counts;
using test::unset;
constexpr std::string_view sse = "text/event-stream";
constexpr std::string_view json = "application/json";


/// body in fragments of 1, 2, 3, 1, 2, 3... bytes, as a slow relay would read it.
std::vector<std::string_view> fragments(std::string_view body) {
  std::vector<std::size_t> sizes;
  for (std::size_t total = 0; total < body.size(); total += sizes.back()) {
    sizes.push_back(sizes.size() % 3 + 1);
  }
  return test::cut(body, sizes);
}

tap_result replay(api_schema schema, std::string_view content_type, const std::string& fixture) {
  const std::string body = test::read_fixture("bug_cases/" + fixture);
  return test::run_tap(schema, content_type, "", fragments(body));
}

TEST(BugCases, B01_UsageOnEveryChunkTakesTheLastValueNotTheSum) {
  const tap_result result = replay(api_schema::openai_chat, sse, "b01_usage_on_every_chunk.sse");
  EXPECT_EQ(result.usage, counts(21, unset, unset, 3, unset));
  EXPECT_EQ(result.usage.total_tokens(), 24u);
}

TEST(BugCases, B01_WithoutTheFinalUsageChunkTheLastSnapshotStillCounts) {
  const tap_result result = replay(api_schema::openai_chat, sse, "b01_without_final_chunk.sse");
  EXPECT_EQ(result.usage, counts(21, unset, unset, 3, unset));
  EXPECT_EQ(result.source, usage_source::reported);
}

TEST(BugCases, B02_RunningTotalsOnEveryChunkAreNotSummed) {
  const tap_result result = replay(api_schema::openai_chat, sse, "b02_running_totals.sse");
  EXPECT_EQ(result.usage, counts(12, unset, unset, 7, unset));
  EXPECT_EQ(result.usage.total_tokens(), 19u);
}

TEST(BugCases, B03_TheFinalUsageChunkBeatsNonCumulativeSnapshots) {
  // The upstream itself under-reports n=2 (30, not 55); the meter records what it was told,
  // and in particular not the last per-chunk snapshot (1).
  const tap_result result = replay(api_schema::openai_chat, sse, "b03_n2_final_usage.sse");
  EXPECT_EQ(result.usage, counts(15, unset, unset, 30, unset));
}

TEST(BugCases, B04_ProvisionalMessageStartOutputIsReplacedNotAdded) {
  const tap_result result = replay(api_schema::anthropic_messages, sse, "b04_provisional_output.sse");
  EXPECT_EQ(result.usage, counts(18, 0, 0, 64, unset));
}

TEST(BugCases, B04_TheLastOfTwoMessageDeltasWins) {
  const tap_result result = replay(api_schema::anthropic_messages, sse, "b04_two_message_deltas.sse");
  EXPECT_EQ(result.usage, counts(18, 0, 0, 64, unset));
}

TEST(BugCases, B05_CacheCountsRepeatedInMessageDeltaAreNotAddedTwice) {
  const tap_result result = replay(api_schema::anthropic_messages, sse, "b05_cache_repeated_in_delta.sse");
  EXPECT_EQ(result.usage, test::anthropic_counts(2057, 2048, 0, 120, 0));
}

TEST(BugCases, B06_TotalIsInputPlusOutputWhenTheDeltaCarriesOnlyOutput) {
  const tap_result result = replay(api_schema::anthropic_messages, sse, "b06_output_only_delta.sse");
  EXPECT_EQ(result.usage, counts(25, unset, unset, 15, unset));
  EXPECT_EQ(result.usage.total_tokens(), 40u);
}

TEST(BugCases, B07_GzipUnstreamedMessagesBodyIsDecodedBeforeReading) {
  const std::string compressed = test::gzip(test::read_fixture("bug_cases/b07_messages_body.json"));
  ASSERT_EQ(compressed.substr(0, 3), "\x1f\x8b\x08");
  const tap_result result = test::run_tap(api_schema::anthropic_messages, json, "gzip", fragments(compressed));
  EXPECT_EQ(result.usage, counts(12, 0, 0, 12, unset));
  EXPECT_EQ(result.model, "claude-3-5-haiku-20241022");
}

TEST(BugCases, B07_GzipEventStreamCutIntoThreeReadsIsDecoded) {
  const std::string compressed = test::gzip(test::read_fixture("bug_cases/b06_output_only_delta.sse"));
  for (std::size_t first = 1; first < compressed.size(); first += 7) {
    for (std::size_t second = 1; first + second < compressed.size(); second += 11) {
      SCOPED_TRACE("reads of " + std::to_string(first) + ", " + std::to_string(second) + " and the rest");
      const tap_result result =
          test::run_tap(api_schema::anthropic_messages, sse, "gzip", test::cut(compressed, {first, second}));
      EXPECT_EQ(result.usage, counts(25, unset, unset, 15, unset));
      EXPECT_TRUE(result.stream_complete);
    }
  }
}

TEST(BugCases, B08_CachedTokensAreASubsetOfPromptTokens) {
  const tap_result result = replay(api_schema::openai_chat, json, "b08_cached_subset.json");
  EXPECT_EQ(result.usage, counts(3000, 2560, unset, 400, 0));
}

TEST(BugCases, B09_DeepSeekCacheHitTokensAreReadWithoutNestedDetails) {
  const tap_result result = replay(api_schema::openai_chat, json, "b09_deepseek_hit_fields.json");
  EXPECT_EQ(result.usage, counts(1000, 800, unset, 100, unset));
}

TEST(BugCases, B10_ReasoningTokensStayInsideCompletionTokens) {
  const tap_result result = replay(api_schema::openai_chat, json, "b10_reasoning_inside_completion.json");
  EXPECT_EQ(result.usage, counts(400, 0, unset, 1200, 900));
}

} // namespace
} // namespace tokenmeter
