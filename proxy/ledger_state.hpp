#pragma once

#include <cstddef>
#include <cstdint>

namespace tokenmeter {

/// How the ledger's writer is keeping up, as the metrics read it at each scrape.
struct ledger_state {
  std::size_t queue_depth = 0;      ///< rows queued and not yet committed (or given up on)
  std::uint64_t lost_rows = 0;      ///< rows given up on after repeated write failures, ever
  std::uint64_t overflowed_rows = 0; ///< rows queued while the queue was past its bound, ever
};

} // namespace tokenmeter
