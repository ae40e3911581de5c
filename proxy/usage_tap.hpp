#pragma once

#include "relayed_payloads.hpp"
#include "token_usage.hpp"
#include "usage_extractor.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

struct usage_pointers; // config.hpp

/// What the tap learned from one response once it ended.
struct tap_result {
  token_usage usage;
  usage_source source = usage_source::missing;
  std::string model;            ///< the response's own model, empty if it named none
  bool streamed = false;        ///< the body was an event stream (SSE or NDJSON)
  bool stream_complete = false; ///< a terminal marker was seen ([DONE], message_stop, ...)
  std::optional<std::int64_t> provider_cost_pico_usd; ///< the upstream's own cost (OpenRouter usage.cost)
  std::string service_tier;     ///< the response's service_tier, if any
  std::string notes;            ///< comma-separated data-quality events, empty when none
  bool unreadable_body = false; ///< a payload was not JSON or the body did not decode: no answer to count
  /// The payloads, when the tap was asked to keep them; only the first finish() has them.
  relayed_payloads payloads;
};

/// Reads a copy of the response body bytes that the relay forwards, in the pieces the
/// relay happens to read them, and extracts the usage. It never alters or holds the
/// relayed bytes: it keeps only a partial SSE line, a bounded copy of a JSON body and
/// decoder state. One tap per response; not thread-safe (it lives on the session's thread).
class usage_tap {
public:
  /// content_type and content_encoding are the response's header values (may be empty).
  /// With custom pointers (an in-house shape) usage is read by them instead of the schema's
  /// fields; the pointers are copied. With keep_payloads the JSON payloads are kept (within
  /// a bound) for estimating the completion should no usage arrive.
  usage_tap(api_schema schema, std::string_view content_type, std::string_view content_encoding,
            const usage_pointers* custom = nullptr, bool keep_payloads = false);
  ~usage_tap();
  usage_tap(const usage_tap&) = delete;
  usage_tap& operator=(const usage_tap&) = delete;

  /// One piece of the body, as forwarded (still content-encoded, already de-chunked).
  void feed(std::string_view bytes);
  /// The body ended (or the exchange ended early); returns what was found. The kept
  /// payloads move out with the first result.
  tap_result finish();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace tokenmeter
