#include "metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <set>
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
  prometheus::Counter& unpriced_tokens;
  std::array<std::array<prometheus::Counter*, token_types.size()>, counted_sources.size()> tokens;
};

/// The counters of one family labelled {upstream, kind}, each resolved on first use.
class upstream_kind_counters {
public:
  explicit upstream_kind_counters(prometheus::Family<prometheus::Counter>& family)
      : family_(family) {}

  prometheus::Counter& get(std::string_view upstream, std::string_view kind) {
    // The unit separator cannot occur in a config name or a note kind.
    std::string key;
    key.reserve(upstream.size() + kind.size() + 1);
    key.append(upstream).append(1, '\x1f').append(kind);
    {
      std::shared_lock lock(mutex_);
      if (const auto found = counters_.find(key); found != counters_.end()) return *found->second;
    }
    std::unique_lock lock(mutex_);
    auto& counter = counters_[key];
    if (!counter) counter = &family_.Add({{"upstream", std::string(upstream)}, {"kind", std::string(kind)}});
    return *counter;
  }

private:
  prometheus::Family<prometheus::Counter>& family_;
  std::shared_mutex mutex_;
  std::map<std::string, prometheus::Counter*, std::less<>> counters_; ///< never erased
};

} // namespace

/// The label values in use for one label, up to a bound.
class label_values {
public:
  label_values(std::size_t bound, prometheus::Counter& overflow) : bound_(bound), overflow_(overflow) {}

  /// `value` while it is known or there is room for it, else "other" (counted). Callers hold
  /// the metrics' exclusive lock.
  std::string_view fold(std::string_view value) {
    if (known_.contains(value)) return value;
    if (known_.size() < bound_) return *known_.emplace(value).first;
    overflow_.Increment();
    return "other";
  }

private:
  std::size_t bound_;
  prometheus::Counter& overflow_;
  std::set<std::string, std::less<>> known_;
};

struct metrics::impl {
  explicit impl(std::size_t max_label_values);
  /// The cached series of the row's tuple, created on first sight.
  const tuple_series& series_for(const exchange_record& row);
  tuple_series make_series(const tuple_view& key);

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& tokens;
  prometheus::Family<prometheus::Counter>& cost_usd;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& usage_missing;
  prometheus::Family<prometheus::Counter>& unpriced_tokens;
  prometheus::Family<prometheus::Gauge>& pricing_info;
  upstream_kind_counters upstream_errors;
  upstream_kind_counters data_quality_events;

  std::mutex pricing_mutex;
  prometheus::Gauge* pricing_gauge = nullptr; ///< the series of the table in force; guarded by pricing_mutex

  prometheus::Family<prometheus::Counter>& label_overflow;
  prometheus::Gauge& open_streams;
  std::shared_mutex mutex;
  label_values models; ///< guarded by mutex
  label_values nodes;  ///< guarded by mutex
  std::unordered_map<tuple_key, tuple_series, tuple_hash, tuple_equal> series; ///< never erased
};

metrics::impl::impl(std::size_t max_label_values)
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
                        .Register(*registry)),
      unpriced_tokens(prometheus::BuildCounter()
                          .Name("tokenmeter_unpriced_tokens_total")
                          .Help("Tokens of exchanges whose model has no price: their cost is unknown.")
                          .Register(*registry)),
      pricing_info(prometheus::BuildGauge()
                       .Name("tokenmeter_pricing_info")
                       .Help("The price table in force (value 1): its file and SHA-256.")
                       .Register(*registry)),
      upstream_errors(prometheus::BuildCounter()
                          .Name("tokenmeter_upstream_errors_total")
                          .Help("Failures to reach or hear from an upstream, by kind.")
                          .Register(*registry)),
      data_quality_events(prometheus::BuildCounter()
                              .Name("tokenmeter_data_quality_events_total")
                              .Help("Exchanges whose usage needed a repair or is doubtful, by kind.")
                              .Register(*registry)),
      label_overflow(prometheus::BuildCounter()
                         .Name("tokenmeter_label_overflow_total")
                         .Help("Exchanges whose node or model label was folded into \"other\" (limits.max_label_values).")
                         .Register(*registry)),
      open_streams(prometheus::BuildGauge()
                       .Name("tokenmeter_open_streams")
                       .Help("Event streams being relayed right now.")
                       .Register(*registry)
                       .Add({})),
      models(max_label_values, label_overflow.Add({{"label", "model"}})),
      nodes(max_label_values, label_overflow.Add({{"label", "node"}})) {}

const tuple_series& metrics::impl::series_for(const exchange_record& row) {
  const tuple_view key{model_label(row), node_label(row), row.upstream};
  {
    std::shared_lock lock(mutex);
    if (const auto found = series.find(key); found != series.end()) return found->second;
  }
  std::unique_lock lock(mutex);
  const tuple_view folded{models.fold(key.model), nodes.fold(key.node), key.upstream};
  if (const auto found = series.find(folded); found != series.end()) return found->second;
  return series
      .emplace(tuple_key{std::string(folded.model), std::string(folded.node), std::string(folded.upstream)},
               make_series(folded))
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
      unpriced_tokens.Add({{"model", std::string(key.model)}}),
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

metrics::metrics(std::size_t max_label_values) : impl_(std::make_unique<impl>(max_label_values)) {}

metrics::~metrics() = default;

void metrics::record(const exchange_record& row) {
  const tuple_series& series = impl_->series_for(row);
  series.requests.Increment();
  series.duration.Observe(static_cast<double>(row.latency_us) / 1e6);
  if (row.cost_pico_usd) series.cost_usd.Increment(static_cast<double>(*row.cost_pico_usd) / 1e12);
  else if (row.usage.any()) series.unpriced_tokens.Increment(static_cast<double>(row.usage.total_tokens()));
  for (std::string_view notes = row.notes; !notes.empty();) {
    const std::size_t comma = notes.find(',');
    const std::string_view kind = notes.substr(0, comma);
    if (!kind.empty()) impl_->data_quality_events.get(row.upstream, kind).Increment();
    notes = comma == std::string_view::npos ? std::string_view{} : notes.substr(comma + 1);
  }
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

void metrics::set_pricing_info(std::string_view source, std::string_view sha256) {
  std::lock_guard lock(impl_->pricing_mutex);
  if (impl_->pricing_gauge) impl_->pricing_info.Remove(impl_->pricing_gauge);
  impl_->pricing_gauge = &impl_->pricing_info.Add({{"source", std::string(source)}, {"sha256", std::string(sha256)}});
  impl_->pricing_gauge->Set(1);
}

void metrics::record_upstream_error(std::string_view upstream, std::string_view kind) {
  impl_->upstream_errors.get(upstream, kind).Increment();
}

void metrics::stream_opened() { impl_->open_streams.Increment(); }

void metrics::stream_closed() { impl_->open_streams.Decrement(); }

std::string metrics::scrape() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

} // namespace tokenmeter
