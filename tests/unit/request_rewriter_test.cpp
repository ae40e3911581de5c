#include "request_rewriter.hpp"

#include "upstream_config_builder.hpp"

#include <gtest/gtest.h>

using namespace tokenmeter;
using tokenmeter::test_support::upstream;

namespace {

upstream_endpoint endpoint(const std::string& url) { return make_upstream_endpoint(upstream("up", url, "", "")); }

http::request<http::string_body> agent_request() {
  http::request<http::string_body> req{http::verb::post, "/chat/completions?x=1", 11};
  req.set(http::field::host, "127.0.0.1:8080");
  req.set(http::field::authorization, "Bearer sk-test");
  req.set("x-api-key", "key-1");
  req.set("anthropic-version", "2023-06-01");
  req.set(http::field::connection, "keep-alive, X-Private");
  req.set("X-Private", "hop");
  req.set(http::field::keep_alive, "timeout=5");
  req.set(http::field::te, "trailers");
  req.set(http::field::upgrade, "h2c");
  req.set(http::field::expect, "100-continue");
  req.set("X-Upstream", "up");
  req.body() = R"({"model":"gpt-4o"})";
  return req;
}

} // namespace

TEST(RequestRewriter, AppendsAgentPathAndQueryToTheBasePath) {
  const auto up = endpoint("http://127.0.0.1:9000/v1/");
  const auto out = make_upstream_request(agent_request(), up, "/chat/completions", "x=1", "X-Upstream");
  EXPECT_EQ(out.target(), "/v1/chat/completions?x=1");
}

TEST(RequestRewriter, SetsHostToTheUpstream) {
  const auto up = endpoint("https://llm.example.internal:8443/base");
  const auto out = make_upstream_request(agent_request(), up, "/x", "", "X-Upstream");
  EXPECT_EQ(out[http::field::host], "llm.example.internal:8443");
}

TEST(RequestRewriter, PassesCredentialsAndProviderHeadersUntouched) {
  const auto out = make_upstream_request(agent_request(), endpoint("http://h:1"), "/x", "", "X-Upstream");
  EXPECT_EQ(out[http::field::authorization], "Bearer sk-test");
  EXPECT_EQ(out["x-api-key"], "key-1");
  EXPECT_EQ(out["anthropic-version"], "2023-06-01");
}

TEST(RequestRewriter, DropsHopByHopFieldsAndThoseConnectionNames) {
  const auto out = make_upstream_request(agent_request(), endpoint("http://h:1"), "/x", "", "X-Upstream");
  EXPECT_EQ(out.count("X-Private"), 0u);
  EXPECT_EQ(out.count(http::field::keep_alive), 0u);
  EXPECT_EQ(out.count(http::field::te), 0u);
  EXPECT_EQ(out.count(http::field::upgrade), 0u);
  EXPECT_EQ(out.count(http::field::expect), 0u);
}

TEST(RequestRewriter, ConsumesTheRoutingHeader) {
  const auto out = make_upstream_request(agent_request(), endpoint("http://h:1"), "/x", "", "X-Upstream");
  EXPECT_EQ(out.count("X-Upstream"), 0u);
}

TEST(RequestRewriter, SendsTheWholeBodyWithItsLength) {
  const auto out = make_upstream_request(agent_request(), endpoint("http://h:1"), "/x", "", "X-Upstream");
  EXPECT_EQ(out.body(), R"({"model":"gpt-4o"})");
  EXPECT_EQ(out[http::field::content_length], "18");
  EXPECT_FALSE(out.chunked());
}

TEST(RequestRewriter, NarrowsAcceptEncodingToWhatTheTapDecodes) {
  EXPECT_EQ(narrow_accept_encoding("gzip, deflate, br, zstd"), "gzip, deflate");
  EXPECT_EQ(narrow_accept_encoding("br;q=1.0, gzip;q=0.8"), "gzip;q=0.8");
  EXPECT_EQ(narrow_accept_encoding("br"), "identity");
}

TEST(RequestRewriter, KeepsQueryOnlyWhenPresent) {
  const auto out = make_upstream_request(agent_request(), endpoint("http://h:1"), "/models", "", "X-Upstream");
  EXPECT_EQ(out.target(), "/models");
}

TEST(RequestTarget, AcceptsOriginFormPathsAndQueries) {
  EXPECT_EQ(request_target_problem("/v1/chat/completions?api-version=2024-10-21"), "");
  EXPECT_EQ(request_target_problem("/"), "");
  EXPECT_EQ(request_target_problem("/a..b/.well-known/x"), "");
}

TEST(RequestTarget, RefusesAbsoluteAndAsteriskForms) {
  EXPECT_NE(request_target_problem("http://evil.example/echo"), "");
  EXPECT_NE(request_target_problem("*"), "");
  EXPECT_NE(request_target_problem("ok"), "");
}

TEST(RequestTarget, RefusesDotSegmentsPlainOrEncoded) {
  EXPECT_NE(request_target_problem("/../../etc/echo"), "");
  EXPECT_NE(request_target_problem("/alt/../v1/echo"), "");
  EXPECT_NE(request_target_problem("/v1/."), "");
  EXPECT_NE(request_target_problem("/v1/%2E%2e/x"), "");
  EXPECT_NE(request_target_problem("/v1/.%2e"), "");
}

TEST(RequestTarget, IgnoresDotsInTheQuery) { EXPECT_EQ(request_target_problem("/v1/x?path=../y"), ""); }
