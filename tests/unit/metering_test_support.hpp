#pragma once

// Helpers shared by the metering tests (usage tap, bug cases, body decoder): fixture
// files, feeding a tap in chosen pieces, and compressing bodies with zlib.

#include "usage_tap.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

inline void PrintTo(const token_usage& usage, std::ostream* out) {
  const auto field = [out](const char* name, const std::optional<std::uint64_t>& value) {
    *out << name << '=';
    if (value) {
      *out << *value;
    } else {
      *out << "unset";
    }
    *out << ' ';
  };
  field("prompt", usage.prompt_tokens);
  field("cached", usage.cached_prompt_tokens);
  field("cache_write", usage.cache_write_tokens);
  field("completion", usage.completion_tokens);
  field("reasoning", usage.reasoning_tokens);
  field("cache_write_1h", usage.cache_write_1h_tokens);
}

namespace test {

inline constexpr std::optional<std::uint64_t> unset = std::nullopt;

/// A record's counts, in the order of the ledger's columns.
inline token_usage counts(std::optional<std::uint64_t> prompt, std::optional<std::uint64_t> cached,
                          std::optional<std::uint64_t> cache_write, std::optional<std::uint64_t> completion,
                          std::optional<std::uint64_t> reasoning) {
  return token_usage{prompt, cached, cache_write, completion, reasoning, std::nullopt};
}

/// Anthropic's counts, whose cache writes are broken down into five-minute and one-hour ones.
inline token_usage anthropic_counts(std::uint64_t prompt, std::uint64_t cached, std::uint64_t cache_write,
                                    std::uint64_t completion, std::uint64_t cache_write_1h) {
  token_usage usage = counts(prompt, cached, cache_write, completion, unset);
  usage.cache_write_1h_tokens = cache_write_1h;
  return usage;
}

/// The bytes of tests/fixtures/<relative>, exactly as stored.
inline std::string read_fixture(const std::string& relative) {
  const std::string path = std::string(TOKENMETER_FIXTURES_DIR) + "/" + relative;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error("cannot open fixture " + path);
  }
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

/// body cut into consecutive pieces of the given sizes (the last piece takes the rest).
inline std::vector<std::string_view> cut(std::string_view body, const std::vector<std::size_t>& sizes) {
  std::vector<std::string_view> pieces;
  for (std::size_t size : sizes) {
    const std::size_t take = std::min(size, body.size());
    pieces.push_back(body.substr(0, take));
    body.remove_prefix(take);
  }
  if (!body.empty()) {
    pieces.push_back(body);
  }
  return pieces;
}

/// body cut into pieces of exactly `size` bytes (the last may be shorter).
inline std::vector<std::string_view> cut_every(std::string_view body, std::size_t size) {
  return cut(body, std::vector<std::size_t>((body.size() + size - 1) / size, size));
}

/// body cut into pieces of 1..max_size bytes drawn from a seeded PRNG.
inline std::vector<std::string_view> cut_randomly(std::string_view body, std::uint32_t seed,
                                                  std::size_t max_size) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::size_t> size(1, max_size);
  std::vector<std::size_t> sizes;
  for (std::size_t total = 0; total < body.size(); total += sizes.back()) {
    sizes.push_back(size(random));
  }
  return cut(body, sizes);
}

/// What a fresh tap reports after being fed the pieces in order.
inline tap_result run_tap(api_schema schema, std::string_view content_type, std::string_view content_encoding,
                          const std::vector<std::string_view>& pieces) {
  usage_tap tap(schema, content_type, content_encoding);
  for (std::string_view piece : pieces) {
    tap.feed(piece);
  }
  return tap.finish();
}

/// data compressed with zlib's deflate; window_bits selects the wrapper
/// (15 + 16 gzip, 15 zlib, -15 raw deflate).
inline std::string compress(std::string_view data, int window_bits) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("deflate did not finish");
  }
  return out;
}

inline std::string gzip(std::string_view data) { return compress(data, 15 + 16); }

} // namespace test
} // namespace tokenmeter
