#include "config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <unistd.h>

using namespace tokenmeter;
using ::testing::HasSubstr;

namespace {

command_line parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tokenmeter");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/tokenmeter-config-XXXXXX";
  const int fd = mkstemp(name);
  close(fd);
  std::ofstream(name) << text;
  return name;
}

/// The message of the config_error a config file with `yaml` is refused with; empty if accepted.
std::string refusal_of(const std::string& yaml) {
  const auto path = write_temp(yaml);
  std::string message;
  try {
    parse({"--config", path.c_str()});
  } catch (const config_error& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  return message;
}

} // namespace

TEST(Config, DefaultsListenOnLoopback) {
  const auto cmd = parse({});
  EXPECT_EQ(cmd.cfg.listen, "127.0.0.1:8080");
  EXPECT_EQ(cmd.cfg.admin_listen, "127.0.0.1:9464");
  EXPECT_TRUE(cmd.cfg.upstreams.empty());
  EXPECT_GE(cmd.cfg.threads, 1u);
}

TEST(Config, UpstreamFlagDefinesTheDefaultRoute) {
  const auto cmd = parse({"--upstream", "http://127.0.0.1:8000/v1"});
  ASSERT_EQ(cmd.cfg.upstreams.size(), 1u);
  EXPECT_EQ(cmd.cfg.upstreams[0].name, "default");
  EXPECT_EQ(cmd.cfg.default_upstream, "default");
}

TEST(Config, FlagsOverrideTheFile) {
  const auto path = write_temp("listen: \"127.0.0.1:1111\"\nledger: a.db\n");
  const auto cmd = parse({"--config", path.c_str(), "--listen=127.0.0.1:2222"});
  EXPECT_EQ(cmd.cfg.listen, "127.0.0.1:2222");
  EXPECT_EQ(cmd.cfg.ledger_path, "a.db");
  std::remove(path.c_str());
}

TEST(Config, ReadsUpstreamsWithPrefixesAndTheFirstUnprefixedIsDefault) {
  const auto path = write_temp(
      "upstreams:\n"
      "  - {name: anthropic, url: \"http://127.0.0.1:2\", prefix: \"/anthropic/\"}\n"
      "  - {name: local, url: \"http://127.0.0.1:1/v1\"}\n");
  const auto cmd = parse({"--config", path.c_str()});
  ASSERT_EQ(cmd.cfg.upstreams.size(), 2u);
  EXPECT_EQ(cmd.cfg.upstreams[0].prefix, "/anthropic");
  EXPECT_EQ(cmd.cfg.default_upstream, "local");
  std::remove(path.c_str());
}

TEST(Config, ReadsTimeoutsInSeconds) {
  const auto path = write_temp("timeouts: {connect: 2.5, idle: 600}\n");
  const auto cmd = parse({"--config", path.c_str()});
  EXPECT_EQ(cmd.cfg.timeouts.connect, std::chrono::milliseconds(2500));
  EXPECT_EQ(cmd.cfg.timeouts.idle, std::chrono::milliseconds(600000));
  std::remove(path.c_str());
}

TEST(Config, RejectsUnknownKeysNamingThem) {
  EXPECT_THAT(refusal_of("listne: x\n"), HasSubstr("listne"));
}

TEST(Config, RejectsAMisspeltLimitNamingIt) {
  EXPECT_THAT(refusal_of("limits: {max_conections: 5}\n"), HasSubstr("limits.max_conections"));
}

TEST(Config, RejectsAMisspeltTimeoutNamingIt) {
  EXPECT_THAT(refusal_of("timeouts: {first_bytes: 5}\n"), HasSubstr("timeouts.first_bytes"));
}

TEST(Config, ReadsTheLedgerQueueBound) {
  const auto path = write_temp("limits: {ledger_queue_rows: 500}\n");
  EXPECT_EQ(parse({"--config", path.c_str()}).cfg.ledger_queue_bound, 500u);
  std::remove(path.c_str());
}

TEST(Config, SampleConfigFileIsAccepted) {
  const auto cmd = parse({"--config", TOKENMETER_SAMPLE_CONFIG});
  EXPECT_EQ(cmd.cfg.max_connections, 10'000u);
  EXPECT_EQ(cmd.cfg.ledger_queue_bound, 100'000u);
  EXPECT_EQ(cmd.cfg.timeouts.drain, std::chrono::seconds(120));
}

TEST(Config, OpenTelemetryMetricsAreOffByDefault) { EXPECT_FALSE(parse({}).cfg.otel_genai_metrics); }

TEST(Config, ReadsTheOpenTelemetryMetricsOptIn) {
  const auto path = write_temp("metrics: {otel_genai: true}\n");
  EXPECT_TRUE(parse({"--config", path.c_str()}).cfg.otel_genai_metrics);
  std::remove(path.c_str());
}

TEST(Config, RejectsAnUnknownMetricsKeyNamingIt) {
  EXPECT_THAT(refusal_of("metrics: {otel: true}\n"), HasSubstr("metrics.otel"));
}

TEST(Config, RejectsAScalarWhereASectionMappingBelongsNamingTheSection) {
  EXPECT_THAT(refusal_of("limits: 5\n"), HasSubstr("limits must be a mapping"));
}

TEST(Config, RejectsAListAsAnUpstreamKeyAsAConfigError) {
  const auto path = write_temp("upstreams:\n  - {name: a, url: \"http://h:1\", [x]: 1}\n");
  EXPECT_THROW(parse({"--config", path.c_str()}), config_error);
  std::remove(path.c_str());
}

TEST(Config, RejectsDuplicateUpstreamNames) {
  const auto path = write_temp("upstreams:\n  - {name: a, url: \"http://h:1\"}\n  - {name: a, url: \"http://h:2\"}\n");
  EXPECT_THROW(parse({"--config", path.c_str()}), config_error);
  std::remove(path.c_str());
}

TEST(Config, RejectsUnknownFlags) { EXPECT_THROW(parse({"--nope", "1"}), config_error); }

TEST(Config, RejectsAFlagWithoutValue) { EXPECT_THROW(parse({"--listen"}), config_error); }

TEST(Config, RejectsAMissingFile) { EXPECT_THROW(parse({"--config", "/nonexistent/tm.yaml"}), config_error); }

TEST(Config, HelpStopsParsing) { EXPECT_TRUE(parse({"--help", "--nope"}).show_help); }
