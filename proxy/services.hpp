#pragma once

#include "config.hpp"
#include "ledger.hpp"
#include "router.hpp"
#include "session_registry.hpp"
#include "usage_recorder.hpp"

#include <boost/asio/ssl/context.hpp>

namespace tokenmeter {

class metrics;

/// The process-wide, thread-safe objects every connection uses. Built once in main().
struct services {
  const config& cfg;
  const router& routes;
  usage_recorder& recorder;
  ledger& book;
  metrics& meters;
  session_registry& sessions;
  boost::asio::ssl::context* proxy_tls; ///< TLS for agent connections, or null for plain HTTP
};

} // namespace tokenmeter
