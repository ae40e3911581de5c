#include "body_decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace tokenmeter {

namespace {

constexpr int max_window_bits = 15;
constexpr int auto_gzip_or_zlib = 32; ///< zlib windowBits flag: detect the gzip or zlib wrapper
constexpr std::size_t deflate_header_size = 2;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

/// RFC 1950: compression method 8, window at most 32K, header checksum a multiple of 31.
bool is_zlib_header(std::uint8_t cmf, std::uint8_t flg) noexcept {
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

} // namespace

struct body_decoder::inflater {
  z_stream stream{};
  bool ready = false; ///< inflateInit2 succeeded
  bool ended = false; ///< a deflate stream reached its end; anything after it is ignored
  std::array<char, output_chunk_bytes> output{};

  explicit inflater(int window_bits) : ready(inflateInit2(&stream, window_bits) == Z_OK) {}
  ~inflater() {
    if (ready) {
      inflateEnd(&stream);
    }
  }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;
};

content_coding coding_for(std::string_view content_encoding) noexcept {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!content_encoding.empty() && blank(content_encoding.front())) {
    content_encoding.remove_prefix(1);
  }
  while (!content_encoding.empty() && blank(content_encoding.back())) {
    content_encoding.remove_suffix(1);
  }
  if (content_encoding.empty() || iequals(content_encoding, "identity")) {
    return content_coding::identity;
  }
  if (iequals(content_encoding, "gzip") || iequals(content_encoding, "x-gzip")) {
    return content_coding::gzip;
  }
  if (iequals(content_encoding, "deflate")) {
    return content_coding::deflate;
  }
  return content_coding::unsupported;
}

body_decoder::body_decoder(content_coding coding) : coding_(coding) {
  if (coding_ == content_coding::unsupported) {
    failed_ = true;
  } else if (coding_ == content_coding::gzip) {
    inflater_ = std::make_unique<inflater>(max_window_bits + auto_gzip_or_zlib);
    failed_ = !inflater_->ready;
  }
}

body_decoder::~body_decoder() = default;

std::string_view body_decoder::decode(std::string_view& input) {
  if (failed_) {
    input = {};
    return {};
  }
  if (coding_ == content_coding::identity) {
    return std::exchange(input, {});
  }
  if (!inflater_ && !start_inflater(input)) {
    return {};
  }
  return inflate_some(input);
}

bool body_decoder::start_inflater(std::string_view& input) {
  // Servers disagree on what "deflate" means (RFC 9110 says zlib-wrapped; some send raw
  // deflate), so the first two bytes decide.
  while (header_size_ < deflate_header_size && !input.empty()) {
    header_[header_size_++] = static_cast<std::uint8_t>(input.front());
    input.remove_prefix(1);
  }
  if (header_size_ < deflate_header_size) {
    return false;
  }
  const bool zlib = is_zlib_header(header_[0], header_[1]);
  inflater_ = std::make_unique<inflater>(zlib ? max_window_bits : -max_window_bits);
  failed_ = !inflater_->ready;
  return !failed_;
}

std::string_view body_decoder::inflate_some(std::string_view& input) {
  z_stream& z = inflater_->stream;
  z.next_out = reinterpret_cast<Bytef*>(inflater_->output.data());
  z.avail_out = static_cast<uInt>(inflater_->output.size());
  while (z.avail_out > 0 && !failed_) {
    if (inflater_->ended) {
      input = {};
      break;
    }
    // The sniffed header bytes of a deflate body go in before the rest of the input.
    const bool from_header = header_fed_ < header_size_;
    const std::string_view source =
        from_header ? std::string_view(reinterpret_cast<const char*>(header_) + header_fed_,
                                       header_size_ - header_fed_)
                    : input;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(source.data()));
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(source.size(), UINT32_MAX));
    const uInt out_before = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t consumed = std::min<std::size_t>(source.size(), UINT32_MAX) - z.avail_in;
    if (from_header) {
      header_fed_ = static_cast<std::uint8_t>(header_fed_ + consumed);
    } else {
      input.remove_prefix(consumed);
    }
    if (rc == Z_STREAM_END) {
      // gzip allows several members back to back; a deflate stream ends once.
      if (coding_ == content_coding::gzip && !input.empty()) {
        failed_ = inflateReset(&z) != Z_OK;
      } else {
        inflater_->ended = coding_ != content_coding::gzip;
        if (input.empty()) {
          break;
        }
      }
    } else if (rc == Z_BUF_ERROR || (consumed == 0 && z.avail_out == out_before)) {
      break; // needs more input
    } else if (rc != Z_OK) {
      failed_ = true;
      input = {};
    }
  }
  return {inflater_->output.data(), inflater_->output.size() - z.avail_out};
}

} // namespace tokenmeter
