#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tokenmeter {

namespace http = boost::beast::http;

/// The bytes Beast's serializer would write for a head, built in one string. The relay sends
/// a head and its first body bytes in one gather write; Beast's serializer costs some twenty
/// thousand instructions per message in buffer-sequence iteration alone.
void append_head(const http::request_header<>& head, std::string& out);
void append_head(const http::response_header<>& head, std::string& out);

/// Room for the size line of any chunk: 16 hex digits and CRLF.
using chunk_size_line = std::array<char, 18>;
/// Writes the size line ("1a2b\r\n") that opens a chunk of `size` bytes; returns it.
std::string_view make_chunk_size_line(std::size_t size, chunk_size_line& out) noexcept;

/// What closes a chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";
/// The last chunk of a chunked body, without trailers.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

} // namespace tokenmeter
