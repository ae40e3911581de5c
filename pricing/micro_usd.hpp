#pragma once

#include <cstdint>
#include <string>
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

/// The outcome of parse_per_token_usd.
struct per_token_result {
  std::int64_t micro_usd_per_million = 0; ///< meaningful only when error is none
  bool exact = true; ///< false when the text is finer than 1e-12 USD per token and was rounded
  micro_usd_error error = micro_usd_error::none;
};

/// Reads a USD-per-token number as LiteLLM writes it ("3e-06", "0.0000025", "1.25e-07") as
/// micro-USD per 1M tokens (x 1e12), from the text itself, rounding half up only below
/// 1e-12 USD per token, where float noise such as "1.0999999999999999e-06" lives.
per_token_result parse_per_token_usd(std::string_view text) noexcept;

/// `units` / 10^scale as exact decimal text without trailing fractional zeros, the inverse
/// of the parsers: (2'500'000, 6) -> "2.5", (8'300'000'000, 12) -> "0.0083".
std::string decimal_text(std::uint64_t units, unsigned scale);

/// A short explanation of an error, for messages shown to whoever edits the price file.
std::string_view describe(micro_usd_error error) noexcept;

} // namespace tokenmeter
