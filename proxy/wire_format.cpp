#include "wire_format.hpp"

#include <charconv>

namespace tokenmeter {

namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(const http::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

} // namespace

void append_head(const http::request_header<>& head, std::string& out) {
  out += head.method_string();
  out += ' ';
  out += head.target();
  out += ' ';
  append_version(head.version(), out);
  out += "\r\n";
  append_fields(head, out);
}

void append_head(const http::response_header<>& head, std::string& out) {
  append_version(head.version(), out);
  out += ' ';
  const unsigned status = head.result_int();
  out += static_cast<char>('0' + status / 100 % 10);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  // reason() falls back to the standard phrase when the message has none, as Beast's writer does.
  out += head.reason();
  out += "\r\n";
  append_fields(head, out);
}

std::string_view make_chunk_size_line(std::size_t size, chunk_size_line& out) noexcept {
  auto* end = std::to_chars(out.data(), out.data() + 16, size, 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  return {out.data(), static_cast<std::size_t>(end - out.data())};
}

} // namespace tokenmeter
