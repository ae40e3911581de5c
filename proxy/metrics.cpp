#include "metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

namespace tokenmeter {
namespace {

/// The token fields counted, with their `type` label.
struct token_type {
  std::string_view label;
  std::optional<std::uint64_t> token_usage::*field;
};
constexpr std::array<token_type, 5> token_types = {{
    {"prompt", &token_usage::prompt_tokens},
    {"completion", &token_usage::completion_tokens},
    {"cached_prompt", &token_usage::cached_prompt_tokens},
    {"cache_write", &token_usage::cache_write_tokens},
    {"reasoning", &token_usage::reasoning_tokens},
}};
// Only sources with counts have token series; a missing usage is counted on its own.
constexpr std::array<usage_source, 2> counted_sources = {usage_source::reported,
                                                         usage_source::estimated};

/// Seconds: LLM calls run from tens of milliseconds (cached, tiny) to minutes (long generations).
const prometheus::Histogram::BucketBoundaries duration_buckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                                  10,   20,  30,   60,  120, 300};

/// Label values shared with the usage API, so that both name an absent tag the same way.
std::string_view model_label(const exchange_record& row) {
  return row.model.empty() ? "(unknown)" : std::string_view(row.model);
}
std::string_view node_label(const exchange_record& row) {
  return row.node.empty() ? "(none)" : std::string_view(row.node);
}

/// The (model, node, upstream) label tuple, viewed or owned.
struct tuple_view {
  std::string_view model;
  std::string_view node;
  std::string_view upstream;
  friend bool operator==(const tuple_view&, const tuple_view&) = default;
};
struct tuple_key {
  std::string model;
  std::string node;
  std::string upstream;
  operator tuple_view() const noexcept { return {model, node, upstream}; }
};

/// Hash and equality over both forms, so that a lookup needs no allocation.
struct tuple_hash {
  using is_transparent = void;
  std::size_t operator()(const tuple_view& key) const noexcept {
    const std::hash<std::string_view> hash;
    std::size_t seed = hash(key.model);
    for (std::string_view part : {key.node, key.upstream}) {
      seed ^= hash(part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    }
    return seed;
  }
  std::size_t operator()(const tuple_key& key) const noexcept { return (*this)(tuple_view(key)); }
};
struct tuple_equal {
  using is_transparent = void;
  bool operator()(const tuple_view& a, const tuple_view& b) const noexcept { return a == b; }
};

/// Every series of one label tuple, resolved once.
struct tuple_series {
  prometheus::Counter& requests;
  prometheus::Counter& cost_usd;
  prometheus::Histogram& duration;
  prometheus::Counter& usage_missing;
  std::array<std::array<prometheus::Counter*, token_types.size()>, counted_sources.size()> tokens;
};

} // namespace

struct metrics::impl {
  impl();
  /// The cached series of the row's tuple, created on first sight.
  const tuple_series& series_for(const exchange_record& row);
  tuple_series make_series(const tuple_view& key);

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& tokens;
  prometheus::Family<prometheus::Counter>& cost_usd;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& usage_missing;

  std::shared_mutex mutex;
  std::unordered_map<tuple_key, tuple_series, tuple_hash, tuple_equal> series; ///< never erased
};

metrics::impl::impl()
    : requests(prometheus::BuildCounter()
                   .Name("tokenmeter_requests_total")
                   .Help("Exchanges relayed to an upstream.")
                   .Register(*registry)),
      tokens(prometheus::BuildCounter()
                 .Name("tokenmeter_tokens_total")
                 .Help("Tokens by type, as reported by the upstream or estimated by tokenmeter.")
                 .Register(*registry)),
      cost_usd(prometheus::BuildCounter()
                   .Name("tokenmeter_cost_usd_total")
                   .Help("Cost in USD of the priced exchanges.")
                   .Register(*registry)),
      duration(prometheus::BuildHistogram()
                   .Name("tokenmeter_request_duration_seconds")
                   .Help("Time from request arrival to the end of the answer.")
                   .Register(*registry)),
      usage_missing(prometheus::BuildCounter()
                        .Name("tokenmeter_usage_missing_total")
                        .Help("Exchanges that ended without any token usage.")
                        .Register(*registry)) {}

const tuple_series& metrics::impl::series_for(const exchange_record& row) {
  const tuple_view key{model_label(row), node_label(row), row.upstream};
  {
    std::shared_lock lock(mutex);
    if (const auto found = series.find(key); found != series.end()) return found->second;
  }
  std::unique_lock lock(mutex);
  if (const auto found = series.find(key); found != series.end()) return found->second;
  return series
      .emplace(tuple_key{std::string(key.model), std::string(key.node), std::string(key.upstream)},
               make_series(key))
      .first->second;
}

tuple_series metrics::impl::make_series(const tuple_view& key) {
  const prometheus::Labels labels = {{"model", std::string(key.model)},
                                     {"node", std::string(key.node)},
                                     {"upstream", std::string(key.upstream)}};
  tuple_series made{
      requests.Add(labels),
      cost_usd.Add(labels),
      duration.Add(labels, duration_buckets),
      usage_missing.Add(
          {{"model", std::string(key.model)}, {"upstream", std::string(key.upstream)}}),
      {},
  };
  for (std::size_t s = 0; s < counted_sources.size(); ++s) {
    for (std::size_t t = 0; t < token_types.size(); ++t) {
      prometheus::Labels token_labels = labels;
      token_labels.emplace("source", std::string(to_string(counted_sources[s])));
      token_labels.emplace("type", std::string(token_types[t].label));
      made.tokens[s][t] = &tokens.Add(token_labels);
    }
  }
  return made;
}

metrics::metrics() : impl_(std::make_unique<impl>()) {}

metrics::~metrics() = default;

void metrics::record(const exchange_record& row) {
  const tuple_series& series = impl_->series_for(row);
  series.requests.Increment();
  series.duration.Observe(static_cast<double>(row.latency_us) / 1e6);
  if (row.cost_pico_usd) series.cost_usd.Increment(static_cast<double>(*row.cost_pico_usd) / 1e12);
  if (row.source == usage_source::missing) {
    series.usage_missing.Increment();
    return;
  }
  const auto source = std::find(counted_sources.begin(), counted_sources.end(), row.source);
  const auto& by_type = series.tokens[static_cast<std::size_t>(source - counted_sources.begin())];
  for (std::size_t t = 0; t < token_types.size(); ++t) {
    if (const auto& tokens = row.usage.*token_types[t].field) {
      by_type[t]->Increment(static_cast<double>(*tokens));
    }
  }
}

std::string metrics::scrape() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

} // namespace tokenmeter
