#include "exchange.hpp"

#include "error_response.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "request_rewriter.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
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

/// The ledger's name for why an upstream step failed.
std::string_view failure_kind(boost::system::error_code ec, std::string_view otherwise) {
  if (is_timeout(ec)) return "upstream_timeout";
  // Only a shutdown whose grace ran out closes sockets under a running exchange.
  if (ec == boost::asio::error::operation_aborted) return "aborted_at_shutdown";
  return otherwise;
}

/// Only a successful answer is billed, and so only its usage is estimated when missing.
bool is_success(unsigned status) { return status >= 200 && status < 300; }

/// Interim 1xx answers (other than 101) precede the real response and are not relayed.
bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

} // namespace

exchange::exchange(http_stream& agent, std::shared_ptr<upstream_connection> upstream, context ctx,
                   services& svc, done_handler done)
    : agent_(agent), upstream_(std::move(upstream)), ctx_(std::move(ctx)), svc_(svc), done_(std::move(done)) {}

void exchange::start(http::request<http::string_body> upstream_request) {
  request_ = std::move(upstream_request);
  // The session checked reusable() just before (one poll per request is enough).
  if (upstream_->connected()) return do_write_request();
  upstream_->async_connect(svc_.cfg.timeouts.connect, [self = shared_from_this()](auto ec, std::string_view step) {
    self->on_connect(ec, step);
  });
}

void exchange::on_connect(boost::system::error_code ec, std::string_view step) {
  if (ec) return fail_before_response(ec, is_timeout(ec) ? "upstream_connect_timeout" : "upstream_" + std::string(step));
  do_write_request();
}

void exchange::do_write_request() {
  request_head_.reserve(head_reserve);
  append_head(request_.base(), request_head_);
  const std::array buffers{boost::asio::buffer(request_head_), boost::asio::buffer(request_.body())};
  upstream_->expires_after(svc_.cfg.timeouts.write);
  upstream_->visit([&](auto& stream) {
    boost::asio::async_write(stream, buffers,
                             [self = shared_from_this()](auto ec, auto) { self->on_write_request(ec); });
  });
}

void exchange::on_write_request(boost::system::error_code ec) {
  if (ec) return fail_before_response(ec, failure_kind(ec, "upstream_write"));
  // Kept until the exchange is recorded: the prompt is estimated from it if no usage comes.
  request_body_ = std::move(request_.body());
  request_.body().clear();
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
  if (ec) return fail_before_response(ec, failure_kind(ec, "upstream_response"));
  if (!first_byte_) first_byte_ = clock::now();
  const auto& head = parser_->get();
  if (is_interim(head.result_int())) return do_read_header();
  // The agent's Upgrade was not forwarded, so a switch of protocols is an upstream fault.
  if (head.result_int() == 101)
    return fail_before_response(http::error::bad_version, "upstream_response");

  response_.result(head.result_int());
  response_.reason(head.reason());
  response_.version(ctx_.agent_version);
  copy_end_to_end_fields(head.base(), response_.base());
  const bool bodyless = ctx_.head_request || head.result_int() == 204 || head.result_int() == 304;
  // Framing is ours to set: a Content-Length the upstream's Connection header named is gone.
  if (const auto length = parser_->content_length(); length && !bodyless) response_.content_length(*length);
  if (!bodyless && !parser_->content_length()) {
    // The upstream framed the body with chunks or EOF; the agent gets chunks (HTTP/1.1)
    // or the end of the connection (HTTP/1.0).
    if (ctx_.agent_version >= 11) response_.chunked(true);
    else ctx_.agent_keep_alive = false;
  }
  response_.keep_alive(ctx_.agent_keep_alive);
  chunked_ = response_.chunked();
  response_head_.reserve(head_reserve);
  append_head(response_.base(), response_head_);

  const auto& up = upstream_->endpoint();
  tap_.emplace(ctx_.schema, head[http::field::content_type], head[http::field::content_encoding],
               up.usage ? &*up.usage : nullptr, is_success(head.result_int()));
  // The injected usage chunk can be cut only from a plain event stream whose length is not
  // announced (chunked to an HTTP/1.1 agent, ended by closing for HTTP/1.0); anything else (an
  // error body, say) is relayed whole.
  const bool plain_event_stream = head[http::field::content_type].find("text/event-stream") != std::string_view::npos &&
                                  head[http::field::content_encoding].empty() && !parser_->content_length();
  if (ctx_.strip_usage_chunk && plain_event_stream) filter_.emplace();
  if (head[http::field::content_type].find("text/event-stream") != std::string_view::npos) {
    counted_open_stream_ = true;
    svc_.meters.stream_opened();
  }
  // Not zeroed: every byte relayed from it is one the parser wrote.
  buffer_ = std::make_unique_for_overwrite<char[]>(relay_buffer_size);

  if (parser_->is_done()) return do_write_body({}, true);
  // Body bytes that came with the header leave with it, in one write to the agent; otherwise
  // the header goes out now, as it arrived, before any event of a stream.
  if (upstream_->buffer().size() > 0) return do_read_body();
  write_to_agent({}, false, [self = shared_from_this()](auto ec, auto) { self->on_write_header(ec); });
}

void exchange::on_write_header(boost::system::error_code ec) {
  if (ec) on_agent_gone(ec);
  do_read_body();
}

void exchange::on_agent_gone(boost::system::error_code ec) {
  // Providers bill the whole generation, so the upstream is read on, within a budget,
  // until its final usage arrives.
  agent_gone_ = true;
  drain_deadline_ = clock::now() + svc_.cfg.timeouts.drain;
  log_line(log_level::info, "agent_disconnected").kv("path", ctx_.path).kv("error", ec.message());
}

void exchange::do_read_body() {
  auto& body = parser_->get().body();
  body.data = buffer_.get();
  body.size = relay_buffer_size;
  auto timeout = std::chrono::duration_cast<clock::duration>(svc_.cfg.timeouts.idle);
  if (agent_gone_) timeout = std::min(timeout, drain_deadline_ - clock::now());
  upstream_->expires_after(timeout);
  upstream_->visit([&](auto& stream) {
    // read_some, not read: an SSE event must go out as soon as it arrives, not when the buffer fills.
    http::async_read_some(stream, upstream_->buffer(), *parser_,
                          [self = shared_from_this()](auto ec, auto) { self->on_read_body(ec); });
  });
}

void exchange::take_buffered_body() {
  auto& body = parser_->get().body();
  auto& buffered = upstream_->buffer();
  for (int element = 0; element < max_buffered_elements && !parser_->is_done() && body.size > 0 && buffered.size() > 0;
       ++element) {
    boost::system::error_code ec;
    const std::size_t used = parser_->put(buffered.data(), ec);
    buffered.consume(used);
    // need_more: the rest is a partial chunk header, left for the next read; need_buffer: full.
    if (ec || used == 0) return;
  }
}

void exchange::on_read_body(boost::system::error_code ec) {
  if (ec == http::error::need_buffer) ec = {};
  // Under load one read brings several events: relay all that already arrived in one write
  // instead of one write each. Nothing waits for bytes that have not arrived.
  if (!ec) take_buffered_body();
  const std::size_t n = ec ? 0 : relay_buffer_size - parser_->get().body().size;
  if (n > 0) {
    if (!first_body_byte_) first_body_byte_ = clock::now();
    tap_->feed(std::string_view(buffer_.get(), n));
  }
  if (agent_gone_) {
    drained_bytes_ += n;
    const bool exhausted = (ec && is_timeout(ec) && clock::now() >= drain_deadline_) ||
                           (!parser_->is_done() && drained_bytes_ >= svc_.cfg.drain_max_bytes);
    if (exhausted) {
      record(parser_->get().result_int(), "agent_disconnected", "drain_budget_exhausted");
      return finish(false);
    }
  }
  if (ec) return fail_mid_body(ec, failure_kind(ec, "upstream_reset"));
  const bool last = parser_->is_done();
  if (last) record(parser_->get().result_int(), agent_gone_ ? "agent_disconnected" : "");
  if (agent_gone_) {
    if (last) return finish(false);
    return do_read_body();
  }
  std::string_view out(buffer_.get(), n);
  if (filter_) {
    filtered_.clear();
    filter_->feed(out, filtered_);
    if (last) filter_->finish(filtered_);
    out = filtered_;
  }
  if (out.empty() && !last) return do_read_body();
  do_write_body(out, last);
}

template <class Handler> void exchange::write_to_agent(std::string_view piece, bool last, Handler&& handler) {
  // Unused slots stay empty buffers, which a gather write skips.
  std::array<boost::asio::const_buffer, 5> buffers{};
  std::size_t used = 0;
  if (!head_sent_) buffers[used++] = boost::asio::buffer(response_head_);
  head_sent_ = true;
  if (chunked_ && !piece.empty()) buffers[used++] = boost::asio::buffer(make_chunk_size_line(piece.size(), chunk_line_));
  buffers[used++] = boost::asio::buffer(piece);
  if (chunked_ && !piece.empty()) buffers[used++] = boost::asio::buffer(chunk_end);
  if (chunked_ && last) buffers[used++] = boost::asio::buffer(last_chunk);
  agent_.expires_after(svc_.cfg.timeouts.write);
  agent_.visit([&](auto& stream) { boost::asio::async_write(stream, buffers, std::forward<Handler>(handler)); });
}

void exchange::do_write_body(std::string_view piece, bool last) {
  if (last && !recorded_) record(parser_->get().result_int(), "");
  write_to_agent(piece, last, [self = shared_from_this(), last](auto ec, auto) { self->on_write_body(ec, last); });
}

void exchange::on_write_body(boost::system::error_code ec, bool last) {
  if (ec) {
    if (last) return finish(false);
    on_agent_gone(ec);
    return do_read_body();
  }
  if (last) return finish(ctx_.agent_keep_alive);
  do_read_body();
}

void exchange::fail_before_response(boost::system::error_code ec, std::string_view kind) {
  const bool timeout = is_timeout(ec);
  const auto status = timeout ? http::status::gateway_timeout : http::status::bad_gateway;
  note_upstream_error(ec, kind);
  record(static_cast<int>(status), kind);
  auto res = std::make_shared<http::response<http::string_body>>(make_error_response(
      status, "upstream " + upstream_->endpoint().name + " failed: " + std::string(kind) + " (" + ec.message() + ")",
      kind, ctx_.agent_version, ctx_.agent_keep_alive));
  agent_.expires_after(svc_.cfg.timeouts.write);
  agent_.visit([&](auto& stream) {
    http::async_write(stream, *res, [self = shared_from_this(), res](auto ec, auto) {
      self->finish(!ec && self->ctx_.agent_keep_alive);
    });
  });
}

void exchange::fail_mid_body(boost::system::error_code ec, std::string_view kind) {
  note_upstream_error(ec, kind);
  record(parser_->get().result_int(), kind, agent_gone_ ? "agent_disconnected" : "");
  // The agent must see a truncated answer, never a clean end: close without the last chunk.
  finish(false);
}

void exchange::note_upstream_error(boost::system::error_code ec, std::string_view kind) {
  log_line(log_level::warn, "upstream_error")
      .kv("upstream", upstream_->endpoint().name)
      .kv("kind", kind)
      .kv("error", ec.message());
  svc_.meters.record_upstream_error(upstream_->endpoint().name, kind);
  upstream_->close();
}

void exchange::record(int status, std::string_view error, std::string_view note) {
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
  estimation_input estimation{ctx_.schema, std::move(request_body_), {}};
  // Only a readable, successful answer is counted: an error or a body that is not the API's
  // JSON is no generation to bill.
  bool estimable = is_success(static_cast<unsigned>(status)) && !ctx_.head_request;
  if (tap_) {
    auto result = tap_->finish();
    row.usage = result.usage;
    row.source = result.source;
    // The upstream names the model: it gets the same length cap and cleaning as the agent's tags.
    row.model = sanitize_tag(result.model, svc_.cfg.max_tag_length);
    row.stream = row.stream || result.streamed;
    row.stream_complete = result.stream_complete;
    row.provider_cost_pico_usd = result.provider_cost_pico_usd;
    row.service_tier = std::move(result.service_tier);
    row.notes = std::move(result.notes);
    estimation.payloads = std::move(result.payloads);
    estimable = estimable && !result.unreadable_body;
  }
  row.request_model = ctx_.tags.request_model;
  if (!note.empty()) row.notes += (row.notes.empty() ? "" : ",") + std::string(note);
  row.latency_us = micros_between(ctx_.started, now);
  row.ttfb_us = first_byte_ ? micros_between(ctx_.started, *first_byte_) : 0;
  row.ttft_us = first_body_byte_ ? micros_between(ctx_.started, *first_body_byte_) : 0;
  row.error = error;
  if (estimable) return svc_.recorder.record(std::move(row), std::move(estimation));
  svc_.recorder.record(std::move(row));
}

void exchange::finish(bool keep_alive) {
  if (counted_open_stream_) svc_.meters.stream_closed();
  counted_open_stream_ = false;
  if (!recorded_) record(parser_ ? parser_->get().result_int() : 0, "incomplete");
  if (!keep_alive || !parser_ || !parser_->is_done() || !parser_->keep_alive()) upstream_->close();
  auto done = std::move(done_);
  if (done) done(exchange_outcome{keep_alive});
}

} // namespace tokenmeter
