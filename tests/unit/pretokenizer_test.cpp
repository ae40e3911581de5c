#include "pretokenizer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokenmeter {
namespace {

// Expected pieces are what JavaScript's engine finds with the vocabularies' own patterns
// (js-tiktoken's pat_str, flags "gu").
std::vector<std::string> pieces(split_pattern pattern, std::string_view text) {
  const pretokenizer split(pattern);
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = split.piece_length(text, pos);
    out.emplace_back(text.substr(pos, length));
    pos += length;
  }
  return out;
}

using list = std::vector<std::string>;

TEST(Cl100kPattern, KeepsTheSpaceWithTheFollowingWord) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "Hello world"), (list{"Hello", " world"}));
}

TEST(Cl100kPattern, SplitsContractionsOffInAnyCase) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "don't STOP'S"), (list{"don", "'t", " STOP", "'S"}));
}

TEST(Cl100kPattern, LeavesTheLastSpaceOfARunToTheWord) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "  hello"), (list{" ", " hello"}));
  EXPECT_EQ(pieces(split_pattern::cl100k, "\t\tfoo"), (list{"\t", "\tfoo"}));
}

TEST(Cl100kPattern, EndsAWhitespaceRunAfterItsLastNewline) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "abc\n\n  def"), (list{"abc", "\n\n", " ", " def"}));
  EXPECT_EQ(pieces(split_pattern::cl100k, "tab\t\n"), (list{"tab", "\t\n"}));
}

TEST(Cl100kPattern, KeepsTrailingWhitespaceWhole) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "a  "), (list{"a", "  "}));
}

TEST(Cl100kPattern, GroupsDigitsByThree) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "12345"), (list{"123", "45"}));
}

TEST(Cl100kPattern, TakesNewlinesAfterPunctuation) {
  EXPECT_EQ(pieces(split_pattern::cl100k, " !!!\n\nx"), (list{" !!!\n\n", "x"}));
  EXPECT_EQ(pieces(split_pattern::cl100k, "x = {\"a\": 1}\n"),
            (list{"x", " =", " {\"", "a", "\":", " ", "1", "}\n"}));
}

TEST(Cl100kPattern, ReadsNonAsciiLettersAndEmoji) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "na\xC3\xAFve caf\xC3\xA9"), (list{"na\xC3\xAFve", " caf\xC3\xA9"}));
  EXPECT_EQ(pieces(split_pattern::cl100k, "\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD hi"),
            (list{"\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD", " hi"}));
}

TEST(Cl100kPattern, TreatsCombiningMarksAsWordPrefixesNotLetters) {
  EXPECT_EQ(pieces(split_pattern::cl100k, "e\xCC\x81te\xCC\x81"), (list{"e", "\xCC\x81te", "\xCC\x81"}));
}

TEST(O200kPattern, SplitsCamelCaseWords) {
  EXPECT_EQ(pieces(split_pattern::o200k, "HelloWorld"), (list{"Hello", "World"}));
  EXPECT_EQ(pieces(split_pattern::o200k, "ABCdef"), (list{"ABCdef"}));
}

TEST(O200kPattern, KeepsContractionsInTheWord) {
  EXPECT_EQ(pieces(split_pattern::o200k, "don't STOP'S"), (list{"don't", " STOP'S"}));
  EXPECT_EQ(pieces(split_pattern::o200k, "I'm here"), (list{"I'm", " here"}));
}

TEST(O200kPattern, KeepsCombiningMarksInTheWord) {
  EXPECT_EQ(pieces(split_pattern::o200k, "e\xCC\x81te\xCC\x81"), (list{"e\xCC\x81te\xCC\x81"}));
}

TEST(O200kPattern, StartsPathSegmentsWithTheirSlash) {
  EXPECT_EQ(pieces(split_pattern::o200k, "path/to/file"), (list{"path", "/to", "/file"}));
}

TEST(Pretokenizer, CountsMalformedUtf8AsPunctuation) {
  EXPECT_EQ(pieces(split_pattern::o200k, "a\xFF\xFE b"), (list{"a", "\xFF\xFE", " b"}));
  EXPECT_EQ(pieces(split_pattern::cl100k, "\xE2\x82"), (list{"\xE2\x82"}));
}

} // namespace
} // namespace tokenmeter
