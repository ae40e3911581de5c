#include "pricing_cli.hpp"

#include "ledger_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr std::string_view table_yaml = R"(providers:
  test:
    source: https://example.invalid/prices
    read_on: 2026-01-02
    models:
      - name: claude-sonnet-4
        input: 3
        cached_input: 0.30
        cache_write: 3.75
        output: 15
        long_context: {above_prompt_tokens: 200000, input: 6, cached_input: 0.60, cache_write: 7.50, output: 22.50}
)";

class PricingCliTest : public test_support::temp_dir_test {
protected:
  void SetUp() override {
    temp_dir_test::SetUp();
    table_ = (dir_ / "prices.yaml").string();
    std::ofstream(table_, std::ios::binary) << table_yaml;
  }

  int run(std::vector<std::string> args) {
    return run_pricing_command(args, table_, out_, err_);
  }

  std::string table_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PricingCliTest, CheckPrintsWhatItUnderstood) {
  EXPECT_EQ(run({"check", table_}), 0);
  EXPECT_THAT(out_.str(),
              AllOf(HasSubstr("valid tokenmeter price table"), HasSubstr("models: 1"),
                    HasSubstr("provider test: 1 models, read on 2026-01-02, source https://example.invalid/prices"),
                    HasSubstr("claude-sonnet-4: in 3 / cached 0.3 / write 3.75 / out 15"),
                    HasSubstr("above 200000 prompt tokens: in 6 / cached 0.6 / write 7.5 / out 22.5")));
}

TEST_F(PricingCliTest, CheckOfABadFileFailsNamingTheProblem) {
  const std::string bad = (dir_ / "bad.yaml").string();
  std::ofstream(bad) << "providers: {x: {source: s, read_on: 2026-01-02, models: [{name: m}]}}\n";
  EXPECT_EQ(run({"check", bad}), 1);
  EXPECT_THAT(err_.str(), AllOf(HasSubstr(bad), HasSubstr("model 'm'"), HasSubstr("'input'")));
}

TEST_F(PricingCliTest, QuotePrintsTheExactCostAndTheRule) {
  EXPECT_EQ(run({"quote", "--model", "anthropic/claude-sonnet-4-20250514", "--prompt", "2057",
                 "--completion", "120", "--cached", "2048"}),
            0);
  EXPECT_THAT(out_.str(),
              AllOf(HasSubstr("matched: claude-sonnet-4 (provider prefix + snapshot date + exact name)"),
                    HasSubstr("tier: standard"),
                    HasSubstr("uncached prompt 9 x 3 + cached 2048 x 0.3"),
                    HasSubstr("cost: 0.0024414 USD (2441400000 pico-USD)")));
}

TEST_F(PricingCliTest, QuoteAboveTheThresholdUsesTheLongContextTier) {
  EXPECT_EQ(run({"quote", "--model", "claude-sonnet-4", "--prompt", "200001", "--completion", "1000",
                 "--reasoning", "200"}),
            0);
  // 200001 x $6 + 1000 x $22.50 per M.
  EXPECT_THAT(out_.str(), AllOf(HasSubstr("tier: long_context"),
                                HasSubstr("cost: 1.222506 USD (1222506000000 pico-USD)")));
}

TEST_F(PricingCliTest, QuoteOfAnUnknownModelSaysUnpriced) {
  EXPECT_EQ(run({"quote", "--model", "claude-sonnet-4.7", "--prompt", "1", "--completion", "1"}), 1);
  EXPECT_THAT(out_.str(), HasSubstr("claude-sonnet-4.7: unpriced"));
}

TEST_F(PricingCliTest, QuoteWithoutCountsIsAUsageError) {
  EXPECT_EQ(run({"quote", "--model", "claude-sonnet-4"}), 2);
  EXPECT_THAT(err_.str(), AllOf(HasSubstr("needs --prompt"), HasSubstr("usage:")));
}

TEST_F(PricingCliTest, QuoteWithANonNumericCountIsAUsageError) {
  EXPECT_EQ(run({"quote", "--model", "m", "--prompt", "12k", "--completion", "1"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--prompt needs a token count, got '12k'"));
}

TEST_F(PricingCliTest, UnknownSubcommandIsAUsageError) {
  EXPECT_EQ(run({"list"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("expected `check` or `quote`"));
}

TEST(PricingCommand, IsRecognisedOnlyAsTheFirstArgument) {
  const char* pricing[] = {"tokenmeter", "pricing", "check", "f"};
  const char* serve[] = {"tokenmeter", "--pricing", "f"};
  EXPECT_TRUE(is_pricing_command(4, pricing));
  EXPECT_FALSE(is_pricing_command(3, serve));
}

} // namespace
} // namespace tokenmeter
