#include "money.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace tokenmeter::money {
namespace {

TEST(UsdFromPico, ZeroIsPlainZero) { EXPECT_EQ(usd_from_pico(0), "0"); }

TEST(UsdFromPico, CachedGpt4oExchangeIsExact) {
  // 440 uncached x 2.50 + 2560 cached x 1.25 + 400 out x 10 USD per 1M tokens.
  EXPECT_EQ(usd_from_pico(8'300'000'000), "0.0083");
}

TEST(UsdFromPico, KeepsEverySignificantDigit) {
  EXPECT_EQ(usd_from_pico(2'441'400'000), "0.0024414");
}

TEST(UsdFromPico, OnePicoDollarIsTwelfthDecimal) { EXPECT_EQ(usd_from_pico(1), "0.000000000001"); }

TEST(UsdFromPico, WholeDollarsHaveNoDecimalPoint) {
  EXPECT_EQ(usd_from_pico(1'000'000'000'000), "1");
  EXPECT_EQ(usd_from_pico(42'000'000'000'000), "42");
}

TEST(UsdFromPico, DollarsAndCentsDropTrailingZeros) {
  EXPECT_EQ(usd_from_pico(12'340'000'000'000), "12.34");
}

TEST(UsdFromPico, LargestInt64IsExact) {
  EXPECT_EQ(usd_from_pico(std::numeric_limits<std::int64_t>::max()), "9223372.036854775807");
}

TEST(UsdFromPico, NegativeAmountsKeepTheirSign) {
  EXPECT_EQ(usd_from_pico(-1'500'000'000'000), "-1.5");
  EXPECT_EQ(usd_from_pico(-1), "-0.000000000001");
}

TEST(UsdFromPico, SmallestInt64DoesNotOverflow) {
  EXPECT_EQ(usd_from_pico(std::numeric_limits<std::int64_t>::min()), "-9223372.036854775808");
}

TEST(MillisFromMicros, AlwaysThreeDecimals) {
  EXPECT_EQ(millis_from_micros(1'234'567), "1234.567");
  EXPECT_EQ(millis_from_micros(1'500), "1.500");
  EXPECT_EQ(millis_from_micros(5), "0.005");
  EXPECT_EQ(millis_from_micros(0), "0.000");
}

TEST(DecimalText, ScaleZeroIsTheInteger) { EXPECT_EQ(decimal_text(907, 0, 0), "907"); }

TEST(DecimalText, PadsFractionBeyondScale) { EXPECT_EQ(decimal_text(5, 0, 2), "5.00"); }

TEST(DecimalText, PadsLeadingZerosOfTheFraction) { EXPECT_EQ(decimal_text(7, 4, 0), "0.0007"); }

} // namespace
} // namespace tokenmeter::money
