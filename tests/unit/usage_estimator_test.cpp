#include "usage_estimator.hpp"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

// No vocabulary is loaded here, so every count is the documented fallback, ceil(chars / 4),
// which makes the framing arithmetic exact. Real vocabularies: tokenizer_vocabulary_test.
class UsageEstimatorFallback : public ::testing::Test {
protected:
  usage_estimator::count prompt(api_schema schema, std::string_view body) const {
    return estimator.prompt_tokens(schema, body, vocabulary::o200k);
  }
  std::uint64_t completion(api_schema schema, std::vector<std::string_view> payloads, std::uint64_t& reasoning) const {
    relayed_payloads kept;
    for (const std::string_view payload : payloads) kept.add(payload);
    return estimator.completion_tokens(schema, kept, vocabulary::o200k, reasoning).tokens;
  }

  tokenizer_set none;
  usage_estimator estimator{none, {}};
};

TEST_F(UsageEstimatorFallback, CountsFourCharactersPerTokenAndSaysSo) {
  const auto count = estimator.text_tokens("abcdefghi", vocabulary::cl100k);
  EXPECT_EQ(count.tokens, 3u);
  EXPECT_TRUE(count.fallback);
  EXPECT_EQ(estimator.text_tokens("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", vocabulary::cl100k).tokens, 1u);
}

TEST_F(UsageEstimatorFallback, FramesEachChatMessageAndTheReply) {
  // 3 + system(2) + "Be brief."(3), 3 + user(1) + "Hello there!"(3), reply 3
  const auto count = prompt(api_schema::openai_chat,
                            R"({"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},)"
                            R"({"role":"user","content":"Hello there!"}]})");
  EXPECT_EQ(count.tokens, 18u);
  EXPECT_TRUE(count.fallback);
}

TEST_F(UsageEstimatorFallback, AddsOneTokenForAMessageName) {
  // 3 + user(1) + bob(1) + 1 + hi(1), reply 3
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"messages":[{"role":"user","name":"bob","content":"hi"}]})").tokens, 10u);
}

TEST_F(UsageEstimatorFallback, CountsTextPartsAndSkipsImages) {
  EXPECT_EQ(prompt(api_schema::openai_chat,
                   R"({"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},)"
                   R"({"type":"image_url","image_url":{"url":"http://x/y.png"}}]}]})")
                .tokens,
            8u);
}

TEST_F(UsageEstimatorFallback, CountsToolCallNamesAndArguments) {
  // 3 + assistant(3) + get(1) + {"a":1}(2), reply 3
  EXPECT_EQ(prompt(api_schema::openai_chat,
                   R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function",)"
                   R"("function":{"name":"get","arguments":"{\"a\":1}"}}]}]})")
                .tokens,
            12u);
}

TEST_F(UsageEstimatorFallback, AddsThreeTokensForALegacyFunctionCall) {
  // 3 + assistant(3) + 3 + get(1) + {"a":1}(2), reply 3
  EXPECT_EQ(prompt(api_schema::openai_chat,
                   R"({"messages":[{"role":"assistant","function_call":{"name":"get","arguments":"{\"a\":1}"}}]})")
                .tokens,
            15u);
}

TEST_F(UsageEstimatorFallback, TakesTwoTokensOffAFunctionRoleMessage) {
  // 3 + function(2) + get(1) + 1 + done(1) - 2, reply 3
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"messages":[{"role":"function","name":"get","content":"done"}]})").tokens,
            9u);
}

TEST_F(UsageEstimatorFallback, CountsToolDefinitionsAsTheirJson) {
  // [{"a":1}] is 9 characters: 3 tokens, no messages so no framing
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"tools":[{"a":1}]})").tokens, 3u);
}

TEST_F(UsageEstimatorFallback, CountsLegacyPromptAndEmbeddingsInput) {
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"prompt":"abcdefgh"})").tokens, 2u);
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"input":["abcd","abcdefgh"]})").tokens, 3u);
  EXPECT_EQ(prompt(api_schema::openai_chat, R"({"input":[[1,2,3],[4]]})").tokens, 4u);
}

TEST_F(UsageEstimatorFallback, CountsAnthropicSystemAndMessages) {
  // system 3 + 1, message 3 + user(1) + 2, reply 3
  EXPECT_EQ(prompt(api_schema::anthropic_messages,
                   R"({"system":"abcd","messages":[{"role":"user","content":[{"type":"text","text":"abcdefgh"}]}]})")
                .tokens,
            13u);
}

TEST_F(UsageEstimatorFallback, CountsResponsesInstructionsAndInput) {
  // instructions 3 + 1, input as one message 3 + 2, reply 3
  EXPECT_EQ(prompt(api_schema::openai_responses, R"({"instructions":"abcd","input":"abcdefgh"})").tokens, 12u);
}

TEST_F(UsageEstimatorFallback, GivesNothingForABodyThatIsNotJson) {
  EXPECT_EQ(prompt(api_schema::openai_chat, "not json").tokens, 0u);
  EXPECT_EQ(prompt(api_schema::openai_chat, "").tokens, 0u);
}

TEST_F(UsageEstimatorFallback, JoinsStreamedDeltasBeforeCounting) {
  std::uint64_t reasoning = 0;
  EXPECT_EQ(completion(api_schema::openai_chat,
                       {R"({"choices":[{"delta":{"role":"assistant","content":"abcd"}}]})",
                        R"({"choices":[{"delta":{"content":"efgh"}}]})", R"({"choices":[]})"},
                       reasoning),
            2u);
  EXPECT_EQ(reasoning, 0u);
}

TEST_F(UsageEstimatorFallback, CountsStreamedToolCallNameAndArguments) {
  std::uint64_t reasoning = 0;
  // get{"a":1} is 10 characters
  EXPECT_EQ(completion(api_schema::openai_chat,
                       {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"get","arguments":""}}]}}]})",
                        R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]})"},
                       reasoning),
            3u);
}

TEST_F(UsageEstimatorFallback, CountsVisibleReasoningAsPartOfTheCompletion) {
  std::uint64_t reasoning = 0;
  EXPECT_EQ(completion(api_schema::openai_chat,
                       {R"({"choices":[{"delta":{"reasoning_content":"abcdefgh"}}]})",
                        R"({"choices":[{"delta":{"content":"abcd"}}]})"},
                       reasoning),
            3u);
  EXPECT_EQ(reasoning, 2u);
}

TEST_F(UsageEstimatorFallback, ReadsAnthropicTextAndThinkingDeltas) {
  std::uint64_t reasoning = 0;
  EXPECT_EQ(completion(api_schema::anthropic_messages,
                       {R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"abcdefgh"}})",
                        R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"abcd"}})"},
                       reasoning),
            3u);
  EXPECT_EQ(reasoning, 2u);
}

TEST_F(UsageEstimatorFallback, ReadsOnlyResponsesDeltasNotTheirRepeats) {
  std::uint64_t reasoning = 0;
  EXPECT_EQ(completion(api_schema::openai_responses,
                       {R"({"type":"response.output_text.delta","delta":"abcd"})",
                        R"({"type":"response.output_text.done","text":"abcd"})",
                        R"({"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"abcd"}]}]}})"},
                       reasoning),
            1u);
}

TEST_F(UsageEstimatorFallback, ReadsAnUnstreamedChatBody) {
  std::uint64_t reasoning = 0;
  EXPECT_EQ(completion(api_schema::openai_chat,
                       {R"({"id":"x","choices":[{"message":{"role":"assistant","content":"abcdefgh","refusal":null}}],"usage":null})"},
                       reasoning),
            2u);
}

TEST(UsageEstimatorFamilies, MapsModelNamesToTheirVocabulary) {
  const tokenizer_set none;
  const usage_estimator estimator(none, {});
  EXPECT_EQ(estimator.vocabulary_for("gpt-4o-mini"), vocabulary::o200k);
  EXPECT_EQ(estimator.vocabulary_for("gpt-4-turbo"), vocabulary::cl100k);
  EXPECT_EQ(estimator.vocabulary_for("openai/GPT-3.5-turbo"), vocabulary::cl100k);
  EXPECT_EQ(estimator.vocabulary_for("text-embedding-3-small"), vocabulary::cl100k);
  EXPECT_EQ(estimator.vocabulary_for("meta-llama/Llama-3.1-8B-Instruct"), vocabulary::llama3);
  EXPECT_EQ(estimator.vocabulary_for("llama3.2:latest"), vocabulary::llama3);
  EXPECT_EQ(estimator.vocabulary_for("o3-mini"), vocabulary::o200k);
  EXPECT_EQ(estimator.vocabulary_for("claude-sonnet-4"), vocabulary::o200k);
}

TEST(UsageEstimatorFamilies, LetsTheConfigAddAndOverrideFamilies) {
  const tokenizer_set none;
  const usage_estimator estimator(none, {{"My-Model", "llama3"}, {"gpt-4o", "cl100k"}});
  EXPECT_EQ(estimator.vocabulary_for("my-model-7b"), vocabulary::llama3);
  EXPECT_EQ(estimator.vocabulary_for("gpt-4o"), vocabulary::cl100k);
  EXPECT_EQ(estimator.vocabulary_for("gpt-4.1"), vocabulary::o200k);
}

} // namespace
} // namespace tokenmeter
