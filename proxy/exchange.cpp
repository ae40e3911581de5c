#include "exchange.hpp"

#include "error_response.hpp"
#include "log.hpp"
#include "request_rewriter.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace tokenmeter {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t micros_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

bool is_timeout(boost::system::error_code ec) {
  return ec == beast::error::timeout || ec == boost::asio::error::timed_out;
}

/// Interim 1xx answers (other than 101) precede the real response and are not relayed.
bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

} // namespace

exchange::exchange(beast::tcp_stream& agent, std::shared_ptr<upstream_connection> upstream, context ctx,
                   services& svc, done_handler done)
    : agent_(agent), upstream_(std::move(upstream)), ctx_(std::move(ctx)), svc_(svc), done_(std::move(done)) {}

void exchange::start(http::request<http::string_body> upstream_request) {
  request_ = std::move(upstream_request);
  if (upstream_->reusable()) return do_write_request();
  upstream_->async_connect(svc_.cfg.timeouts.connect, [self = shared_from_this()](auto ec, std::string_view step) {
    self->on_connect(ec, step);
  });
}

void exchange::on_connect(boost::system::error_code ec, std::string_view step) {
  if (ec) return fail_before_response(ec, is_timeout(ec) ? "upstream_connect_timeout" : "upstream_" + std::string(step));
  do_write_request();
}

void exchange::do_write_request() {
  upstream_->expires_after(svc_.cfg.timeouts.write);
  upstream_->visit([&](auto& stream) {
    http::async_write(stream, request_, [self = shared_from_this()](auto ec, auto) { self->on_write_request(ec); });
  });
}

void exchange::on_write_request(boost::system::error_code ec) {
  if (ec) return fail_before_response(ec, is_timeout(ec) ? "upstream_timeout" : "upstream_write");
  request_.body().clear();
  request_.body().shrink_to_fit();
  do_read_header();
}

void exchange::do_read_header() {
  parser_.emplace();
  parser_->body_limit(boost::none);
  parser_->header_limit(svc_.cfg.max_header_bytes);
  if (ctx_.head_request) parser_->skip(true);
  upstream_->expires_after(svc_.cfg.timeouts.first_byte);
  upstream_->visit([&](auto& stream) {
    http::async_read_header(stream, upstream_->buffer(), *parser_,
                            [self = shared_from_this()](auto ec, auto) { self->on_read_header(ec); });
  });
}

void exchange::on_read_header(boost::system::error_code ec) {
  if (ec) return fail_before_response(ec, is_timeout(ec) ? "upstream_timeout" : "upstream_response");
  if (!first_byte_) first_byte_ = clock::now();
  const auto& head = parser_->get();
  if (is_interim(head.result_int())) return do_read_header();

  response_.result(head.result_int());
  response_.reason(head.reason());
  response_.version(ctx_.agent_version);
  copy_end_to_end_fields(head.base(), response_.base());
  const bool bodyless = ctx_.head_request || head.result_int() == 204 || head.result_int() == 304;
  if (!bodyless && !parser_->content_length()) {
    // The upstream framed the body with chunks or EOF; the agent gets chunks (HTTP/1.1)
    // or the end of the connection (HTTP/1.0).
    if (ctx_.agent_version >= 11) response_.chunked(true);
    else ctx_.agent_keep_alive = false;
  }
  response_.keep_alive(ctx_.agent_keep_alive);
  response_.body().data = nullptr;
  response_.body().size = 0;
  response_.body().more = !parser_->is_done();
  serializer_.emplace(response_);

  tap_.emplace(ctx_.schema, head[http::field::content_type], head[http::field::content_encoding]);
  buffer_ = std::make_unique<std::array<char, relay_buffer_size>>();

  if (parser_->is_done()) return do_write_body(0, true);
  agent_.expires_after(svc_.cfg.timeouts.write);
  http::async_write_header(agent_, *serializer_,
                           [self = shared_from_this()](auto ec, auto) { self->on_write_header(ec); });
}

void exchange::on_write_header(boost::system::error_code ec) {
  if (ec) agent_gone_ = true;
  do_read_body();
}

void exchange::do_read_body() {
  auto& body = parser_->get().body();
  body.data = buffer_->data();
  body.size = buffer_->size();
  upstream_->expires_after(svc_.cfg.timeouts.idle);
  upstream_->visit([&](auto& stream) {
    // read_some, not read: an SSE event must go out as soon as it arrives, not when the buffer fills.
    http::async_read_some(stream, upstream_->buffer(), *parser_,
                          [self = shared_from_this()](auto ec, auto) { self->on_read_body(ec); });
  });
}

void exchange::on_read_body(boost::system::error_code ec) {
  if (ec == http::error::need_buffer) ec = {};
  if (ec) return fail_mid_body(ec, is_timeout(ec) ? "upstream_timeout" : "upstream_reset");
  const std::size_t n = buffer_->size() - parser_->get().body().size;
  if (n > 0) tap_->feed(std::string_view(buffer_->data(), n));
  const bool last = parser_->is_done();
  if (last) record(parser_->get().result_int(), agent_gone_ ? "agent_disconnected" : "");
  if (agent_gone_) {
    drained_bytes_ += n;
    if (last) return finish(false);
    return do_read_body();
  }
  if (n == 0 && !last) return do_read_body();
  do_write_body(n, last);
}

void exchange::do_write_body(std::size_t n, bool last) {
  auto& body = response_.body();
  body.data = n > 0 ? buffer_->data() : nullptr;
  body.size = n;
  body.more = !last;
  if (last && !recorded_) record(parser_->get().result_int(), "");
  agent_.expires_after(svc_.cfg.timeouts.write);
  http::async_write(agent_, *serializer_,
                    [self = shared_from_this(), last](auto ec, auto) { self->on_write_body(ec, last); });
}

void exchange::on_write_body(boost::system::error_code ec, bool last) {
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    // The agent went away: keep reading so that the upstream's final usage is still recorded.
    agent_gone_ = true;
    if (last) return finish(false);
    log_line(log_level::info, "agent_disconnected").kv("path", ctx_.path).kv("error", ec.message());
    return do_read_body();
  }
  if (last) return finish(ctx_.agent_keep_alive);
  do_read_body();
}

void exchange::fail_before_response(boost::system::error_code ec, std::string_view kind) {
  const bool timeout = is_timeout(ec);
  const auto status = timeout ? http::status::gateway_timeout : http::status::bad_gateway;
  log_line(log_level::warn, "upstream_error")
      .kv("upstream", upstream_->endpoint().name)
      .kv("kind", kind)
      .kv("error", ec.message());
  upstream_->close();
  record(static_cast<int>(status), kind);
  auto res = std::make_shared<http::response<http::string_body>>(make_error_response(
      status, "upstream " + upstream_->endpoint().name + " failed: " + std::string(kind) + " (" + ec.message() + ")",
      kind, ctx_.agent_version, ctx_.agent_keep_alive));
  agent_.expires_after(svc_.cfg.timeouts.write);
  http::async_write(agent_, *res, [self = shared_from_this(), res](auto ec, auto) {
    self->finish(!ec && self->ctx_.agent_keep_alive);
  });
}

void exchange::fail_mid_body(boost::system::error_code ec, std::string_view kind) {
  log_line(log_level::warn, "upstream_error")
      .kv("upstream", upstream_->endpoint().name)
      .kv("kind", kind)
      .kv("error", ec.message());
  upstream_->close();
  record(parser_->get().result_int(), kind);
  // The agent must see a truncated answer, never a clean end: close without the last chunk.
  finish(false);
}

void exchange::record(int status, std::string_view error) {
  if (recorded_) return;
  recorded_ = true;
  const auto now = clock::now();
  exchange_record row;
  row.time_unix_ms = ctx_.started_unix_ms;
  row.session_id = ctx_.tags.session_id;
  row.node = ctx_.tags.node;
  row.upstream = upstream_->endpoint().name;
  row.path = ctx_.path;
  row.status = status;
  row.stream = ctx_.tags.stream;
  if (tap_) {
    auto result = tap_->finish();
    row.usage = result.usage;
    row.source = result.source;
    row.model = std::move(result.model);
    row.stream = row.stream || result.streamed;
    row.stream_complete = result.stream_complete;
    row.provider_cost_pico_usd = result.provider_cost_pico_usd;
    row.service_tier = std::move(result.service_tier);
    row.notes = std::move(result.notes);
  }
  row.request_model = ctx_.tags.request_model;
  row.latency_us = micros_between(ctx_.started, now);
  row.ttfb_us = first_byte_ ? micros_between(ctx_.started, *first_byte_) : 0;
  row.error = error;
  svc_.recorder.record(std::move(row));
}

void exchange::finish(bool keep_alive) {
  if (!recorded_) record(parser_ ? parser_->get().result_int() : 0, "incomplete");
  if (!keep_alive || !parser_ || !parser_->is_done() || !parser_->keep_alive()) upstream_->close();
  auto done = std::move(done_);
  if (done) done(exchange_outcome{keep_alive});
}

} // namespace tokenmeter
