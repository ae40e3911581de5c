#include "wire_format.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

using namespace tokenmeter;

namespace {

template <bool isRequest> std::string beast_bytes(const http::header<isRequest>& head) {
  std::ostringstream out;
  out << head;
  return out.str();
}

TEST(WireFormat, RequestHeadIsTheRequestLineFieldsInOrderAndABlankLine) {
  http::request_header<> head;
  head.method(http::verb::post);
  head.target("/v1/chat/completions?x=1");
  head.version(11);
  head.set(http::field::host, "127.0.0.1:8000");
  head.insert("X-Node", "JiraNode");
  head.insert("x-node", "second");
  head.set(http::field::content_length, "18");
  std::string out;
  append_head(head, out);
  EXPECT_EQ(out, "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-Node: JiraNode\r\n"
                 "x-node: second\r\nContent-Length: 18\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(head));
}

TEST(WireFormat, RequestHeadKeepsAnUnknownMethodAsWritten) {
  http::request_header<> head;
  head.method_string("PROPFIND2");
  head.target("/x");
  head.version(11);
  std::string out;
  append_head(head, out);
  EXPECT_EQ(out, "PROPFIND2 /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(head));
}

TEST(WireFormat, ResponseHeadKeepsTheUpstreamsReasonPhrase) {
  http::response_header<> head;
  head.result(429);
  head.reason("Slow Down");
  head.version(10);
  head.set(http::field::content_type, "application/json");
  std::string out;
  append_head(head, out);
  EXPECT_EQ(out, "HTTP/1.0 429 Slow Down\r\nContent-Type: application/json\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(head));
}

TEST(WireFormat, ResponseHeadWithoutAReasonGetsTheStandardPhrase) {
  http::response_header<> head;
  head.result(200);
  head.version(11);
  std::string out;
  append_head(head, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(head));
}

TEST(WireFormat, ResponseHeadWritesAnUnregisteredStatusWithThreeDigits) {
  http::response_header<> head;
  head.result(599);
  head.reason("Network Timeout");
  head.version(11);
  std::string out;
  append_head(head, out);
  EXPECT_EQ(out, "HTTP/1.1 599 Network Timeout\r\n\r\n");
  EXPECT_EQ(out, beast_bytes(head));
}

TEST(WireFormat, HeadIsAppendedAfterWhatTheStringHolds) {
  http::response_header<> head;
  head.result(204);
  head.version(11);
  std::string out = "kept";
  append_head(head, out);
  EXPECT_EQ(out, "keptHTTP/1.1 204 No Content\r\n\r\n");
}

TEST(WireFormat, ChunkSizeLineIsLowercaseHexAndCrlf) {
  chunk_size_line line;
  EXPECT_EQ(make_chunk_size_line(0x1a2b, line), "1a2b\r\n");
  EXPECT_EQ(make_chunk_size_line(1, line), "1\r\n");
  EXPECT_EQ(make_chunk_size_line(16 * 1024, line), "4000\r\n");
}

TEST(WireFormat, ChunkSizeLineHoldsTheLargestSize) {
  chunk_size_line line;
  EXPECT_EQ(make_chunk_size_line(std::numeric_limits<std::size_t>::max(), line), "ffffffffffffffff\r\n");
}

} // namespace
