#include "relayed_payloads.hpp"
#include "usage_tap.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tokenmeter {
namespace {

using views = std::vector<std::string_view>;

TEST(RelayedPayloads, KeepsEachPayloadInOrder) {
  relayed_payloads kept;
  kept.add("{\"a\":1}");
  kept.add("");
  kept.add("{\"b\":\n2}");
  EXPECT_EQ(kept.views(), (views{"{\"a\":1}", "{\"b\":\n2}"}));
  EXPECT_FALSE(kept.truncated());
}

TEST(RelayedPayloads, DropsWhatExceedsTheBoundAndSaysSo) {
  relayed_payloads kept;
  const std::string big(relayed_payloads::max_bytes - 2, 'x');
  kept.add(big);
  kept.add("abc");
  kept.add("ab");
  EXPECT_EQ(kept.views().size(), 2u);
  EXPECT_EQ(kept.views()[1], "ab");
  EXPECT_TRUE(kept.truncated());
}

TEST(UsageTapPayloads, KeepsStreamEventDataButNotTheDoneMarker) {
  usage_tap tap(api_schema::openai_chat, "text/event-stream", "", nullptr, true);
  tap.feed("data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DO");
  tap.feed("NE]\n\n");
  const tap_result result = tap.finish();
  EXPECT_EQ(result.source, usage_source::missing);
  EXPECT_EQ(result.payloads.views(), (views{"{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"}));
  EXPECT_TRUE(tap.finish().payloads.views().empty());
}

TEST(UsageTapPayloads, KeepsAWholeJsonBody) {
  usage_tap tap(api_schema::openai_chat, "application/json", "", nullptr, true);
  tap.feed("{\"choices\":[{\"message\":");
  tap.feed("{\"content\":\"Hi\"}}]}");
  EXPECT_EQ(tap.finish().payloads.views(), (views{"{\"choices\":[{\"message\":{\"content\":\"Hi\"}}]}"}));
}

TEST(UsageTapPayloads, KeepsNothingUnlessAsked) {
  usage_tap tap(api_schema::openai_chat, "application/json", "");
  tap.feed("{\"choices\":[]}");
  EXPECT_TRUE(tap.finish().payloads.views().empty());
}

TEST(UsageTapPayloads, MarksABodyThatIsNotJsonUnreadable) {
  usage_tap tap(api_schema::openai_chat, "application/json", "", nullptr, true);
  tap.feed("{not json");
  EXPECT_TRUE(tap.finish().unreadable_body);
}

} // namespace
} // namespace tokenmeter
