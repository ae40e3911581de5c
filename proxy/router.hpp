#pragma once

#include "upstream_endpoint.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tokenmeter {

/// Where one request goes.
struct route {
  const upstream_endpoint* upstream = nullptr; ///< null: no route
  std::string_view path;                       ///< the agent's path with the route prefix removed
};

/// Chooses the upstream of each request: the upstream header first, then the longest
/// path prefix, then the default upstream. Immutable after construction.
class router {
public:
  router(std::vector<upstream_endpoint> upstreams, const std::string& default_name);

  /// `path` is the request target without its query; `header_choice` the upstream header value.
  route select(std::string_view path, std::string_view header_choice) const noexcept;
  const std::vector<upstream_endpoint>& upstreams() const noexcept { return upstreams_; }

private:
  std::vector<upstream_endpoint> upstreams_;
  const upstream_endpoint* default_ = nullptr;
};

} // namespace tokenmeter
