#include "usage_pointer_extractor.hpp"

#include "config.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace tokenmeter {
namespace {

usage_pointers billing_pointers(bool cumulative) {
  usage_pointers pointers;
  pointers.prompt = "/billing/in";
  pointers.completion = "/billing/out";
  pointers.cached = "/billing/cache~1hits";
  pointers.reasoning = "/billing/steps/0/think";
  pointers.total = "/billing/all";
  pointers.model = "/engine";
  pointers.cumulative = cumulative;
  return pointers;
}

payload_status extract(const usage_pointer_extractor& extractor, const std::string& json, usage_state& state) {
  simdjson::padded_string padded(json);
  return extractor.extract(padded, state);
}

TEST(UsagePointerExtractor, ReadsEveryConfiguredPointer) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  EXPECT_EQ(extract(extractor, R"({"engine":"tachyon-2","billing":{"in":120,"out":40,"cache/hits":64,
      "steps":[{"think":12}],"all":160}})", state),
            payload_status::ok);
  EXPECT_EQ(state.usage.input, 120u);
  EXPECT_EQ(state.usage.output, 40u);
  EXPECT_EQ(state.usage.cached, 64u);
  EXPECT_EQ(state.usage.reasoning, 12u);
  EXPECT_EQ(state.usage.total, 160u);
  EXPECT_EQ(state.model, "tachyon-2");
  EXPECT_TRUE(state.usage.seen);
}

TEST(UsagePointerExtractor, APayloadWithoutTheFieldsChangesNothing) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  EXPECT_EQ(extract(extractor, R"({"delta":{"text":"hi"}})", state), payload_status::ok);
  EXPECT_FALSE(state.usage.seen);
  EXPECT_EQ(state.model, "");
}

TEST(UsagePointerExtractor, CumulativeValuesReplaceEarlierOnes) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  extract(extractor, R"({"billing":{"in":100,"out":1}})", state);
  extract(extractor, R"({"billing":{"in":100,"out":7}})", state);
  EXPECT_EQ(state.usage.input, 100u);
  EXPECT_EQ(state.usage.output, 7u);
}

TEST(UsagePointerExtractor, DeltaValuesAreAdded) {
  const usage_pointer_extractor extractor(billing_pointers(false));
  usage_state state;
  extract(extractor, R"({"billing":{"in":100,"out":1}})", state);
  extract(extractor, R"({"billing":{"out":7}})", state);
  EXPECT_EQ(state.usage.input, 100u);
  EXPECT_EQ(state.usage.output, 8u);
}

TEST(UsagePointerExtractor, NonCountValuesMakeTheUsageUnreadable) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  extract(extractor, R"({"billing":{"in":"120","out":-1,"all":1.5}})", state);
  EXPECT_TRUE(state.usage.unreadable);
  EXPECT_EQ(state.usage.input, std::nullopt);
}

TEST(UsagePointerExtractor, NullCountsAreUnreported) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  extract(extractor, R"({"billing":{"in":120,"out":null}})", state);
  EXPECT_FALSE(state.usage.unreadable);
  EXPECT_EQ(state.usage.input, 120u);
  EXPECT_EQ(state.usage.output, std::nullopt);
}

TEST(UsagePointerExtractor, ATruncatedPayloadIsInvalidAndCommitsNothing) {
  const usage_pointer_extractor extractor(billing_pointers(true));
  usage_state state;
  EXPECT_EQ(extract(extractor, R"({"engine":"t","billing":{"in":120,"out":40},"tail":[1,2)", state),
            payload_status::invalid);
  EXPECT_EQ(extract(extractor, R"({"billing":{"in":120}} trailing)", state), payload_status::invalid);
  EXPECT_EQ(extract(extractor, R"([1,2])", state), payload_status::invalid);
  EXPECT_FALSE(state.usage.seen);
  EXPECT_EQ(state.model, "");
}

TEST(UsagePointerExtractor, ValidatesPointerSyntax) {
  EXPECT_TRUE(usage_pointer_extractor::is_valid_pointer(""));
  EXPECT_TRUE(usage_pointer_extractor::is_valid_pointer("/a/b~0c~1d/0"));
  EXPECT_FALSE(usage_pointer_extractor::is_valid_pointer("a/b"));
  EXPECT_FALSE(usage_pointer_extractor::is_valid_pointer("/a~2"));
  EXPECT_FALSE(usage_pointer_extractor::is_valid_pointer("/a~"));
}

} // namespace
} // namespace tokenmeter
