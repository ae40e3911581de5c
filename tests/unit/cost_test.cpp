#include "model_price.hpp"
#include "price_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace tokenmeter {
namespace {

// Rates in micro-USD per 1M tokens: $1 per 1M tokens is 1'000'000.
constexpr model_rates claude_sonnet_4{3'000'000, 300'000, 3'750'000, 15'000'000};
constexpr model_rates gpt_4o{2'500'000, 1'250'000, 0, 10'000'000};
constexpr model_rates gpt_5_nano{50'000, 5'000, 0, 400'000};

constexpr std::int64_t pico_per_usd = 1'000'000'000'000;

token_usage usage(std::uint64_t prompt, std::uint64_t cached, std::uint64_t written,
                  std::uint64_t completion) {
  token_usage u;
  u.prompt_tokens = prompt;
  u.cached_prompt_tokens = cached;
  u.cache_write_tokens = written;
  u.completion_tokens = completion;
  return u;
}

TEST(CostPicoUsd, B04AnthropicStreamIsBilledOnFinalOutputCount) {
  // 18 x $3/M + 64 x $15/M = $0.001014 (the buggy 66 output tokens would be $0.001044).
  const model_rates three_fifteen{3'000'000, 0, 0, 15'000'000};
  EXPECT_EQ(cost_pico_usd(usage(18, 0, 0, 64), three_fifteen), 1'014'000'000);
}

TEST(CostPicoUsd, B05CacheReadsAreBilledOnceAtTheReadRate) {
  // Normalised prompt 2057 = 9 uncached + 2048 read: 9 x $3 + 2048 x $0.30 + 120 x $15 per M.
  EXPECT_EQ(cost_pico_usd(usage(2057, 2048, 0, 120), claude_sonnet_4), 2'441'400'000);
}

TEST(CostPicoUsd, B08OpenAiCachedTokensAreNotAlsoBilledAsInput) {
  // 440 x $2.50 + 2560 x $1.25 + 400 x $10 per M = $0.0083 (buggy: $0.0147).
  EXPECT_EQ(cost_pico_usd(usage(3000, 2560, 0, 400), gpt_4o), 8'300'000'000);
}

TEST(CostPicoUsd, B10ReasoningInsideCompletionIsBilledExactlyOnce) {
  token_usage u = usage(400, 0, 0, 1200);
  u.reasoning_tokens = 900;
  // 400 x $0.05 + 1200 x $0.40 per M = $0.0005 (double-counted: $0.00086).
  EXPECT_EQ(cost_pico_usd(u, gpt_5_nano), 500'000'000);
}

TEST(CostPicoUsd, ReasoningTokensDoNotChangeTheCost) {
  token_usage with_reasoning = usage(1000, 0, 0, 500);
  with_reasoning.reasoning_tokens = 450;
  EXPECT_EQ(cost_pico_usd(with_reasoning, gpt_4o), cost_pico_usd(usage(1000, 0, 0, 500), gpt_4o));
}

TEST(CostPicoUsd, OpenRouterSonnetMatchesTheProviderReportedCost) {
  // usage-formats §14: 404 x $3 + 1536 x $0.30 + 120 x $15 per M = $0.0034728.
  EXPECT_EQ(cost_pico_usd(usage(1940, 1536, 0, 120), claude_sonnet_4), 3'472'800'000);
}

TEST(CostPicoUsd, AnthropicCacheWritesAreBilledAtTheWriteRate) {
  // 100 uncached x $3 + 900 written x $3.75 per M.
  EXPECT_EQ(cost_pico_usd(usage(1000, 0, 900, 0), claude_sonnet_4), 3'675'000'000);
}

TEST(CostPicoUsd, ReadsWritesAndUncachedInputAreEachBilledAtTheirOwnRate) {
  // 100 x $3 + 200 x $0.30 + 300 x $3.75 + 10 x $15 per M.
  EXPECT_EQ(cost_pico_usd(usage(600, 200, 300, 10), claude_sonnet_4),
            300'000'000 + 60'000'000 + 1'125'000'000 + 150'000'000);
}

TEST(CostPicoUsd, UnsetFieldsCountAsZero) {
  token_usage only_output;
  only_output.completion_tokens = 10;
  EXPECT_EQ(cost_pico_usd(only_output, gpt_4o), 100'000'000);
  EXPECT_EQ(cost_pico_usd(token_usage{}, gpt_4o), 0);
}

TEST(CostPicoUsd, CacheLargerThanPromptNeverMakesUncachedInputNegative) {
  // An inconsistent upstream: 50 cached of a 40-token prompt. Uncached clamps to 0.
  EXPECT_EQ(cost_pico_usd(usage(40, 50, 0, 0), gpt_4o), 62'500'000);
}

TEST(CostPicoUsd, NegativeRatesCountAsZero) {
  const model_rates negative{-1'000'000, -1, -1, -1'000'000};
  EXPECT_EQ(cost_pico_usd(usage(1000, 10, 10, 1000), negative), 0);
}

TEST(CostPicoUsd, OneBillionTokensAtOneDollarPerMillionIsExactlyOneThousandDollars) {
  const model_rates one_dollar{1'000'000, 0, 0, 0};
  EXPECT_EQ(cost_pico_usd(usage(1'000'000'000, 0, 0, 0), one_dollar), 1'000 * pico_per_usd);
}

TEST(CostPicoUsd, OverflowingProductSaturatesInsteadOfWrapping) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  const model_rates expensive{max, 0, 0, 0};
  EXPECT_EQ(cost_pico_usd(usage(2, 0, 0, 0), expensive), max);
}

TEST(CostPicoUsd, OverflowingSumSaturatesInsteadOfWrapping) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  const model_rates half{max / 2 + 1, 0, 0, max / 2 + 1};
  EXPECT_EQ(cost_pico_usd(usage(1, 0, 0, 1), half), max);
}

TEST(CostPicoUsd, MaximalTokenCountsSaturate) {
  constexpr auto all = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(cost_pico_usd(usage(all, all, all, all), gpt_4o),
            std::numeric_limits<std::int64_t>::max());
}

// --- tiers: the rates chosen for one exchange ----------------------------------------------

// Claude Sonnet 4: $3 / $0.30 / $3.75 / $15, and above 200K prompt tokens $6 / $0.60 / $7.50 / $22.50.
model_price sonnet_with_long_context() {
  model_price price;
  price.base = claude_sonnet_4;
  price.long_context = long_context_tier{200'000, {6'000'000, 600'000, 7'500'000, 22'500'000}};
  return price;
}

// gpt-5: $1.25 / $0.125 / 0 / $10; flex half; priority $2.50 / $0.25 / 0 / $20.
model_price gpt_5_with_service_tiers() {
  model_price price;
  price.base = {1'250'000, 125'000, 0, 10'000'000};
  price.service_tiers = {{"flex", {625'000, 62'500, 0, 5'000'000}},
                         {"priority", {2'500'000, 250'000, 0, 20'000'000}}};
  return price;
}

std::int64_t priced(const model_price& price, const token_usage& u, std::string_view tier = "") {
  return cost_pico_usd(u, price.rates_for(u, tier).rates);
}

TEST(TieredCost, PromptOfExactlyTheThresholdIsStandard) {
  // 200000 x $3 + 1000 x $15 per M.
  EXPECT_EQ(priced(sonnet_with_long_context(), usage(200'000, 0, 0, 1'000)), 615'000'000'000);
  EXPECT_EQ(sonnet_with_long_context().rates_for(usage(200'000, 0, 0, 1'000), "").tier, "standard");
}

TEST(TieredCost, PromptOneTokenOverTheThresholdBillsEveryTokenAtLongContextRates) {
  // 200001 x $6 + 1000 x $22.50 per M.
  EXPECT_EQ(priced(sonnet_with_long_context(), usage(200'001, 0, 0, 1'000)), 1'222'506'000'000);
  EXPECT_EQ(sonnet_with_long_context().rates_for(usage(200'001, 0, 0, 1'000), "").tier,
            "long_context");
}

TEST(TieredCost, CachedAndWrittenTokensCountTowardsTheThreshold) {
  // 150000 uncached x $6 + 40000 read x $0.60 + 20000 written x $7.50 + 500 x $22.50 per M.
  EXPECT_EQ(priced(sonnet_with_long_context(), usage(210'000, 40'000, 20'000, 500)),
            1'085'250'000'000);
}

TEST(TieredCost, FlexServiceTierUsesItsRates) {
  // 1000 uncached x $0.625 + 1000 cached x $0.0625 + 500 x $5 per M.
  EXPECT_EQ(priced(gpt_5_with_service_tiers(), usage(2'000, 1'000, 0, 500), "flex"), 3'187'500'000);
}

TEST(TieredCost, PriorityServiceTierIsMatchedCaseInsensitively) {
  // 2000 x $2.50 + 500 x $20 per M.
  EXPECT_EQ(priced(gpt_5_with_service_tiers(), usage(2'000, 0, 0, 500), "Priority"), 15'000'000'000);
}

TEST(TieredCost, DefaultOrUnlistedServiceTierUsesTheBaseRates) {
  // 2000 x $1.25 + 500 x $10 per M.
  EXPECT_EQ(priced(gpt_5_with_service_tiers(), usage(2'000, 0, 0, 500), "default"), 7'500'000'000);
  EXPECT_EQ(priced(gpt_5_with_service_tiers(), usage(2'000, 0, 0, 500), "scale"), 7'500'000'000);
}

/// Sonnet 4 with its one-hour cache write rate, $6 per M.
model_price sonnet_with_one_hour_writes() {
  model_price price = sonnet_with_long_context();
  price.base.cache_write_1h = 6'000'000;
  return price;
}

/// 100 uncached prompt tokens, 4000 written to the cache (`one_hour` of them for an hour), 50 out.
token_usage cache_writing(std::optional<std::uint64_t> one_hour) {
  token_usage u = usage(4'100, 0, 4'000, 50);
  u.cache_write_1h_tokens = one_hour;
  return u;
}

TEST(TieredCost, FiveMinuteCacheWritesArePricedAtTheCacheWriteRate) {
  // 100 x $3 + 4000 written x $3.75 + 50 x $15 per M: none of the writes is a 1-hour one.
  EXPECT_EQ(priced(sonnet_with_one_hour_writes(), cache_writing(std::nullopt)), 16'050'000'000);
}

TEST(TieredCost, OneHourCacheWritesArePricedAtTheOneHourRate) {
  // 100 x $3 + 1000 five-minute writes x $3.75 + 3000 one-hour writes x $6 + 50 x $15 per M.
  EXPECT_EQ(priced(sonnet_with_one_hour_writes(), cache_writing(3'000)), 22'800'000'000);
}

TEST(TieredCost, OneHourCacheWritesWithoutAOneHourRateArePricedAtTheCacheWriteRate) {
  EXPECT_EQ(priced(sonnet_with_long_context(), cache_writing(3'000)), 16'050'000'000);
}

TEST(TieredCost, OneHourWritesAboveTheWrittenTotalCountOnlyUpToIt) {
  // A breakdown larger than its total is clamped: all 4000 writes at $6, never 5000.
  EXPECT_EQ(priced(sonnet_with_one_hour_writes(), cache_writing(5'000)), 25'050'000'000);
}

} // namespace
} // namespace tokenmeter
