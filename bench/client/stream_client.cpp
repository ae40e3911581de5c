// A streaming load client: C concurrent event streams against one target for a bounded time,
// measuring the time to the first event and the delay of every event from the moment the
// upstream stand-in wrote it (its id carries that CLOCK_MONOTONIC time) to its arrival here.
//
//   stream_client --port N [--path P] [--streams C] [--seconds S] [--events N] [--interval-us I]
//                 [--header "Name: value"]...
// prints one JSON object on stdout. Loopback only: the host is always 127.0.0.1.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;

namespace {

constexpr std::string_view id_marker = "chatcmpl-";
constexpr std::size_t min_timestamp_digits = 10;

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct options {
  unsigned short port = 0;
  std::string path = "/v1/chat/completions";
  int streams = 1;
  double seconds = 5;
  long events = 200;
  long interval_us = 1000;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct totals {
  std::vector<std::uint64_t> ttfe_ns;
  std::vector<std::uint64_t> event_delay_ns;
  std::uint64_t streams_done = 0;
  std::uint64_t errors = 0;
  std::uint64_t events_seen = 0;
};

/// Finds the stamped ids in the complete lines of `pending`, records the delay of each, and
/// keeps the unterminated tail for the next read.
void take_events(std::string& pending, std::uint64_t now, totals& out, bool& first, std::uint64_t sent) {
  const auto last_lf = pending.rfind('\n');
  if (last_lf == std::string::npos) return;
  const std::string_view lines(pending.data(), last_lf + 1);
  for (auto at = lines.find(id_marker); at != std::string_view::npos; at = lines.find(id_marker, at + 1)) {
    const char* digits = lines.data() + at + id_marker.size();
    std::uint64_t stamp = 0;
    const auto [end, ec] = std::from_chars(digits, lines.data() + lines.size(), stamp);
    if (ec != std::errc{} || static_cast<std::size_t>(end - digits) < min_timestamp_digits) continue;
    if (first) {
      out.ttfe_ns.push_back(now - sent);
      first = false;
    }
    out.event_delay_ns.push_back(now > stamp ? now - stamp : 0);
    ++out.events_seen;
  }
  pending.erase(0, last_lf + 1);
}

awaitable<void> one_stream(const options& opt, std::chrono::steady_clock::time_point deadline, totals& out) {
  const auto executor = co_await net::this_coro::executor;
  const std::string body = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                           "\"max_tokens\":" + std::to_string(opt.events) +
                           ",\"messages\":[{\"role\":\"user\",\"content\":\"Summarise the quarterly report.\"}]}";
  http::request<http::string_body> req{http::verb::post, opt.path, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(opt.port));
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  req.set("x-bench-interval-us", std::to_string(opt.interval_us));
  for (const auto& [name, value] : opt.headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  std::vector<char> scratch(16384);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      beast::tcp_stream stream(executor);
      co_await stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), opt.port), use_awaitable);
      stream.socket().set_option(tcp::no_delay(true));
      beast::flat_buffer buffer;
      while (std::chrono::steady_clock::now() < deadline) {
        stream.expires_after(std::chrono::seconds(30));
        const std::uint64_t sent = monotonic_ns();
        co_await http::async_write(stream, req, use_awaitable);
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(boost::none);
        co_await http::async_read_header(stream, buffer, parser, use_awaitable);
        if (parser.get().result() != http::status::ok) throw std::runtime_error("status");
        std::string pending;
        bool first = true;
        while (!parser.is_done()) {
          parser.get().body().data = scratch.data();
          parser.get().body().size = scratch.size();
          auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, net::as_tuple(use_awaitable));
          if (ec == http::error::need_buffer) ec = {};
          if (ec) throw beast::system_error(ec);
          pending.append(scratch.data(), scratch.size() - parser.get().body().size);
          take_events(pending, monotonic_ns(), out, first, sent);
        }
        ++out.streams_done;
        if (!parser.get().keep_alive()) break;
      }
    } catch (const std::exception&) {
      ++out.errors;
    }
  }
}

double percentile_us(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return -1;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

std::string summary_json(const char* name, std::vector<std::uint64_t>& v) {
  char text[256];
  std::snprintf(text, sizeof text, "\"%s\":{\"count\":%zu,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f}", name, v.size(),
                percentile_us(v, 50), percentile_us(v, 99), percentile_us(v, 99.9));
  return text;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    const std::string value = argv[i + 1];
    if (arg == "--port") opt.port = static_cast<unsigned short>(std::stoi(value));
    else if (arg == "--path") opt.path = value;
    else if (arg == "--streams") opt.streams = std::clamp(std::stoi(value), 1, 10000);
    else if (arg == "--seconds") opt.seconds = std::clamp(std::stod(value), 0.1, 600.0);
    else if (arg == "--events") opt.events = std::clamp(std::stol(value), 1L, 100000L);
    else if (arg == "--interval-us") opt.interval_us = std::clamp(std::stol(value), 0L, 1000000L);
    else if (arg == "--header" && value.find(':') != std::string::npos) {
      const auto colon = value.find(':');
      opt.headers.emplace_back(value.substr(0, colon), value.substr(value.find_first_not_of(' ', colon + 1)));
    } else {
      std::cerr << "stream_client: bad argument " << arg << "\n";
      return 2;
    }
  }
  if (opt.port == 0) {
    std::cerr << "stream_client: --port is required\n";
    return 2;
  }
  net::io_context io(1);
  totals out;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(opt.seconds * 1000));
  for (int i = 0; i < opt.streams; ++i) net::co_spawn(io, one_stream(opt, deadline, out), net::detached);
  io.run();
  std::cout << "{\"streams\":" << out.streams_done << ",\"errors\":" << out.errors << ",\"events\":" << out.events_seen
            << "," << summary_json("ttfe_us", out.ttfe_ns) << "," << summary_json("event_delay_us", out.event_delay_ns)
            << "}" << std::endl;
  return 0;
}
