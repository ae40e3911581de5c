#pragma once

#include "token_usage.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tokenmeter {

/// One metered exchange: a request relayed to an upstream and its answer. This is
/// the ledger row, the input of the metrics and of the usage API.
struct exchange_record {
  std::int64_t time_unix_ms = 0;  ///< when the request arrived
  std::string session_id;         ///< X-Session-ID, empty when absent
  std::string node;               ///< X-Node, empty when absent
  std::string model;              ///< response model, else the request's
  std::string request_model;      ///< what the agent asked for: the body's model or the Azure deployment
  std::string upstream;           ///< configured upstream name
  std::string path;               ///< request path as the agent sent it, without the query
  bool stream = false;            ///< the answer was an event stream
  bool stream_complete = false;   ///< a stream's terminal marker was seen
  int status = 0;                 ///< HTTP status the agent got; 0 when it got none
  token_usage usage;
  usage_source source = usage_source::missing;
  std::optional<std::int64_t> cost_pico_usd; ///< unset when the model has no price
  std::optional<std::int64_t> provider_cost_pico_usd; ///< the cost the upstream itself reported (OpenRouter)
  std::string service_tier;       ///< the response's service_tier, when it names one
  std::string pricing_sha256;     ///< hash of the price table that priced this row
  std::int64_t latency_us = 0;    ///< request arrival to end of the answer
  std::int64_t ttfb_us = 0;       ///< request arrival to the upstream's response header
  std::int64_t ttft_us = 0;       ///< request arrival to the first body byte (first token of a stream); 0: none
  std::string error;              ///< empty, or the kind of failure (upstream_connect, ...)
  std::string notes;              ///< comma-separated data-quality events (total_gap_booked, ...)
};

} // namespace tokenmeter
