#include "micro_usd.hpp"
#include "price_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace tokenmeter {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Entries in the shape of LiteLLM's model_prices_and_context_window.json: the documentation
// entry, chat models with cache, long-context and flex fields, DeepSeek's legacy cache-hit
// field, an embedding, and entries that are not token-priced.
constexpr std::string_view litellm_excerpt = R"({
  "sample_spec": {
    "input_cost_per_token": 0.0,
    "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
    "mode": "one of: chat, embedding, completion, image_generation, audio_transcription"
  },
  "gpt-4o": {
    "cache_read_input_token_cost": 1.25e-06,
    "input_cost_per_token": 2.5e-06,
    "litellm_provider": "openai",
    "max_input_tokens": 128000,
    "mode": "chat",
    "output_cost_per_token": 1e-05,
    "supports_prompt_caching": true
  },
  "gpt-5": {
    "cache_read_input_token_cost": 1.25e-07,
    "cache_read_input_token_cost_flex": 6.25e-08,
    "input_cost_per_token": 1.25e-06,
    "input_cost_per_token_flex": 6.25e-07,
    "litellm_provider": "openai",
    "mode": "chat",
    "output_cost_per_token": 1e-05,
    "output_cost_per_token_flex": 5e-06
  },
  "claude-sonnet-4-20250514": {
    "cache_creation_input_token_cost": 3.75e-06,
    "cache_creation_input_token_cost_above_1hr": 6e-06,
    "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
    "cache_read_input_token_cost": 3e-07,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07,
    "input_cost_per_token": 3e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06,
    "litellm_provider": "anthropic",
    "mode": "chat",
    "output_cost_per_token": 1.5e-05,
    "output_cost_per_token_above_200k_tokens": 2.25e-05
  },
  "deepseek/deepseek-coder": {
    "input_cost_per_token": 1.4e-07,
    "input_cost_per_token_cache_hit": 1.4e-08,
    "litellm_provider": "deepseek",
    "mode": "chat",
    "output_cost_per_token": 2.8e-07
  },
  "text-embedding-3-small": {
    "input_cost_per_token": 2e-08,
    "litellm_provider": "openai",
    "mode": "embedding",
    "output_cost_per_token": 0.0
  },
  "amazon.nova-2-pro-preview-20251202-v1:0": {
    "cache_read_input_token_cost": 5.46875e-07,
    "input_cost_per_token": 2.1875e-06,
    "litellm_provider": "bedrock_converse",
    "mode": "chat",
    "output_cost_per_token": 1.75e-05
  },
  "dall-e-3": {
    "litellm_provider": "openai",
    "mode": "image_generation",
    "output_cost_per_image": 0.04
  },
  "whisper-1": {
    "input_cost_per_second": 0.0001,
    "litellm_provider": "openai",
    "mode": "audio_transcription"
  },
  "GPT-4o": {
    "input_cost_per_token": 5e-06,
    "litellm_provider": "openai",
    "mode": "chat",
    "output_cost_per_token": 1.5e-05
  }
})";

const price_table& litellm_table() {
  static const price_table table = price_table::load_text(litellm_excerpt, "litellm.json");
  return table;
}

std::string load_error(std::string_view json) {
  try {
    price_table::load_text(json, "bad.json");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected the file to be rejected:\n" << json;
  return {};
}

TEST(LitellmImport, IsDetectedByTheAbsenceOfProviders) {
  EXPECT_EQ(litellm_table().summary().format, "litellm");
}

TEST(LitellmImport, PerTokenPricesBecomeExactRatesPerMillion) {
  EXPECT_EQ(litellm_table().find("gpt-4o"), (model_rates{2'500'000, 1'250'000, 2'500'000, 10'000'000}));
}

TEST(LitellmImport, SnapshotRulesApplyToImportedNames) {
  EXPECT_EQ(litellm_table().find("gpt-4o-2024-08-06"), litellm_table().find("gpt-4o"));
}

TEST(LitellmImport, CacheWriteWithoutAPriceIsBilledAsInput) {
  EXPECT_EQ(litellm_table().find("gpt-4o").value().cache_write, 2'500'000);
}

TEST(LitellmImport, AnthropicCacheWritesLongContextAndOneHourWrites) {
  const model_price price = litellm_table().match("claude-sonnet-4-20250514").value().price;
  EXPECT_EQ(price.base, (model_rates{3'000'000, 300'000, 3'750'000, 15'000'000, 6'000'000}));
  // The excerpt lists no long-context one-hour write: the base one carries over.
  EXPECT_EQ(price.long_context,
            (long_context_tier{200'000, {6'000'000, 600'000, 7'500'000, 22'500'000, 6'000'000}}));
}

TEST(LitellmImport, FlexFieldsBecomeTheFlexServiceTier) {
  const model_price price = litellm_table().match("gpt-5").value().price;
  ASSERT_EQ(price.service_tiers.size(), 1u);
  EXPECT_EQ(price.service_tiers[0].first, "flex");
  EXPECT_EQ(price.service_tiers[0].second, (model_rates{625'000, 62'500, 1'250'000, 5'000'000}));
}

TEST(LitellmImport, B09DeepSeekLegacyCacheHitFieldPricesCachedTokens) {
  const model_rates rates = litellm_table().find("deepseek/deepseek-coder").value();
  token_usage usage;
  usage.prompt_tokens = 1000;
  usage.cached_prompt_tokens = 800;
  usage.completion_tokens = 100;
  // 200 x 1.4e-07 + 800 x 1.4e-08 + 100 x 2.8e-07 = $0.0000672 (hits free: $0.000056).
  EXPECT_EQ(cost_pico_usd(usage, rates), 67'200'000);
}

TEST(LitellmImport, EmbeddingsAreImported) {
  EXPECT_EQ(litellm_table().find("text-embedding-3-small"), (model_rates{20'000, 20'000, 20'000, 0}));
}

TEST(LitellmImport, SubMicroRatesAreExact) {
  EXPECT_EQ(litellm_table().find("amazon.nova-2-pro-preview-20251202-v1:0"),
            (model_rates{2'187'500, 546'875, 2'187'500, 17'500'000}));
}

TEST(LitellmImport, EntriesThatAreNotTokenPricedAreSkippedAndCounted) {
  const auto& skipped = litellm_table().summary().skipped;
  EXPECT_EQ(skipped.at("not a chat, completion, responses or embedding model"), 3u);
  EXPECT_EQ(skipped.at("duplicate name"), 1u);
  EXPECT_EQ(litellm_table().size(), 6u);
}

TEST(LitellmImport, FirstOfTwoNamesDifferingOnlyInCaseWins) {
  EXPECT_EQ(litellm_table().find("GPT-4O").value().input, 2'500'000);
}

TEST(LitellmImportError, PerMillionValueInAPerTokenFieldNamesModelAndField) {
  EXPECT_THAT(load_error(R"({"m1": {"mode": "chat", "input_cost_per_token": 2.5,
                                    "output_cost_per_token": 1e-05}})"),
              AllOf(HasSubstr("bad.json"), HasSubstr("model 'm1'"),
                    HasSubstr("'input_cost_per_token'"), HasSubstr("per-1M price")));
}

TEST(LitellmImportError, TextInAPriceFieldIsRejected) {
  EXPECT_THAT(load_error(R"({"m1": {"mode": "chat", "input_cost_per_token": "cheap"}})"),
              AllOf(HasSubstr("model 'm1'"), HasSubstr("'input_cost_per_token'"),
                    HasSubstr("'cheap'")));
}

TEST(PerTokenUsd, ExponentNotationIsExact) {
  EXPECT_EQ(parse_per_token_usd("3e-06").micro_usd_per_million, 3'000'000);
  EXPECT_EQ(parse_per_token_usd("1.25e-07").micro_usd_per_million, 125'000);
  EXPECT_EQ(parse_per_token_usd("5.46875E-07").micro_usd_per_million, 546'875);
}

TEST(PerTokenUsd, PlainDecimalIsExact) {
  EXPECT_EQ(parse_per_token_usd("0.0000025").micro_usd_per_million, 2'500'000);
  EXPECT_EQ(parse_per_token_usd("0").micro_usd_per_million, 0);
  EXPECT_TRUE(parse_per_token_usd("0.0000025").exact);
}

TEST(PerTokenUsd, FloatNoiseRoundsToTheNearestMicroUsdPerMillion) {
  const per_token_result noisy = parse_per_token_usd("1.0999999999999999e-06");
  EXPECT_EQ(noisy.micro_usd_per_million, 1'100'000);
  EXPECT_FALSE(noisy.exact);
}

TEST(PerTokenUsd, MalformedTextIsAnError) {
  EXPECT_EQ(parse_per_token_usd("-1e-06").error, micro_usd_error::negative);
  EXPECT_EQ(parse_per_token_usd("1e").error, micro_usd_error::not_decimal);
  EXPECT_EQ(parse_per_token_usd("abc").error, micro_usd_error::not_decimal);
  EXPECT_EQ(parse_per_token_usd("1e300").error, micro_usd_error::out_of_range);
}

} // namespace
} // namespace tokenmeter
