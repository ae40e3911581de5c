#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

enum class log_level { debug, info, warn, error };

/// Parses "debug", "info", "warn" or "error".
std::optional<log_level> parse_log_level(std::string_view text) noexcept;
/// Lines below this level are discarded. Set once at start-up.
void set_log_level(log_level level) noexcept;
bool log_enabled(log_level level) noexcept;

/// One logfmt line on stderr, written whole when the object dies so that lines from
/// several threads never interleave. Values are quoted and escaped as needed, so a
/// header value can never forge a second line or field.
class log_line {
public:
  log_line(log_level level, std::string_view event);
  ~log_line();
  log_line(const log_line&) = delete;
  log_line& operator=(const log_line&) = delete;

  log_line& kv(std::string_view key, std::string_view value);
  log_line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  log_line& kv(std::string_view key, std::int64_t value);
  log_line& kv(std::string_view key, std::uint64_t value);
  log_line& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }

private:
  bool enabled_;
  std::string line_;
};

} // namespace tokenmeter
