#include "relayed_payloads.hpp"
#include "usage_tap.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tokenmeter {
namespace {

using payload_list = std::vector<std::string>;

payload_list all(const relayed_payloads& kept) {
  payload_list out;
  kept.for_each([&](std::string_view payload) { out.emplace_back(payload); });
  return out;
}

TEST(RelayedPayloads, KeepsEachPayloadInOrder) {
  relayed_payloads kept;
  kept.add("{\"a\":1}");
  kept.add("");
  kept.add("{\"b\":\n2}");
  EXPECT_EQ(all(kept), (payload_list{"{\"a\":1}", "{\"b\":\n2}"}));
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_FALSE(kept.truncated());
}

TEST(RelayedPayloads, DropsWhatExceedsTheBoundAndSaysSo) {
  relayed_payloads kept;
  const std::string big(relayed_payloads::max_bytes - 2, 'x');
  kept.add(big);
  kept.add("abc");
  kept.add("ab");
  const payload_list payloads = all(kept);
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0], big);
  EXPECT_EQ(payloads[1], "ab");
  EXPECT_TRUE(kept.truncated());
}

TEST(RelayedPayloads, RebuildsPayloadsThatOverlapTheOneBefore) {
  // Repeats, prefixes, extensions and runs of one byte, where prefix and suffix could overlap.
  const payload_list sent{"aaaa", "aaaa", "aa", "aaaaaa", "abca", "aca", "x", "abcabc", "abc", "cabcab", "bca"};
  relayed_payloads kept;
  for (const auto& payload : sent) kept.add(payload);
  EXPECT_EQ(all(kept), sent);
}

TEST(RelayedPayloads, RebuildsLongPayloadsThatDifferAnywhere) {
  // Payloads longer than the 8-byte words compared at once, from a two-letter alphabet so that
  // neighbours share prefixes and suffixes of every length; a fixed generator keeps it repeatable.
  std::uint32_t state = 12345;
  const auto next = [&state] { return state = state * 1103515245u + 12345u; };
  payload_list sent;
  for (int i = 0; i < 500; ++i) {
    std::string payload = i == 0 ? std::string(40, 'a') : sent.back();
    payload.resize((next() >> 8) % 48 + 1, 'a');
    payload[(next() >> 8) % payload.size()] = (next() >> 8) % 2 ? 'a' : 'b';
    sent.push_back(payload);
  }
  relayed_payloads kept;
  for (const auto& payload : sent) kept.add(payload);
  EXPECT_EQ(all(kept), sent);
}

TEST(RelayedPayloads, ASimilarEventCostsOnlyWhatDiffersFromTheOneBefore) {
  const std::string before = R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",)"
                             R"("choices":[{"index":0,"delta":{"content":")";
  const std::string after = R"("},"finish_reason":null}]})";
  relayed_payloads kept;
  kept.add(before + "Hello" + after);
  const std::size_t first = kept.kept_bytes();
  kept.add(before + " world" + after);
  // The 6 new bytes and one step (four 32-bit numbers); the last payload is kept whole in
  // place of the first.
  EXPECT_EQ(kept.kept_bytes() - first, 6u + 16u + 1u);
  EXPECT_EQ(all(kept), (payload_list{before + "Hello" + after, before + " world" + after}));
}

TEST(UsageTapPayloads, KeepsStreamEventDataButNotTheDoneMarker) {
  usage_tap tap(api_schema::openai_chat, "text/event-stream", "", nullptr, true);
  tap.feed("data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DO");
  tap.feed("NE]\n\n");
  const tap_result result = tap.finish();
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(all(result.payloads), (payload_list{"{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"}));
  EXPECT_EQ(tap.finish().payloads.size(), 0u);
}

TEST(UsageTapPayloads, KeepsAWholeJsonBody) {
  usage_tap tap(api_schema::openai_chat, "application/json", "", nullptr, true);
  tap.feed("{\"choices\":[{\"message\":");
  tap.feed("{\"content\":\"Hi\"}}]}");
  EXPECT_EQ(all(tap.finish().payloads), (payload_list{"{\"choices\":[{\"message\":{\"content\":\"Hi\"}}]}"}));
}

TEST(UsageTapPayloads, KeepsNothingUnlessAsked) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed("{\"choices\":[]}");
  EXPECT_EQ(tap.finish().payloads.size(), 0u);
}

TEST(UsageTapPayloads, MarksABodyThatIsNotJsonUnreadable) {
  usage_tap tap(api_schema::openai_chat, "application/json", "", nullptr, true);
  tap.feed("{not json");
  EXPECT_TRUE(tap.finish().unreadable_body);
}

} // namespace
} // namespace tokenmeter
