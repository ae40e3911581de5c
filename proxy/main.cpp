#include "admin_session.hpp"
#include "config.hpp"
#include "downstream_session.hpp"
#include "io_context_pool.hpp"
#include "ledger.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "price_book.hpp"
#include "pricing_cli.hpp"
#include "router.hpp"
#include "services.hpp"
#include "session_registry.hpp"
#include "tokenizer_set.hpp"
#include "usage_estimator.hpp"
#include "usage_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>

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

void log_pricing_loaded(const price_source& source) {
  log_line(log_level::info, "pricing_loaded")
      .kv("file", source.path)
      .kv("sha256", source.sha256)
      .kv("models", static_cast<std::uint64_t>(source.table->size()));
}

price_source load_prices(config& cfg) {
  if (cfg.pricing_path.empty()) cfg.pricing_path = default_pricing_path();
  if (cfg.pricing_path.empty()) {
    log_line(log_level::warn, "no_price_table").kv("detail", "no prices.yaml found; every cost is recorded as unknown");
    return {};
  }
  price_source source = load_price_source(cfg.pricing_path);
  log_pricing_loaded(source);
  return source;
}

/// The config's custom prices and deployment maps, by upstream name.
std::map<std::string, upstream_prices> upstream_pricing(const config& cfg) {
  std::map<std::string, upstream_prices> by_name;
  for (const auto& up : cfg.upstreams) by_name[up.name] = {up.custom_prices_yaml, up.deployments};
  return by_name;
}

/// SIGHUP: re-read the price file; a bad file is logged and the table in force stays.
void reload_prices_on_hangup(net::signal_set& hangups, price_book& prices, metrics& meters) {
  hangups.async_wait([&hangups, &prices, &meters](boost::system::error_code ec, int) {
    if (ec) return;
    if (const auto error = prices.reload()) {
      log_line(log_level::error, "pricing_reload_failed").kv("error", *error).kv("detail", "the previous price table stays in force");
    } else {
      const auto source = prices.source();
      log_pricing_loaded(*source);
      meters.set_pricing_info(source->path, source->sha256);
    }
    reload_prices_on_hangup(hangups, prices, meters);
  });
}

/// The proxy listener's TLS settings, or null when it serves plain HTTP.
std::unique_ptr<net::ssl::context> make_listener_tls(const listener_tls_config& tls) {
  if (tls.cert_file.empty()) return nullptr;
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) throw config_error("tls.cert_file " + tls.cert_file + ": " + ec.message());
  ctx->use_private_key_file(tls.key_file, net::ssl::context::pem, ec);
  if (ec) throw config_error("tls.key_file " + tls.key_file + ": " + ec.message());
  return ctx;
}

std::string to_string(const net::ip::tcp::endpoint& ep) {
  const auto address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

/// Waits for the live connections to finish, at most until `deadline`, then aborts them so that
/// each still records its exchange. Once none is left the signal wait is cancelled, so run()
/// returns by itself with every exchange recorded.
/// How long aborted exchanges get to record themselves before the I/O threads stop.
constexpr std::chrono::seconds abort_grace{2};

void drain(io_context_pool& pool, session_registry& sessions, net::signal_set& signals,
           std::chrono::steady_clock::time_point deadline, std::shared_ptr<net::steady_timer> timer,
           bool aborted = false) {
  if (sessions.size() == 0) {
    signals.cancel();
    pool.release();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline + abort_grace) {
    log_line(log_level::error, "shutdown_abandoned").kv("open_connections", static_cast<std::uint64_t>(sessions.size()));
    pool.stop();
    return;
  }
  if (now >= deadline && !aborted) {
    // Closing the sockets under the running exchanges makes each record itself as cut short.
    log_line(log_level::warn, "shutdown_grace_expired").kv("open_connections", static_cast<std::uint64_t>(sessions.size()));
    sessions.abort_all();
    aborted = true;
  }
  timer->expires_after(std::chrono::milliseconds(20));
  timer->async_wait([&pool, &sessions, &signals, deadline, timer, aborted](boost::system::error_code ec) {
    if (!ec) drain(pool, sessions, signals, deadline, timer, aborted);
  });
}

int run(config cfg) {
  set_log_level(cfg.level);
  price_book prices(load_prices(cfg), cfg.custom_prices_yaml, upstream_pricing(cfg));

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

  ledger book(cfg.ledger_path, cfg.ledger_queue_bound);
  metrics meters(cfg.max_label_values, cfg.otel_genai_metrics);
  meters.set_ledger_probe([&book] { return book.state(); });
  if (const auto source = prices.source(); source->table) meters.set_pricing_info(source->path, source->sha256);
  const tokenizer_set tokenizers = tokenizer_set::load(tokenizer_set::directory_for(cfg.estimation.vocabulary_dir));
  const usage_estimator estimator(tokenizers, cfg.estimation.families);
  usage_recorder recorder(book, meters, prices, &estimator);
  session_registry sessions;
  const auto proxy_tls = make_listener_tls(cfg.tls);
  services svc{cfg, routes, recorder, book, meters, sessions, proxy_tls.get()};

  io_context_pool pool(cfg.threads);
  auto& ioc = pool.primary();
  auto proxy = std::make_shared<listener>(pool, parse_listen_address(cfg.listen), [&svc](net::ip::tcp::socket&& s) {
    const bool over_capacity = svc.sessions.size() >= svc.cfg.max_connections;
    std::make_shared<downstream_session>(std::move(s), svc, over_capacity)->start();
  });
  auto admin = std::make_shared<listener>(pool, parse_listen_address(cfg.admin_listen), [&svc](net::ip::tcp::socket&& s) {
    std::make_shared<admin_session>(std::move(s), svc)->start();
  });
  proxy->start();
  admin->start();
  log_line(log_level::info, "listening")
      .kv("listener", "proxy")
      .kv("address", to_string(proxy->local_endpoint()))
      .kv("tls", proxy_tls ? "true" : "false");
  log_line(log_level::info, "listening").kv("listener", "admin").kv("address", to_string(admin->local_endpoint()));

  net::signal_set hangups(ioc, SIGHUP);
  reload_prices_on_hangup(hangups, prices, meters);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  auto drain_timer = std::make_shared<net::steady_timer>(ioc);
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log_line(log_level::info, "stopping").kv("signal", signal).kv("open_connections", static_cast<std::uint64_t>(sessions.size()));
    proxy->stop();
    admin->stop();
    hangups.cancel();
    sessions.stop_all();
    // A second signal means now.
    signals.async_wait([&](boost::system::error_code ec2, int) {
      if (!ec2) pool.stop();
    });
    drain(pool, sessions, signals, std::chrono::steady_clock::now() + cfg.timeouts.shutdown_grace, drain_timer);
  });

  pool.run();

  recorder.drain();
  book.close();
  log_line(log_level::info, "stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (is_pricing_command(argc, argv))
    return run_pricing_command(std::vector<std::string>(argv + 2, argv + argc), default_pricing_path(), std::cout, std::cerr);
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
