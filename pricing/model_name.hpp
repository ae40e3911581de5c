#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

/// ASCII lower case: model names are matched case-insensitively.
std::string lower_ascii(std::string_view text);

/// The name without a leading routing prefix of a provider whose list prices the table
/// carries ("openai/", "anthropic/", "google/", "gemini/", "mistralai/", "deepseek/",
/// "x-ai/", "bedrock/", ...), else unchanged. Hosts that resell at their own prices
/// ("groq/", "together_ai/", "azure/") are part of the name and never stripped.
std::string_view without_provider_prefix(std::string_view name) noexcept;

/// The model inside an Amazon Bedrock id, "[region.]vendor.model[-vN[:M]]", e.g.
/// "us.anthropic.claude-sonnet-4-20250514-v1:0" -> "claude-sonnet-4-20250514"; else unchanged.
std::string_view without_bedrock_affixes(std::string_view name) noexcept;

/// The name without a trailing snapshot date, "-YYYY-MM-DD" (OpenAI) or "-YYYYMMDD"
/// (Anthropic), else unchanged.
std::string_view without_snapshot_date(std::string_view name) noexcept;

/// The base model of an OpenAI fine-tune id, "ft:gpt-4o-mini-2024-07-18:org::id" ->
/// "gpt-4o-mini-2024-07-18", or nullopt when the name is not a fine-tune id.
std::optional<std::string_view> fine_tune_base(std::string_view name) noexcept;

} // namespace tokenmeter
