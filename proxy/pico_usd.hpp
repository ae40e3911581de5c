#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tokenmeter {

/// A non-negative JSON number of USD ("0.0034728", "3.4728e-3", "12") as an exact count of
/// pico-USD, read from its decimal text rather than through a double. Digits finer than a
/// pico-USD are rounded half up. Nullopt for a negative number, anything that is not a JSON
/// number, or a value that does not fit in a signed 64-bit count.
std::optional<std::int64_t> pico_usd_from_json_number(std::string_view text) noexcept;

} // namespace tokenmeter
