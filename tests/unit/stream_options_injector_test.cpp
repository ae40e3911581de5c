#include "stream_options_injector.hpp"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(InjectIncludeUsage, AddsStreamOptionsBeforeTheClosingBrace) {
  EXPECT_EQ(inject_include_usage(R"({"model":"gpt-4o-mini","stream":true,"messages":[]})"),
            R"({"model":"gpt-4o-mini","stream":true,"messages":[],"stream_options":{"include_usage":true}})");
}

TEST(InjectIncludeUsage, KeepsWhitespaceAndKeyOrderAroundTheInsertion) {
  EXPECT_EQ(inject_include_usage("{\n  \"stream\" : true ,\n  \"model\": \"m\"\n}\n"),
            "{\n  \"stream\" : true ,\n  \"model\": \"m\"\n,\"stream_options\":{\"include_usage\":true}}\n");
}

TEST(InjectIncludeUsage, ReplacesANullStreamOptions) {
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream_options":null,"model":"m"})"),
            R"({"stream":true,"stream_options":{"include_usage":true},"model":"m"})");
}

TEST(InjectIncludeUsage, AddsTheKeyToStreamOptionsThatLackIt) {
  EXPECT_EQ(inject_include_usage(R"({"stream_options":{"continuous_usage_stats":true},"stream":true})"),
            R"({"stream_options":{"include_usage":true,"continuous_usage_stats":true},"stream":true})");
}

TEST(InjectIncludeUsage, FillsEmptyStreamOptions) {
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream_options":{ }})"),
            R"({"stream":true,"stream_options":{"include_usage":true }})");
}

TEST(InjectIncludeUsage, TurnsAFalseOrNullIncludeUsageTrue) {
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream_options":{"include_usage":false}})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream_options":{"include_usage":null}})"),
            R"({"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(InjectIncludeUsage, LeavesARequestThatAlreadyAsksForUsage) {
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream_options":{"include_usage":true}})"), std::nullopt);
}

TEST(InjectIncludeUsage, LeavesRequestsThatDoNotStream) {
  EXPECT_EQ(inject_include_usage(R"({"model":"m","messages":[]})"), std::nullopt);
  EXPECT_EQ(inject_include_usage(R"({"model":"m","stream":false})"), std::nullopt);
  EXPECT_EQ(inject_include_usage(R"({"model":"m","stream":"true"})"), std::nullopt);
}

TEST(InjectIncludeUsage, TheLastOfRepeatedStreamKeysDecides) {
  EXPECT_EQ(inject_include_usage(R"({"stream":true,"stream":false})"), std::nullopt);
  EXPECT_EQ(inject_include_usage(R"({"stream":false,"stream":true})"),
            R"({"stream":false,"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(InjectIncludeUsage, LeavesBodiesThatAreNotOneJsonObject) {
  for (const char* body : {"", "   ", "[1]", "stream=true", R"({"stream":true)", R"({"stream":true} {})",
                           R"({"stream":true,})", R"({"stream":true,"stream_options":"yes"})",
                           R"({"stream":true,"stream_options":{"include_usage":1}})"}) {
    EXPECT_EQ(inject_include_usage(body), std::nullopt) << body;
  }
}

TEST(InjectIncludeUsage, IgnoresStreamKeysNestedInOtherObjects) {
  EXPECT_EQ(inject_include_usage(R"({"metadata":{"stream":true},"messages":[{"stream":true}]})"), std::nullopt);
}

TEST(InjectIncludeUsage, KeepsUnicodeAndEscapesByteForByte) {
  const std::string body = "{\"messages\":[{\"content\":\"caf\xC3\xA9 \\\"\\u00e9\\\" \xF0\x9F\x8C\x8D\"}],\"stream\":true}";
  const std::string expected =
      "{\"messages\":[{\"content\":\"caf\xC3\xA9 \\\"\\u00e9\\\" \xF0\x9F\x8C\x8D\"}],\"stream\":true,"
      "\"stream_options\":{\"include_usage\":true}}";
  EXPECT_EQ(inject_include_usage(body), expected);
}

} // namespace
} // namespace tokenmeter
