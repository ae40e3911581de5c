#include "json_writer.hpp"

#include "utf8.hpp"

#include <array>
#include <utility>

namespace tokenmeter {
namespace {

constexpr std::string_view replacement_character = "\\ufffd";

} // namespace

void json_writer::begin_object() {
  separate();
  out_ += '{';
  needs_comma_ = false;
}

void json_writer::end_object() {
  out_ += '}';
  needs_comma_ = true;
}

void json_writer::begin_array() {
  separate();
  out_ += '[';
  needs_comma_ = false;
}

void json_writer::end_array() {
  out_ += ']';
  needs_comma_ = true;
}

void json_writer::key(std::string_view name) {
  separate();
  append_escaped(name);
  out_ += ':';
  needs_comma_ = false;
}

void json_writer::string(std::string_view value) {
  separate();
  append_escaped(value);
  needs_comma_ = true;
}

void json_writer::integer(std::int64_t value) { number(std::to_string(value)); }

void json_writer::number(std::string_view json_number) {
  separate();
  out_ += json_number;
  needs_comma_ = true;
}

void json_writer::boolean(bool value) { number(value ? "true" : "false"); }

void json_writer::null() { number("null"); }

std::string json_writer::take() {
  needs_comma_ = false;
  return std::exchange(out_, {});
}

void json_writer::separate() {
  if (needs_comma_) out_ += ',';
}

void json_writer::append_escaped(std::string_view text) {
  static constexpr std::array<char, 16> hex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                               '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out_ += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0 || length == std::string_view::npos) {
        out_ += replacement_character;
        ++i;
      } else {
        out_.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
    case '"': out_ += "\\\""; break;
    case '\\': out_ += "\\\\"; break;
    case '\b': out_ += "\\b"; break;
    case '\f': out_ += "\\f"; break;
    case '\n': out_ += "\\n"; break;
    case '\r': out_ += "\\r"; break;
    case '\t': out_ += "\\t"; break;
    default:
      if (c < 0x20) {
        out_ += "\\u00";
        out_ += hex[c >> 4];
        out_ += hex[c & 0x0F];
      } else {
        out_ += static_cast<char>(c);
      }
    }
    ++i;
  }
  out_ += '"';
}

} // namespace tokenmeter
