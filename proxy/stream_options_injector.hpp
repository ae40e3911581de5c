#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

/// The body with stream_options.include_usage set to true when `body` is a JSON object with
/// "stream": true whose stream_options does not already ask for usage (absent, null, missing the
/// key, or false); nullopt otherwise (not JSON, not streamed, already asking). Every other byte unchanged.
std::optional<std::string> inject_include_usage(std::string_view body);

} // namespace tokenmeter
