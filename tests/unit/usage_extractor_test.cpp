#include "usage_extractor.hpp"

#include "metering_test_support.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

using test::counts;

using test::unset;

struct payload {
  std::string json;
  std::string event_type = {};
};

/// Runs the schema's extractor over each payload (as a padded copy) in order.
usage_state extract_all(api_schema schema, const std::vector<payload>& payloads) {
  usage_state state;
  for (const payload& p : payloads) {
    simdjson::padded_string padded(p.json);
    extract_usage(schema, padded, p.event_type, state);
  }
  return state;
}

token_usage usage_of(api_schema schema, const std::vector<payload>& payloads) {
  return normalise(schema, extract_all(schema, payloads).usage).usage;
}

token_usage chat_usage(const std::vector<payload>& payloads) { return usage_of(api_schema::openai_chat, payloads); }

payload_status extract_one(api_schema schema, const std::string& json, usage_state& state,
                           std::string_view event_type = {}) {
  simdjson::padded_string padded(json);
  return extract_usage(schema, padded, event_type, state);
}

// --- Chat Completions and compatible servers ---

TEST(OpenAiChatExtractor, ReadsEveryFieldOfATopLevelUsage) {
  EXPECT_EQ(chat_usage({{R"({"model":"m","usage":{"prompt_tokens":1125,"completion_tokens":212,"total_tokens":1337,
      "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
      "completion_tokens_details":{"reasoning_tokens":128,"audio_tokens":0}}})"}}),
            counts(1125, 1024, unset, 212, 128));
}

TEST(OpenAiChatExtractor, IgnoresUsageInsideChoices) {
  EXPECT_EQ(chat_usage({{R"({"model":"m","choices":[{"index":0,"usage":{"prompt_tokens":7,"completion_tokens":3}}]})"}}),
            token_usage{});
}

TEST(OpenAiChatExtractor, IgnoresUsageWrittenInGeneratedText) {
  EXPECT_EQ(chat_usage({{R"({"model":"m","choices":[{"delta":{"content":"{\"usage\":{\"prompt_tokens\":999}}"}}]})"}}),
            token_usage{});
}

TEST(OpenAiChatExtractor, LatestUsageWinsAndIsNeverSummed) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":16,"completion_tokens":1,"total_tokens":17}})"},
                        {R"({"usage":{"prompt_tokens":16,"completion_tokens":2,"total_tokens":18}})"},
                        {R"({"usage":{"prompt_tokens":16,"completion_tokens":3,"total_tokens":19}})"}}),
            counts(16, unset, unset, 3, unset));
}

TEST(OpenAiChatExtractor, NullUsageDoesNotResetEarlierUsage) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":12,"completion_tokens":100}})"}, {R"({"usage":null})"}}),
            counts(12, unset, unset, 100, unset));
}

TEST(OpenAiChatExtractor, AFieldMissingFromALaterUsageKeepsItsEarlierValue) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":12,"prompt_tokens_details":{"cached_tokens":8}}})"},
                        {R"({"usage":{"completion_tokens":5}})"}}),
            counts(12, 8, unset, 5, unset));
}

TEST(OpenAiChatExtractor, MissingCompletionTokensIsZeroWhenAUsageObjectExists) {
  EXPECT_EQ(chat_usage({{R"({"object":"list","usage":{"prompt_tokens":14,"total_tokens":14}})"}}),
            counts(14, unset, unset, 0, unset));
}

TEST(OpenAiChatExtractor, NoUsageObjectLeavesEveryCountUnset) {
  EXPECT_EQ(chat_usage({{R"({"model":"m","choices":[]})"}}), token_usage{});
}

TEST(OpenAiChatExtractor, NullDetailObjectsAndNullMembersAreUnknown) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":30,"completion_tokens":4,"prompt_tokens_details":null,
      "completion_tokens_details":{"reasoning_tokens":null,"audio_tokens":null}}})"}}),
            counts(30, unset, unset, 4, unset));
}

TEST(OpenAiChatExtractor, CachedTokensPreferTheNestedDetailOverDeepSeekAndTogetherFields) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":1100,"completion_tokens":1,"prompt_cache_hit_tokens":900,
      "cached_tokens":800,"prompt_tokens_details":{"cached_tokens":1024}}})"}}),
            counts(1100, 1024, unset, 1, unset));
}

TEST(OpenAiChatExtractor, CachedTokensFallBackToDeepSeekHitTokens) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_cache_hit_tokens":800,
      "prompt_cache_miss_tokens":200,"cached_tokens":5}})"}}),
            counts(1000, 800, unset, 100, unset));
}

TEST(OpenAiChatExtractor, CachedTokensFallBackToTogetherTopLevelCachedTokens) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":25,"completion_tokens":50,"cached_tokens":0}})"}}),
            counts(25, 0, unset, 50, unset));
}

TEST(OpenAiChatExtractor, ReadsGroqUsageUnderXGroq) {
  EXPECT_EQ(chat_usage({{R"({"choices":[],"x_groq":{"id":"r","usage":{"queue_time":0.05,"prompt_tokens":18,
      "completion_tokens":73,"total_tokens":91,"total_time":0.06}}})"}}),
            counts(18, unset, unset, 73, unset));
}

TEST(OpenAiChatExtractor, TopLevelUsageBeatsXGroqUsageWhicheverComesFirst) {
  const token_usage expected = counts(20, unset, unset, 10, unset);
  EXPECT_EQ(chat_usage({{R"({"x_groq":{"usage":{"prompt_tokens":18,"completion_tokens":73}},
      "usage":{"prompt_tokens":20,"completion_tokens":10}})"}}), expected);
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":20,"completion_tokens":10},
      "x_groq":{"usage":{"prompt_tokens":18,"completion_tokens":73}}})"}}), expected);
}

TEST(OpenAiChatExtractor, XGroqUsageCountsWhenTopLevelUsageIsNull) {
  EXPECT_EQ(chat_usage({{R"({"usage":null,"x_groq":{"usage":{"prompt_tokens":18,"completion_tokens":73}}})"}}),
            counts(18, unset, unset, 73, unset));
}

TEST(OpenAiChatExtractor, ModelIsTheFirstNonEmptyOne) {
  const usage_state state = extract_all(api_schema::openai_chat, {{R"({"choices":[],"model":"","id":""})"},
                                                                  {R"({"model":"gpt-4o-2024-11-20"})"},
                                                                  {R"({"model":"other"})"}});
  EXPECT_EQ(state.model, "gpt-4o-2024-11-20");
}

TEST(OpenAiChatExtractor, AnIntegerAboveInt64InAnUnreadFieldDoesNotBreakTheChunk) {
  EXPECT_EQ(chat_usage({{R"({"choices":[{"seed":12390303563326160000,"finish_reason":"length"}],
      "usage":{"prompt_tokens":25,"completion_tokens":50,"total_tokens":75}})"}}),
            counts(25, unset, unset, 50, unset));
}

TEST(OpenAiChatExtractor, NegativeFractionalAndTextCountsAreIgnored) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":-5,"completion_tokens":2.5,"total_tokens":"7",
      "prompt_tokens_details":{"cached_tokens":3}}})"}}),
            counts(unset, 3, unset, 0, unset));
}

TEST(OpenAiChatExtractor, ACountTooLargeToStoreIsIgnored) {
  EXPECT_EQ(chat_usage({{R"({"usage":{"prompt_tokens":12390303563326160000,"completion_tokens":4}})"}}),
            counts(unset, unset, unset, 4, unset));
}

TEST(OpenAiChatExtractor, ATruncatedPayloadIsInvalidAndChangesNothing) {
  usage_state state;
  EXPECT_EQ(extract_one(api_schema::openai_chat, R"({"model":"m","usage":{"prompt_tokens":5},"choices":[)", state),
            payload_status::invalid);
  EXPECT_FALSE(state.usage.seen);
  EXPECT_EQ(state.model, "");
}

TEST(OpenAiChatExtractor, NonObjectPayloadsAreInvalid) {
  usage_state state;
  for (const char* json : {"[1,2]", "\"usage\"", "garbage", "", "{\"usage\":"}) {
    EXPECT_EQ(extract_one(api_schema::openai_chat, json, state), payload_status::invalid) << json;
  }
  EXPECT_FALSE(state.usage.seen);
}

TEST(OpenAiChatExtractor, RecognisesAnOpenAiErrorObject) {
  usage_state state;
  EXPECT_EQ(extract_one(api_schema::openai_chat, R"({"error":{"message":"boom","type":"server_error","code":null}})",
                        state),
            payload_status::ok);
  EXPECT_TRUE(state.error_seen);
}

TEST(OpenAiChatExtractor, RecognisesAVllmErrorObject) {
  usage_state state;
  extract_one(api_schema::openai_chat, R"({"object":"error","message":"bad","type":"BadRequestError","code":400})", state);
  EXPECT_TRUE(state.error_seen);
}

TEST(OpenAiChatExtractor, ANullErrorFieldIsNotAnError) {
  usage_state state;
  extract_one(api_schema::openai_chat, R"({"error":null,"model":"m"})", state);
  EXPECT_FALSE(state.error_seen);
}

TEST(OpenAiChatExtractor, RecognisesAnErrorEventTypeEvenWhenThePayloadIsNotJson) {
  usage_state state;
  EXPECT_EQ(extract_one(api_schema::openai_chat, "Overloaded", state, "error"), payload_status::invalid);
  EXPECT_TRUE(state.error_seen);
}

TEST(OpenAiChatExtractor, ReadsOllamaNativeCountersAndDone) {
  const usage_state state = extract_all(api_schema::openai_chat, {{R"({"model":"llama3.1:8b","done":false})"},
      {R"({"model":"llama3.1:8b","done":true,"prompt_eval_count":26,"eval_count":48,"eval_duration":1577990000})"}});
  EXPECT_EQ(normalise(api_schema::openai_chat, state.usage).usage, counts(26, unset, unset, 48, unset));
  EXPECT_TRUE(state.stream_complete);
}

TEST(OpenAiChatExtractor, KeepsOpenRouterCostAsExactPicoUsd) {
  const usage_state state = extract_all(api_schema::openai_chat,
      {{R"({"choices":[],"usage":{"prompt_tokens":1940,"completion_tokens":120,"cost":0.0034728,
          "cost_details":{"upstream_inference_cost":0.5}}})"}});
  EXPECT_EQ(state.usage.cost_pico_usd, 3'472'800'000);
}

TEST(OpenAiChatExtractor, ACostInExponentNotationIsExact) {
  const usage_state state =
      extract_all(api_schema::openai_chat, {{R"({"usage":{"prompt_tokens":1,"cost":7.5e-06 }})"}});
  EXPECT_EQ(state.usage.cost_pico_usd, 7'500'000);
}

TEST(OpenAiChatExtractor, ANegativeOrTextCostIsIgnored) {
  EXPECT_EQ(extract_all(api_schema::openai_chat, {{R"({"usage":{"cost":-0.1}})"}}).usage.cost_pico_usd, std::nullopt);
  EXPECT_EQ(extract_all(api_schema::openai_chat, {{R"({"usage":{"cost":"0.1"}})"}}).usage.cost_pico_usd, std::nullopt);
}

TEST(OpenAiChatExtractor, ReadsTheTopLevelServiceTier) {
  EXPECT_EQ(extract_all(api_schema::openai_chat, {{R"({"model":"m","service_tier":"priority"})"}}).service_tier,
            "priority");
}

// --- total_tokens gap rule ---

TEST(TotalGapRule, ReasoningThatExplainsTheGapIsAddedToCompletion) {
  const normalised_usage result = normalise(api_schema::openai_chat,
      extract_all(api_schema::openai_chat, {{R"({"usage":{"completion_tokens":6,"prompt_tokens":9,"total_tokens":402,
          "completion_tokens_details":{"reasoning_tokens":387}}})"}}).usage);
  EXPECT_EQ(result.usage, counts(9, unset, unset, 393, 387));
  EXPECT_TRUE(result.total_gap_booked);
}

TEST(TotalGapRule, AnUnexplainedGapIsBookedAsHiddenReasoningOutput) {
  const normalised_usage result = normalise(api_schema::openai_chat,
      extract_all(api_schema::openai_chat, {{R"({"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":50}})"}}).usage);
  EXPECT_EQ(result.usage, counts(9, unset, unset, 41, 35));
  EXPECT_TRUE(result.total_gap_booked);
}

TEST(TotalGapRule, AGapReasoningDoesNotExplainIsAddedToCompletionAndReasoning) {
  const normalised_usage result = normalise(api_schema::openai_chat,
      extract_all(api_schema::openai_chat, {{R"({"usage":{"prompt_tokens":10,"completion_tokens":120,"total_tokens":200,
          "completion_tokens_details":{"reasoning_tokens":100}}})"}}).usage);
  EXPECT_EQ(result.usage, counts(10, unset, unset, 190, 170));
  EXPECT_TRUE(result.total_gap_booked);
}

TEST(TotalGapRule, AConsistentTotalBooksNothing) {
  const normalised_usage result = normalise(api_schema::openai_chat,
      extract_all(api_schema::openai_chat, {{R"({"usage":{"prompt_tokens":400,"completion_tokens":1200,"total_tokens":1600,
          "completion_tokens_details":{"reasoning_tokens":900}}})"}}).usage);
  EXPECT_EQ(result.usage, counts(400, unset, unset, 1200, 900));
  EXPECT_FALSE(result.total_gap_booked);
}

TEST(TotalGapRule, ATotalBelowPromptPlusCompletionIsIgnored) {
  const normalised_usage result = normalise(api_schema::openai_chat,
      extract_all(api_schema::openai_chat, {{R"({"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":12}})"}}).usage);
  EXPECT_EQ(result.usage, counts(10, unset, unset, 5, unset));
  EXPECT_FALSE(result.total_gap_booked);
}

TEST(TotalGapRule, AppliesToResponsesTotals) {
  const normalised_usage result = normalise(api_schema::openai_responses,
      extract_all(api_schema::openai_responses, {{R"({"usage":{"input_tokens":5,"output_tokens":10,"total_tokens":40}})"}}).usage);
  EXPECT_EQ(result.usage, counts(5, unset, unset, 35, 25));
  EXPECT_TRUE(result.total_gap_booked);
}

// --- Responses API ---

TEST(OpenAiResponsesExtractor, ReadsTheUsageOfAnUnstreamedResponse) {
  EXPECT_EQ(usage_of(api_schema::openai_responses, {{R"({"object":"response","status":"completed","model":"m",
      "usage":{"input_tokens":1380,"input_tokens_details":{"cached_tokens":1152},"output_tokens":310,
      "output_tokens_details":{"reasoning_tokens":192},"total_tokens":1690}})"}}),
            counts(1380, 1152, unset, 310, 192));
}

TEST(OpenAiResponsesExtractor, ReadsResponseUsageAndModelOfTheCompletedEvent) {
  const usage_state state = extract_all(api_schema::openai_responses,
      {{R"({"type":"response.created","response":{"model":"gpt-4.1-nano-2025-04-14","usage":null}})", "response.created"},
       {R"({"type":"response.completed","response":{"model":"gpt-4.1-nano-2025-04-14","usage":{"input_tokens":18,
           "input_tokens_details":{"cached_tokens":0},"output_tokens":80,"output_tokens_details":{"reasoning_tokens":0},
           "total_tokens":98}}})", "response.completed"}});
  EXPECT_EQ(normalise(api_schema::openai_responses, state.usage).usage, counts(18, 0, unset, 80, 0));
  EXPECT_EQ(state.model, "gpt-4.1-nano-2025-04-14");
  EXPECT_TRUE(state.stream_complete);
}

TEST(OpenAiResponsesExtractor, AnEventBeforeTheTerminalOneDoesNotCompleteTheStream) {
  const usage_state state = extract_all(api_schema::openai_responses,
      {{R"({"type":"response.in_progress","response":{"model":"m","usage":null}})", "response.in_progress"}});
  EXPECT_FALSE(state.stream_complete);
  EXPECT_FALSE(state.usage.seen);
}

TEST(OpenAiResponsesExtractor, TheIncompleteEventCompletesTheStreamAndItsUsageCounts) {
  const usage_state state = extract_all(api_schema::openai_responses,
      {{R"({"type":"response.incomplete","response":{"status":"incomplete","usage":{"input_tokens":42,"output_tokens":256}}})"}});
  EXPECT_EQ(normalise(api_schema::openai_responses, state.usage).usage, counts(42, unset, unset, 256, unset));
  EXPECT_TRUE(state.stream_complete);
}

TEST(OpenAiResponsesExtractor, TheFailedEventCompletesTheStreamAndIsAnError) {
  const usage_state state = extract_all(api_schema::openai_responses,
      {{R"({"type":"response.failed","response":{"status":"failed","usage":null,"error":{"code":"server_error"}}})"}});
  EXPECT_TRUE(state.stream_complete);
  EXPECT_TRUE(state.error_seen);
  EXPECT_FALSE(state.usage.seen);
}

TEST(OpenAiResponsesExtractor, RecognisesABareErrorEvent) {
  const usage_state state =
      extract_all(api_schema::openai_responses, {{R"({"type":"error","code":"server_error","message":"boom"})"}});
  EXPECT_TRUE(state.error_seen);
  EXPECT_FALSE(state.stream_complete);
}

TEST(OpenAiResponsesExtractor, IgnoresUsageNestedInOutputItems) {
  EXPECT_EQ(usage_of(api_schema::openai_responses,
                     {{R"({"type":"response.output_item.done","item":{"usage":{"input_tokens":5,"output_tokens":5}}})"}}),
            token_usage{});
}

// --- Anthropic Messages ---

TEST(AnthropicExtractor, PromptTokensAddCacheReadsAndWritesToInputTokens) {
  EXPECT_EQ(usage_of(api_schema::anthropic_messages, {{R"({"type":"message","model":"claude-sonnet-4-20250514",
      "usage":{"input_tokens":20,"cache_creation_input_tokens":3000,"cache_read_input_tokens":100,"output_tokens":90}})"}}),
            counts(3120, 100, 3000, 90, unset));
}

TEST(AnthropicExtractor, ReadsMessageStartUsageAndModelFromTheMessage) {
  const usage_state state = extract_all(api_schema::anthropic_messages,
      {{R"({"type":"message_start","message":{"model":"claude-sonnet-4-20250514","usage":{"input_tokens":14,
          "cache_creation_input_tokens":0,"cache_read_input_tokens":2210,"output_tokens":2}}})", "message_start"}});
  EXPECT_EQ(normalise(api_schema::anthropic_messages, state.usage).usage, counts(2224, 2210, 0, 2, unset));
  EXPECT_EQ(state.model, "claude-sonnet-4-20250514");
  EXPECT_FALSE(state.stream_complete);
}

TEST(AnthropicExtractor, MessageDeltaOverwritesOnlyTheFieldsItCarries) {
  EXPECT_EQ(usage_of(api_schema::anthropic_messages,
                     {{R"({"type":"message_start","message":{"usage":{"input_tokens":25,"cache_read_input_tokens":7,"output_tokens":1}}})"},
                      {R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}})"}}),
            counts(32, 7, unset, 15, unset));
}

TEST(AnthropicExtractor, MessageStopInThePayloadCompletesTheStream) {
  EXPECT_TRUE(extract_all(api_schema::anthropic_messages, {{R"({"type":"message_stop"})"}}).stream_complete);
}

TEST(AnthropicExtractor, MessageStopEventLineAloneCompletesTheStream) {
  EXPECT_TRUE(extract_all(api_schema::anthropic_messages, {{"{}", "message_stop"}}).stream_complete);
}

TEST(AnthropicExtractor, RecognisesAnErrorEvent) {
  const usage_state state = extract_all(api_schema::anthropic_messages,
      {{R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", "error"}});
  EXPECT_TRUE(state.error_seen);
  EXPECT_FALSE(state.stream_complete);
}

TEST(AnthropicExtractor, NoInputFieldsLeavesPromptTokensUnset) {
  EXPECT_EQ(usage_of(api_schema::anthropic_messages, {{R"({"type":"message_delta","usage":{"output_tokens":15}})"}}),
            counts(unset, unset, unset, 15, unset));
}

TEST(AnthropicExtractor, ReadsTheServiceTierInsideUsage) {
  EXPECT_EQ(extract_all(api_schema::anthropic_messages,
                        {{R"({"type":"message","usage":{"input_tokens":1,"output_tokens":2,"service_tier":"standard"}})"}})
                .service_tier,
            "standard");
}

// --- Cohere v2 ---

TEST(CohereExtractor, ReadsBilledUnitsOfAnUnstreamedBodyNotRawTokens) {
  EXPECT_EQ(usage_of(api_schema::cohere_v2, {{R"({"id":"c","finish_reason":"COMPLETE",
      "usage":{"billed_units":{"input_tokens":7,"output_tokens":88},"tokens":{"input_tokens":69,"output_tokens":89}}})"}}),
            counts(7, unset, unset, 88, unset));
}

TEST(CohereExtractor, ReadsDeltaUsageOfMessageEndAndCompletesTheStream) {
  const usage_state state = extract_all(api_schema::cohere_v2,
      {{R"({"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"tokens":{"input_tokens":69,"output_tokens":110},
          "billed_units":{"input_tokens":7,"output_tokens":109}}}})", "message-end"}});
  EXPECT_EQ(normalise(api_schema::cohere_v2, state.usage).usage, counts(7, unset, unset, 109, unset));
  EXPECT_TRUE(state.stream_complete);
}

TEST(CohereExtractor, AContentDeltaCarriesNoUsage) {
  const usage_state state = extract_all(api_schema::cohere_v2,
      {{R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"usage"}}}})", "content-delta"}});
  EXPECT_FALSE(state.usage.seen);
  EXPECT_FALSE(state.stream_complete);
}

// --- the cheap pre-filter ---

TEST(MayChangeState, SkipsAContentDeltaOnceTheModelIsKnown) {
  usage_state state;
  state.model = "m";
  EXPECT_FALSE(may_change_state(api_schema::openai_chat, "", R"({"choices":[{"delta":{"content":"hi"}}]})", state));
}

TEST(MayChangeState, ParsesEverythingWhileTheModelIsUnknown) {
  EXPECT_TRUE(may_change_state(api_schema::openai_chat, "", R"({"choices":[{"delta":{"content":"hi"}}]})", usage_state{}));
}

TEST(MayChangeState, ParsesPayloadsWithAUsageValue) {
  usage_state state;
  state.model = "m";
  EXPECT_TRUE(may_change_state(api_schema::openai_chat, "", R"({"usage":{"prompt_tokens":1}})", state));
  EXPECT_TRUE(may_change_state(api_schema::openai_chat, "", R"({"usage":null,"x_groq":{"usage":{}}})", state));
}

TEST(MayChangeState, SkipsPayloadsWhoseUsageIsNull) {
  usage_state state;
  state.model = "m";
  EXPECT_FALSE(may_change_state(api_schema::openai_chat, "", R"({"choices":[],"usage":null})", state));
  EXPECT_FALSE(may_change_state(api_schema::openai_chat, "", R"({"choices":[],"usage" : null})", state));
}

TEST(MayChangeState, ParsesPayloadsThatMentionAnError) {
  usage_state state;
  state.model = "m";
  EXPECT_TRUE(may_change_state(api_schema::openai_chat, "", R"({"error":{"message":"boom"}})", state));
}

TEST(MayChangeState, ParsesTerminalEventsOfEachSchema) {
  usage_state state;
  state.model = "m";
  EXPECT_TRUE(may_change_state(api_schema::anthropic_messages, "message_stop", "{}", state));
  EXPECT_TRUE(may_change_state(api_schema::anthropic_messages, "", R"({"type":"message_stop"})", state));
  EXPECT_TRUE(may_change_state(api_schema::openai_responses, "", R"({"type":"response.incomplete"})", state));
  EXPECT_FALSE(may_change_state(api_schema::anthropic_messages, "content_block_delta",
                                R"({"type":"content_block_delta","delta":{"text":"x"}})", state));
}

// --- schema names ---

TEST(SchemaForPath, MessagesPathsAreAnthropic) {
  EXPECT_EQ(schema_for_path("/v1/messages"), api_schema::anthropic_messages);
  EXPECT_EQ(schema_for_path("/anthropic/v1/messages/"), api_schema::anthropic_messages);
}

TEST(SchemaForPath, ResponsesPathsAreOpenAiResponses) {
  EXPECT_EQ(schema_for_path("/v1/responses"), api_schema::openai_responses);
  EXPECT_EQ(schema_for_path("/openai/responses?api-version=2025-04-01-preview"), api_schema::openai_responses);
}

TEST(SchemaForPath, EverythingElseIsOpenAiChat) {
  EXPECT_EQ(schema_for_path("/v1/chat/completions"), api_schema::openai_chat);
  EXPECT_EQ(schema_for_path("/v1/embeddings"), api_schema::openai_chat);
  EXPECT_EQ(schema_for_path("/api/chat"), api_schema::openai_chat);
  EXPECT_EQ(schema_for_path(""), api_schema::openai_chat);
}

TEST(SchemaForPath, CohereV2ChatIsCohere) {
  EXPECT_EQ(schema_for_path("/v2/chat"), api_schema::cohere_v2);
  EXPECT_EQ(schema_for_path("/cohere/v2/chat/"), api_schema::cohere_v2);
  EXPECT_EQ(schema_for_path("/compatibility/v1/chat/completions"), api_schema::openai_chat);
}

TEST(SchemaForPath, AzureDeploymentPathsAreOpenAiChat) {
  EXPECT_EQ(schema_for_path("/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"),
            api_schema::openai_chat);
}

TEST(ApiSchemaName, NamesEachSchema) {
  EXPECT_EQ(to_string(api_schema::openai_chat), "openai_chat");
  EXPECT_EQ(to_string(api_schema::openai_responses), "openai_responses");
  EXPECT_EQ(to_string(api_schema::anthropic_messages), "anthropic_messages");
  EXPECT_EQ(to_string(api_schema::cohere_v2), "cohere_v2");
}

TEST(ParseSchemaName, EveryNameRoundTrips) {
  for (api_schema schema : {api_schema::openai_chat, api_schema::openai_responses, api_schema::anthropic_messages,
                            api_schema::cohere_v2}) {
    EXPECT_EQ(parse_schema_name(to_string(schema)), schema);
  }
}

TEST(ParseSchemaName, OllamaIsReadByTheChatExtractor) {
  EXPECT_EQ(parse_schema_name("ollama"), api_schema::openai_chat);
}

TEST(ParseSchemaName, UnknownAndEmptyNamesAreRejected) {
  EXPECT_EQ(parse_schema_name(""), std::nullopt);
  EXPECT_EQ(parse_schema_name("OpenAI_Chat"), std::nullopt);
  EXPECT_EQ(parse_schema_name("gemini"), std::nullopt);
}

} // namespace
} // namespace tokenmeter
