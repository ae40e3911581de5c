#include "upstream_endpoint.hpp"

#include "upstream_config_builder.hpp"

#include <gtest/gtest.h>

using namespace tokenmeter;
using tokenmeter::test_support::upstream;

TEST(UpstreamEndpoint, RejectsNonHttpSchemes) {
  EXPECT_THROW(make_upstream_endpoint(upstream("x", "ftp://h/", "", "")), config_error);
}

TEST(UpstreamEndpoint, DefaultsPortsFromTheScheme) {
  EXPECT_EQ(make_upstream_endpoint(upstream("x", "http://h", "", "")).port, "80");
  EXPECT_EQ(make_upstream_endpoint(upstream("x", "https://h", "", "")).port, "443");
}

TEST(UpstreamEndpoint, ParsesIpv6Literals) {
  const auto ep = make_upstream_endpoint(upstream("x", "http://[::1]:8000/v1", "", ""));
  EXPECT_EQ(ep.host, "::1");
  EXPECT_TRUE(ep.host_is_ip);
  EXPECT_EQ(ep.base_path, "/v1");
  EXPECT_EQ(ep.host_header, "[::1]:8000");
}

TEST(UpstreamEndpoint, RejectsAMissingCaFile) {
  EXPECT_THROW(make_upstream_endpoint(upstream("x", "https://h", "", "/nonexistent/ca.pem")), config_error);
}
