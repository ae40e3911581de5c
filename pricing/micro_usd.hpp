#pragma once

#include <cstdint>
#include <string_view>

namespace tokenmeter {

/// Why a decimal USD text could not become an exact micro-USD count.
enum class micro_usd_error : std::uint8_t {
  none,              ///< parsed
  negative,          ///< a leading minus sign
  not_decimal,       ///< anything but digits with at most one decimal point
  too_many_decimals, ///< finer than 1e-6 USD, which micro-USD cannot hold exactly
  out_of_range,      ///< does not fit in a signed 64-bit count of micro-USD
};

/// The outcome of parse_micro_usd: a value, or the reason there is none.
struct micro_usd_result {
  std::int64_t micro_usd = 0; ///< meaningful only when error is none
  micro_usd_error error = micro_usd_error::none;
};

/// Reads "2.50" as 2'500'000 micro-USD from the decimal text itself, never through a
/// double, so that every price in the file is represented exactly.
micro_usd_result parse_micro_usd(std::string_view text) noexcept;

/// A short explanation of an error, for messages shown to whoever edits the price file.
std::string_view describe(micro_usd_error error) noexcept;

} // namespace tokenmeter
