#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace tokenmeter {

/// A response's Content-Encoding as far as metering is concerned.
enum class content_coding : std::uint8_t {
  identity,    ///< no encoding: bytes pass through
  gzip,        ///< gzip (also x-gzip), possibly several members
  deflate,     ///< zlib-wrapped deflate, or raw deflate as some servers send it
  unsupported, ///< anything else (br, zstd, stacked codings): cannot be metered
};

/// The coding named by a Content-Encoding header value (case-insensitive, trimmed).
content_coding coding_for(std::string_view content_encoding) noexcept;

/// Incremental decoding of a content-encoded body, fed the pieces the relay read.
/// Errors are flagged, never thrown; output is bounded per call so a small compressed
/// piece cannot make one call produce an unbounded amount of data.
class body_decoder {
public:
  /// Decoded bytes one call to decode() returns at most.
  static constexpr std::size_t output_chunk_bytes = 16 * 1024;

  /// A decoder for one body; an unsupported coding starts out failed.
  explicit body_decoder(content_coding coding);
  ~body_decoder();
  body_decoder(const body_decoder&) = delete;
  body_decoder& operator=(const body_decoder&) = delete;

  /// Consumes from the front of input and returns the next decoded bytes, valid until the
  /// next call. Call until it returns empty: then input is used up (or the decoder failed).
  std::string_view decode(std::string_view& input);
  /// The body could not be decoded (corrupt data or an unsupported coding); later input is dropped.
  bool failed() const noexcept { return failed_; }

private:
  struct inflater;

  std::string_view inflate_some(std::string_view& input);
  bool start_inflater(std::string_view& input);

  content_coding coding_;
  std::unique_ptr<inflater> inflater_; ///< zlib state, created once the wrapper is known
  std::uint8_t header_[2] = {};        ///< the first bytes of a deflate body, to tell zlib from raw
  std::uint8_t header_size_ = 0;       ///< header bytes collected
  std::uint8_t header_fed_ = 0;        ///< header bytes already handed to zlib
  bool failed_ = false;
};

} // namespace tokenmeter
