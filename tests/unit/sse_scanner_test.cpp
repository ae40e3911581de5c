#include "sse_scanner.hpp"

#include "metering_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tokenmeter {
namespace {

using event_list = std::vector<std::pair<std::string, std::string>>; // (type, data)
using pieces = std::vector<std::string_view>;

/// Every event a scanner yields for the pieces, then (optionally) at end of stream.
event_list scan(const std::vector<std::string_view>& pieces, sse_scanner& scanner, bool finish = true) {
  event_list events;
  const auto take = [&] { events.emplace_back(scanner.event().type, scanner.event().data); };
  for (std::string_view piece : pieces) {
    while (scanner.next(piece)) {
      take();
    }
    EXPECT_TRUE(piece.empty());
  }
  if (finish && scanner.finish()) {
    take();
  }
  return events;
}

event_list scan(const std::vector<std::string_view>& pieces, bool finish = true) {
  sse_scanner scanner;
  return scan(pieces, scanner, finish);
}

event_list scan(std::string_view body) { return scan(std::vector<std::string_view>{body}); }

TEST(SseScanner, DispatchesAnEventAtTheBlankLine) {
  sse_scanner scanner;
  EXPECT_EQ(scan(pieces{"data: {\"a\":1}\n"}, scanner, false), event_list{});
  EXPECT_EQ(scan(pieces{"\n"}, scanner, false), (event_list{{"", "{\"a\":1}"}}));
}

TEST(SseScanner, DataWithoutSpaceAfterColonIsTheSameAsWithOne) {
  EXPECT_EQ(scan("data:{\"a\":1}\n\ndata: {\"a\":1}\n\n"), (event_list{{"", "{\"a\":1}"}, {"", "{\"a\":1}"}}));
}

TEST(SseScanner, StripsOnlyOneLeadingSpaceOfAValue) {
  EXPECT_EQ(scan("data:  two spaces\n\n"), (event_list{{"", " two spaces"}}));
}

TEST(SseScanner, AcceptsCrLfLineEnds) {
  EXPECT_EQ(scan("data: a\r\n\r\ndata: b\r\n\r\n"), (event_list{{"", "a"}, {"", "b"}}));
}

TEST(SseScanner, AcceptsLoneCrLineEnds) {
  EXPECT_EQ(scan("data: a\r\rdata: b\r\r"), (event_list{{"", "a"}, {"", "b"}}));
}

TEST(SseScanner, CrAndLfSplitAcrossReadsAreOneLineEnd) {
  EXPECT_EQ(scan(pieces{"data: {\"x\":1}\r", "\n\r\n"}), (event_list{{"", "{\"x\":1}"}}));
}

TEST(SseScanner, CrLfSplitInsideAMultiLineEventDoesNotEndItEarly) {
  EXPECT_EQ(scan(pieces{"data: a\r", "\ndata: b\r", "\n\r", "\n"}), (event_list{{"", "a\nb"}}));
}

TEST(SseScanner, JoinsALineSplitAcrossReads) {
  EXPECT_EQ(scan(pieces{"data: {\"choices\":[],\"usage\":{\"prompt_tok",
                  "ens\":12,\"completion_tokens\":5,\"total_tokens\":17}}\n\n"}),
            (event_list{{"", R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}})"}}));
}

TEST(SseScanner, YieldsSeveralEventsFromOneRead) {
  EXPECT_EQ(scan("data: {\"n\":1}\n\ndata: {\"usage\":{}}\n\ndata: [DONE]\n\n"),
            (event_list{{"", "{\"n\":1}"}, {"", "{\"usage\":{}}"}, {"", "[DONE]"}}));
}

TEST(SseScanner, KeepsUtf8SplitMidCharacterByteExact) {
  // U+4F60 (E4 BD A0) split after its first byte, U+1F30D (F0 9F 8C 8D) after its second.
  EXPECT_EQ(scan(pieces{"data: {\"content\":\"\xE4", "\xBD\xA0\xE5\xA5\xBD\xF0\x9F", "\x8C\x8D\"}\n\n"}),
            (event_list{{"", "{\"content\":\"\xE4\xBD\xA0\xE5\xA5\xBD\xF0\x9F\x8C\x8D\"}"}}));
}

TEST(SseScanner, IgnoresCommentLines) {
  EXPECT_EQ(scan(": OPENROUTER PROCESSING\n\n:\n\n: keep-alive\ndata: x\n\n"), (event_list{{"", "x"}}));
}

TEST(SseScanner, JoinsMultiLineDataWithNewline) {
  EXPECT_EQ(scan("data: {\"usage\":\ndata: {\"prompt_tokens\":3}}\n\n"),
            (event_list{{"", "{\"usage\":\n{\"prompt_tokens\":3}}"}}));
}

TEST(SseScanner, AnEmptyDataLineStillMakesAnEvent) {
  EXPECT_EQ(scan("data\n\ndata:\ndata:\n\n"), (event_list{{"", ""}, {"", "\n"}}));
}

TEST(SseScanner, EventLineSetsTheTypeOfThatEventOnly) {
  EXPECT_EQ(scan("event: message_stop\ndata: {}\n\ndata: {}\n\n"),
            (event_list{{"message_stop", "{}"}, {"", "{}"}}));
}

TEST(SseScanner, ABlankLineWithoutDataForgetsTheEventType) {
  EXPECT_EQ(scan("event: ping\n\ndata: {}\n\n"), (event_list{{"", "{}"}}));
}

TEST(SseScanner, IgnoresUnknownFields) {
  EXPECT_EQ(scan("id: 7\nretry: 1000\nfoo: bar\nnocolon\ndata: x\n\n"), (event_list{{"", "x"}}));
}

TEST(SseScanner, StripsALeadingByteOrderMark) {
  EXPECT_EQ(scan("\xEF\xBB\xBF" "data: x\n\n"), (event_list{{"", "x"}}));
}

TEST(SseScanner, StripsAByteOrderMarkSplitAcrossReads) {
  EXPECT_EQ(scan(pieces{"\xEF", "\xBB", "\xBF" "data: x\n\n"}), (event_list{{"", "x"}}));
}

TEST(SseScanner, KeepsAByteOrderMarkInsideTheStream) {
  EXPECT_EQ(scan("data: \xEF\xBB\xBFx\n\n"), (event_list{{"", "\xEF\xBB\xBFx"}}));
}

TEST(SseScanner, FinishDispatchesACompleteDataLineWithoutItsBlankLine) {
  EXPECT_EQ(scan("data: {\"a\":1}\n\ndata: {\"usage\":{}}\n"), (event_list{{"", "{\"a\":1}"}, {"", "{\"usage\":{}}"}}));
}

TEST(SseScanner, FinishDispatchesAnUnterminatedLastLine) {
  EXPECT_EQ(scan("data: [DONE]"), (event_list{{"", "[DONE]"}}));
}

TEST(SseScanner, FinishAfterABlankLineYieldsNothing) {
  sse_scanner scanner;
  scan(pieces{"data: x\n\n"}, scanner, false);
  EXPECT_FALSE(scanner.finish());
}

TEST(SseScanner, DropsAnOverlongLineAndCountsIt) {
  sse_scanner scanner(32);
  const std::string body = "data: " + std::string(100, 'x') + "\n\ndata: short\n\n";
  EXPECT_EQ(scan(test::cut_every(body, 7), scanner), (event_list{{"", "short"}}));
  EXPECT_EQ(scanner.dropped_lines(), 1u);
}

TEST(SseScanner, DropsAnOverlongLineThatArrivedInOnePiece) {
  sse_scanner scanner(32);
  EXPECT_EQ(scan(pieces{"data: " + std::string(100, 'x') + "\n\ndata: short\n\n"}, scanner), (event_list{{"", "short"}}));
  EXPECT_EQ(scanner.dropped_lines(), 1u);
}

TEST(SseScanner, DiscardsAnEventWhoseOtherLinesSurviveAnOverlongOne) {
  sse_scanner scanner(32);
  const std::string body = "data: {\"usage\":\ndata: " + std::string(40, 'x') + "\ndata: }\n\ndata: next\n\n";
  EXPECT_EQ(scan(test::cut_every(body, 5), scanner), (event_list{{"", "next"}}));
}

TEST(SseScanner, DiscardsAnEventWhoseJoinedDataExceedsTheBound) {
  sse_scanner scanner(16);
  EXPECT_EQ(scan(pieces{"data: 0123456789\ndata: 0123456789\n\ndata: ok\n\n"}, scanner), (event_list{{"", "ok"}}));
  EXPECT_EQ(scanner.dropped_lines(), 0u);
}

TEST(SseScanner, DropsAnOverlongUnterminatedLineAtFinish) {
  sse_scanner scanner(32);
  EXPECT_EQ(scan(test::cut_every("data: " + std::string(100, 'x'), 10), scanner), event_list{});
  EXPECT_EQ(scanner.dropped_lines(), 1u);
}

TEST(SseScanner, ALargePieceOfLoneCrLinesYieldsEveryEvent) {
  std::string body;
  for (int i = 0; i < 100000; ++i) {
    body += "data: x\r\r";
  }
  body += "data: last\n\n";
  sse_scanner scanner;
  std::string_view input = body;
  std::size_t events = 0;
  std::string last;
  while (scanner.next(input)) {
    ++events;
    last = scanner.event().data;
  }
  EXPECT_EQ(events, 100001u);
  EXPECT_EQ(last, "last");
}

/// A stream mixing every framing feature, and the events it holds.
const std::string mixed_stream =
    "\xEF\xBB\xBF: comment\r\n"
    "event: message_start\r\n"
    "data: {\"usage\":{\"input_tokens\":3}}\r\n\r\n"
    "data:{\"text\":\"\xE4\xBD\xA0\xF0\x9F\x8C\x8D\"}\r\r"
    "id: 1\n"
    "data: line one\n"
    "data: line two\n\n"
    ":\n"
    "event: message_stop\r"
    "data: {}\r\n\n"
    "data: [DONE]\n";
const event_list mixed_events{
    {"message_start", "{\"usage\":{\"input_tokens\":3}}"},
    {"", "{\"text\":\"\xE4\xBD\xA0\xF0\x9F\x8C\x8D\"}"},
    {"", "line one\nline two"},
    {"message_stop", "{}"},
    {"", "[DONE]"},
};

TEST(SseScanner, MixedStreamInOnePieceYieldsItsEvents) {
  EXPECT_EQ(scan(mixed_stream), mixed_events);
}

TEST(SseScanner, OneBytePiecesYieldTheSameEvents) {
  EXPECT_EQ(scan(test::cut_every(mixed_stream, 1)), mixed_events);
}

TEST(SseScanner, ThreeBytePiecesYieldTheSameEvents) {
  EXPECT_EQ(scan(test::cut_every(mixed_stream, 3)), mixed_events);
}

TEST(SseScanner, RandomPieceSizesYieldTheSameEvents) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    EXPECT_EQ(scan(test::cut_randomly(mixed_stream, seed, 17)), mixed_events) << "seed " << seed;
  }
}

TEST(SseScanner, EverySplitIntoTwoPiecesYieldsTheSameEvents) {
  for (std::size_t at = 0; at <= mixed_stream.size(); ++at) {
    EXPECT_EQ(scan(test::cut(mixed_stream, {at})), mixed_events) << "split at " << at;
  }
}

} // namespace
} // namespace tokenmeter
