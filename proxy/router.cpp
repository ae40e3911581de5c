#include "router.hpp"

namespace tokenmeter {

router::router(std::vector<upstream_endpoint> upstreams, const std::string& default_name)
    : upstreams_(std::move(upstreams)) {
  for (const auto& up : upstreams_)
    if (up.name == default_name) default_ = &up;
}

route router::select(std::string_view path, std::string_view header_choice) const noexcept {
  if (!header_choice.empty()) {
    for (const auto& up : upstreams_)
      if (up.name == header_choice) return {&up, path};
    return {};
  }
  const upstream_endpoint* best = nullptr;
  for (const auto& up : upstreams_) {
    const std::string_view prefix = up.prefix;
    if (prefix.empty() || !path.starts_with(prefix)) continue;
    // A prefix matches whole path segments only: /anthropic never takes /anthropicx.
    if (path.size() > prefix.size() && path[prefix.size()] != '/' && prefix != "/") continue;
    if (!best || prefix.size() > best->prefix.size()) best = &up;
  }
  if (best) {
    auto rest = path.substr(best->prefix == "/" ? 0 : best->prefix.size());
    return {best, rest.empty() ? std::string_view("/") : rest};
  }
  return {default_, path};
}

} // namespace tokenmeter
