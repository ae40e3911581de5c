#include "model_name.hpp"

#include <algorithm>
#include <array>

namespace tokenmeter {
namespace {

bool all_digits(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int two_digits(std::string_view text) noexcept {
  return (text[0] - '0') * 10 + (text[1] - '0');
}

// Digits alone would also match build numbers; a real month and day keep the rule to dates.
bool is_date(std::string_view year, std::string_view month, std::string_view day) noexcept {
  if (!all_digits(year) || !all_digits(month) || !all_digits(day)) {
    return false;
  }
  const int m = two_digits(month);
  const int d = two_digits(day);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

} // namespace

std::string lower_ascii(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return lower;
}

std::string_view without_provider_prefix(std::string_view name) noexcept {
  constexpr std::array<std::string_view, 2> prefixes{"openai/", "anthropic/"};
  for (const std::string_view prefix : prefixes) {
    if (name.size() > prefix.size() && name.starts_with(prefix)) {
      return name.substr(prefix.size());
    }
  }
  return name;
}

std::string_view without_snapshot_date(std::string_view name) noexcept {
  constexpr std::size_t dashed = 11; // "-2024-08-06"
  if (name.size() > dashed) {
    const std::string_view tail = name.substr(name.size() - dashed);
    if (tail[0] == '-' && tail[5] == '-' && tail[8] == '-' &&
        is_date(tail.substr(1, 4), tail.substr(6, 2), tail.substr(9, 2))) {
      return name.substr(0, name.size() - dashed);
    }
  }
  constexpr std::size_t compact = 9; // "-20250514"
  if (name.size() > compact) {
    const std::string_view tail = name.substr(name.size() - compact);
    if (tail[0] == '-' && is_date(tail.substr(1, 4), tail.substr(5, 2), tail.substr(7, 2))) {
      return name.substr(0, name.size() - compact);
    }
  }
  return name;
}

} // namespace tokenmeter
