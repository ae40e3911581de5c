#include "pretokenizer.hpp"

#include "pretokenizer_tables.hpp"

#include <array>
#include <cstdint>

namespace tokenmeter {

namespace {

constexpr std::size_t npos = std::string_view::npos;

/// One code point of the text: its classes and its length in bytes.
struct code_point {
  char32_t value = 0;
  std::uint8_t classes = 0;
  std::uint8_t length = 1;
};

/// ASCII is most of code and JSON: its classes come from a table instead of a search.
const std::array<std::uint8_t, 128> ascii_classes = [] {
  std::array<std::uint8_t, 128> table{};
  for (char32_t c = 0; c < 128; ++c) table[c] = code_point_classes(c);
  return table;
}();

/// Decodes the code point at pos; a malformed sequence is one byte of no class.
code_point decode(std::string_view text, std::size_t pos) noexcept {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {lead, ascii_classes[lead], 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return {0xFFFD, 0, 1};
  }
  if (pos + length > text.size()) return {0xFFFD, 0, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return {0xFFFD, 0, 1};
    value = (value << 6) | (next & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return {0xFFFD, 0, 1};
  return {value, code_point_classes(value), static_cast<std::uint8_t>(length)};
}

bool is_newline(const code_point& c) noexcept { return c.value == '\r' || c.value == '\n'; }
/// [^\r\n\p{L}\p{N}]: what may stand before a word.
bool is_word_prefix(const code_point& c) noexcept {
  return !is_newline(c) && (c.classes & (class_letter | class_number)) == 0;
}
/// [^\s\p{L}\p{N}]: punctuation, symbols, emoji.
bool is_other(const code_point& c) noexcept {
  return (c.classes & (class_space | class_letter | class_number)) == 0;
}

/// The text and its matching primitives; positions are byte offsets.
struct matcher {
  std::string_view text;

  bool at_end(std::size_t pos) const noexcept { return pos >= text.size(); }

  /// End of the run of code points that have any of `classes`, from pos.
  std::size_t run(std::size_t pos, std::uint8_t classes) const noexcept {
    while (!at_end(pos)) {
      const code_point c = decode(text, pos);
      if ((c.classes & classes) == 0) break;
      pos += c.length;
    }
    return pos;
  }

  /// End of a run of other characters (needs at least one), or npos.
  std::size_t run_of_other(std::size_t pos) const noexcept {
    std::size_t end = pos;
    while (!at_end(end)) {
      const code_point c = decode(text, end);
      if (!is_other(c)) break;
      end += c.length;
    }
    return end == pos ? npos : end;
  }

  /// End of a run of the ASCII bytes in `set`, from pos.
  std::size_t run_of_bytes(std::size_t pos, std::string_view set) const noexcept {
    while (!at_end(pos) && set.find(text[pos]) != npos) ++pos;
    return pos;
  }

  /// End of the contraction ('s 't 're 've 'm 'll 'd, any ASCII case) at pos, or npos.
  std::size_t contraction(std::size_t pos) const noexcept {
    if (at_end(pos + 1) || text[pos] != '\'') return npos;
    const auto lower = [&](std::size_t i) { return static_cast<char>(text[i] | 0x20); };
    const char first = lower(pos + 1);
    if (first == 's' || first == 't' || first == 'm' || first == 'd') return pos + 2;
    if (at_end(pos + 2)) return npos;
    const char second = lower(pos + 2);
    if ((first == 'r' && second == 'e') || (first == 'v' && second == 'e') || (first == 'l' && second == 'l'))
      return pos + 3;
    return npos;
  }

  std::size_t with_contraction(std::size_t end) const noexcept {
    const std::size_t longer = contraction(end);
    return longer == npos ? end : longer;
  }

  /// \p{N}{1,3}
  std::size_t digits(std::size_t pos) const noexcept {
    for (int i = 0; i < 3 && !at_end(pos); ++i) {
      const code_point c = decode(text, pos);
      if ((c.classes & class_number) == 0) break;
      pos += c.length;
    }
    return pos;
  }

  /// ` ?[^\s\p{L}\p{N}]+` followed by a run of `trailing`, or npos.
  std::size_t punctuation(std::size_t pos, std::string_view trailing) const noexcept {
    std::size_t start = pos;
    if (text[pos] == ' ' && !at_end(pos + 1) && is_other(decode(text, pos + 1))) start = pos + 1;
    const std::size_t end = run_of_other(start);
    return end == npos ? npos : run_of_bytes(end, trailing);
  }

  /// `\s*[\r\n]+|\s+(?!\S)|\s+` at a whitespace code point.
  std::size_t whitespace(std::size_t pos) const noexcept {
    std::size_t end = pos;
    std::size_t last_start = pos;
    std::size_t after_last_newline = npos;
    std::size_t count = 0;
    while (!at_end(end)) {
      const code_point c = decode(text, end);
      if ((c.classes & class_space) == 0) break;
      last_start = end;
      end += c.length;
      ++count;
      if (is_newline(c)) after_last_newline = end;
    }
    if (after_last_newline != npos) return after_last_newline;
    // Whitespace before a word leaves its last character to that word.
    if (at_end(end) || count == 1) return end;
    return last_start;
  }

  /// o200k: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` + contraction, or npos.
  /// The greedy leading run gives back characters until a trailing one can match.
  std::size_t cased_word(std::size_t pos) const noexcept {
    std::size_t end = pos;
    std::size_t after_last_lower = npos;
    while (!at_end(end)) {
      const code_point c = decode(text, end);
      if ((c.classes & class_upper_like) == 0) break;
      end += c.length;
      if ((c.classes & class_lower_like) != 0) after_last_lower = end;
    }
    const std::size_t lower_end = run(end, class_lower_like);
    if (lower_end != end) return with_contraction(lower_end);
    return after_last_lower == npos ? npos : with_contraction(after_last_lower);
  }

  /// o200k: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` + contraction, or npos.
  std::size_t capitalised_word(std::size_t pos) const noexcept {
    const std::size_t upper_end = run(pos, class_upper_like);
    if (upper_end == pos) return npos;
    return with_contraction(run(upper_end, class_lower_like));
  }

  std::size_t cl100k_piece(std::size_t pos) const noexcept {
    if (const std::size_t end = contraction(pos); end != npos) return end;
    const code_point first = decode(text, pos);
    if (first.classes & class_letter) return run(pos, class_letter);
    if (is_word_prefix(first) && !at_end(pos + first.length) &&
        (decode(text, pos + first.length).classes & class_letter))
      return run(pos + first.length, class_letter);
    if (first.classes & class_number) return digits(pos);
    if (const std::size_t end = punctuation(pos, "\r\n"); end != npos) return end;
    return whitespace(pos);
  }

  std::size_t o200k_piece(std::size_t pos) const noexcept {
    const code_point first = decode(text, pos);
    const bool prefixed = is_word_prefix(first) && !at_end(pos + first.length);
    const std::size_t after_prefix = pos + first.length;
    if (prefixed) {
      if (const std::size_t end = cased_word(after_prefix); end != npos) return end;
    }
    if (const std::size_t end = cased_word(pos); end != npos) return end;
    if (prefixed) {
      if (const std::size_t end = capitalised_word(after_prefix); end != npos) return end;
    }
    if (const std::size_t end = capitalised_word(pos); end != npos) return end;
    if (first.classes & class_number) return digits(pos);
    if (const std::size_t end = punctuation(pos, "\r\n/"); end != npos) return end;
    return whitespace(pos);
  }
};

} // namespace

std::size_t pretokenizer::piece_length(std::string_view text, std::size_t pos) const noexcept {
  const matcher m{text};
  const std::size_t end = pattern_ == split_pattern::o200k ? m.o200k_piece(pos) : m.cl100k_piece(pos);
  // Every character matches some alternative; the guard keeps a caller's loop finite regardless.
  return end > pos ? end - pos : decode(text, pos).length;
}

} // namespace tokenmeter
