#include "downstream_session.hpp"

#include "error_response.hpp"
#include "exchange.hpp"
#include "iso_time.hpp"
#include "log.hpp"
#include "request_rewriter.hpp"
#include "stream_options_injector.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>

#include <chrono>

namespace tokenmeter {

downstream_session::downstream_session(boost::asio::ip::tcp::socket&& socket, services& svc, bool over_capacity)
    : stream_(std::move(socket), svc.proxy_tls), svc_(svc), over_capacity_(over_capacity) {}

downstream_session::~downstream_session() { svc_.sessions.remove(registry_key_); }

void downstream_session::start() {
  registry_key_ = svc_.sessions.add_session(shared_from_this(), stream_.get_executor());
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    auto* tls = self->stream_.tls();
    if (!tls) return self->do_read_header();
    self->stream_.expires_after(self->svc_.cfg.timeouts.request_header);
    tls->async_handshake(boost::asio::ssl::stream_base::server, [self](auto ec) { self->on_handshake(ec); });
  });
}

void downstream_session::on_handshake(boost::system::error_code ec) {
  if (ec) {
    log_line(log_level::info, "agent_tls_handshake_failed").kv("error", ec.message());
    return close();
  }
  do_read_header();
}

void downstream_session::do_read_header() {
  if (stopping_) return close();
  parser_.emplace();
  parser_->header_limit(svc_.cfg.max_header_bytes);
  parser_->body_limit(svc_.cfg.max_request_body_bytes);
  stream_.expires_after(first_request_ ? svc_.cfg.timeouts.request_header : svc_.cfg.timeouts.keep_alive_idle);
  stream_.visit([&](auto& stream) {
    http::async_read_header(stream, buffer_, *parser_,
                            [self = shared_from_this()](auto ec, auto) { self->on_read_header(ec); });
  });
}

void downstream_session::on_read_header(boost::system::error_code ec) {
  first_request_ = false;
  if (ec == http::error::end_of_stream || ec == boost::asio::error::operation_aborted ||
      ec == boost::asio::error::connection_reset || ec == beast::error::timeout)
    return close();
  if (ec == http::error::header_limit)
    return send_error(http::status::request_header_fields_too_large, "request header too large", "header_too_large",
                      false);
  // A Content-Length above the limit is refused as soon as the header shows it.
  if (ec == http::error::body_limit) return reject_oversized_body();
  if (ec) return send_error(http::status::bad_request, "malformed request: " + ec.message(), "bad_request", false);
  if (const auto problem = request_target_problem(parser_->get().target()); !problem.empty())
    return send_error(http::status::bad_request, std::string(problem), "bad_target", false);
  if (const auto te = parser_->get()[http::field::transfer_encoding]; !te.empty() && !beast::iequals(te, "chunked"))
    return send_error(http::status::not_implemented, "only the chunked transfer coding is supported",
                      "unsupported_transfer_coding", false);
  if (over_capacity_)
    return send_error(http::status::service_unavailable, "tokenmeter is at its connection limit; retry later",
                      "too_many_connections", false);

  const auto& req = parser_->get();
  if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    stream_.expires_after(svc_.cfg.timeouts.write);
    return stream_.visit([&](auto& stream) {
      http::async_write(stream, *interim, [self = shared_from_this(), interim](auto ec, auto) {
        if (ec) return self->close();
        self->do_read_body();
      });
    });
  }
  do_read_body();
}

void downstream_session::do_read_body() {
  if (parser_->is_done()) return start_exchange();
  stream_.expires_after(svc_.cfg.timeouts.request_body);
  stream_.visit([&](auto& stream) {
    http::async_read(stream, buffer_, *parser_, [self = shared_from_this()](auto ec, auto) { self->on_read_body(ec); });
  });
}

void downstream_session::on_read_body(boost::system::error_code ec) {
  if (ec == http::error::body_limit) return reject_oversized_body();
  if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == boost::asio::error::connection_reset)
    return close();
  if (ec) return send_error(http::status::bad_request, "malformed request body: " + ec.message(), "bad_request", false);
  start_exchange();
}

void downstream_session::reject_oversized_body() {
  send_error(http::status::payload_too_large, "request body larger than the configured limit", "body_too_large", false);
}

void downstream_session::start_exchange() {
  auto req = parser_->release();
  const std::string_view target = req.target();
  const auto query_at = target.find('?');
  const std::string path(target.substr(0, query_at));
  const std::string query(query_at == std::string_view::npos ? std::string_view{} : target.substr(query_at + 1));
  const bool keep_alive = req.keep_alive() && !stopping_;

  const auto chosen = svc_.routes.select(path, req[svc_.cfg.upstream_header]);
  if (!chosen.upstream) {
    const std::string_view named = req[svc_.cfg.upstream_header];
    return send_error(http::status::bad_gateway,
                      named.empty() ? "no upstream is configured for this path; start tokenmeter with --upstream URL"
                                    : "no upstream named '" + std::string(named) + "'",
                      "no_upstream", keep_alive);
  }

  exchange::context ctx;
  ctx.started = std::chrono::steady_clock::now();
  ctx.started_unix_ms = unix_ms_now();
  ctx.tags = read_request_tags(req.base(), req.body(), svc_.cfg, chosen.path);
  ctx.path = path;
  ctx.schema = chosen.upstream->schema.value_or(schema_for_path(chosen.path));
  ctx.agent_keep_alive = keep_alive;
  ctx.agent_version = req.version();
  ctx.head_request = req.method() == http::verb::head;

  if (!upstream_ || &upstream_->endpoint() != chosen.upstream) {
    if (upstream_) upstream_->close();
    upstream_ = std::make_shared<upstream_connection>(stream_.get_executor(), *chosen.upstream);
  } else if (!upstream_->reusable()) {
    upstream_->close();
    upstream_ = std::make_shared<upstream_connection>(stream_.get_executor(), *chosen.upstream);
  }

  // An agent that streams without asking for usage would go unmetered: ask for it, and hide
  // from the agent the one chunk it did not ask for.
  const bool completions = chosen.path.ends_with("/chat/completions") || chosen.path.ends_with("/completions");
  if (chosen.upstream->inject_include_usage && ctx.schema == api_schema::openai_chat && completions &&
      ctx.tags.stream && !chosen.upstream->usage) {
    if (auto body = inject_include_usage(req.body())) {
      req.body() = std::move(*body);
      ctx.strip_usage_chunk = true;
    }
  }
  auto upstream_request = make_upstream_request(std::move(req), *chosen.upstream, chosen.path, query,
                                                svc_.cfg.upstream_header);
  // The chunk filter reads plain SSE.
  if (ctx.strip_usage_chunk) upstream_request.set(http::field::accept_encoding, "identity");
  busy_ = true;
  auto ex = std::make_shared<exchange>(stream_, upstream_, std::move(ctx), svc_,
                                       [self = shared_from_this()](exchange_outcome outcome) {
                                         self->on_exchange_done(outcome.keep_alive);
                                       });
  ex->start(std::move(upstream_request));
}

void downstream_session::on_exchange_done(bool keep_alive) {
  busy_ = false;
  if (!keep_alive || stopping_) return close();
  do_read_header();
}

void downstream_session::send_error(http::status status, std::string_view message, std::string_view code,
                                    bool keep_alive) {
  log_line(log_level::info, "request_rejected").kv("status", static_cast<int>(status)).kv("code", code);
  svc_.meters.record_rejected(code);
  const unsigned version = parser_ ? parser_->get().version() : 11;
  auto res = std::make_shared<http::response<http::string_body>>(
      make_error_response(status, message, code, version == 10 ? 10 : 11, keep_alive));
  stream_.expires_after(svc_.cfg.timeouts.write);
  stream_.visit([&](auto& stream) {
    http::async_write(stream, *res, [self = shared_from_this(), res, keep_alive](auto ec, auto) {
      if (ec || !keep_alive) return self->close();
      self->do_read_header();
    });
  });
}

void downstream_session::stop() {
  stopping_ = true;
  // An idle connection is waiting for a request that may never come: end it now. A busy
  // one finishes its exchange and closes afterwards.
  if (!busy_) stream_.cancel();
}

void downstream_session::close() {
  stream_.close();
  if (upstream_) upstream_->close();
}

void downstream_session::abort() {
  stopping_ = true;
  close();
}

} // namespace tokenmeter
