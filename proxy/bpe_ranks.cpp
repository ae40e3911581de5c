#include "bpe_ranks.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace tokenmeter {

namespace {

/// FNV-1a over 8-byte words: tokens are short, and the table is probed on every merge step.
std::uint64_t hash_bytes(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull ^ bytes.size();
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word = 0;
    for (std::size_t b = 0; b < 8; ++b) word |= std::uint64_t(static_cast<unsigned char>(bytes[i + b])) << (8 * b);
    h = (h ^ word) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ull;
  return h ^ (h >> 32);
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Standard base64 with optional padding; false on any other character.
bool decode_base64(std::string_view text, std::string& out) {
  out.clear();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = base64_value(c);
    if (value < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return !out.empty();
}

} // namespace

std::optional<bpe_ranks> bpe_ranks::parse(std::string_view text, std::string& error) {
  bpe_ranks ranks;
  std::string bytes;
  std::size_t line_number = 0;
  std::vector<std::pair<std::string, std::uint32_t>> lines;
  while (!text.empty()) {
    ++line_number;
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    std::uint32_t rank = 0;
    const std::string_view number = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), rank);
    if (space == std::string_view::npos || ec != std::errc{} || end != number.data() + number.size() ||
        rank == empty_slot || !decode_base64(line.substr(0, space), bytes)) {
      error = "line " + std::to_string(line_number) + ": expected `base64-token rank`";
      return std::nullopt;
    }
    lines.emplace_back(bytes, rank);
  }
  if (lines.empty()) {
    error = "no tokens";
    return std::nullopt;
  }
  std::size_t capacity = 1;
  while (capacity < lines.size() * 2) capacity <<= 1;
  ranks.slots_.assign(capacity, empty_slot);
  ranks.entries_.reserve(lines.size());
  std::size_t arena_bytes = 0;
  for (const auto& line : lines) arena_bytes += line.first.size();
  ranks.arena_.reserve(arena_bytes);
  for (const auto& [token, rank] : lines) {
    if (ranks.rank(token)) {
      error = "token of rank " + std::to_string(rank) + " is listed twice";
      return std::nullopt;
    }
    ranks.insert(token, rank);
  }
  return ranks;
}

std::optional<bpe_ranks> bpe_ranks::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto ranks = parse(text.str(), error);
  if (!ranks) error = path + ": " + error;
  return ranks;
}

void bpe_ranks::insert(std::string_view bytes, std::uint32_t rank) {
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  arena_.append(bytes);
  const auto index = static_cast<std::uint32_t>(entries_.size());
  entries_.push_back({offset, static_cast<std::uint32_t>(bytes.size()), rank});
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash_bytes(bytes) & mask;; slot = (slot + 1) & mask) {
    if (slots_[slot] == empty_slot) {
      slots_[slot] = index;
      return;
    }
  }
}

std::optional<std::uint32_t> bpe_ranks::rank(std::string_view bytes) const noexcept {
  if (slots_.empty()) return std::nullopt;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash_bytes(bytes) & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t index = slots_[slot];
    if (index == empty_slot) return std::nullopt;
    const entry& e = entries_[index];
    if (e.length == bytes.size() && bytes_of(e) == bytes) return e.rank;
  }
}

} // namespace tokenmeter
