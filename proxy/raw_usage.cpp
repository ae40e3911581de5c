#include "raw_usage.hpp"

#include "usage_extractor.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace tokenmeter {

namespace {

using count_field = std::optional<std::uint64_t> raw_usage::*;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max()
                                                           : a + b;
}

/// total_tokens is authoritative: a gap above prompt + completion is output the upstream
/// did not itemise (Gemini's thinking, xAI's reasoning outside completion_tokens).
bool book_total_gap(std::optional<std::uint64_t> total, token_usage& usage) noexcept {
  if (!total || !usage.prompt_tokens || !usage.completion_tokens) {
    return false;
  }
  const std::uint64_t itemised = saturating_add(*usage.prompt_tokens, *usage.completion_tokens);
  if (*total <= itemised) {
    return false;
  }
  const std::uint64_t gap = *total - itemised;
  usage.completion_tokens = *usage.completion_tokens + gap;
  // A reasoning count equal to the gap was reported beside completion_tokens, not inside
  // it; any other gap is hidden reasoning on top of what was itemised.
  if (usage.reasoning_tokens != gap) {
    usage.reasoning_tokens = saturating_add(usage.reasoning_tokens.value_or(0), gap);
  }
  return true;
}

constexpr std::array<count_field, 10> count_fields{
    &raw_usage::input,       &raw_usage::output,     &raw_usage::total,       &raw_usage::cached,
    &raw_usage::cache_hit,   &raw_usage::cached_flat, &raw_usage::cache_read, &raw_usage::cache_write,
    &raw_usage::cache_write_1h, &raw_usage::reasoning};

} // namespace

void raw_usage::merge(const raw_usage& later) {
  for (count_field field : count_fields) {
    if (later.*field) {
      this->*field = later.*field;
    }
  }
  if (later.cost_pico_usd) {
    cost_pico_usd = later.cost_pico_usd;
  }
  seen = seen || later.seen;
  unreadable = unreadable || later.unreadable;
}

void raw_usage::accumulate(const raw_usage& delta) {
  for (count_field field : count_fields) {
    if (delta.*field) {
      this->*field = saturating_add((this->*field).value_or(0), *(delta.*field));
    }
  }
  if (delta.cost_pico_usd) {
    const std::int64_t sum = cost_pico_usd.value_or(0);
    cost_pico_usd = sum > std::numeric_limits<std::int64_t>::max() - *delta.cost_pico_usd
                        ? std::numeric_limits<std::int64_t>::max()
                        : sum + *delta.cost_pico_usd;
  }
  seen = seen || delta.seen;
  unreadable = unreadable || delta.unreadable;
}

normalised_usage normalise(api_schema schema, const raw_usage& raw) noexcept {
  normalised_usage result;
  token_usage& usage = result.usage;
  switch (schema) {
  case api_schema::anthropic_messages:
    // Anthropic's input_tokens excludes both cache reads and cache writes.
    if (raw.input || raw.cache_read || raw.cache_write) {
      usage.prompt_tokens = saturating_add(
          saturating_add(raw.input.value_or(0), raw.cache_read.value_or(0)), raw.cache_write.value_or(0));
    }
    usage.cached_prompt_tokens = raw.cache_read;
    usage.cache_write_tokens = raw.cache_write;
    // The one-hour writes are a breakdown of cache_creation_input_tokens, never more than it.
    if (raw.cache_write_1h)
      usage.cache_write_1h_tokens = std::min(*raw.cache_write_1h, raw.cache_write.value_or(*raw.cache_write_1h));
    break;
  case api_schema::openai_responses:
  case api_schema::cohere_v2:
    usage.prompt_tokens = raw.input;
    usage.cached_prompt_tokens = raw.cached;
    break;
  case api_schema::openai_chat:
    usage.prompt_tokens = raw.input;
    usage.cached_prompt_tokens = raw.cached ? raw.cached : raw.cache_hit ? raw.cache_hit : raw.cached_flat;
    break;
  }
  // A usage object without an output count (embeddings) reports zero output, not an unknown.
  usage.completion_tokens = raw.output ? raw.output : raw.seen ? std::optional<std::uint64_t>{0} : std::nullopt;
  usage.reasoning_tokens = raw.reasoning;
  result.total_gap_booked = book_total_gap(raw.total, usage);
  return result;
}

} // namespace tokenmeter
