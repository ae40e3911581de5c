// An OpenAI-compatible upstream built for benchmarking: it answers from precomputed bytes so that
// what is measured is the proxy in front of it, not the stand-in.
//
//   bench_upstream [--port N] [--threads N] [--tls CERT KEY]
// prints "listening PORT" on stdout once it accepts. Every POST is a chat completion:
//   "max_tokens": N      unstreamed: a body of about N bytes (1000 ~ 1 KB, 20000 ~ 20 KB);
//                        streamed ("stream": true): N content events, then a finish event, the
//                        usage chunk and [DONE]
//   x-bench-interval-us  the pace of a stream (default 1000 µs between events)
//   Accept-Encoding gzip an unstreamed body is sent gzip-compressed (compressed once, cached)
// Each stream event's id is "chatcmpl-<CLOCK_MONOTONIC ns>" of its write, so a client on the
// same machine can measure the delay each proxy adds to each event.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <zlib.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;

namespace {

constexpr std::size_t max_answer_bytes = std::size_t{4} << 20;
constexpr long max_events = 100000;
constexpr long max_interval_us = 1000000;
constexpr std::string_view model_name = "gpt-4o-mini-2024-07-18";

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

/// The integer after `"key":` in a JSON body, without parsing it: the stand-in sees only its own
/// harness's requests, and a missing or odd value falls back to the default.
long json_int(std::string_view body, std::string_view key, long fallback) {
  const std::string needle = "\"" + std::string(key) + "\"";
  auto at = body.find(needle);
  if (at == std::string_view::npos) return fallback;
  at = body.find_first_not_of(" :\t", at + needle.size());
  long value = fallback;
  if (at != std::string_view::npos) std::from_chars(body.data() + at, body.data() + body.size(), value);
  return value;
}

bool wants_stream(std::string_view body) {
  const auto at = body.find("\"stream\"");
  if (at == std::string_view::npos) return false;
  const auto value = body.find_first_not_of(" :\t", at + 8);
  return value != std::string_view::npos && body.substr(value, 4) == "true";
}

std::string gzip(std::string_view plain) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, plain.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string usage_json(long prompt, long completion) {
  return "{\"prompt_tokens\":" + std::to_string(prompt) + ",\"completion_tokens\":" + std::to_string(completion) +
         ",\"total_tokens\":" + std::to_string(prompt + completion) +
         ",\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}";
}

/// A chat completion of about `bytes` bytes: prose of the size asked for, then the usage block
/// at the end, where real servers put it (so a meter must scan the whole body).
std::string completion_body(std::size_t bytes) {
  static constexpr std::string_view words =
      "The quarterly report shows steady growth in every region, with costs held flat. ";
  std::string content;
  const std::size_t frame = 420;
  while (content.size() + words.size() + frame < bytes) content += words;
  return "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"" +
         std::string(model_name) + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" +
         content + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":" +
         usage_json(120, static_cast<long>(content.size() / 4)) + ",\"system_fingerprint\":\"fp_bench\"}";
}

/// The full HTTP/1.1 answer (head and body) for one size and coding, built once.
class answer_cache {
public:
  std::shared_ptr<const std::string> get(std::size_t bytes, bool gzipped) {
    const std::lock_guard lock(mutex_);
    auto& slot = answers_[{bytes, gzipped}];
    if (!slot) {
      const std::string plain = completion_body(bytes);
      const std::string body = gzipped ? gzip(plain) : plain;
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n";
      if (gzipped) head += "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n";
      slot = std::make_shared<const std::string>(head + "\r\n" + body);
    }
    return slot;
  }

private:
  std::mutex mutex_;
  std::map<std::pair<std::size_t, bool>, std::shared_ptr<const std::string>> answers_;
};

std::string chunk(std::string_view payload) {
  char size[16];
  const auto end = std::to_chars(size, size + sizeof size, payload.size(), 16).ptr;
  return std::string(size, end) + "\r\n" + std::string(payload) + "\r\n";
}

std::string event(std::string_view json) { return chunk("data: " + std::string(json) + "\n\n"); }

std::string content_event(std::string_view delta, std::string_view finish) {
  return event("{\"id\":\"chatcmpl-" + std::to_string(monotonic_ns()) +
               "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"" + std::string(model_name) +
               "\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" +
               std::string(delta) + "\"},\"logprobs\":null,\"finish_reason\":" + std::string(finish) + "}]}");
}

template <class Stream>
awaitable<void> write_stream(Stream& stream, long events, long interval_us) {
  static constexpr std::string_view head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  co_await net::async_write(stream, net::buffer(head), use_awaitable);
  net::steady_timer pace(co_await net::this_coro::executor);
  auto due = std::chrono::steady_clock::now();
  for (long i = 0; i < events; ++i) {
    if (i > 0) {
      due += std::chrono::microseconds(interval_us);
      pace.expires_at(due);
      co_await pace.async_wait(use_awaitable);
    }
    const std::string piece = content_event(" token", "null");
    co_await net::async_write(stream, net::buffer(piece), use_awaitable);
  }
  const std::string tail = content_event("", "\"stop\"") +
                           event("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                                 "\"model\":\"" + std::string(model_name) + "\",\"choices\":[],\"usage\":" +
                                 usage_json(120, events) + "}") +
                           event("[DONE]") + "0\r\n\r\n";
  co_await net::async_write(stream, net::buffer(tail), use_awaitable);
}

template <class Stream>
awaitable<void> serve(Stream stream, answer_cache& cache) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_answer_bytes);
    co_await http::async_read(stream, buffer, parser, use_awaitable);
    const auto& req = parser.get();
    const std::string_view body = req.body();
    if (wants_stream(body)) {
      const long events = std::clamp(json_int(body, "max_tokens", 200), 1L, max_events);
      long interval_us = 1000;
      if (const auto it = req.find("x-bench-interval-us"); it != req.end()) {
        const auto value = it->value();
        std::from_chars(value.data(), value.data() + value.size(), interval_us);
      }
      co_await write_stream(stream, events, std::clamp(interval_us, 0L, max_interval_us));
    } else {
      const auto bytes = static_cast<std::size_t>(std::clamp(json_int(body, "max_tokens", 1000), 256L, 1L << 22));
      bool gzipped = false;
      if (const auto it = req.find(http::field::accept_encoding); it != req.end())
        gzipped = it->value().find("gzip") != std::string_view::npos;
      const auto answer = cache.get(bytes, gzipped);
      co_await net::async_write(stream, net::buffer(*answer), use_awaitable);
    }
    if (!req.keep_alive()) co_return;
  }
}

awaitable<void> serve_plain(tcp::socket socket, answer_cache& cache) {
  try {
    socket.set_option(tcp::no_delay(true));
    co_await serve(std::move(socket), cache);
  } catch (const std::exception&) {
    // The peer went away mid-exchange: normal at the end of a load run.
  }
}

awaitable<void> serve_tls(tcp::socket socket, ssl::context& tls, answer_cache& cache) {
  try {
    socket.set_option(tcp::no_delay(true));
    ssl::stream<tcp::socket> stream(std::move(socket), tls);
    co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
    co_await serve(std::move(stream), cache);
  } catch (const std::exception&) {
  }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context* tls, answer_cache& cache) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(use_awaitable);
    const auto executor = socket.get_executor();
    if (tls) net::co_spawn(executor, serve_tls(std::move(socket), *tls, cache), net::detached);
    else net::co_spawn(executor, serve_plain(std::move(socket), cache), net::detached);
  }
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  int threads = 1;
  std::optional<std::pair<std::string, std::string>> tls_files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) port = static_cast<unsigned short>(std::stoi(argv[++i]));
    else if (arg == "--threads" && i + 1 < argc) threads = std::max(1, std::stoi(argv[++i]));
    else if (arg == "--tls" && i + 2 < argc) {
      tls_files.emplace(argv[i + 1], argv[i + 2]);
      i += 2;
    } else {
      std::cerr << "usage: bench_upstream [--port N] [--threads N] [--tls CERT KEY]\n";
      return 2;
    }
  }
  net::io_context io(threads);
  ssl::context tls(ssl::context::tls_server);
  if (tls_files) {
    tls.use_certificate_chain_file(tls_files->first);
    tls.use_private_key_file(tls_files->second, ssl::context::pem);
  }
  answer_cache cache;
  tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), port});
  std::cout << "listening " << acceptor.local_endpoint().port() << std::endl;
  net::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](auto, int) { io.stop(); });
  net::co_spawn(io, accept_loop(acceptor, tls_files ? &tls : nullptr, cache), net::detached);
  std::vector<std::jthread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  return 0;
}
