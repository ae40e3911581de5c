#pragma once

#include "exchange_record.hpp"

#include <memory>
#include <string>

namespace tokenmeter {

/// The Prometheus metrics. Families are registered at construction; the counters of
/// each (model, node, upstream) tuple are looked up once and cached. Thread-safe.
class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Adds one finished exchange to every counter and histogram.
  void record(const exchange_record& row);
  /// The text exposition format (version 0.0.4) of every metric.
  std::string scrape() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace tokenmeter
