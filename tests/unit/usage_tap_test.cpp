#include "usage_tap.hpp"

#include "config.hpp"
#include "metering_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

using test::counts;
using test::anthropic_counts;
using test::unset;
constexpr std::string_view sse = "text/event-stream; charset=utf-8";
constexpr std::string_view json = "application/json";
constexpr std::string_view ndjson = "application/x-ndjson";


/// A recorded-shape response body and the record the tap must produce from it.
struct fixture_case {
  std::string file; ///< under tests/fixtures
  api_schema schema;
  std::string_view content_type;
  token_usage usage;
  usage_source source;
  std::string model;
  bool streamed;
  bool complete;
  std::string service_tier = {};
  std::string notes = {};
  std::optional<std::int64_t> provider_cost_pico_usd = {};
};

void PrintTo(const fixture_case& c, std::ostream* out) { *out << c.file; }

const std::vector<fixture_case>& fixture_cases() {
  using enum api_schema;
  const auto reported = usage_source::reported;
  const auto missing = usage_source::missing;
  static const std::vector<fixture_case> cases{
      {"openai_chat/unstreamed.json", openai_chat, json, counts(1125, 1024, unset, 212, 128), reported, "gpt-5-mini-2025-08-07", false, false, "default"},
      {"openai_chat/stream_without_usage.sse", openai_chat, sse, token_usage{}, missing, "gpt-5-nano-2025-08-07", true, true, "default"},
      {"openai_chat/stream_include_usage.sse", openai_chat, sse, counts(12, 0, unset, 100, 96), reported, "gpt-5-nano-2025-08-07", true, true, "default"},
      // "usage" inside generated text and inside a choice is content, not usage.
      {"openai_chat/stream_usage_in_content.sse", openai_chat, sse, token_usage{}, missing, "gpt-5-nano-2025-08-07", true, true, "default"},
      {"openai_completions/unstreamed.json", openai_chat, json, counts(31, unset, unset, 25, unset), reported, "babbage:2023-07-21-v2", false, false},
      {"openai_completions/stream_include_usage.sse", openai_chat, sse, counts(31, unset, unset, 25, unset), reported, "babbage:2023-07-21-v2", true, true},
      {"openai_completions/stream_without_usage.sse", openai_chat, sse, token_usage{}, missing, "babbage:2023-07-21-v2", true, true},
      {"openai_embeddings/batched.json", openai_chat, json, counts(14, unset, unset, 0, unset), reported, "text-embedding-3-small", false, false},
      {"azure/unstreamed.json", openai_chat, json, counts(8, 0, unset, 271, 192), reported, "gpt-5-nano-2025-08-07", false, false},
      // The first chunk has empty choices, model and id: its model is not taken, and it is not the usage chunk.
      {"azure/stream_include_usage.sse", openai_chat, sse, counts(14, 0, unset, 9, 0), reported, "gpt-4o-2024-11-20", true, true},
      {"azure/stream_async_filter.sse", openai_chat, sse, counts(21, 0, unset, 4, 0), reported, "gpt-4o-2024-11-20", true, true},
      {"openai_responses/unstreamed.json", openai_responses, json, counts(1380, 1152, unset, 310, 192), reported, "gpt-5-mini-2025-08-07", false, false},
      {"openai_responses/stream_completed.sse", openai_responses, sse, counts(18, 0, unset, 80, 0), reported, "gpt-4.1-nano-2025-04-14", true, true},
      {"openai_responses/stream_incomplete.sse", openai_responses, sse, counts(42, 0, unset, 256, 200), reported, "gpt-4.1-nano-2025-04-14", true, true},
      {"openai_responses/stream_failed.sse", openai_responses, sse, token_usage{}, missing, "gpt-4.1-nano-2025-04-14", true, true, "", "error_event"},
      // A failed response that still bills what it processed.
      {"openai_responses/stream_failed_with_usage.sse", openai_responses, sse, counts(37, 0, unset, 12, 0), reported, "gpt-4.1-nano-2025-04-14", true, true, "", "error_event"},
      {"anthropic/unstreamed.json", anthropic_messages, json, anthropic_counts(2224, 2210, 0, 57, 0), reported, "claude-sonnet-4-20250514", false, false, "standard"},
      {"anthropic/unstreamed_cache_write.json", anthropic_messages, json, anthropic_counts(3020, 0, 3000, 90, 0), reported, "claude-sonnet-4-20250514", false, false},
      {"anthropic/unstreamed_cache_write_1h.json", anthropic_messages, json, anthropic_counts(3020, 0, 3000, 90, 2000), reported, "claude-sonnet-4-20250514", false, false, "standard"},
      {"anthropic/stream.sse", anthropic_messages, sse, anthropic_counts(2224, 2210, 0, 57, 0), reported, "claude-sonnet-4-20250514", true, true, "standard"},
      {"anthropic/stream_output_only_delta.sse", anthropic_messages, sse, anthropic_counts(2224, 2210, 0, 57, 0), reported, "claude-sonnet-4-20250514", true, true, "standard"},
      // Cut off by an error: the input side is known, output is message_start's provisional count.
      {"anthropic/stream_overloaded_error.sse", anthropic_messages, sse, anthropic_counts(2224, 2210, 0, 2, 0), reported, "claude-sonnet-4-20250514", true, false, "standard", "error_event"},
      {"cohere/unstreamed.json", cohere_v2, json, counts(7, unset, unset, 88, unset), reported, "", false, false},
      {"cohere/stream_message_end.sse", cohere_v2, sse, counts(7, unset, unset, 109, unset), reported, "", true, true},
      {"vllm/continuous_usage.sse", openai_chat, sse, counts(16, unset, unset, 3, unset), reported, "meta-llama/Llama-3.1-8B-Instruct", true, true},
      {"vllm/include_usage_final_chunk.sse", openai_chat, sse, counts(31, unset, unset, 2, unset), reported, "Qwen/Qwen2.5-7B-Instruct", true, true},
      {"sglang/continuous_usage.sse", openai_chat, sse, counts(40, 32, unset, 2, unset), reported, "meta-llama/Llama-3.1-8B-Instruct", true, true},
      {"groq/unstreamed.json", openai_chat, json, counts(18, unset, unset, 73, unset), reported, "llama-3.1-8b-instant", false, false},
      {"groq/stream_x_groq.sse", openai_chat, sse, counts(18, unset, unset, 73, unset), reported, "llama-3.1-8b-instant", true, true},
      {"deepseek/unstreamed_after_blank_lines.json", openai_chat, json, counts(1100, 1024, unset, 185, 160), reported, "deepseek-reasoner", false, false},
      {"deepseek/stream_keep_alive_hit_fields.sse", openai_chat, sse, counts(600, 512, unset, 40, unset), reported, "deepseek-chat", true, true},
      {"mistral/unstreamed.json", openai_chat, json, counts(20, 10, unset, 18, unset), reported, "mistral-small-latest", false, false},
      {"mistral/stream_usage_on_finish_chunk.sse", openai_chat, sse, counts(20, 10, unset, 18, unset), reported, "mistral-small-latest", true, true},
      {"gemini/unstreamed_total_gap.json", openai_chat, json, counts(9, unset, unset, 393, 387), reported, "gemini-2.5-flash", false, false, "", "total_gap_booked"},
      {"gemini/stream_thinking_outside_completion.sse", openai_chat, sse, counts(9, unset, unset, 393, 387), reported, "gemini-2.5-flash", true, true, "", "total_gap_booked"},
      {"together/unstreamed_big_seed.json", openai_chat, json, counts(25, 0, unset, 50, unset), reported, "meta-llama/Llama-3.3-70B-Instruct-Turbo", false, false},
      {"together/stream_big_seed.sse", openai_chat, sse, counts(25, 0, unset, 50, unset), reported, "meta-llama/Llama-3.3-70B-Instruct-Turbo", true, true},
      {"openrouter/unstreamed_cost.json", openai_chat, json, counts(14, 0, unset, 9, 0), reported, "openai/gpt-4o-mini", false, false, "", "", 7'500'000},
      {"openrouter/stream_processing_comments.sse", openai_chat, sse, counts(1940, 1536, unset, 120, 0), reported, "anthropic/claude-sonnet-4", true, true, "", "", 3'472'800'000},
      {"llamacpp/unstreamed.json", openai_chat, json, counts(248, unset, unset, 35, unset), reported, "qwen2.5-7b-instruct", false, false},
      {"llamacpp/stream_crlf_ping.sse", openai_chat, sse, counts(248, unset, unset, 35, unset), reported, "qwen2.5-7b-instruct", true, true},
      {"ollama/native_chat.ndjson", openai_chat, ndjson, counts(26, unset, unset, 48, unset), reported, "llama3.1:8b", true, true},
      {"ollama/native_chat_unstreamed.json", openai_chat, json, counts(26, unset, unset, 48, unset), reported, "llama3.1:8b", false, true},
      {"ollama/v1_unstreamed.json", openai_chat, json, counts(26, unset, unset, 48, unset), reported, "llama3.1:8b", false, false},
      {"ollama/v1_stream_include_usage.sse", openai_chat, sse, counts(26, unset, unset, 48, unset), reported, "llama3.1:8b", true, true},
      {"sse_framing/lone_cr_no_space.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, true},
      {"sse_framing/crlf_comments_fields.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, true},
      {"sse_framing/multiline_data.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, true},
      {"sse_framing/utf8_multibyte.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, true},
      {"sse_framing/missing_done.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, false},
      {"sse_framing/bom.sse", openai_chat, sse, counts(17, unset, unset, 5, unset), reported, "gpt-4o-mini-2024-07-18", true, true},
      {"errors/openai_error_body.json", openai_chat, json, token_usage{}, missing, "", false, false, "", "error_event"},
      // An error body on a streaming request: the header says SSE, the body is JSON.
      {"errors/openai_error_body.json", openai_chat, sse, token_usage{}, missing, "", false, false, "", "error_event"},
      {"errors/openai_midstream_error.sse", openai_chat, sse, token_usage{}, missing, "gpt-5-nano-2025-08-07", true, false, "default", "error_event"},
      // An event stream labelled as JSON by a relay.
      {"openai_chat/stream_include_usage.sse", openai_chat, json, counts(12, 0, unset, 100, 96), reported, "gpt-5-nano-2025-08-07", true, true, "default"},
  };
  return cases;
}

void expect_record(const tap_result& result, const fixture_case& c) {
  EXPECT_EQ(result.usage, c.usage);
  EXPECT_EQ(result.source, c.source);
  EXPECT_EQ(result.model, c.model);
  EXPECT_EQ(result.streamed, c.streamed);
  EXPECT_EQ(result.stream_complete, c.complete);
  EXPECT_EQ(result.service_tier, c.service_tier);
  EXPECT_EQ(result.notes, c.notes);
  EXPECT_EQ(result.provider_cost_pico_usd, c.provider_cost_pico_usd);
}

class UsageTapFixture : public ::testing::TestWithParam<fixture_case> {
protected:
  tap_result run(const std::vector<std::string_view>& pieces) const {
    return test::run_tap(GetParam().schema, GetParam().content_type, "", pieces);
  }
  const std::string body_ = test::read_fixture(GetParam().file);
};

TEST_P(UsageTapFixture, OnePieceGivesTheExpectedRecord) {
  expect_record(run({body_}), GetParam());
}

TEST_P(UsageTapFixture, OneBytePiecesGiveTheExpectedRecord) {
  expect_record(run(test::cut_every(body_, 1)), GetParam());
}

TEST_P(UsageTapFixture, EverySplitIntoTwoPiecesGivesTheExpectedRecord) {
  for (std::size_t at = 0; at <= body_.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    expect_record(run(test::cut(body_, {at})), GetParam());
  }
}

TEST_P(UsageTapFixture, RandomPiecesGiveTheExpectedRecord) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_record(run(test::cut_randomly(body_, seed, 1 + seed * 7)), GetParam());
  }
}

TEST_P(UsageTapFixture, DeflateBodyCutIntoRandomPiecesGivesTheExpectedRecord) {
  const std::string compressed = test::compress(body_, 15);
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_record(test::run_tap(GetParam().schema, GetParam().content_type, "deflate",
                                test::cut_randomly(compressed, seed, 13)),
                  GetParam());
  }
}

TEST_P(UsageTapFixture, GzipBodyCutIntoRandomPiecesGivesTheExpectedRecord) {
  const std::string compressed = test::gzip(body_);
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_record(test::run_tap(GetParam().schema, GetParam().content_type, "gzip",
                                test::cut_randomly(compressed, seed, 13)),
                  GetParam());
  }
}

std::string case_name(const ::testing::TestParamInfo<fixture_case>& info) {
  std::string name = std::to_string(info.index) + "_" + info.param.file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      c = '_';
    }
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Dialects, UsageTapFixture, ::testing::ValuesIn(fixture_cases()), case_name);

// --- behaviours of the tap itself ---

constexpr std::string_view small_body = R"({"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4}})";

TEST(UsageTap, AnEmptyBodyHasMissingUsage) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "", {});
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_FALSE(result.usage.any());
  EXPECT_FALSE(result.streamed);
}

TEST(UsageTap, SkipsLeadingWhitespaceAndAByteOrderMarkBeforeJson) {
  const std::string body = "\xEF\xBB\xBF \r\n\t" + std::string(small_body);
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "", test::cut_every(body, 1));
  EXPECT_EQ(result.usage, counts(3, unset, unset, 4, unset));
}

TEST(UsageTap, AJsonBodyOverTheCapHasMissingUsage) {
  // The usage is complete and valid, but only after 9 MiB of content.
  const std::string body = R"({"model":"m","choices":[{"text":")" + std::string(9 << 20, 'a') +
                           R"("}],"usage":{"prompt_tokens":3,"completion_tokens":4}})";
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "", test::cut_every(body, 64 << 10));
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_FALSE(result.usage.any());
  EXPECT_EQ(result.notes, "body_over_cap");
}

TEST(UsageTap, AJsonBodyJustUnderTheCapIsRead) {
  const std::string head = R"({"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4},"pad":")";
  const std::string body = head + std::string((8 << 20) - head.size() - 2, 'a') + "\"}";
  ASSERT_EQ(body.size(), std::size_t{8} << 20);
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "", test::cut_every(body, 64 << 10));
  EXPECT_EQ(result.usage, counts(3, unset, unset, 4, unset));
}

TEST(UsageTap, ReadsAZlibWrappedDeflateBody) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "deflate",
                                          test::cut_every(test::compress(small_body, 15), 2));
  EXPECT_EQ(result.usage, counts(3, unset, unset, 4, unset));
}

TEST(UsageTap, ReadsARawDeflateBody) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "deflate",
                                          test::cut_every(test::compress(small_body, -15), 2));
  EXPECT_EQ(result.usage, counts(3, unset, unset, 4, unset));
}

TEST(UsageTap, AnUnsupportedEncodingHasMissingUsage) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "br", {"\x0b\x02\x80", small_body});
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(result.notes, "decode_failed");
}

TEST(UsageTap, ACorruptGzipBodyHasMissingUsage) {
  std::string compressed = test::gzip(small_body);
  compressed[12] = static_cast<char>(compressed[12] ^ 0x5a);
  compressed[13] = static_cast<char>(compressed[13] ^ 0xa5);
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "gzip", {compressed});
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(result.notes, "decode_failed,payload_unparsed");
}

TEST(UsageTap, AnNdjsonStreamWithCrLfLinesIsRead) {
  const tap_result result = test::run_tap(api_schema::openai_chat, ndjson, "",
      {"\r\n{\"model\":\"llama3.1:8b\",\"done\":false}\r\n\r\n",
       "{\"model\":\"llama3.1:8b\",\"done\":true,\"prompt_eval_count\":26,\"eval_count\":48}\r\n"});
  EXPECT_EQ(result.usage, counts(26, unset, unset, 48, unset));
  EXPECT_TRUE(result.streamed);
  EXPECT_TRUE(result.stream_complete);
}

TEST(UsageTap, OllamaWithoutPromptEvalCountLeavesThePromptUnknownAndNotesIt) {
  // Ollama omits prompt_eval_count when the whole prompt came from its cache.
  const tap_result result = test::run_tap(api_schema::openai_chat, ndjson, "",
      {"{\"model\":\"llama3.1:8b\",\"done\":true,\"eval_count\":48}\n"});
  EXPECT_EQ(result.usage, counts(unset, unset, unset, 48, unset));
  EXPECT_EQ(result.source, usage_source::reported);
  EXPECT_EQ(result.notes, "prompt_tokens_missing");
}

TEST(UsageTap, CachedTokensAbovePromptTokensAreKeptAndNotedInconsistent) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "",
      {R"({"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":50}}})"});
  EXPECT_EQ(result.usage, counts(10, 50, unset, 5, unset));
  EXPECT_EQ(result.notes, "usage_inconsistent");
}

TEST(UsageTap, ReasoningAboveCompletionIsNotedInconsistent) {
  const tap_result result = test::run_tap(api_schema::openai_chat, json, "",
      {R"({"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":50}}})"});
  EXPECT_EQ(result.usage, counts(10, unset, unset, 5, 50));
  EXPECT_EQ(result.notes, "usage_inconsistent");
}

TEST(UsageTap, DoneMarkerDoesNotCompleteAnAnthropicStream) {
  const tap_result result = test::run_tap(api_schema::anthropic_messages, sse, "", {"data: [DONE]\n\n"});
  EXPECT_FALSE(result.stream_complete);
}

TEST(UsageTap, FinishTwiceReturnsTheSameRecordAndLaterFeedsAreIgnored) {
  usage_tap tap(api_schema::openai_chat, sse, "");
  tap.feed("data: {\"model\":\"m\",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n");
  const tap_result first = tap.finish();
  tap.feed("data: {\"usage\":{\"prompt_tokens\":99}}\n\n");
  const tap_result second = tap.finish();
  EXPECT_EQ(first.usage, counts(3, unset, unset, 4, unset));
  EXPECT_EQ(second.usage, first.usage);
  EXPECT_EQ(second.model, "m");
}

TEST(UsageTap, AStreamCutMidPayloadKeepsTheLastCompleteUsage) {
  const tap_result result = test::run_tap(api_schema::openai_chat, sse, "",
      {"data: {\"model\":\"m\",\"usage\":{\"prompt_tokens\":16,\"completion_tokens\":2}}\n\n",
       "data: {\"model\":\"m\",\"usage\":{\"prompt_tokens\":16,\"completion_tok"});
  EXPECT_EQ(result.usage, counts(16, unset, unset, 2, unset));
  EXPECT_FALSE(result.stream_complete);
  EXPECT_EQ(result.notes, "payload_unparsed");
}

TEST(UsageTap, ReadsAUsageChunkLeftWithoutItsBlankLineAtTheEnd) {
  const tap_result result = test::run_tap(api_schema::openai_chat, sse, "",
      {"data: {\"model\":\"m\",\"choices\":[]}\n\ndata: {\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n"});
  EXPECT_EQ(result.usage, counts(5, unset, unset, 1, unset));
}

TEST(UsageTap, AnErrorEventTextThatIsNotJsonIsAnErrorAndUnparsed) {
  const tap_result result = test::run_tap(api_schema::anthropic_messages, sse, "", {"event: error\ndata: Overloaded\n\n"});
  EXPECT_EQ(result.notes, "error_event,payload_unparsed");
}

TEST(UsageTap, AnEventOverTheLineBoundIsDroppedAndNoted) {
  const std::string body = "data: {\"model\":\"m\",\"pad\":\"" + std::string((16 << 20) + 1, 'a') +
                           "\"}\n\ndata: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
  const tap_result result = test::run_tap(api_schema::openai_chat, sse, "", test::cut_every(body, 64 << 10));
  EXPECT_EQ(result.usage, counts(3, unset, unset, 4, unset));
  EXPECT_EQ(result.notes, "sse_line_dropped");
}

TEST(UsageTap, ACleanExchangeHasNoNotes) {
  EXPECT_EQ(test::run_tap(api_schema::openai_chat, json, "", {small_body}).notes, "");
}

TEST(UsageTap, TheLatestServiceTierWins) {
  const tap_result result = test::run_tap(api_schema::openai_chat, sse, "",
      {"data: {\"model\":\"m\",\"service_tier\":\"auto\",\"choices\":[]}\n\n",
       "data: {\"service_tier\":\"flex\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n"});
  EXPECT_EQ(result.service_tier, "flex");
}

// --- in-house shapes read by configured JSON Pointers ---

usage_pointers tachyon_pointers(bool cumulative) {
  usage_pointers pointers;
  pointers.prompt = "/meta/billing/tokensIn";
  pointers.completion = "/meta/billing/tokensOut";
  pointers.cached = "/meta/billing/cache/hitTokens";
  pointers.reasoning = "/meta/billing/thinkTokens";
  pointers.total = "/meta/billing/tokensAll";
  pointers.model = "/meta/engine";
  pointers.cumulative = cumulative;
  return pointers;
}

tap_result run_custom(std::string_view content_type, const usage_pointers& pointers,
                      const std::vector<std::string_view>& pieces) {
  usage_tap tap(api_schema::openai_chat, content_type, "", &pointers);
  for (std::string_view piece : pieces) {
    tap.feed(piece);
  }
  return tap.finish();
}

TEST(UsageTapPointers, ReadsAnUnstreamedInHouseBody) {
  const std::string body = test::read_fixture("inhouse/tachyon_unstreamed.json");
  const tap_result result = run_custom(json, tachyon_pointers(true), {body});
  EXPECT_EQ(result.usage, counts(1200, 1024, unset, 340, 200));
  EXPECT_EQ(result.model, "tachyon-large-2");
  EXPECT_EQ(result.source, usage_source::reported);
}

TEST(UsageTapPointers, ACumulativeStreamKeepsTheLastValues) {
  const std::string body = test::read_fixture("inhouse/tachyon_stream_cumulative.sse");
  for (std::size_t at = 0; at <= body.size(); ++at) {
    SCOPED_TRACE("split at " + std::to_string(at));
    const tap_result result = run_custom(sse, tachyon_pointers(true), test::cut(body, {at}));
    EXPECT_EQ(result.usage, counts(800, 512, unset, 30, 10));
    EXPECT_EQ(result.model, "tachyon-large-2");
  }
}

TEST(UsageTapPointers, ADeltaStreamAddsEachEvent) {
  const std::string body = test::read_fixture("inhouse/tachyon_stream_deltas.sse");
  usage_pointers pointers;
  pointers.prompt = "/meta/billing/tokensIn";
  pointers.completion = "/meta/billing/tokensOut";
  pointers.model = "/meta/engine";
  pointers.cumulative = false;
  const tap_result result = run_custom(sse, pointers, test::cut_every(body, 5));
  EXPECT_EQ(result.usage, counts(90, unset, unset, 4, unset));
  EXPECT_EQ(result.model, "tachyon-small-1");
}

TEST(UsageTapPointers, TheSchemaFieldsAreNotReadWhenPointersAreConfigured) {
  usage_pointers pointers;
  pointers.prompt = "/billing/in";
  const tap_result result = run_custom(json, pointers, {small_body});
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(result.model, "");
}

} // namespace
TEST(UsageTapValidity, AnUnreadableCountMakesTheUsageMissingNotZero) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"model":"m","usage":{"prompt_tokens":-5,"completion_tokens":7,"total_tokens":2}})");
  const auto result = tap.finish();
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_FALSE(result.usage.any());
  EXPECT_EQ(result.notes, "usage_unreadable");
}

TEST(UsageTapValidity, WholeNumbersWrittenAsFloatsAreCounts) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"usage":{"prompt_tokens":10.0,"completion_tokens":5,"total_tokens":1.5e1}})");
  const auto result = tap.finish();
  EXPECT_EQ(result.source, usage_source::reported);
  EXPECT_EQ(result.usage, counts(10, unset, unset, 5, unset));
  EXPECT_EQ(result.notes, "");
}

TEST(UsageTapValidity, ACountBeyond64BitsMakesTheUsageMissing) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":18446744073709551616}})");
  const auto result = tap.finish();
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(result.notes, "usage_unreadable");
}

TEST(UsageTapValidity, AFractionalCountMakesTheUsageMissing) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"usage":{"prompt_tokens":10.5,"completion_tokens":3}})");
  EXPECT_EQ(tap.finish().source, usage_source::missing);
}

TEST(UsageTapValidity, AnImplausiblyLargeCountMakesTheUsageMissing) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"usage":{"prompt_tokens":5000000000000000000,"completion_tokens":1}})");
  EXPECT_EQ(tap.finish().source, usage_source::missing);
}

TEST(UsageTapValidity, NullDetailCountsAreUnreportedNotUnreadable) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed(R"({"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":null}}})");
  const auto result = tap.finish();
  EXPECT_EQ(result.source, usage_source::reported);
  EXPECT_EQ(result.usage.prompt_tokens, 10u);
  EXPECT_EQ(result.usage.cached_prompt_tokens, std::nullopt);
}

} // namespace tokenmeter
