#include "bpe_merge.hpp"
#include "bpe_ranks.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tokenmeter {
namespace {

/// Every single byte, then the given merged tokens, ranked in order.
bpe_ranks ranks_with(std::initializer_list<std::string_view> merged) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  std::uint32_t rank = 0;
  const auto add = [&](std::string_view token) {
    std::string line;
    for (std::size_t i = 0; i < token.size(); i += 3) {
      std::uint32_t chunk = 0;
      const std::size_t n = std::min<std::size_t>(3, token.size() - i);
      for (std::size_t b = 0; b < 3; ++b)
        chunk = (chunk << 8) | (b < n ? static_cast<unsigned char>(token[i + b]) : 0u);
      for (std::size_t c = 0; c < 4; ++c) line += c <= n ? alphabet[(chunk >> (18 - 6 * c)) & 63] : '=';
    }
    text += line + " " + std::to_string(rank++) + "\n";
  };
  for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
  for (const auto token : merged) add(token);
  std::string error;
  auto ranks = bpe_ranks::parse(text, error);
  EXPECT_TRUE(ranks) << error;
  return std::move(*ranks);
}

TEST(BpeRanks, FindsTokensByTheirBytes) {
  const bpe_ranks ranks = ranks_with({"ab", "abc"});
  EXPECT_EQ(ranks.rank("a"), 97u);
  EXPECT_EQ(ranks.rank("ab"), 256u);
  EXPECT_EQ(ranks.rank("abc"), 257u);
  EXPECT_FALSE(ranks.rank("bc"));
  EXPECT_EQ(ranks.size(), 258u);
}

TEST(BpeRanks, RejectsAMalformedLineByNumber) {
  std::string error;
  EXPECT_FALSE(bpe_ranks::parse("YQ== 0\nnot base64! 1\n", error));
  EXPECT_EQ(error, "line 2: expected `base64-token rank`");
  EXPECT_FALSE(bpe_ranks::parse("YQ==\n", error));
  EXPECT_FALSE(bpe_ranks::parse("", error));
  EXPECT_EQ(error, "no tokens");
}

TEST(BpeRanks, RejectsATokenListedTwice) {
  std::string error;
  EXPECT_FALSE(bpe_ranks::parse("YQ== 0\nYQ== 1\n", error));
  EXPECT_EQ(error, "token of rank 1 is listed twice");
}

TEST(BpeMerge, CountsAWholeTokenAsOne) {
  const bpe_ranks ranks = ranks_with({"ab", "abc"});
  bpe_merge merge(ranks);
  EXPECT_EQ(merge.count("abc"), 1u);
  EXPECT_EQ(merge.count(""), 0u);
}

TEST(BpeMerge, MergesTheLowestRankedPairFirst) {
  // "bc" outranks "ab": "abc" -> a + bc, and "abcd" cannot become ab + cd.
  const bpe_ranks ranks = ranks_with({"bc", "ab", "cd"});
  bpe_merge merge(ranks);
  EXPECT_EQ(merge.count("abcd"), 3u); // a, bc, d
  EXPECT_EQ(merge.count("abab"), 2u); // ab, ab
}

TEST(BpeMerge, MergesTheLeftmostPairOnATie) {
  const bpe_ranks ranks = ranks_with({"aa", "aaa"});
  bpe_merge merge(ranks);
  // a a a a a -> aa a a a -> aa aa a -> aa aaa ("aaaa" is no token)
  EXPECT_EQ(merge.count("aaaaa"), 2u);
}

TEST(BpeMerge, LongPiecesMergeLikeShortOnes) {
  const bpe_ranks ranks = ranks_with({"aa", "aaaa"});
  bpe_merge merge(ranks);
  EXPECT_EQ(merge.count(std::string(300, 'a')), 75u);
  EXPECT_EQ(merge.count(std::string(302, 'a')), 76u);
  EXPECT_EQ(merge.count(std::string(100, 'a')), 25u);
  EXPECT_EQ(merge.count(std::string(301, 'a')), 76u);
}

} // namespace
} // namespace tokenmeter
