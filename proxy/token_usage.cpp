#include "token_usage.hpp"

namespace tokenmeter {

std::string_view to_string(usage_source source) noexcept {
  switch (source) {
  case usage_source::reported: return "reported";
  case usage_source::estimated: return "estimated";
  case usage_source::estimated_fallback: return "estimated_fallback";
  case usage_source::missing: return "missing";
  }
  return "missing";
}

} // namespace tokenmeter
