#include "admin_session.hpp"
#include "config.hpp"
#include "downstream_session.hpp"
#include "ledger.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "price_table.hpp"
#include "router.hpp"
#include "services.hpp"
#include "session_registry.hpp"
#include "usage_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

namespace net = boost::asio;
using namespace tokenmeter;

namespace {

/// The shipped price table: installed next to the binary, else the source tree it was built from.
std::string default_pricing_path() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> candidates{TOKENMETER_SOURCE_PRICING_FILE};
  if (!ec) candidates.insert(candidates.begin(), exe.parent_path() / "../share/tokenmeter/prices.yaml");
  for (const auto& candidate : candidates)
    if (std::filesystem::exists(candidate, ec)) return std::filesystem::weakly_canonical(candidate, ec).string();
  return {};
}

std::shared_ptr<const price_table> load_prices(config& cfg) {
  if (cfg.pricing_path.empty()) cfg.pricing_path = default_pricing_path();
  if (cfg.pricing_path.empty()) {
    log_line(log_level::warn, "no_price_table").kv("detail", "no prices.yaml found; every cost is recorded as unknown");
    return nullptr;
  }
  auto table = std::make_shared<const price_table>(price_table::load_file(cfg.pricing_path));
  log_line(log_level::info, "pricing_loaded").kv("file", cfg.pricing_path).kv("models", static_cast<std::uint64_t>(table->size()));
  return table;
}

std::string to_string(const net::ip::tcp::endpoint& ep) {
  const auto address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

/// Waits for the live connections to finish, at most until `deadline`. Once none is left
/// the signal wait is cancelled, so run() returns by itself with every exchange recorded.
void drain(net::io_context& ioc, session_registry& sessions, net::signal_set& signals,
           std::chrono::steady_clock::time_point deadline, std::shared_ptr<net::steady_timer> timer) {
  if (sessions.size() == 0) {
    signals.cancel();
    return;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    log_line(log_level::warn, "shutdown_grace_expired").kv("open_connections", static_cast<std::uint64_t>(sessions.size()));
    ioc.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([&ioc, &sessions, &signals, deadline, timer](boost::system::error_code ec) {
    if (!ec) drain(ioc, sessions, signals, deadline, timer);
  });
}

int run(config cfg) {
  set_log_level(cfg.level);
  auto prices = load_prices(cfg);

  std::vector<upstream_endpoint> endpoints;
  for (const auto& up : cfg.upstreams) endpoints.push_back(make_upstream_endpoint(up));
  const router routes(std::move(endpoints), cfg.default_upstream);
  if (routes.upstreams().empty())
    log_line(log_level::warn, "no_upstream").kv("detail", "requests will be answered 502 until --upstream URL is given");
  for (const auto& up : routes.upstreams())
    log_line(log_level::info, "upstream")
        .kv("name", up.name)
        .kv("host", up.host)
        .kv("port", up.port)
        .kv("base_path", up.base_path)
        .kv("prefix", up.prefix)
        .kv("tls", up.tls ? "true" : "false");

  ledger book(cfg.ledger_path);
  metrics meters;
  usage_recorder recorder(book, meters, prices);
  session_registry sessions;
  services svc{cfg, routes, recorder, book, meters, sessions};

  net::io_context ioc(static_cast<int>(cfg.threads));
  auto proxy = std::make_shared<listener>(ioc, parse_listen_address(cfg.listen), [&svc](net::ip::tcp::socket&& s) {
    std::make_shared<downstream_session>(std::move(s), svc)->start();
  });
  auto admin = std::make_shared<listener>(ioc, parse_listen_address(cfg.admin_listen), [&svc](net::ip::tcp::socket&& s) {
    std::make_shared<admin_session>(std::move(s), svc)->start();
  });
  proxy->start();
  admin->start();
  log_line(log_level::info, "listening").kv("listener", "proxy").kv("address", to_string(proxy->local_endpoint()));
  log_line(log_level::info, "listening").kv("listener", "admin").kv("address", to_string(admin->local_endpoint()));

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  auto drain_timer = std::make_shared<net::steady_timer>(ioc);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log_line(log_level::info, "stopping").kv("signal", signal).kv("open_connections", static_cast<std::uint64_t>(sessions.size()));
    proxy->stop();
    admin->stop();
    sessions.stop_all();
    // A second signal means now.
    signals.async_wait([&](boost::system::error_code ec2, int) {
      if (!ec2) ioc.stop();
    });
    drain(ioc, sessions, signals, std::chrono::steady_clock::now() + cfg.timeouts.shutdown_grace, drain_timer);
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < cfg.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  book.close();
  log_line(log_level::info, "stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto cmd = parse_command_line(argc, argv);
    if (cmd.show_help) {
      std::cout << usage_text();
      return 0;
    }
    if (cmd.show_version) {
      std::cout << "tokenmeter " << TOKENMETER_VERSION << "\n";
      return 0;
    }
    return run(std::move(cmd.cfg));
  } catch (const config_error& e) {
    std::cerr << "tokenmeter: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tokenmeter: " << e.what() << "\n";
    return 1;
  }
}
