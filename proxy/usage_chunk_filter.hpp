#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tokenmeter {

/// Removes from a (decoded, identity) SSE byte stream the usage-only Chat Completions events
/// (top-level "choices": [] and a non-null "usage" object, OpenAI/vLLM style) that exist only because
/// tokenmeter asked for usage; every other byte is passed on unchanged and in order; an event is held
/// only until its terminating blank line arrives. No allocation per event in steady state.
class usage_chunk_filter {
public:
  /// An event held longer than this is passed on as it arrives: a usage-only chunk is small,
  /// and a body that is not SSE at all must not be buffered whole.
  static constexpr std::size_t default_max_held_bytes = std::size_t{1} << 20;

  explicit usage_chunk_filter(std::size_t max_held_bytes = default_max_held_bytes);

  /// Appends to out what to forward now: every complete event except the usage-only ones.
  void feed(std::string_view bytes, std::string& out);
  /// The stream ended: appends what is left (a last event without its blank line is judged too).
  void finish(std::string& out);
  /// How many usage-only events were removed.
  std::uint64_t removed_events() const noexcept { return removed_events_; }

private:
  void hold(std::string_view bytes, std::string& out);
  void end_event(std::string& out);
  bool is_usage_only_event();

  std::size_t max_held_bytes_;
  std::string held_;             ///< the bytes of the event being received
  std::string data_;             ///< its joined data lines, padded for parsing (reused)
  std::uint64_t removed_events_ = 0;
  bool line_has_bytes_ = false;  ///< the current line has bytes besides its line end
  /// Where the LF goes that may follow a CR ending a line: with the line (held), or, when that
  /// line was the blank one ending an event, wherever the event went (out, or removed with it).
  enum class pending_lf : std::uint8_t { hold, emit, drop };

  bool prev_cr_ = false;         ///< the last byte was CR: a following LF belongs to the same line end
  pending_lf after_cr_ = pending_lf::hold;
  bool passing_ = false;         ///< the current event outgrew the bound and goes out as it comes
};

} // namespace tokenmeter
