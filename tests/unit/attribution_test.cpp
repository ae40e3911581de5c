#include "attribution.hpp"

#include <gtest/gtest.h>

using namespace tokenmeter;

namespace {

boost::beast::http::fields headers(std::string_view session, std::string_view node) {
  boost::beast::http::fields f;
  f.set("X-Session-ID", session);
  f.set("X-Node", node);
  return f;
}

} // namespace

TEST(Attribution, ReadsSessionAndNodeHeaders) {
  const auto tags = read_request_tags(headers("run-42", "JiraNode"), "", config{});
  EXPECT_EQ(tags.session_id, "run-42");
  EXPECT_EQ(tags.node, "JiraNode");
}

TEST(Attribution, ReadsModelAndStreamFromTheBody) {
  const auto tags = read_request_tags({}, R"({"stream": true, "messages": [], "model": "gpt-4o-mini"})", config{});
  EXPECT_EQ(tags.request_model, "gpt-4o-mini");
  EXPECT_TRUE(tags.stream);
}

TEST(Attribution, IgnoresABodyThatIsNotJson) {
  const auto tags = read_request_tags({}, "model=gpt-4o", config{});
  EXPECT_EQ(tags.request_model, "");
  EXPECT_FALSE(tags.stream);
}

TEST(Attribution, IgnoresAModelThatIsNotAString) {
  const auto tags = read_request_tags({}, R"({"model": 42, "stream": "yes"})", config{});
  EXPECT_EQ(tags.request_model, "");
  EXPECT_FALSE(tags.stream);
}

TEST(Attribution, ReplacesControlCharactersInTags) {
  EXPECT_EQ(sanitize_tag("a\nb\x01" "c\x7f", 256), "a?b?c?");
}

TEST(Attribution, CutsLongTagsToTheLimit) { EXPECT_EQ(sanitize_tag("abcdef", 4), "abcd"); }

TEST(Attribution, NeverSplitsAUtf8SequenceWhenCutting) {
  // "a你" is 61 E4 BD A0: a cut at 3 bytes would leave half a character.
  EXPECT_EQ(sanitize_tag("a\xE4\xBD\xA0", 3), "a");
  EXPECT_EQ(sanitize_tag("a\xE4\xBD\xA0" "b", 4), "a\xE4\xBD\xA0");
}

TEST(Attribution, ReplacesEachMalformedUtf8ByteWithAQuestionMark) {
  // A lone continuation byte, a byte never valid in UTF-8, and a lead byte without its continuation.
  EXPECT_EQ(sanitize_tag("a\x80" "b\xFF" "c\xE4" "d", 256), "a?b?c?d");
}

TEST(Attribution, ReplacesOverlongAndSurrogateEncodings) {
  // C0 AF is an overlong '/', ED A0 80 a UTF-16 surrogate: neither is valid UTF-8.
  EXPECT_EQ(sanitize_tag("x\xC0\xAFy\xED\xA0\x80z", 256), "x??y???z");
}

TEST(Attribution, KeepsValidMultibyteCharacters) {
  EXPECT_EQ(sanitize_tag("n\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80", 256), "n\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80");
}

TEST(Attribution, AnIncompleteCharacterAtTheEndOfAnUncutTagIsReplaced) {
  EXPECT_EQ(sanitize_tag("ab\xE2\x82", 256), "ab??");
}

TEST(Attribution, UsesConfiguredHeaderNames) {
  config cfg;
  cfg.session_header = "X-Run";
  boost::beast::http::fields f;
  f.set("X-Run", "r1");
  EXPECT_EQ(read_request_tags(f, "", cfg).session_id, "r1");
}

TEST(Attribution, AnAzureDeploymentNamesTheRequestModelWhenTheBodyHasNone) {
  const auto tags = read_request_tags({}, R"({"messages":[],"stream":true})", config{},
                                      "/openai/deployments/prod-gpt4o/chat/completions");
  EXPECT_EQ(tags.request_model, "prod-gpt4o");
}

TEST(Attribution, TheBodyModelBeatsTheAzureDeployment) {
  const auto tags = read_request_tags({}, R"({"model":"gpt-4o"})", config{}, "/openai/deployments/prod/chat/completions");
  EXPECT_EQ(tags.request_model, "gpt-4o");
}

TEST(Attribution, FindsTheDeploymentBehindARoutePrefixAndBeforeAQuery) {
  EXPECT_EQ(azure_deployment("/azure/openai/deployments/eu-4o-mini/embeddings"), "eu-4o-mini");
  EXPECT_EQ(azure_deployment("/openai/deployments/d1?api-version=2024-10-21"), "d1");
  EXPECT_EQ(azure_deployment("/v1/chat/completions"), "");
  EXPECT_EQ(azure_deployment("/openai/v1/chat/completions"), "");
}
