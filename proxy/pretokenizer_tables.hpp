#pragma once

#include <cstdint>

namespace tokenmeter {

/// The character classes of the tiktoken split patterns, as bits of one byte.
enum char_class : std::uint8_t {
  class_letter = 1,     ///< \p{L}
  class_number = 2,     ///< \p{N}
  class_upper_like = 4, ///< [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]: o200k's leading letters of a word
  class_lower_like = 8, ///< [\p{Ll}\p{Lm}\p{Lo}\p{M}]: o200k's trailing letters of a word
  class_space = 16,     ///< \s as JavaScript defines it
};

/// The classes of one code point (0 for none, and for anything outside Unicode).
std::uint8_t code_point_classes(char32_t code_point) noexcept;

} // namespace tokenmeter
