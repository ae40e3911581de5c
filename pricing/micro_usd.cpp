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
