#pragma once

#include <cstddef>
#include <string_view>

namespace tokenmeter {

/// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlong
/// forms, no surrogates, nothing past U+10FFFF): 1 to 4; 0 when it is malformed; npos when it
/// is a valid beginning that `text` ends before completing. `text` must not be empty.
std::size_t utf8_sequence_length(std::string_view text) noexcept;

} // namespace tokenmeter
