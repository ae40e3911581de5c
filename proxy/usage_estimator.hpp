#pragma once

#include "relayed_payloads.hpp"
#include "token_usage.hpp"
#include "tokenizer_set.hpp"
#include "usage_extractor.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenmeter {

/// What an exchange's usage is estimated from, kept by the exchange until it is recorded.
struct estimation_input {
  api_schema schema = api_schema::openai_chat;
  std::string request_body;   ///< as sent upstream
  relayed_payloads payloads;  ///< what the upstream sent (see usage_tap)
};

/// Counts tokens for exchanges whose upstream reported none: the prompt from the request
/// body as each API lays it out, the completion from the text the upstream sent. Pure and
/// thread-safe; it runs off the I/O threads (see usage_recorder).
class usage_estimator {
public:
  /// Characters per token when a vocabulary's data is missing: the usual English average.
  static constexpr std::uint64_t fallback_chars_per_token = 4;

  /// A count and whether any of it came from the characters-per-token fallback.
  struct count {
    std::uint64_t tokens = 0;
    bool fallback = false;
  };

  /// An estimated usage and whether any of it came from the characters-per-token fallback.
  struct estimate {
    token_usage usage;
    bool fallback = false;
  };

  /// `families` maps model name starts to vocabulary names, over the defaults (the names
  /// were validated with the config).
  usage_estimator(const tokenizer_set& tokenizers, const std::map<std::string, std::string>& families);

  /// The vocabulary of a model: the longest family that starts the model's name (after any
  /// `provider/` prefix, case-insensitive), else o200k.
  vocabulary vocabulary_for(std::string_view model) const;
  /// Tokens of plain text in a vocabulary.
  count text_tokens(std::string_view text, vocabulary v) const;
  /// Prompt tokens of a request body: chat messages with their framing, legacy prompt,
  /// embeddings input, Responses input and instructions, Anthropic system and messages,
  /// tool definitions. Zero tokens for a body that is not a JSON object.
  count prompt_tokens(api_schema schema, std::string_view request_body, vocabulary v) const;
  /// Completion tokens of the response payloads (stream events or one JSON body): content,
  /// tool-call names and arguments, refusals, and visible reasoning; `reasoning` gets the
  /// reasoning part alone.
  count completion_tokens(api_schema schema, const relayed_payloads& payloads, vocabulary v,
                          std::uint64_t& reasoning) const;

  /// The whole usage of an exchange: prompt, completion and visible reasoning, counted
  /// with the vocabulary of `model`.
  estimate estimate_exchange(const estimation_input& input, std::string_view model) const;

private:
  const tokenizer_set& tokenizers_;
  std::vector<std::pair<std::string, vocabulary>> families_; ///< longest start first
};

} // namespace tokenmeter
