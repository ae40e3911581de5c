#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// The JSON payloads of one response (each stream event's data, or the whole body), kept
/// within a bound so that its completion can be estimated if no usage arrives. Appending
/// is a copy, never a parse: the work happens only when an estimate is needed.
///
/// Successive stream events repeat nearly all of their bytes (id, model, the JSON around a
/// few characters of text), so each payload is kept as what differs from the one before:
/// an open stream holds a few bytes per event, not the whole event.
class relayed_payloads {
public:
  /// Beyond this many payload bytes further payloads are dropped and the estimate is a lower bound.
  static constexpr std::size_t max_bytes = std::size_t{4} << 20;

  /// Keeps one payload, unless the bound is reached.
  void add(std::string_view payload);
  /// Calls `visit` with every payload kept, whole and in order; each view is valid during its call.
  void for_each(const std::function<void(std::string_view)>& visit) const;
  std::size_t size() const noexcept { return steps_.size(); }
  /// The bytes it holds for its payloads (not counting spare capacity).
  std::size_t kept_bytes() const noexcept { return last_.size() + middles_.size() + steps_.size() * sizeof(step); }
  /// Some payload was dropped at the bound.
  bool truncated() const noexcept { return truncated_; }

private:
  /// A payload as the one before it with its middle replaced: the first `kept_prefix` and
  /// the last `kept_suffix` bytes of the previous payload around `length` bytes at `offset`.
  struct step {
    std::uint32_t kept_prefix;
    std::uint32_t kept_suffix;
    std::uint32_t offset;
    std::uint32_t length;
  };

  std::string last_;    ///< the last payload, whole: the next one is told apart from it
  std::string middles_; ///< each step's new bytes
  std::vector<step> steps_;
  std::size_t total_bytes_ = 0; ///< the payloads' whole size, which the bound is on
  bool truncated_ = false;
};

} // namespace tokenmeter
