#include "price_book.hpp"

#include "ledger_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace tokenmeter {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::string_view table_yaml = R"(providers:
  test:
    source: https://example.invalid/prices
    read_on: 2026-01-02
    models:
      - {name: gpt-4o, input: 2.50, cached_input: 1.25, cache_write: 0, output: 10}
      - {name: llama-3.3-70b, input: 0.90, cached_input: 0.90, cache_write: 0, output: 0.90}
      - {name: groq/llama-3.3-70b, input: 0.59, cached_input: 0.59, cache_write: 0, output: 0.79}
)";

/// 1000 prompt tokens and 100 completion tokens.
token_usage thousand_in_hundred_out() {
  token_usage usage;
  usage.prompt_tokens = 1000;
  usage.completion_tokens = 100;
  return usage;
}

class PriceBookTest : public test_support::temp_dir_test {
protected:
  std::string write(const std::string& name, std::string_view text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  price_book book(std::string_view global_custom = "",
                  const std::map<std::string, upstream_prices>& upstreams = {}) {
    return price_book(load_price_source(write("prices.yaml", table_yaml)), global_custom, upstreams);
  }

  static std::optional<std::int64_t> cost(const price_book& prices, std::string_view model,
                                          std::string_view request_model = "",
                                          std::string_view upstream = "") {
    const auto quote = prices.quote({model, request_model, upstream, "", thousand_in_hundred_out()});
    return quote ? std::optional(quote->cost_pico_usd) : std::nullopt;
  }
};

/// The smallest valid table: one model, m.
constexpr const char* one_model_yaml =
    "providers:\n  p:\n    source: s\n    read_on: 2026-01-01\n    models:\n"
    "      - {name: m, input: 1, cached_input: 1, cache_write: 0, output: 1}\n";

TEST_F(PriceBookTest, TableHashIsTheSha256OfTheFileBytes) {
  const price_source source = load_price_source(write("abc.yaml", one_model_yaml));
  // sha256sum of one_model_yaml's bytes
  EXPECT_EQ(source.sha256, "0a3b436ab29294d8eb1f40ee26415c602b67e4de95aba8ad43bb80135ef09aad");
}

TEST_F(PriceBookTest, ResponseModelIsPricedFirst) {
  // 1000 x $2.50 + 100 x $10 per M; the request's llama would be $0.00099.
  EXPECT_EQ(cost(book(), "gpt-4o-2024-11-20", "llama-3.3-70b"), 3'500'000'000);
}

TEST_F(PriceBookTest, RequestModelPricesWhenTheResponseModelIsUnknown) {
  EXPECT_EQ(cost(book(), "/models/llama-3.3-70b-awq", "llama-3.3-70b"), 990'000'000);
}

TEST_F(PriceBookTest, AzureDeploymentPricesAsItsConfiguredModel) {
  const price_book prices = book("", {{"azure", {"", {{"prod-4o", "gpt-4o"}}}}});
  EXPECT_EQ(cost(prices, "", "prod-4o", "azure"), 3'500'000'000);
}

TEST_F(PriceBookTest, DeploymentMapOfAnotherUpstreamIsNotUsed) {
  const price_book prices = book("", {{"azure", {"", {{"prod-4o", "gpt-4o"}}}}});
  EXPECT_EQ(cost(prices, "", "prod-4o", "openai"), std::nullopt);
}

TEST_F(PriceBookTest, UpstreamQualifiedNameWinsForAResellingHost) {
  // Named after the host, the upstream gets Groq's $0.59 / $0.79, not the generic $0.90.
  EXPECT_EQ(cost(book(), "llama-3.3-70b", "", "groq"), 669'000'000);
  EXPECT_EQ(cost(book(), "llama-3.3-70b", "", "other"), 990'000'000);
}

TEST_F(PriceBookTest, UpstreamCustomPricesWinOverGlobalOnesAndTheTable) {
  const price_book prices =
      book("- {name: gpt-4o, input: 2, cached_input: 1, cache_write: 0, output: 8}",
           {{"negotiated", {"- {name: gpt-4o, input: 1, cached_input: 1, cache_write: 0, output: 4}", {}}}});
  EXPECT_EQ(cost(prices, "gpt-4o-2024-08-06", "", "negotiated"), 1'400'000'000);
  EXPECT_EQ(cost(prices, "gpt-4o-2024-08-06", "", "openai"), 2'800'000'000);
}

TEST_F(PriceBookTest, QuoteSaysWhichListAndRulePricedIt) {
  const price_book prices =
      book("", {{"negotiated", {"- {name: gpt-4o, input: 1, cached_input: 1, cache_write: 0, output: 4}", {}}}});
  const auto quote = prices.quote({"gpt-4o-2024-08-06", "", "negotiated", "", thousand_in_hundred_out()});
  ASSERT_TRUE(quote.has_value());
  EXPECT_EQ(quote->price_list, "upstream custom prices");
  EXPECT_EQ(quote->priced_name, "gpt-4o-2024-08-06");
  EXPECT_EQ(quote->match.rule, "snapshot date + exact name");
  EXPECT_EQ(quote->table_sha256, prices.source()->sha256);
}

TEST_F(PriceBookTest, ExplicitlyFreeModelCostsZeroNotUnknown) {
  const price_book prices =
      book("- {name: in-house-llm, input: 0, cached_input: 0, cache_write: 0, output: 0}");
  EXPECT_EQ(cost(prices, "in-house-llm"), 0);
}

TEST_F(PriceBookTest, UnknownModelIsUnpriced) {
  EXPECT_EQ(cost(book(), "mystery-model", "mystery-model"), std::nullopt);
}

TEST_F(PriceBookTest, NoTableAtAllLeavesEveryModelUnpriced) {
  price_book prices(price_source{}, "", {});
  EXPECT_EQ(cost(prices, "gpt-4o"), std::nullopt);
  EXPECT_EQ(prices.reload().value(), "no price file is in force, so there is nothing to reload");
}

TEST_F(PriceBookTest, BadCustomPricesStopStartUpNamingTheUpstream) {
  try {
    book("", {{"inhouse", {"- {name: x, input: 1}", {}}}});
    FAIL() << "accepted incomplete custom prices";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("upstreams.inhouse.custom_prices"),
                                    HasSubstr("model 'x'"), HasSubstr("'output'")));
  }
}

TEST_F(PriceBookTest, ReloadPutsTheNewFileInForce) {
  const std::string path = write("prices.yaml", table_yaml);
  price_book prices(load_price_source(path), "", {});
  const std::string old_hash = prices.source()->sha256;
  std::string cheaper(table_yaml);
  cheaper.replace(cheaper.find("input: 2.50"), 11, "input: 1.50");
  write("prices.yaml", cheaper);

  EXPECT_EQ(prices.reload(), std::nullopt);
  // 1000 x $1.50 + 100 x $10 per M.
  EXPECT_EQ(cost(prices, "gpt-4o"), 2'500'000'000);
  EXPECT_NE(prices.source()->sha256, old_hash);
}

TEST_F(PriceBookTest, ReloadOfABadFileKeepsTheOldTableAndSaysWhy) {
  const std::string path = write("prices.yaml", table_yaml);
  price_book prices(load_price_source(path), "", {});
  const std::string old_hash = prices.source()->sha256;
  write("prices.yaml", "providers:\n  test:\n    source: x\n    read_on: 2026-01-02\n    models:\n"
                       "      - {name: gpt-4o, input: 0.0000025, cached_input: 0, cache_write: 0, output: 10}\n");

  const std::optional<std::string> error = prices.reload();
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(*error, AllOf(HasSubstr(path), HasSubstr("model 'gpt-4o'"), HasSubstr("'input'")));
  EXPECT_EQ(cost(prices, "gpt-4o"), 3'500'000'000);
  EXPECT_EQ(prices.source()->sha256, old_hash);
}

TEST_F(PriceBookTest, SnapshotTakenBeforeAReloadStaysValid) {
  const std::string path = write("prices.yaml", table_yaml);
  price_book prices(load_price_source(path), "", {});
  const std::shared_ptr<const price_source> before = prices.source();
  write("prices.yaml", one_model_yaml);
  ASSERT_EQ(prices.reload(), std::nullopt);
  EXPECT_EQ(before->table->find("gpt-4o").value().input, 2'500'000);
  EXPECT_EQ(prices.source()->table->size(), 1u);
  EXPECT_EQ(prices.source()->table->find("gpt-4o"), std::nullopt);
}

TEST_F(PriceBookTest, ExchangePriceIsTheQuotesCost) {
  const price_book prices = book("", {{"azure", {"", {{"prod-4o", "gpt-4o"}}}}, {"groq", {}}});
  const price_query queries[] = {
      {"gpt-4o-2024-11-20", "llama-3.3-70b", "", "", thousand_in_hundred_out()},
      {"/models/llama-3.3-70b-awq", "llama-3.3-70b", "", "", thousand_in_hundred_out()},
      {"", "prod-4o", "azure", "", thousand_in_hundred_out()},
      {"llama-3.3-70b", "llama-3.3-70b", "groq", "", thousand_in_hundred_out()},
  };
  for (const price_query& query : queries) {
    // Twice: the second one is answered from what the first one looked up.
    for (int round = 0; round < 2; ++round) {
      const exchange_price priced = prices.price(query);
      EXPECT_EQ(priced.cost_pico_usd, prices.quote(query)->cost_pico_usd) << query.model << " round " << round;
      EXPECT_EQ(priced.table, prices.source());
    }
  }
}

TEST_F(PriceBookTest, ExchangePriceCountsEachExchangesOwnTokens) {
  const price_book prices = book();
  token_usage small;
  small.prompt_tokens = 10;
  small.completion_tokens = 1;
  EXPECT_EQ(prices.price({"gpt-4o", "gpt-4o", "", "", thousand_in_hundred_out()}).cost_pico_usd, 3'500'000'000);
  // 10 x $2.50 + 1 x $10 per M.
  EXPECT_EQ(prices.price({"gpt-4o", "gpt-4o", "", "", small}).cost_pico_usd, 35'000'000);
}

TEST_F(PriceBookTest, ExchangePriceOfAnUnknownModelIsUnsetAndNamesTheTableInForce) {
  const price_book prices = book();
  const exchange_price priced = prices.price({"mystery-model", "mystery-model", "", "", thousand_in_hundred_out()});
  EXPECT_EQ(priced.cost_pico_usd, std::nullopt);
  EXPECT_EQ(priced.table, prices.source());
}

TEST_F(PriceBookTest, ExchangePriceFollowsAReload) {
  const std::string path = write("prices.yaml", table_yaml);
  price_book prices(load_price_source(path), "", {});
  const price_query query{"gpt-4o", "gpt-4o", "", "", thousand_in_hundred_out()};
  ASSERT_EQ(prices.price(query).cost_pico_usd, 3'500'000'000);
  std::string cheaper(table_yaml);
  cheaper.replace(cheaper.find("input: 2.50"), 11, "input: 1.50");
  write("prices.yaml", cheaper);
  ASSERT_EQ(prices.reload(), std::nullopt);

  const exchange_price priced = prices.price(query);
  // 1000 x $1.50 + 100 x $10 per M.
  EXPECT_EQ(priced.cost_pico_usd, 2'500'000'000);
  EXPECT_EQ(priced.table->sha256, prices.source()->sha256);
}

} // namespace
} // namespace tokenmeter
