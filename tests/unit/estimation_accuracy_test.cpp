#include "usage_estimator.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

// Prompt estimates against the prompt_tokens real upstreams reported for the same requests
// (tests/fixtures/estimation/reported_prompt_tokens.json names each source), with the real
// vocabularies from scripts/setup.sh.
std::string vocabulary_dir() {
  if (const char* dir = std::getenv("TOKENMETER_VOCAB_DIR")) return dir;
  return TOKENMETER_FIXTURES_DIR "/../../build/vocab";
}

struct reported_case {
  std::string model;
  std::string request;
  std::int64_t reported = 0;
};

std::vector<reported_case> cases_of(std::string_view kind) {
  simdjson::dom::parser parser;
  simdjson::dom::array cases;
  std::vector<reported_case> out;
  if (parser.load(TOKENMETER_FIXTURES_DIR "/estimation/reported_prompt_tokens.json")["cases"].get(cases)) return out;
  for (const simdjson::dom::element c : cases) {
    std::string_view case_kind;
    std::string_view model;
    simdjson::dom::element request;
    reported_case rc;
    if (c["kind"].get(case_kind) || c["request"].get(request) || request["model"].get(model) ||
        c["reported_prompt_tokens"].get(rc.reported))
      return {};
    if (case_kind != kind) continue;
    rc.model = model;
    rc.request = simdjson::minify(request);
    out.push_back(std::move(rc));
  }
  return out;
}

class EstimationAccuracy : public ::testing::Test {
protected:
  void SetUp() override {
    if (vocabularies.find(vocabulary::o200k) == nullptr || vocabularies.find(vocabulary::cl100k) == nullptr)
      GTEST_SKIP() << "no vocabularies in " << vocabulary_dir() << ": run scripts/setup.sh";
  }

  std::int64_t estimate(const reported_case& c) const {
    const auto count = estimator.prompt_tokens(api_schema::openai_chat, c.request, estimator.vocabulary_for(c.model));
    return static_cast<std::int64_t>(count.tokens);
  }

  /// Every case of a kind within 2 % or 3 tokens; prints the error distribution the README reports.
  void expect_within_reported(std::string_view kind, std::size_t expected_cases) const {
    const auto cases = cases_of(kind);
    ASSERT_EQ(cases.size(), expected_cases);
    std::vector<std::int64_t> errors;
    for (const auto& c : cases) {
      const std::int64_t error = estimate(c) - c.reported;
      errors.push_back(error);
      EXPECT_LE(std::abs(error), std::max<std::int64_t>(3, c.reported * 2 / 100)) << c.request << " reported " << c.reported;
    }
    std::sort(errors.begin(), errors.end());
    std::cout << kind << ": estimate - reported, tokens: min " << errors.front() << ", median "
              << errors[errors.size() / 2] << ", max " << errors.back() << '\n';
  }

  tokenizer_set vocabularies = tokenizer_set::load(vocabulary_dir());
  usage_estimator estimator{vocabularies, {}};
};

TEST_F(EstimationAccuracy, PlainMessagesAreWithinTwoPercentOrThreeTokensOfTheReportedCount) {
  expect_within_reported("plain", 11);
}

TEST_F(EstimationAccuracy, ToolDefinitionsAndFunctionCallsAreWithinTwoPercentOrThreeTokensOfTheReportedCount) {
  expect_within_reported("tools", 11);
}

} // namespace
} // namespace tokenmeter
