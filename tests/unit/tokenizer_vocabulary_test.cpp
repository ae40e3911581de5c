#include "tokenizer_set.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tokenmeter {
namespace {

// The real vocabularies, where scripts/setup.sh put them (TOKENMETER_VOCAB_DIR, else
// build/vocab), checked against the test vectors gpt-tokenizer ships with OpenAI's data.
std::string vocabulary_dir() {
  if (const char* dir = std::getenv("TOKENMETER_VOCAB_DIR")) return dir;
  return TOKENMETER_FIXTURES_DIR "/../../build/vocab";
}

const tokenizer_set& vocabularies() {
  static const tokenizer_set set = tokenizer_set::load(vocabulary_dir());
  return set;
}

struct test_plan {
  std::string sample;
  std::size_t tokens;
};

/// gpt-tokenizer's TestPlans.txt: `EncodingName:`, `Sample:` (possibly several lines), `Encoded: [ids]`.
std::vector<test_plan> plans_for(std::string_view encoding) {
  std::ifstream in(TOKENMETER_FIXTURES_DIR "/../node_modules/gpt-tokenizer/data/TestPlans.txt", std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<test_plan> plans;
  const std::string name_marker = "EncodingName: ";
  for (std::size_t at = text.find(name_marker); at != std::string::npos; at = text.find(name_marker, at + 1)) {
    const std::size_t name_end = text.find('\n', at);
    const std::size_t sample = text.find("Sample: ", name_end) + 8;
    const std::size_t encoded = text.find("\nEncoded: [", sample);
    const std::size_t ids_end = text.find(']', encoded);
    if (text.substr(at + name_marker.size(), name_end - at - name_marker.size()) != encoding) continue;
    const std::string ids = text.substr(encoded + 11, ids_end - encoded - 11);
    const std::size_t count = ids.empty() ? 0 : static_cast<std::size_t>(std::count(ids.begin(), ids.end(), ',')) + 1;
    plans.push_back({text.substr(sample, encoded - sample), count});
  }
  return plans;
}

void expect_plans(vocabulary v, std::string_view encoding) {
  const tokenizer* t = vocabularies().find(v);
  if (t == nullptr) GTEST_SKIP() << "no " << encoding << " data in " << vocabulary_dir() << ": run scripts/setup.sh";
  const auto plans = plans_for(encoding);
  ASSERT_GT(plans.size(), 50u);
  for (const auto& plan : plans) EXPECT_EQ(t->count(plan.sample), plan.tokens) << plan.sample;
}

TEST(TokenizerVocabulary, MatchesOpenAiTestVectorsForO200k) { expect_plans(vocabulary::o200k, "o200k_base"); }

TEST(TokenizerVocabulary, MatchesOpenAiTestVectorsForCl100k) { expect_plans(vocabulary::cl100k, "cl100k_base"); }

TEST(TokenizerVocabulary, CountsLlama3LikeItsReferenceTokenizer) {
  const tokenizer* t = vocabularies().find(vocabulary::llama3);
  if (t == nullptr) GTEST_SKIP() << "no llama3 data in " << vocabulary_dir();
  EXPECT_EQ(t->vocabulary_size(), 128000u);
  // llama3-tokenizer-js, bos and eos off: "I" -> [40]; "Hello world" -> [9906, 1917]
  EXPECT_EQ(t->count("I"), 1u);
  EXPECT_EQ(t->count("Hello world"), 2u);
}

TEST(TokenizerVocabulary, LeavesAMissingVocabularyOut) {
  const auto empty = std::filesystem::temp_directory_path() / "tokenmeter-no-vocab";
  std::filesystem::create_directories(empty);
  const tokenizer_set set = tokenizer_set::load(empty.string());
  EXPECT_EQ(set.find(vocabulary::o200k), nullptr);
  EXPECT_EQ(set.find(vocabulary::llama3), nullptr);
}

} // namespace
} // namespace tokenmeter
