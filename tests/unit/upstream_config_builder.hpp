#pragma once

#include "config.hpp"

#include <string>

namespace tokenmeter::test_support {

/// An upstream as a config file would declare it, with the other keys at their defaults.
inline upstream_config upstream(std::string name, std::string url, std::string prefix = "",
                                std::string ca_file = "") {
  upstream_config up;
  up.name = std::move(name);
  up.url = std::move(url);
  up.prefix = std::move(prefix);
  up.ca_file = std::move(ca_file);
  return up;
}

} // namespace tokenmeter::test_support
