#include "price_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tokenmeter {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A table whose families have distinct prices, so that a wrong match shows in the rates.
constexpr std::string_view matching_yaml = R"(
providers:
  test:
    source: https://example.invalid/prices
    read_on: 2026-01-02
    models:
      - {name: gpt-4o,            input: 2.50, cached_input: 1.25, cache_write: 0, output: 10}
      - {name: gpt-4o-2024-05-13, input: 5,    cached_input: 5,    cache_write: 0, output: 15}
      - {name: gpt-5,             input: 1.25, cached_input: 0.125, cache_write: 0, output: 10}
      - name: claude-sonnet-4
        input: 3
        cached_input: 0.30
        cache_write: 3.75
        output: 15
        aliases: [claude-sonnet-4-0, Claude-Sonnet-Latest]
)";

constexpr model_rates gpt_4o{2'500'000, 1'250'000, 0, 10'000'000};
constexpr model_rates sonnet_4{3'000'000, 300'000, 3'750'000, 15'000'000};
/// The shipped table also lists Sonnet's one-hour cache write.
constexpr model_rates shipped_sonnet_4{3'000'000, 300'000, 3'750'000, 15'000'000, 6'000'000};

const price_table& matching_table() {
  static const price_table table = price_table::load_yaml(matching_yaml, "matching.yaml");
  return table;
}

const price_table& shipped_table() {
  static const price_table table = price_table::load_file(TOKENMETER_PRICING_FILE);
  return table;
}

// One model entry in a valid table, with `fields` spliced in as its YAML flow mapping.
std::string single_model_yaml(std::string_view fields) {
  return "providers:\n"
         "  test:\n"
         "    source: https://example.invalid/prices\n"
         "    read_on: 2026-01-02\n"
         "    models:\n"
         "      - {" +
         std::string(fields) + "}\n";
}

std::string load_error(std::string_view yaml) {
  try {
    price_table::load_yaml(yaml, "bad.yaml");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected the table to be rejected:\n" << yaml;
  return {};
}

// --- matching ---------------------------------------------------------------------------

TEST(PriceTableFind, ExactNameMatches) {
  EXPECT_EQ(matching_table().find("gpt-4o"), gpt_4o);
}

TEST(PriceTableFind, NameIsCaseInsensitive) {
  EXPECT_EQ(matching_table().find("GPT-4o"), gpt_4o);
}

TEST(PriceTableFind, ExplicitAliasMatches) {
  EXPECT_EQ(matching_table().find("claude-sonnet-4-0"), sonnet_4);
}

TEST(PriceTableFind, AliasDeclaredInMixedCaseMatchesCaseInsensitively) {
  EXPECT_EQ(matching_table().find("claude-sonnet-latest"), sonnet_4);
}

TEST(PriceTableFind, OpenAiSnapshotDatePricesAsItsModel) {
  EXPECT_EQ(matching_table().find("gpt-4o-2024-08-06"), gpt_4o);
}

TEST(PriceTableFind, SnapshotWithItsOwnEntryKeepsItsOwnPrice) {
  const model_rates original{5'000'000, 5'000'000, 0, 15'000'000};
  EXPECT_EQ(matching_table().find("gpt-4o-2024-05-13"), original);
}

TEST(PriceTableFind, AnthropicSnapshotDatePricesAsItsModel) {
  EXPECT_EQ(matching_table().find("claude-sonnet-4-20250514"), sonnet_4);
}

TEST(PriceTableFind, ProviderPrefixIsStripped) {
  EXPECT_EQ(matching_table().find("openai/gpt-4o"), gpt_4o);
  EXPECT_EQ(matching_table().find("anthropic/claude-sonnet-4"), sonnet_4);
}

TEST(PriceTableFind, PrefixCaseAndDateRulesCombine) {
  EXPECT_EQ(matching_table().find("Anthropic/Claude-Sonnet-4-20250514"), sonnet_4);
}

TEST(PriceTableFind, MiniModelNeverPricesAsItsLargerSibling) {
  EXPECT_EQ(matching_table().find("gpt-4o-mini"), std::nullopt);
}

TEST(PriceTableFind, PointReleaseNeverPricesAsItsBaseModel) {
  EXPECT_EQ(matching_table().find("gpt-5.1"), std::nullopt);
}

TEST(PriceTableFind, ShorterNameNeverPricesAsALongerModel) {
  EXPECT_EQ(matching_table().find("gpt-4"), std::nullopt);
}

TEST(PriceTableFind, OtherProviderPrefixesAreNotStripped) {
  EXPECT_EQ(matching_table().find("azure/gpt-4o"), std::nullopt);
}

TEST(PriceTableFind, SuffixThatIsNotADateIsNotStripped) {
  EXPECT_EQ(matching_table().find("gpt-4o-2024-13-06"), std::nullopt);
  EXPECT_EQ(matching_table().find("gpt-4o-2024-08"), std::nullopt);
  EXPECT_EQ(matching_table().find("claude-sonnet-4-2025051"), std::nullopt);
}

TEST(PriceTableFind, UnknownAndEmptyNamesAreUnpriced) {
  EXPECT_EQ(matching_table().find("llama-3-70b"), std::nullopt);
  EXPECT_EQ(matching_table().find(""), std::nullopt);
}

TEST(PriceTableFind, BedrockIdPricesAsItsModel) {
  EXPECT_EQ(matching_table().find("us.anthropic.claude-sonnet-4-20250514-v1:0"), sonnet_4);
  EXPECT_EQ(matching_table().find("anthropic.claude-sonnet-4-v2"), sonnet_4);
  EXPECT_EQ(matching_table().find("bedrock/eu.anthropic.claude-sonnet-4-20250514-v1:0"), sonnet_4);
}

TEST(PriceTableFind, BedrockRulesNeedTheVendorPrefix) {
  EXPECT_EQ(matching_table().find("us.claude-sonnet-4-v1:0"), std::nullopt);
  EXPECT_EQ(matching_table().find("claude-sonnet-4-v1:0"), std::nullopt);
}

TEST(PriceTableFind, ResellerPrefixesAreNotStripped) {
  EXPECT_EQ(matching_table().find("groq/gpt-4o"), std::nullopt);
  EXPECT_EQ(matching_table().find("together_ai/gpt-4o"), std::nullopt);
}

TEST(PriceTableMatch, RuleNamesEveryStepTaken) {
  const std::optional<price_match> found =
      matching_table().match("openai/gpt-4o-2024-08-06");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->entry, "gpt-4o");
  EXPECT_EQ(found->rule, "provider prefix + snapshot date + exact name");
}

TEST(PriceTableMatch, ExactNameSaysSo) {
  EXPECT_EQ(matching_table().match("gpt-5").value().rule, "exact name");
}

TEST(PriceTable, SizeCountsModelsNotAliases) {
  EXPECT_EQ(matching_table().size(), 4u);
}

// --- tiers, fine-tunes and 1-hour cache writes --------------------------------------------

constexpr std::string_view tiered_yaml = R"(
providers:
  test:
    source: https://example.invalid/prices
    read_on: 2026-01-02
    models:
      - name: gpt-4o-mini
        input: 0.15
        cached_input: 0.075
        cache_write: 0
        output: 0.60
        fine_tuned: {input: 0.30, cached_input: 0.15, cache_write: 0, output: 1.20}
      - name: gpt-5
        input: 1.25
        cached_input: 0.125
        cache_write: 0
        output: 10
        service_tiers:
          flex: {input: 0.625, cached_input: 0.0625, cache_write: 0, output: 5}
          Priority: {input: 2.50, cached_input: 0.25, cache_write: 0, output: 20}
      - name: claude-sonnet-4
        input: 3
        cached_input: 0.30
        cache_write: 3.75
        cache_write_1h: 6
        output: 15
        long_context: {above_prompt_tokens: 200000, input: 6, cached_input: 0.60, cache_write: 7.50, output: 22.50}
)";

const price_table& tiered_table() {
  static const price_table table = price_table::load_yaml(tiered_yaml, "tiered.yaml");
  return table;
}

TEST(PriceTableTiers, FineTuneIdPricesAtItsBasesFineTuneRates) {
  const std::optional<price_match> found =
      tiered_table().match("ft:gpt-4o-mini-2024-07-18:acme::B7x9");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->price.base, (model_rates{300'000, 150'000, 0, 1'200'000}));
  EXPECT_EQ(found->rule, "fine-tune of gpt-4o-mini + snapshot date + exact name");
}

TEST(PriceTableTiers, FineTuneOfABaseWithoutFineTuneRatesIsUnpriced) {
  EXPECT_EQ(tiered_table().match("ft:gpt-5:acme::x1"), std::nullopt);
}

TEST(PriceTableTiers, FineTuneIdWithoutABaseIsUnpriced) {
  EXPECT_EQ(tiered_table().match("ft::acme::x1"), std::nullopt);
}

TEST(PriceTableTiers, ServiceTiersAreReadWithLowerCaseNames) {
  const model_price price = tiered_table().match("gpt-5").value().price;
  ASSERT_EQ(price.service_tiers.size(), 2u);
  EXPECT_EQ(price.service_tiers[0], (std::pair<std::string, model_rates>{
                                        "flex", {625'000, 62'500, 0, 5'000'000}}));
  EXPECT_EQ(price.service_tiers[1].first, "priority");
}

TEST(PriceTableTiers, LongContextTierAndOneHourWriteAreRead) {
  const model_price price = tiered_table().match("claude-sonnet-4").value().price;
  EXPECT_EQ(price.base.cache_write_1h, 6'000'000);
  EXPECT_EQ(price.long_context,
            (long_context_tier{200'000, {6'000'000, 600'000, 7'500'000, 22'500'000}}));
}

TEST(PriceTableLoadError, LongContextWithoutThresholdIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml(
                  "name: m1, input: 1, cached_input: 0, cache_write: 0, output: 1, long_context: "
                  "{input: 2, cached_input: 0, cache_write: 0, output: 2}")),
              AllOf(HasSubstr("model 'm1': long_context"), HasSubstr("'above_prompt_tokens'")));
}

TEST(PriceTableLoadError, PerTokenPriceInAServiceTierIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml(
                  "name: m1, input: 1, cached_input: 0, cache_write: 0, output: 1, service_tiers: "
                  "{flex: {input: 0.000003, cached_input: 0, cache_write: 0, output: 1}}")),
              AllOf(HasSubstr("model 'm1': service tier 'flex'"), HasSubstr("'input'"),
                    HasSubstr("per-token")));
}

TEST(PriceTableLoadError, PricePerThousandOfACheapModelIsRejectedAsAUnitMixUp) {
  // gpt-4o's $2.50 per 1M written as its per-1K price.
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: 0.0025, cached_input: 0, cache_write: 0, output: 10")),
              AllOf(HasSubstr("model 'm1'"), HasSubstr("'input'"), HasSubstr("per-1K")));
}

TEST(PriceTableLoadError, AFileThatPricesNoModelIsRejected) {
  EXPECT_THAT(load_error("providers: {}\n"), HasSubstr("prices no model"));
}

TEST(PriceTableLoadError, PricePerBillionIsRejectedAsAUnitMixUp) {
  EXPECT_THAT(load_error(single_model_yaml(
                  "name: m1, input: 3000, cached_input: 0, cache_write: 0, output: 15")),
              AllOf(HasSubstr("model 'm1'"), HasSubstr("'input'"), HasSubstr("above 1000")));
}

TEST(PriceTableLoadError, UnknownFieldInATierIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml(
                  "name: m1, input: 1, cached_input: 0, cache_write: 0, output: 1, fine_tuned: "
                  "{input: 2, cached_input: 0, cache_write: 0, output: 2, outptu: 3}")),
              AllOf(HasSubstr("model 'm1': fine_tuned"), HasSubstr("unknown field 'outptu'")));
}

// --- custom price lists ------------------------------------------------------------------

TEST(PriceTableCustom, ModelListPricesItsEntries) {
  const price_table table = price_table::load_model_list(
      "- {name: in-house-llm, input: 0.10, cached_input: 0.10, cache_write: 0, output: 0.20}\n"
      "- {name: free-llm, input: 0, cached_input: 0, cache_write: 0, output: 0}\n",
      "custom_prices");
  EXPECT_EQ(table.find("in-house-llm"), (model_rates{100'000, 100'000, 0, 200'000}));
  EXPECT_EQ(table.find("free-llm"), (model_rates{0, 0, 0, 0}));
}

TEST(PriceTableCustom, ModelListThatIsNotAListIsRejected) {
  try {
    price_table::load_model_list("models: []", "custom_prices");
    FAIL() << "accepted a map";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("custom_prices"), HasSubstr("list of model entries")));
  }
}

TEST(PriceTableCustom, PerTokenValueInACustomListNamesModelAndField) {
  try {
    price_table::load_model_list(
        "- {name: in-house-llm, input: 0.000001, cached_input: 0, cache_write: 0, output: 0.2}",
        "upstreams.inhouse.custom_prices");
    FAIL() << "accepted a per-token price";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("upstreams.inhouse.custom_prices"),
                                    HasSubstr("model 'in-house-llm'"), HasSubstr("'input'"),
                                    HasSubstr("per-token")));
  }
}

// --- exact decimal conversion -----------------------------------------------------------

TEST(PriceTableLoad, DecimalTextConvertsExactlyToMicroUsd) {
  const price_table table = price_table::load_yaml(
      single_model_yaml(R"(name: m, input: "1.234567", cached_input: 0.005, cache_write: 3,
                           output: 0.40)"),
      "exact.yaml");
  EXPECT_EQ(table.find("m"), (model_rates{1'234'567, 5'000, 3'000'000, 400'000}));
}

TEST(PriceTableLoad, B09CustomTablePricesDeepSeekCacheHits) {
  // The report's per-token prices, written per 1M tokens: 1.4e-07 -> 0.14, 1.4e-08 -> 0.014,
  // and the assumed output 2.8e-07 -> 0.28.
  const price_table table = price_table::load_yaml(
      single_model_yaml(
          "name: deepseek-coder, input: 0.14, cached_input: 0.014, cache_write: 0, output: 0.28"),
      "deepseek.yaml");
  token_usage usage;
  usage.prompt_tokens = 1000;
  usage.cached_prompt_tokens = 800;
  usage.completion_tokens = 100;
  const std::optional<model_rates> rates = table.find("deepseek-coder");
  ASSERT_TRUE(rates.has_value());
  // 200 x $0.14 + 800 x $0.014 + 100 x $0.28 per M = $0.0000672.
  EXPECT_EQ(cost_pico_usd(usage, *rates), 67'200'000);
}

// --- loader errors ----------------------------------------------------------------------

TEST(PriceTableLoadError, MissingFieldNamesFileModelAndField) {
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: 1, cached_input: 1, cache_write: 0")),
              AllOf(HasSubstr("bad.yaml"), HasSubstr("model 'm1'"), HasSubstr("'output'"),
                    HasSubstr("missing")));
}

TEST(PriceTableLoadError, NegativeValueIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: -1, cached_input: 0, cache_write: 0, "
                                           "output: 1")),
              AllOf(HasSubstr("bad.yaml"), HasSubstr("model 'm1'"), HasSubstr("'input'"),
                    HasSubstr("negative")));
}

TEST(PriceTableLoadError, NonNumericTextIsRejected) {
  EXPECT_THAT(
      load_error(single_model_yaml("name: m1, input: 1, cached_input: cheap, cache_write: 0, "
                                   "output: 1")),
      AllOf(HasSubstr("model 'm1'"), HasSubstr("'cached_input'"), HasSubstr("'cheap'"),
            HasSubstr("not a plain decimal")));
}

TEST(PriceTableLoadError, ExponentNotationIsRejected) {
  EXPECT_THAT(
      load_error(single_model_yaml("name: m1, input: 2.5e-6, cached_input: 0, cache_write: 0, "
                                   "output: 1")),
      AllOf(HasSubstr("'input'"), HasSubstr("not a plain decimal")));
}

TEST(PriceTableLoadError, MoreThanSixDecimalsIsRejected) {
  EXPECT_THAT(
      load_error(single_model_yaml("name: m1, input: 1, cached_input: 0.1234567, cache_write: 0, "
                                   "output: 1")),
      AllOf(HasSubstr("model 'm1'"), HasSubstr("'cached_input'"),
            HasSubstr("more than 6 decimal places")));
}

TEST(PriceTableLoadError, ValueTooLargeForMicroUsdIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: 99999999999999, cached_input: 0, "
                                           "cache_write: 0, output: 1")),
              AllOf(HasSubstr("'input'"), HasSubstr("too large")));
}

TEST(PriceTableLoadError, DuplicateModelIsRejected) {
  const std::string yaml =
      single_model_yaml("name: m1, input: 1, cached_input: 0, cache_write: 0, output: 1}\n"
                        "      - {name: M1, input: 2, cached_input: 0, cache_write: 0, output: 2");
  EXPECT_THAT(load_error(yaml), AllOf(HasSubstr("model 'm1'"), HasSubstr("duplicate")));
}

TEST(PriceTableLoadError, AliasCollidingWithAModelIsRejected) {
  const std::string yaml = single_model_yaml(
      "name: m1, input: 1, cached_input: 0, cache_write: 0, output: 1}\n"
      "      - {name: m2, input: 2, cached_input: 0, cache_write: 0, output: 2, aliases: [m1]");
  EXPECT_THAT(load_error(yaml),
              AllOf(HasSubstr("model 'm2'"), HasSubstr("alias 'm1'"), HasSubstr("duplicate")));
}

TEST(PriceTableLoadError, PerTokenInputPriceIsRejectedAsAUnitMixUp) {
  EXPECT_THAT(
      load_error(single_model_yaml("name: m1, input: 0.000003, cached_input: 0, cache_write: 0, "
                                   "output: 15")),
      AllOf(HasSubstr("model 'm1'"), HasSubstr("'input'"), HasSubstr("USD per 1M tokens")));
}

TEST(PriceTableLoadError, PerTokenOutputPriceIsRejectedAsAUnitMixUp) {
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: 3, cached_input: 0, cache_write: 0, "
                                           "output: 0.000015")),
              AllOf(HasSubstr("'output'"), HasSubstr("USD per 1M tokens")));
}

TEST(PriceTableLoad, SmallCachedInputPriceIsNotAUnitMixUp) {
  const price_table table = price_table::load_yaml(
      single_model_yaml("name: m1, input: 3, cached_input: 0.0005, cache_write: 0, output: 15"),
      "small.yaml");
  EXPECT_EQ(table.find("m1"), (model_rates{3'000'000, 500, 0, 15'000'000}));
}

TEST(PriceTableLoadError, UnknownFieldIsRejected) {
  EXPECT_THAT(load_error(single_model_yaml("name: m1, input: 1, cached_inptu: 0, cached_input: 0, "
                                           "cache_write: 0, output: 1")),
              AllOf(HasSubstr("model 'm1'"), HasSubstr("unknown field 'cached_inptu'")));
}

TEST(PriceTableLoadError, ProviderWithoutSourceIsRejected) {
  const std::string yaml = "providers:\n  test:\n    read_on: 2026-01-02\n    models: []\n";
  EXPECT_THAT(load_error(yaml), AllOf(HasSubstr("provider 'test'"), HasSubstr("'source'")));
}

TEST(PriceTableLoadError, ProviderWithoutReadingDateIsRejected) {
  const std::string yaml =
      "providers:\n  test:\n    source: https://example.invalid\n    models: []\n";
  EXPECT_THAT(load_error(yaml), AllOf(HasSubstr("provider 'test'"), HasSubstr("'read_on'")));
}

TEST(PriceTableLoadError, EveryProblemIsReportedAtOnce) {
  const std::string message =
      load_error(single_model_yaml("name: m1, input: -1, cached_input: x, cache_write: 0.1234567"));
  EXPECT_THAT(message, AllOf(HasSubstr("'input'"), HasSubstr("'cached_input'"),
                             HasSubstr("'cache_write'"), HasSubstr("'output'")));
}

TEST(PriceTableLoadError, MalformedYamlNamesTheOrigin) {
  EXPECT_THAT(load_error("providers: [unclosed"),
              AllOf(HasSubstr("bad.yaml"), HasSubstr("not valid YAML")));
}

TEST(PriceTableLoadError, DocumentWithoutProvidersIsRejected) {
  EXPECT_THAT(load_error("- just a list"), HasSubstr("providers"));
}

TEST(PriceTableLoadError, MissingFileNamesThePath) {
  EXPECT_THAT(
      [] {
        try {
          price_table::load_file("/nonexistent/tokenmeter/prices.yaml");
        } catch (const std::runtime_error& error) {
          return std::string(error.what());
        }
        return std::string("no error");
      }(),
      HasSubstr("/nonexistent/tokenmeter/prices.yaml"));
}

// --- the shipped file -------------------------------------------------------------------

TEST(ShippedPrices, LoadsAndPricesEveryRequiredModel) {
  constexpr std::string_view required[] = {"gpt-5",
                                           "gpt-5-mini",
                                           "gpt-5-nano",
                                           "gpt-5.1",
                                           "gpt-4.1",
                                           "gpt-4.1-mini",
                                           "gpt-4.1-nano",
                                           "gpt-4o",
                                           "gpt-4o-mini",
                                           "o1",
                                           "o3",
                                           "o4-mini",
                                           "o3-mini",
                                           "text-embedding-3-small",
                                           "text-embedding-3-large",
                                           "text-embedding-ada-002",
                                           "gpt-3.5-turbo",
                                           "claude-opus-4-5-20251101",
                                           "claude-opus-4-1-20250805",
                                           "claude-opus-4-20250514",
                                           "claude-sonnet-4-5-20250929",
                                           "claude-sonnet-4-20250514",
                                           "claude-haiku-4-5-20251001",
                                           "claude-3-7-sonnet-20250219",
                                           "claude-3-5-sonnet-20241022",
                                           "claude-3-5-sonnet-20240620",
                                           "claude-3-5-haiku-20241022",
                                           "claude-3-haiku-20240307"};
  for (const std::string_view model : required) {
    EXPECT_TRUE(shipped_table().find(model).has_value()) << model;
  }
}

TEST(ShippedPrices, Gpt4oSnapshotHasThePublishedRates) {
  EXPECT_EQ(shipped_table().find("gpt-4o-2024-08-06"), gpt_4o);
}

TEST(ShippedPrices, FirstGpt4oSnapshotKeepsItsLaunchPrice) {
  EXPECT_EQ(shipped_table().find("gpt-4o-2024-05-13"), (model_rates{5'000'000, 5'000'000, 0, 15'000'000}));
}

TEST(ShippedPrices, OpenAiPriorityTierHasItsOwnRates) {
  const model_price gpt5 = shipped_table().match("gpt-5-2025-08-07").value().price;
  const applied_rates priority = gpt5.rates_for({}, "priority");
  EXPECT_EQ(priority.tier, "priority");
  EXPECT_EQ(priority.rates, (model_rates{2'500'000, 250'000, 0, 20'000'000}));
  EXPECT_EQ(shipped_table().match("gpt-4o").value().price.rates_for({}, "priority").rates,
            (model_rates{4'250'000, 2'125'000, 0, 17'000'000}));
}

TEST(ShippedPrices, OpenAiFlexTierHasItsOwnRates) {
  const applied_rates flex = shipped_table().match("o4-mini").value().price.rates_for({}, "flex");
  EXPECT_EQ(flex.tier, "flex");
  EXPECT_EQ(flex.rates, (model_rates{550'000, 137'500, 0, 2'200'000}));
}

TEST(ShippedPrices, FineTuneOfGpt4oMiniPricesAtTheFineTuningRates) {
  const std::optional<price_match> found = shipped_table().match("ft:gpt-4o-mini-2024-07-18:acme::B7x9");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->price.base, (model_rates{300'000, 150'000, 0, 1'200'000}));
}

TEST(ShippedPrices, GroqHostedLlamaHasGroqsRates) {
  EXPECT_EQ(shipped_table().find("groq/llama-3.3-70b-versatile"), (model_rates{590'000, 590'000, 0, 790'000}));
}

TEST(ShippedPrices, Gpt4oMiniHasItsOwnRates) {
  EXPECT_EQ(shipped_table().find("gpt-4o-mini-2024-07-18"),
            (model_rates{150'000, 75'000, 0, 600'000}));
}

TEST(ShippedPrices, Gpt5NanoSnapshotHasThePublishedRates) {
  EXPECT_EQ(shipped_table().find("gpt-5-nano-2025-08-07"),
            (model_rates{50'000, 5'000, 0, 400'000}));
}

TEST(ShippedPrices, ClaudeSonnet4SnapshotHasThePublishedRates) {
  EXPECT_EQ(shipped_table().find("claude-sonnet-4-20250514"), shipped_sonnet_4);
}

TEST(ShippedPrices, OpenRouterSonnetSlugPricesAsSonnet4) {
  EXPECT_EQ(shipped_table().find("anthropic/claude-sonnet-4"), shipped_sonnet_4);
}

TEST(ShippedPrices, AnthropicCacheWriteIsTheFiveMinuteRate) {
  EXPECT_EQ(shipped_table().find("claude-haiku-4-5").value().cache_write, 1'250'000);
  EXPECT_EQ(shipped_table().find("claude-opus-4-1").value().cache_write, 18'750'000);
}

TEST(ShippedPrices, OpenAiCacheWriteIsFree) {
  EXPECT_EQ(shipped_table().find("gpt-5").value().cache_write, 0);
}

TEST(ShippedPrices, B10Gpt5NanoReasoningExchangeCosts0_0005Usd) {
  token_usage usage;
  usage.prompt_tokens = 400;
  usage.completion_tokens = 1200;
  usage.reasoning_tokens = 900;
  const model_rates nano = shipped_table().find("gpt-5-nano-2025-08-07").value();
  // 400 x $0.05 + 1200 x $0.40 per M.
  EXPECT_EQ(cost_pico_usd(usage, nano), 500'000'000);
}

TEST(ShippedPrices, EveryProviderSectionNamesItsSourceAndDate) {
  const price_list& summary = shipped_table().summary();
  ASSERT_EQ(summary.providers.size(), 8u);
  for (const provider_info& provider : summary.providers) {
    EXPECT_FALSE(provider.source.empty()) << provider.name;
    EXPECT_EQ(provider.read_on.size(), 10u) << provider.name;
    EXPECT_GT(provider.models, 0u) << provider.name;
  }
}

TEST(ShippedPrices, CoversEveryProviderOfTheIssue) {
  constexpr std::string_view required[] = {
      "gemini-2.5-pro",  "gemini-2.5-flash", "mistral-medium-2505",    "deepseek-chat",
      "deepseek-reasoner", "grok-4-1-fast-reasoning", "grok-3-mini",
      "together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "together_ai/Qwen/Qwen2.5-72B-Instruct-Turbo",
      "groq/llama-3.3-70b-versatile", "groq/qwen/qwen3-32b"};
  for (const std::string_view model : required) {
    EXPECT_TRUE(shipped_table().find(model).has_value()) << model;
  }
}

TEST(ShippedPrices, DeepSeekCacheHitsHaveTheirOwnRate) {
  EXPECT_EQ(shipped_table().find("deepseek-chat"), (model_rates{560'000, 70'000, 0, 1'680'000}));
}

TEST(ShippedPrices, Gemini25ProChargesMoreAbove200kPromptTokens) {
  EXPECT_EQ(shipped_table().match("gemini-2.5-pro").value().price.long_context,
            (long_context_tier{200'000, {2'500'000, 250'000, 0, 15'000'000}}));
}

TEST(ShippedPrices, SonnetFourFiveLongContextAndOneHourWrite) {
  const model_price price = shipped_table().match("claude-sonnet-4-5-20250929").value().price;
  EXPECT_EQ(price.base.cache_write_1h, 6'000'000);
  EXPECT_EQ(price.long_context,
            (long_context_tier{200'000, {6'000'000, 600'000, 7'500'000, 22'500'000, 12'000'000}}));
}

TEST(ShippedPrices, BedrockClaudeIdPricesAsTheAnthropicModel) {
  EXPECT_EQ(shipped_table().find("us.anthropic.claude-3-5-sonnet-20241022-v2:0"), shipped_sonnet_4);
}

TEST(ShippedPrices, OpenRouterGeminiSlugPricesAsGemini) {
  EXPECT_EQ(shipped_table().find("google/gemini-2.5-flash"),
            (model_rates{300'000, 30'000, 0, 2'500'000}));
}

} // namespace
} // namespace tokenmeter
