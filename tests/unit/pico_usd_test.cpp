#include "pico_usd.hpp"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(PicoUsd, ReadsADecimalExactly) {
  EXPECT_EQ(pico_usd_from_json_number("0.0034728"), 3'472'800'000);
  EXPECT_EQ(pico_usd_from_json_number("12"), 12'000'000'000'000);
  EXPECT_EQ(pico_usd_from_json_number("0"), 0);
}

TEST(PicoUsd, ReadsExponentNotation) {
  EXPECT_EQ(pico_usd_from_json_number("7.5e-06"), 7'500'000);
  EXPECT_EQ(pico_usd_from_json_number("3.4728E-3"), 3'472'800'000);
  EXPECT_EQ(pico_usd_from_json_number("1e+2"), 100'000'000'000'000);
  EXPECT_EQ(pico_usd_from_json_number("1e-12"), 1);
}

TEST(PicoUsd, DigitsFinerThanAPicoDollarRoundHalfUp) {
  EXPECT_EQ(pico_usd_from_json_number("0.0000000000014"), 1);
  EXPECT_EQ(pico_usd_from_json_number("0.0000000000015"), 2);
  EXPECT_EQ(pico_usd_from_json_number("1e-400"), 0);
}

TEST(PicoUsd, ValuesBeyondInt64AreRejected) {
  EXPECT_EQ(pico_usd_from_json_number("9223372.036854775807"), 9'223'372'036'854'775'807);
  EXPECT_EQ(pico_usd_from_json_number("9223372.036854775808"), std::nullopt);
  EXPECT_EQ(pico_usd_from_json_number("1e400"), std::nullopt);
}

TEST(PicoUsd, NonNumbersAndNegativesAreRejected) {
  for (const char* text : {"", "-0.1", "abc", "1.", ".5", "01", "1e", "1e+", "0x10", "1.5 ", "\"0.1\""}) {
    EXPECT_EQ(pico_usd_from_json_number(text), std::nullopt) << text;
  }
}

} // namespace
} // namespace tokenmeter
