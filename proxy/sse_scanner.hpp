#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tokenmeter {

/// One dispatched server-sent event. The views point into the scanner and stay valid
/// until its next call to next() or finish().
struct sse_event {
  std::string_view type; ///< the `event:` field; empty when the event named none
  std::string_view data; ///< the `data:` lines joined by '\n'
};

/// Incremental WHATWG event-stream framing without I/O, in the manner of Asio's request
/// parser: it is handed bytes in whatever pieces the network delivered and yields each
/// complete event. It keeps only the unterminated tail line and the event being built,
/// both bounded, and reuses its buffers, so steady-state scanning does not allocate.
class sse_scanner {
public:
  /// A line longer than this is dropped (and its event discarded) rather than buffered.
  static constexpr std::size_t default_max_line_bytes = std::size_t{16} << 20;

  /// max_line_bytes bounds both one line and the joined data of one event.
  explicit sse_scanner(std::size_t max_line_bytes = default_max_line_bytes);

  /// Consumes bytes from the front of input until an event completes (returns true and
  /// event() holds it) or input is used up (returns false). Call again with the rest.
  bool next(std::string_view& input);
  /// The body ended: dispatches an event whose blank line never came, from complete lines
  /// and the unterminated tail (a truncated payload then fails JSON parsing on its own).
  /// Returns true when event() holds such an event.
  bool finish();
  /// The event yielded by the last successful next() or finish().
  const sse_event& event() const noexcept { return event_; }
  /// How many lines exceeded the bound and were dropped.
  std::uint64_t dropped_lines() const noexcept { return dropped_lines_; }

private:
  bool scan(std::string_view& input);
  std::size_t find_line_end(std::string_view input);
  bool skip_bom(std::string_view& input);
  void append_to_line(std::string_view piece);
  bool process_line(std::string_view line);
  bool dispatch();
  void start_event();

  std::size_t max_line_bytes_;
  std::string line_;             ///< the unterminated tail line carried between feeds
  std::string data_;             ///< data of the event being built
  std::string type_;             ///< event type of the event being built
  sse_event event_;              ///< the last dispatched event (views into data_ and type_)
  const char* lf_ = nullptr;      ///< the next LF in the input being scanned, or null if none
  const char* lf_from_ = nullptr; ///< where the search for lf_ started
  const char* lf_end_ = nullptr;  ///< end of the input lf_ belongs to; null once it is used up
  std::uint64_t dropped_lines_ = 0;
  std::uint8_t bom_matched_ = 0; ///< bytes of a leading BOM seen so far
  bool bom_done_ = false;        ///< past the point where a BOM may appear
  bool prev_cr_ = false;         ///< the last byte consumed was CR: a following LF is not a new line
  bool overlong_line_ = false;   ///< discarding the rest of a line that exceeded the bound
  bool has_data_ = false;        ///< the event being built has at least one data line
  bool event_damaged_ = false;   ///< part of the event being built was dropped
  bool reset_pending_ = false;   ///< event_ was handed out; clear the buffers on the next call
};

} // namespace tokenmeter
