// libFuzzer target for tag values (X-Session-ID, X-Node and the request model): whatever an
// agent sends, sanitize_tag must give a value that is safe in logs, CSV and labels:
//   - at most max_length bytes, no control character (each one became '?', in place);
//   - byte for byte the input, but for those '?' and one '?' for each byte that was not part of
//     well-formed UTF-8; cut by at most the 3 bytes of an incomplete UTF-8 sequence;
//   - always valid UTF-8.
// Input: byte 0 picks max_length (1..256); the rest is the header value.

#include "attribution.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

/// Strict UTF-8 validity (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c < 0x80) length = 1, code = c;
    else if (c >= 0xC2 && c <= 0xDF) length = 2, code = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) length = 3, code = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) length = 4, code = c & 0x07;
    else return false;
    if (i + length > s.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)))
      return false;
    i += length;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t max_length = 1 + data[0];
  const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string tag = tokenmeter::sanitize_tag(value, max_length);

  require(tag.size() <= max_length);
  const std::size_t kept = std::min(value.size(), max_length);
  require(tag.size() + 3 >= kept);
  for (std::size_t i = 0; i < tag.size(); ++i) {
    const auto in = static_cast<unsigned char>(value[i]);
    const bool control = in < 0x20 || in == 0x7f;
    if (control) require(tag[i] == '?');
    else require(tag[i] == value[i] || (tag[i] == '?' && in >= 0x80));
  }
  require(valid_utf8(tag));
  if (valid_utf8(value) && value.size() <= max_length) require(tag.size() == value.size());

  const std::string_view deployment = tokenmeter::azure_deployment(value);
  require(deployment.empty() || (deployment.data() >= value.data() && deployment.data() + deployment.size() <= value.data() + value.size()));
  return 0;
}
