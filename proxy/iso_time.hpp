#pragma once

#include <cstdint>
#include <string>

namespace tokenmeter {

/// "2026-12-03T18:29:15.123Z": a Unix time in milliseconds as ISO-8601 UTC.
std::string iso8601_utc(std::int64_t unix_ms);

/// The current time in Unix milliseconds.
std::int64_t unix_ms_now();

} // namespace tokenmeter
