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
  constexpr std::array<std::string_view, 11> prefixes{
      "openai/",  "anthropic/", "google/",  "gemini/", "vertex_ai/", "mistral/",
      "mistralai/", "deepseek/", "xai/",    "x-ai/",   "bedrock/"};
  for (const std::string_view prefix : prefixes) {
    if (name.size() > prefix.size() && name.starts_with(prefix)) {
      return name.substr(prefix.size());
    }
  }
  return name;
}

std::string_view without_bedrock_affixes(std::string_view name) noexcept {
  constexpr std::array<std::string_view, 8> regions{"us.",  "eu.", "apac.", "global.",
                                                    "jp.",  "au.", "ca.",   "us-gov."};
  constexpr std::array<std::string_view, 4> vendors{"anthropic.", "meta.", "mistral.", "deepseek."};
  std::string_view rest = name;
  for (const std::string_view region : regions) {
    if (rest.starts_with(region)) {
      rest.remove_prefix(region.size());
      break;
    }
  }
  const auto vendor = std::find_if(vendors.begin(), vendors.end(),
                                   [&](std::string_view v) { return rest.starts_with(v); });
  // Without a vendor a dotted name is not a Bedrock id ("gpt-5.1" must stay whole).
  if (vendor == vendors.end() || rest.size() == vendor->size()) {
    return name;
  }
  rest.remove_prefix(vendor->size());
  // The trailing "-v1:0" / "-v2" is Bedrock's version of the listing, not of the model.
  const std::size_t dash_v = rest.rfind("-v");
  if (dash_v != std::string_view::npos && dash_v > 0) {
    const std::string_view version = rest.substr(dash_v + 2);
    const std::size_t colon = version.find(':');
    const std::string_view major = version.substr(0, colon);
    const std::string_view minor =
        colon == std::string_view::npos ? std::string_view{} : version.substr(colon + 1);
    if (!major.empty() && all_digits(major) && all_digits(minor) &&
        (colon == std::string_view::npos || !minor.empty())) {
      rest = rest.substr(0, dash_v);
    }
  }
  return rest;
}

std::optional<std::string_view> fine_tune_base(std::string_view name) noexcept {
  constexpr std::string_view marker = "ft:";
  if (!name.starts_with(marker)) {
    return std::nullopt;
  }
  const std::string_view rest = name.substr(marker.size());
  const std::string_view base = rest.substr(0, rest.find(':'));
  if (base.empty()) {
    return std::nullopt;
  }
  return base;
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
