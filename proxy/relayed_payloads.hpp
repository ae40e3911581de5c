#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenmeter {

/// The JSON payloads of one response (each stream event's data, or the whole body), kept
/// within a bound so that its completion can be estimated if no usage arrives. Appending
/// is a copy, never a parse: the work happens only when an estimate is needed.
class relayed_payloads {
public:
  /// Beyond this many bytes further payloads are dropped and the estimate is a lower bound.
  static constexpr std::size_t max_bytes = std::size_t{4} << 20;

  /// Keeps a copy of one payload, unless the bound is reached.
  void add(std::string_view payload);
  /// Views of every payload kept, in order; valid while this object lives unchanged.
  std::vector<std::string_view> views() const;
  /// Some payload was dropped at the bound.
  bool truncated() const noexcept { return truncated_; }

private:
  std::string bytes_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_; ///< offset, length
  bool truncated_ = false;
};

} // namespace tokenmeter
