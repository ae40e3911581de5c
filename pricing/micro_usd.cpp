#include "micro_usd.hpp"

#include <algorithm>
#include <limits>

namespace tokenmeter {
namespace {

constexpr std::size_t max_decimals = 6;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

} // namespace

micro_usd_result parse_micro_usd(std::string_view text) noexcept {
  if (text.starts_with('-')) {
    return {0, micro_usd_error::negative};
  }
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  const bool digits_only = std::all_of(whole.begin(), whole.end(), is_digit) &&
                           std::all_of(fraction.begin(), fraction.end(), is_digit);
  if (whole.empty() || !digits_only || (point != std::string_view::npos && fraction.empty())) {
    return {0, micro_usd_error::not_decimal};
  }
  if (fraction.size() > max_decimals) {
    return {0, micro_usd_error::too_many_decimals};
  }

  constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  const auto append_digit = [&](int digit) {
    if (value > (limit - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
    return true;
  };
  for (const char c : whole) {
    if (!append_digit(c - '0')) {
      return {0, micro_usd_error::out_of_range};
    }
  }
  // Scale to micro-USD by padding the fraction with zeros to six places.
  for (std::size_t i = 0; i < max_decimals; ++i) {
    if (!append_digit(i < fraction.size() ? fraction[i] - '0' : 0)) {
      return {0, micro_usd_error::out_of_range};
    }
  }
  return {value, micro_usd_error::none};
}

per_token_result parse_per_token_usd(std::string_view text) noexcept {
  if (text.starts_with('-')) {
    return {0, true, micro_usd_error::negative};
  }
  const std::size_t e_at = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e_at);
  const std::size_t point = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : mantissa.substr(point + 1);
  if ((whole.empty() && fraction.empty()) || !std::all_of(whole.begin(), whole.end(), is_digit) ||
      !std::all_of(fraction.begin(), fraction.end(), is_digit)) {
    return {0, true, micro_usd_error::not_decimal};
  }
  int exponent = 0;
  if (e_at != std::string_view::npos) {
    std::string_view digits = text.substr(e_at + 1);
    const bool negative = digits.starts_with('-');
    if (negative || digits.starts_with('+')) {
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), is_digit)) {
      return {0, true, micro_usd_error::not_decimal};
    }
    for (const char c : digits) {
      exponent = exponent * 10 + (c - '0');
    }
    exponent = negative ? -exponent : exponent;
  }

  // value = significand x 10^scale; micro-USD per 1M tokens is value x 10^12.
  constexpr std::size_t max_significant = 18;
  std::uint64_t significand = 0;
  std::size_t significant = 0;
  int scale = exponent + 12 - static_cast<int>(fraction.size());
  bool dropped_nonzero = false;
  const auto take = [&](char c) {
    if (significand == 0 && c == '0') {
      return;
    }
    if (significant < max_significant) {
      significand = significand * 10 + static_cast<std::uint64_t>(c - '0');
      ++significant;
      return;
    }
    // A digit past the 18th is dropped: the significand now stands one place higher.
    ++scale;
    dropped_nonzero = dropped_nonzero || c != '0';
  };
  for (const char c : whole) {
    take(c);
  }
  for (const char c : fraction) {
    take(c);
  }

  constexpr std::uint64_t limit = std::numeric_limits<std::int64_t>::max();
  bool exact = !dropped_nonzero;
  while (scale > 0 && significand != 0) {
    if (significand > limit / 10) {
      return {0, true, micro_usd_error::out_of_range};
    }
    significand *= 10;
    --scale;
  }
  if (scale < 0) {
    std::uint64_t remainder_digit = 0;
    bool rest_nonzero = false;
    for (; scale < 0 && significand != 0; ++scale) {
      rest_nonzero = rest_nonzero || remainder_digit != 0;
      remainder_digit = significand % 10;
      significand /= 10;
    }
    exact = exact && remainder_digit == 0 && !rest_nonzero;
    if (remainder_digit >= 5) {
      ++significand;
    }
  }
  return {static_cast<std::int64_t>(significand), exact, micro_usd_error::none};
}

std::string decimal_text(std::uint64_t units, unsigned scale) {
  std::string digits = std::to_string(units);
  if (digits.size() <= scale) {
    digits.insert(0, scale + 1 - digits.size(), '0');
  }
  std::string text = digits.substr(0, digits.size() - scale);
  std::string fraction = digits.substr(digits.size() - scale);
  fraction.erase(fraction.find_last_not_of('0') + 1);
  return fraction.empty() ? text : text + "." + fraction;
}

std::string_view describe(micro_usd_error error) noexcept {
  switch (error) {
  case micro_usd_error::none:
    return "valid";
  case micro_usd_error::negative:
    return "is negative; prices must be zero or more";
  case micro_usd_error::not_decimal:
    return "is not a plain decimal number such as 2.50";
  case micro_usd_error::too_many_decimals:
    return "has more than 6 decimal places; prices are exact to 0.000001 USD per 1M tokens";
  case micro_usd_error::out_of_range:
    return "is too large";
  }
  return "is invalid";
}

} // namespace tokenmeter
