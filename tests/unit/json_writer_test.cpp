#include "json_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tokenmeter {
namespace {

std::string as_json_string(std::string_view text) {
  json_writer json;
  json.string(text);
  return json.take();
}

TEST(JsonWriter, SeparatesMembersAndElementsWithCommas) {
  json_writer json;
  json.begin_object();
  json.key("a");
  json.integer(-3);
  json.key("b");
  json.begin_array();
  json.boolean(true);
  json.null();
  json.number("0.0083");
  json.begin_object();
  json.end_object();
  json.end_array();
  json.key("c");
  json.string("x");
  json.end_object();
  EXPECT_EQ(json.take(), R"({"a":-3,"b":[true,null,0.0083,{}],"c":"x"})");
}

TEST(JsonWriter, TakeLeavesAnEmptyWriter) {
  json_writer json;
  json.integer(1);
  EXPECT_EQ(json.take(), "1");
  json.integer(2);
  EXPECT_EQ(json.take(), "2");
}

TEST(JsonWriter, EscapesQuoteAndBackslash) {
  EXPECT_EQ(as_json_string(R"(a"b\c)"), R"("a\"b\\c")");
}

TEST(JsonWriter, EscapesControlCharactersShortFormWhereDefined) {
  EXPECT_EQ(as_json_string("\b\f\n\r\t"), R"("\b\f\n\r\t")");
}

TEST(JsonWriter, EscapesOtherControlCharactersAsUnicode) {
  EXPECT_EQ(as_json_string(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
}

TEST(JsonWriter, LeavesSlashAndDeleteAsIs) { EXPECT_EQ(as_json_string("/\x7f"), "\"/\x7f\""); }

TEST(JsonWriter, KeepsValidUtf8) {
  EXPECT_EQ(as_json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, ReplacesInvalidUtf8Bytes) {
  // A lone continuation byte, a truncated sequence and an overlong '/'.
  EXPECT_EQ(as_json_string("a\x80"
                           "b\xe2\x82"),
            R"("a\ufffdb\ufffd\ufffd")");
  EXPECT_EQ(as_json_string("\xc0\xaf"), R"("\ufffd\ufffd")");
}

TEST(JsonWriter, ReplacesEncodedSurrogates) {
  EXPECT_EQ(as_json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
}

TEST(JsonWriter, EscapesKeysLikeStrings) {
  json_writer json;
  json.begin_object();
  json.key("a\nb");
  json.integer(1);
  json.end_object();
  EXPECT_EQ(json.take(), R"({"a\nb":1})");
}

} // namespace
} // namespace tokenmeter
