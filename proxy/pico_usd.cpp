#include "pico_usd.hpp"

#include <cctype>
#include <limits>

namespace tokenmeter {

namespace {

constexpr int pico_digits = 12;
constexpr std::uint64_t max_pico = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
/// Exponents beyond this cannot change a representable result other than to zero or overflow.
constexpr int max_exponent_magnitude = 400;

bool is_digit(char c) noexcept { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

/// The decimal digits of a number without its point, and the power of ten they are scaled by.
struct decimal {
  std::string_view integer;
  std::string_view fraction;
  int exponent = 0;
};

/// Splits JSON number grammar: int [frac] [exp]; no sign (the caller rejected minus).
std::optional<decimal> split(std::string_view text) noexcept {
  decimal d;
  std::size_t at = 0;
  while (at < text.size() && is_digit(text[at])) {
    ++at;
  }
  d.integer = text.substr(0, at);
  if (d.integer.empty() || (d.integer.size() > 1 && d.integer.front() == '0')) {
    return std::nullopt;
  }
  if (at < text.size() && text[at] == '.') {
    const std::size_t start = ++at;
    while (at < text.size() && is_digit(text[at])) {
      ++at;
    }
    d.fraction = text.substr(start, at - start);
    if (d.fraction.empty()) {
      return std::nullopt;
    }
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    bool negative = false;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      negative = text[at] == '-';
      ++at;
    }
    const std::size_t start = at;
    int magnitude = 0;
    while (at < text.size() && is_digit(text[at])) {
      magnitude = std::min(max_exponent_magnitude, magnitude * 10 + (text[at] - '0'));
      ++at;
    }
    if (at == start) {
      return std::nullopt;
    }
    d.exponent = negative ? -magnitude : magnitude;
  }
  if (at != text.size()) {
    return std::nullopt;
  }
  return d;
}

} // namespace

std::optional<std::int64_t> pico_usd_from_json_number(std::string_view text) noexcept {
  const std::optional<decimal> d = split(text);
  if (!d) {
    return std::nullopt;
  }
  // Every digit, integer then fraction, has a place value of 10^(place) pico-USD.
  const int first_place = static_cast<int>(d->integer.size()) - 1 + d->exponent + pico_digits;
  std::uint64_t pico = 0;
  int place = first_place;
  bool round_up = false;
  for (std::string_view digits : {d->integer, d->fraction}) {
    for (char c : digits) {
      const int digit = c - '0';
      if (place >= 0) {
        if (pico > (max_pico - static_cast<std::uint64_t>(digit)) / 10) {
          return std::nullopt;
        }
        pico = pico * 10 + static_cast<std::uint64_t>(digit);
      } else if (place == -1) {
        round_up = digit >= 5;
      }
      --place;
    }
  }
  // Digits that ended above the pico place still owe their trailing zeros.
  for (; place >= 0; --place) {
    if (pico > max_pico / 10) {
      return std::nullopt;
    }
    pico *= 10;
  }
  if (round_up) {
    if (pico == max_pico) {
      return std::nullopt;
    }
    ++pico;
  }
  return static_cast<std::int64_t>(pico);
}

} // namespace tokenmeter
