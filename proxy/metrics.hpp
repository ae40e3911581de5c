#pragma once

#include "exchange_record.hpp"
#include "ledger_state.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tokenmeter {

/// The Prometheus metrics. Families are registered at construction; the series of each
/// label tuple are looked up once and cached. Thread-safe.
class metrics {
public:
  /// Node and model label values past the first `max_label_values` distinct ones of each are
  /// folded into "other", so that agents cannot grow the series without bound. With
  /// `otel_genai`, token counts are also observed under the OpenTelemetry GenAI names.
  explicit metrics(std::size_t max_label_values = 100, bool otel_genai = false);
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Adds one finished exchange to every counter and histogram, its unpriced tokens and
  /// each comma-separated entry of its notes.
  void record(const exchange_record& row);
  /// States the price table in force: tokenmeter_pricing_info{source, sha256} 1, replacing
  /// the previous table's series.
  void set_pricing_info(std::string_view source, std::string_view sha256);
  /// Counts one failure to reach or hear from an upstream, by kind (connect, timeout, ...).
  void record_upstream_error(std::string_view upstream, std::string_view kind);
  /// An event stream started or ended being relayed: tokenmeter_open_streams.
  void stream_opened();
  /// The end of a stream counted by stream_opened().
  void stream_closed();
  /// Counts one agent request refused before it reached an upstream (a limit, bad input).
  void record_rejected(std::string_view reason);
  /// Where the ledger's gauge and counters are read from at each scrape.
  void set_ledger_probe(std::function<ledger_state()> probe);
  /// The text exposition format (version 0.0.4) of every metric.
  std::string scrape() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace tokenmeter
