#pragma once

#include <string>
#include <string_view>

namespace tokenmeter {

/// ASCII lower case: model names are matched case-insensitively.
std::string lower_ascii(std::string_view text);

/// The name without a leading "openai/" or "anthropic/" routing prefix, else unchanged.
std::string_view without_provider_prefix(std::string_view name) noexcept;

/// The name without a trailing snapshot date, "-YYYY-MM-DD" (OpenAI) or "-YYYYMMDD"
/// (Anthropic), else unchanged.
std::string_view without_snapshot_date(std::string_view name) noexcept;

} // namespace tokenmeter
