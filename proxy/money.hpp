#pragma once

#include <cstdint>
#include <string>

namespace tokenmeter::money {

/// `units` / 10^scale as exact decimal text, fractional trailing zeros dropped down to
/// `min_fraction_digits`: (8300000000, 12, 0) -> "0.0083", (1234567, 3, 3) -> "1234.567".
std::string decimal_text(std::int64_t units, unsigned scale, unsigned min_fraction_digits);

/// Pico-USD as the shortest exact USD decimal, valid as a JSON number: 0 -> "0".
std::string usd_from_pico(std::int64_t pico_usd);

/// Microseconds as milliseconds with exactly three decimals: 1500 -> "1.500".
std::string millis_from_micros(std::int64_t micros);

} // namespace tokenmeter::money
