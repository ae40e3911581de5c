#include "metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
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
constexpr std::array<usage_source, 3> counted_sources = {usage_source::reported, usage_source::estimated,
                                                         usage_source::estimated_fallback};
/// The OpenTelemetry GenAI token types: what went in and what came out.
constexpr std::array<token_type, 2> otel_token_types = {{
    {"input", &token_usage::prompt_tokens},
    {"output", &token_usage::completion_tokens},
}};

/// Seconds: LLM calls run from tens of milliseconds (cached, tiny) to minutes (long generations).
const prometheus::Histogram::BucketBoundaries duration_buckets = {0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                                  10,   20,  30,   60,  120, 300};
/// Seconds to the first token: a warm model answers in tens of milliseconds, a queued one in tens of seconds.
const prometheus::Histogram::BucketBoundaries first_token_buckets = {0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                     2.5,   5,    10,  20,   60};
/// Tokens of one exchange, by powers of four: a short classification to a whole-repository prompt.
const prometheus::Histogram::BucketBoundaries request_token_buckets = {16,    64,     256,    1024,   4096,
                                                                       16384, 65536, 262144, 1048576};
/// The boundaries the OpenTelemetry GenAI conventions advise for gen_ai.client.token.usage.
const prometheus::Histogram::BucketBoundaries otel_token_buckets = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

/// Label values shared with the usage API, so that both name an absent tag the same way.
std::string_view model_label(std::string_view model) { return model.empty() ? "(unknown)" : model; }
std::string_view node_label(const exchange_record& row) {
  return row.node.empty() ? "(none)" : std::string_view(row.node);
}

/// "2xx" for 200..299 and so on; "none" when the agent got no status at all.
std::string_view status_class(int status) {
  static constexpr std::array<std::string_view, 5> classes = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  if (status < 100 || status > 599) return "none";
  return classes[static_cast<std::size_t>(status / 100 - 1)];
}

/// The label tuple of an exchange, viewed or owned. The request model is empty unless the
/// OpenTelemetry names are on; the status class always points at a static literal.
struct tuple_view {
  std::string_view model;
  std::string_view node;
  std::string_view upstream;
  std::string_view request_model;
  std::string_view status;
  bool stream = false;
  friend bool operator==(const tuple_view&, const tuple_view&) = default;
};
struct tuple_key {
  std::string model;
  std::string node;
  std::string upstream;
  std::string request_model;
  std::string_view status;
  bool stream = false;
  explicit tuple_key(const tuple_view& v)
      : model(v.model), node(v.node), upstream(v.upstream), request_model(v.request_model), status(v.status),
        stream(v.stream) {}
  operator tuple_view() const noexcept { return {model, node, upstream, request_model, status, stream}; }
};

/// Hash and equality over both forms, so that a lookup needs no allocation.
struct tuple_hash {
  using is_transparent = void;
  std::size_t operator()(const tuple_view& key) const noexcept {
    const std::hash<std::string_view> hash;
    std::size_t seed = hash(key.model) ^ static_cast<std::size_t>(key.stream);
    for (std::string_view part : {key.node, key.upstream, key.request_model, key.status}) {
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

/// Every series of one label tuple, resolved once. Series whose labels are a subset of the
/// tuple are shared between tuples: a family returns the existing series for known labels.
struct tuple_series {
  prometheus::Counter& requests;
  prometheus::Counter& cost_usd;
  prometheus::Histogram& duration;
  prometheus::Histogram* first_token; ///< streams only
  prometheus::Histogram& request_tokens;
  prometheus::Counter& usage_missing;
  prometheus::Counter& unpriced_tokens;
  std::array<std::array<prometheus::Counter*, token_types.size()>, counted_sources.size()> tokens;
  std::array<prometheus::Histogram*, otel_token_types.size()> otel_tokens; ///< null unless opted in
};

/// The counters of one family whose label values are few and come from config or code
/// (upstream names, error kinds, rejection reasons), each resolved on first use.
template <std::size_t N> class keyed_counters {
public:
  keyed_counters(prometheus::Family<prometheus::Counter>& family, std::array<std::string, N> names)
      : family_(family), names_(std::move(names)) {}

  prometheus::Counter& get(const std::array<std::string_view, N>& values) {
    // The unit separator cannot occur in a config name, a note kind or a reason.
    std::string key;
    for (std::string_view value : values) key.append(value).append(1, '\x1f');
    {
      std::shared_lock lock(mutex_);
      if (const auto found = counters_.find(key); found != counters_.end()) return *found->second;
    }
    std::unique_lock lock(mutex_);
    auto& counter = counters_[key];
    if (!counter) {
      prometheus::Labels labels;
      for (std::size_t i = 0; i < N; ++i) labels.emplace(names_[i], std::string(values[i]));
      counter = &family_.Add(labels);
    }
    return *counter;
  }

private:
  prometheus::Family<prometheus::Counter>& family_;
  std::array<std::string, N> names_;
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
  impl(std::size_t max_label_values, bool otel_genai);
  /// The tuple of a row, before folding.
  tuple_view key_of(const exchange_record& row) const;
  /// The cached series of the row's tuple, created on first sight.
  const tuple_series& series_for(const exchange_record& row);
  tuple_series make_series(const tuple_view& key);

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Counter>& tokens;
  prometheus::Family<prometheus::Counter>& cost_usd;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Histogram>& first_token;
  prometheus::Family<prometheus::Histogram>& request_tokens;
  prometheus::Family<prometheus::Counter>& usage_missing;
  prometheus::Family<prometheus::Counter>& unpriced_tokens;
  prometheus::Family<prometheus::Gauge>& pricing_info;
  keyed_counters<2> upstream_errors;
  keyed_counters<2> data_quality_events;
  keyed_counters<1> rejected_requests;
  prometheus::Family<prometheus::Histogram>* otel_token_usage = nullptr; ///< null unless opted in

  std::mutex pricing_mutex;
  prometheus::Gauge* pricing_gauge = nullptr; ///< the series of the table in force; guarded by pricing_mutex

  prometheus::Gauge& ledger_queue_depth;
  prometheus::Counter& ledger_rows_lost;
  prometheus::Counter& ledger_queue_overflow;
  std::mutex ledger_mutex;
  std::function<ledger_state()> ledger_probe; ///< guarded by ledger_mutex
  ledger_state ledger_seen;                   ///< the probe's last answer; guarded by ledger_mutex

  prometheus::Family<prometheus::Counter>& label_overflow;
  prometheus::Gauge& open_streams;
  std::shared_mutex mutex;
  label_values models; ///< guarded by mutex
  label_values nodes;  ///< guarded by mutex
  std::optional<label_values> request_models; ///< guarded by mutex; only with the OpenTelemetry names
  std::unordered_map<tuple_key, tuple_series, tuple_hash, tuple_equal> series; ///< never erased
};

metrics::impl::impl(std::size_t max_label_values, bool otel_genai)
    : requests(prometheus::BuildCounter()
                   .Name("tokenmeter_requests_total")
                   .Help("Exchanges relayed to an upstream, by the status class the agent got.")
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
      first_token(prometheus::BuildHistogram()
                      .Name("tokenmeter_time_to_first_token_seconds")
                      .Help("Event streams: time from request arrival to the first body byte.")
                      .Register(*registry)),
      request_tokens(prometheus::BuildHistogram()
                         .Name("tokenmeter_request_tokens")
                         .Help("Tokens (prompt plus completion) of each exchange that has a usage.")
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
                          .Register(*registry),
                      {"upstream", "kind"}),
      data_quality_events(prometheus::BuildCounter()
                              .Name("tokenmeter_data_quality_events_total")
                              .Help("Exchanges whose usage needed a repair or is doubtful, by kind.")
                              .Register(*registry),
                          {"upstream", "kind"}),
      rejected_requests(prometheus::BuildCounter()
                            .Name("tokenmeter_requests_rejected_total")
                            .Help("Agent requests refused before reaching an upstream, by reason (limits, bad input).")
                            .Register(*registry),
                        {"reason"}),
      otel_token_usage(otel_genai ? &prometheus::BuildHistogram()
                                         .Name("gen_ai_client_token_usage")
                                         .Help("OpenTelemetry GenAI: tokens of each exchange, by token type.")
                                         .Register(*registry)
                                  : nullptr),
      ledger_queue_depth(prometheus::BuildGauge()
                             .Name("tokenmeter_ledger_queue_depth")
                             .Help("Ledger rows queued and not yet committed to the database.")
                             .Register(*registry)
                             .Add({})),
      ledger_rows_lost(prometheus::BuildCounter()
                           .Name("tokenmeter_ledger_rows_lost_total")
                           .Help("Ledger rows given up on after the database refused them repeatedly.")
                           .Register(*registry)
                           .Add({})),
      ledger_queue_overflow(prometheus::BuildCounter()
                                .Name("tokenmeter_ledger_queue_overflow_total")
                                .Help("Ledger rows queued while the queue was past its bound (kept, not dropped).")
                                .Register(*registry)
                                .Add({})),
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
      nodes(max_label_values, label_overflow.Add({{"label", "node"}})) {
  if (otel_genai) request_models.emplace(max_label_values, label_overflow.Add({{"label", "request_model"}}));
  prometheus::BuildGauge()
      .Name("tokenmeter_build_info")
      .Help("The running tokenmeter (value 1): its version and the SQLite library it uses.")
      .Register(*registry)
      .Add({{"version", TOKENMETER_VERSION}, {"sqlite_version", sqlite3_libversion()}})
      .Set(1);
}

tuple_view metrics::impl::key_of(const exchange_record& row) const {
  const std::string_view requested = row.request_model.empty() ? std::string_view(row.model) : row.request_model;
  return {model_label(row.model),
          node_label(row),
          row.upstream,
          otel_token_usage ? model_label(requested) : std::string_view{},
          status_class(row.status),
          row.stream};
}

const tuple_series& metrics::impl::series_for(const exchange_record& row) {
  const tuple_view key = key_of(row);
  {
    std::shared_lock lock(mutex);
    if (const auto found = series.find(key); found != series.end()) return found->second;
  }
  std::unique_lock lock(mutex);
  tuple_view folded = key;
  folded.model = models.fold(key.model);
  folded.node = nodes.fold(key.node);
  if (request_models) folded.request_model = request_models->fold(key.request_model);
  if (const auto found = series.find(folded); found != series.end()) return found->second;
  return series.emplace(tuple_key(folded), make_series(folded)).first->second;
}

tuple_series metrics::impl::make_series(const tuple_view& key) {
  const std::string model(key.model);
  const std::string upstream(key.upstream);
  const prometheus::Labels labels = {{"model", model}, {"node", std::string(key.node)}, {"upstream", upstream}};
  const auto with = [&labels](std::initializer_list<std::pair<const std::string, std::string>> extra) {
    prometheus::Labels more = labels;
    more.insert(extra);
    return more;
  };
  const std::string stream = key.stream ? "true" : "false";
  tuple_series made{
      requests.Add(with({{"status_class", std::string(key.status)}, {"stream", stream}})),
      cost_usd.Add(labels),
      duration.Add(with({{"stream", stream}}), duration_buckets),
      key.stream ? &first_token.Add(labels, first_token_buckets) : nullptr,
      request_tokens.Add(labels, request_token_buckets),
      usage_missing.Add({{"model", model}, {"upstream", upstream}}),
      unpriced_tokens.Add({{"model", model}}),
      {},
      {},
  };
  for (std::size_t s = 0; s < counted_sources.size(); ++s) {
    for (std::size_t t = 0; t < token_types.size(); ++t) {
      made.tokens[s][t] = &tokens.Add(with(
          {{"source", std::string(to_string(counted_sources[s]))}, {"type", std::string(token_types[t].label)}}));
    }
  }
  if (otel_token_usage) {
    for (std::size_t t = 0; t < otel_token_types.size(); ++t) {
      made.otel_tokens[t] = &otel_token_usage->Add({{"gen_ai_provider_name", upstream},
                                                    {"gen_ai_request_model", std::string(key.request_model)},
                                                    {"gen_ai_token_type", std::string(otel_token_types[t].label)}},
                                                   otel_token_buckets);
    }
  }
  return made;
}

metrics::metrics(std::size_t max_label_values, bool otel_genai)
    : impl_(std::make_unique<impl>(max_label_values, otel_genai)) {}

metrics::~metrics() = default;

void metrics::record(const exchange_record& row) {
  const tuple_series& series = impl_->series_for(row);
  series.requests.Increment();
  series.duration.Observe(static_cast<double>(row.latency_us) / 1e6);
  if (series.first_token && row.ttft_us > 0) series.first_token->Observe(static_cast<double>(row.ttft_us) / 1e6);
  if (row.cost_pico_usd) series.cost_usd.Increment(static_cast<double>(*row.cost_pico_usd) / 1e12);
  else if (row.usage.any()) series.unpriced_tokens.Increment(static_cast<double>(row.usage.total_tokens()));
  for (std::string_view notes = row.notes; !notes.empty();) {
    const std::size_t comma = notes.find(',');
    const std::string_view kind = notes.substr(0, comma);
    if (!kind.empty()) impl_->data_quality_events.get({row.upstream, kind}).Increment();
    notes = comma == std::string_view::npos ? std::string_view{} : notes.substr(comma + 1);
  }
  if (row.source == usage_source::missing) {
    series.usage_missing.Increment();
    return;
  }
  series.request_tokens.Observe(static_cast<double>(row.usage.total_tokens()));
  const auto source = std::find(counted_sources.begin(), counted_sources.end(), row.source);
  const auto& by_type = series.tokens[static_cast<std::size_t>(source - counted_sources.begin())];
  for (std::size_t t = 0; t < token_types.size(); ++t) {
    if (const auto& tokens = row.usage.*token_types[t].field) {
      by_type[t]->Increment(static_cast<double>(*tokens));
    }
  }
  for (std::size_t t = 0; t < otel_token_types.size(); ++t) {
    const auto& tokens = row.usage.*otel_token_types[t].field;
    if (series.otel_tokens[t] && tokens) series.otel_tokens[t]->Observe(static_cast<double>(*tokens));
  }
}

void metrics::set_pricing_info(std::string_view source, std::string_view sha256) {
  std::lock_guard lock(impl_->pricing_mutex);
  if (impl_->pricing_gauge) impl_->pricing_info.Remove(impl_->pricing_gauge);
  impl_->pricing_gauge = &impl_->pricing_info.Add({{"source", std::string(source)}, {"sha256", std::string(sha256)}});
  impl_->pricing_gauge->Set(1);
}

void metrics::record_upstream_error(std::string_view upstream, std::string_view kind) {
  impl_->upstream_errors.get({upstream, kind}).Increment();
}

void metrics::record_rejected(std::string_view reason) { impl_->rejected_requests.get({reason}).Increment(); }

void metrics::stream_opened() { impl_->open_streams.Increment(); }

void metrics::stream_closed() { impl_->open_streams.Decrement(); }

void metrics::set_ledger_probe(std::function<ledger_state()> probe) {
  std::lock_guard lock(impl_->ledger_mutex);
  impl_->ledger_probe = std::move(probe);
}

std::string metrics::scrape() const {
  {
    std::lock_guard lock(impl_->ledger_mutex);
    if (impl_->ledger_probe) {
      const ledger_state now = impl_->ledger_probe();
      ledger_state& seen = impl_->ledger_seen;
      impl_->ledger_queue_depth.Set(static_cast<double>(now.queue_depth));
      // The ledger's counts only grow; the counters take what grew since the last scrape.
      impl_->ledger_rows_lost.Increment(static_cast<double>(now.lost_rows - seen.lost_rows));
      impl_->ledger_queue_overflow.Increment(static_cast<double>(now.overflowed_rows - seen.overflowed_rows));
      seen = now;
    }
  }
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

} // namespace tokenmeter
