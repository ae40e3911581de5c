#include "log.hpp"

#include "iso_time.hpp"

#include <atomic>
#include <cstdio>

namespace tokenmeter {
namespace {

std::atomic<log_level> g_level{log_level::info};

std::string_view level_name(log_level level) noexcept {
  switch (level) {
  case log_level::debug: return "debug";
  case log_level::info: return "info";
  case log_level::warn: return "warn";
  case log_level::error: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view value) noexcept {
  if (value.empty()) return true;
  for (unsigned char c : value)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  return false;
}

void append_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20 || c == 0x7f) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 0xf];
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

} // namespace

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (text == level_name(level)) return level;
  return std::nullopt;
}

void set_log_level(log_level level) noexcept { g_level.store(level, std::memory_order_relaxed); }

bool log_enabled(log_level level) noexcept {
  return static_cast<int>(level) >= static_cast<int>(g_level.load(std::memory_order_relaxed));
}

log_line::log_line(log_level level, std::string_view event) : enabled_(log_enabled(level)) {
  if (!enabled_) return;
  line_.reserve(160);
  line_ += "ts=";
  line_ += iso8601_utc(unix_ms_now());
  line_ += " level=";
  line_ += level_name(level);
  line_ += " event=";
  append_value(line_, event);
}

log_line& log_line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  line_ += ' ';
  line_ += key;
  line_ += '=';
  append_value(line_, value);
  return *this;
}

log_line& log_line::kv(std::string_view key, std::int64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}

log_line& log_line::kv(std::string_view key, std::uint64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}

log_line::~log_line() {
  if (!enabled_) return;
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), stderr);
}

} // namespace tokenmeter
