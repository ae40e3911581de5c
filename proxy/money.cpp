#include "money.hpp"

#include <algorithm>

namespace tokenmeter::money {

std::string decimal_text(std::int64_t units, unsigned scale, unsigned min_fraction_digits) {
  // Work on the unsigned magnitude so that INT64_MIN has a representable absolute value.
  const bool negative = units < 0;
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(units) + 1 : static_cast<std::uint64_t>(units);

  std::string digits = std::to_string(magnitude);
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - scale);
  std::string fraction = digits.substr(digits.size() - scale);

  const std::size_t last_significant = fraction.find_last_not_of('0');
  const std::size_t significant = last_significant == std::string::npos ? 0 : last_significant + 1;
  fraction.resize(std::max<std::size_t>(significant, min_fraction_digits), '0');

  std::string text = negative ? "-" : "";
  text += whole;
  if (!fraction.empty()) text += '.' + fraction;
  return text;
}

std::string usd_from_pico(std::int64_t pico_usd) { return decimal_text(pico_usd, 12, 0); }

std::string millis_from_micros(std::int64_t micros) { return decimal_text(micros, 3, 3); }

} // namespace tokenmeter::money
