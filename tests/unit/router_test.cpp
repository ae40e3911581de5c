#include "router.hpp"

#include "upstream_config_builder.hpp"

#include <gtest/gtest.h>

using namespace tokenmeter;
using tokenmeter::test_support::upstream;

namespace {

router make_router() {
  std::vector<upstream_endpoint> ups;
  ups.push_back(make_upstream_endpoint(upstream("openai", "http://127.0.0.1:1/v1", "", "")));
  ups.push_back(make_upstream_endpoint(upstream("anthropic", "http://127.0.0.1:2", "/anthropic", "")));
  ups.push_back(make_upstream_endpoint(upstream("anthropic-eu", "http://127.0.0.1:3", "/anthropic/eu", "")));
  return router(std::move(ups), "openai");
}

} // namespace

TEST(Router, UsesTheDefaultUpstreamWhenNoPrefixMatches) {
  const auto r = make_router();
  const auto chosen = r.select("/chat/completions", "");
  ASSERT_NE(chosen.upstream, nullptr);
  EXPECT_EQ(chosen.upstream->name, "openai");
  EXPECT_EQ(chosen.path, "/chat/completions");
}

TEST(Router, StripsTheMatchedPrefix) {
  const auto r = make_router();
  const auto chosen = r.select("/anthropic/v1/messages", "");
  ASSERT_NE(chosen.upstream, nullptr);
  EXPECT_EQ(chosen.upstream->name, "anthropic");
  EXPECT_EQ(chosen.path, "/v1/messages");
}

TEST(Router, PrefersTheLongestPrefix) {
  const auto r = make_router();
  const auto chosen = r.select("/anthropic/eu/v1/messages", "");
  ASSERT_NE(chosen.upstream, nullptr);
  EXPECT_EQ(chosen.upstream->name, "anthropic-eu");
  EXPECT_EQ(chosen.path, "/v1/messages");
}

TEST(Router, MatchesPrefixesOnWholeSegmentsOnly) {
  const auto r = make_router();
  const auto chosen = r.select("/anthropicx/v1/messages", "");
  ASSERT_NE(chosen.upstream, nullptr);
  EXPECT_EQ(chosen.upstream->name, "openai");
}

TEST(Router, HeaderChoiceWinsOverPrefix) {
  const auto r = make_router();
  const auto chosen = r.select("/anthropic/v1/messages", "openai");
  ASSERT_NE(chosen.upstream, nullptr);
  EXPECT_EQ(chosen.upstream->name, "openai");
  EXPECT_EQ(chosen.path, "/anthropic/v1/messages");
}

TEST(Router, UnknownHeaderChoiceHasNoRoute) {
  const auto r = make_router();
  EXPECT_EQ(r.select("/x", "nope").upstream, nullptr);
}

TEST(Router, NoUpstreamsMeansNoRoute) {
  const router r({}, "");
  EXPECT_EQ(r.select("/x", "").upstream, nullptr);
}
