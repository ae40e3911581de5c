#include "usage_chunk_filter.hpp"

#include "metering_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokenmeter {
namespace {

constexpr std::string_view content_chunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n";
constexpr std::string_view finish_chunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
constexpr std::string_view usage_chunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n";
constexpr std::string_view done = "data: [DONE]\n\n";

struct filtered {
  std::string out;
  std::uint64_t removed;
};

filtered run(const std::vector<std::string_view>& pieces) {
  usage_chunk_filter filter;
  std::string out;
  for (std::string_view piece : pieces) {
    filter.feed(piece, out);
  }
  filter.finish(out);
  return {out, filter.removed_events()};
}

std::string joined(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (std::string_view part : parts) {
    text.append(part);
  }
  return text;
}

TEST(UsageChunkFilter, RemovesTheUsageOnlyChunkAndKeepsEverythingElse) {
  const filtered result = run({joined({content_chunk, finish_chunk, usage_chunk, done})});
  EXPECT_EQ(result.out, joined({content_chunk, finish_chunk, done}));
  EXPECT_EQ(result.removed, 1u);
}

TEST(UsageChunkFilter, EverySplitGivesTheSameBytes) {
  const std::string stream = joined({content_chunk, finish_chunk, usage_chunk, done});
  const std::string expected = joined({content_chunk, finish_chunk, done});
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    EXPECT_EQ(run(test::cut(stream, {at})).out, expected);
  }
  EXPECT_EQ(run(test::cut_every(stream, 1)).out, expected);
}

TEST(UsageChunkFilter, ForwardsAnEventAsSoonAsItsBlankLineArrives) {
  usage_chunk_filter filter;
  std::string out;
  filter.feed(content_chunk.substr(0, content_chunk.size() - 1), out);
  EXPECT_EQ(out, "");
  filter.feed("\n", out);
  EXPECT_EQ(out, content_chunk);
}

TEST(UsageChunkFilter, KeepsUsageOnAChunkWithChoices) {
  // Mistral and Together put usage on the finish chunk: the agent gets it either way.
  const std::string chunk =
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1}}\n\n";
  EXPECT_EQ(run({chunk}).out, chunk);
}

TEST(UsageChunkFilter, KeepsAzuresPromptFilterChunkWithEmptyChoicesAndNoUsage) {
  const std::string chunk = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"prompt_filter_results\":[]}\n\n";
  EXPECT_EQ(run({chunk}).out, chunk);
  const std::string null_usage = "data: {\"choices\":[],\"usage\":null}\n\n";
  EXPECT_EQ(run({null_usage}).out, null_usage);
}

TEST(UsageChunkFilter, KeepsCommentsAndEventsOfOtherDialects) {
  const std::string stream = ": OPENROUTER PROCESSING\n\nevent: x\ndata: {\"choices\":[],\"usage\":{\"a\":1}}\n\n";
  EXPECT_EQ(run({stream}).out, stream);
}

TEST(UsageChunkFilter, KeepsUsageWrittenInContent) {
  const std::string chunk =
      "data: {\"choices\":[{\"delta\":{\"content\":\"{\\\"choices\\\":[],\\\"usage\\\":{}}\"}}]}\n\n";
  EXPECT_EQ(run({chunk}).out, chunk);
}

TEST(UsageChunkFilter, RemovesACrLfUsageChunkWithItsWholeLineEnd) {
  const std::string stream = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\n\r\ndata: [DONE]\r\n\r\n";
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    EXPECT_EQ(run(test::cut(stream, {at})).out, "data: [DONE]\r\n\r\n");
  }
}

TEST(UsageChunkFilter, KeepsTheCrLfThatEndsTheEventBeforeARemovedUsageChunk) {
  // llama.cpp frames with CRLF: the LF of the kept event's blank line must stay with it.
  const std::string content = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\r\n\r\n";
  const std::string usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":32}}\r\n\r\n";
  const std::string end = "data: [DONE]\r\n\r\n";
  const std::string stream = content + usage + end;
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    EXPECT_EQ(run(test::cut(stream, {at})).out, content + end);
  }
  EXPECT_EQ(run(test::cut_every(stream, 1)).out, content + end);
}

TEST(UsageChunkFilter, PassesACrLfStreamWithoutUsageChunkUnchanged) {
  const std::string stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\n"
                             ": ping\r\n\r\ndata: {\"choices\":[],\"usage\":null}\r\n\r\ndata: [DONE]\r\n\r\n";
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    EXPECT_EQ(run(test::cut(stream, {at})).out, stream);
  }
  EXPECT_EQ(run(test::cut_every(stream, 1)).out, stream);
}

TEST(UsageChunkFilter, RemovesALoneCrUsageChunk) {
  EXPECT_EQ(run({"data:{\"choices\":[],\"usage\":{}}\r\rdata: [DONE]\r\r"}).out, "data: [DONE]\r\r");
}

TEST(UsageChunkFilter, RemovesAUsageChunkSpreadOverDataLines) {
  EXPECT_EQ(run({"data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":1}}\n\n"}).out, "");
}

TEST(UsageChunkFilter, JudgesAnUnterminatedLastEventAtFinish) {
  EXPECT_EQ(run({joined({content_chunk, usage_chunk.substr(0, usage_chunk.size() - 2)})}).out, content_chunk);
  EXPECT_EQ(run({"data: {\"choices\":[],\"usage\":{\"prompt"}).out, "data: {\"choices\":[],\"usage\":{\"prompt");
}

TEST(UsageChunkFilter, PassesAJsonErrorBodyThrough) {
  const std::string body = "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}";
  EXPECT_EQ(run({body}).out, body);
}

TEST(UsageChunkFilter, AnEventOverTheBoundIsPassedOnAsItArrives) {
  usage_chunk_filter filter(usage_chunk.size() + 10);
  std::string out;
  const std::string big = "data: {\"choices\":[],\"usage\":{},\"pad\":\"" + std::string(200, 'a') + "\"}\n\n";
  filter.feed(big.substr(0, 180), out);
  EXPECT_EQ(out, big.substr(0, 180));
  filter.feed(big.substr(180), out);
  filter.feed(usage_chunk, out);
  filter.finish(out);
  EXPECT_EQ(out, big);
  EXPECT_EQ(filter.removed_events(), 1u);
}

TEST(UsageChunkFilter, AVllmStreamLosesOnlyItsFinalUsageChunk) {
  const std::string stream = test::read_fixture("vllm/include_usage_final_chunk.sse");
  // The fixture ends with the usage-only chunk and then [DONE].
  const std::size_t usage_event = stream.rfind("data: {", stream.find("\"choices\":[],"));
  const std::string expected = stream.substr(0, usage_event) + std::string(done);
  for (std::uint32_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const filtered result = run(test::cut_randomly(stream, seed, 3 * seed));
    EXPECT_EQ(result.out, expected);
    EXPECT_EQ(result.removed, 1u);
  }
}

} // namespace
} // namespace tokenmeter
