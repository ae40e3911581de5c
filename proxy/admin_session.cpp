#include "admin_session.hpp"

#include "error_response.hpp"
#include "iso_time.hpp"
#include "metrics.hpp"
#include "usage_report.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>

#include <openssl/crypto.h>

namespace tokenmeter {

namespace {

constexpr std::uint64_t admin_body_limit = 16 * 1024;

http::response<http::string_body> make_response(http::status status, std::string_view content_type, std::string body,
                                                unsigned version, bool keep_alive) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "tokenmeter");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

} // namespace

admin_session::admin_session(boost::asio::ip::tcp::socket&& socket, services& svc)
    : stream_(std::move(socket)), svc_(svc) {}

admin_session::~admin_session() { svc_.sessions.remove(registry_key_); }

void admin_session::start() {
  registry_key_ = svc_.sessions.add_session(shared_from_this(), stream_.get_executor());
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void admin_session::do_read() {
  if (stopping_) return stream_.close();
  parser_.emplace();
  parser_->body_limit(admin_body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(svc_.cfg.max_header_bytes));
  stream_.expires_after(svc_.cfg.timeouts.keep_alive_idle);
  http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](auto ec, auto) { self->on_read(ec); });
}

void admin_session::on_read(boost::system::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::operation_aborted)
    return stream_.close();
  if (ec) {
    keep_alive_ = false;
    return send(make_error_response(http::status::bad_request, "malformed request: " + ec.message(), "bad_request",
                                    11, false));
  }
  const auto& req = parser_->get();
  version_ = req.version() == 10 ? 10 : 11;
  head_ = req.method() == http::verb::head;
  keep_alive_ = req.keep_alive() && !stopping_;
  busy_ = true;
  route(req);
}

void admin_session::route(const http::request<http::string_body>& req) {
  const auto target = boost::urls::parse_origin_form(req.target());
  if (!target) return send(make_error_response(http::status::bad_request, "bad request target", "bad_request", version_, keep_alive_));
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return send(make_error_response(http::status::method_not_allowed, "only GET is served here", "method_not_allowed",
                                    version_, keep_alive_));

  const auto segments = target->segments();
  std::vector<std::string> parts(segments.begin(), segments.end());
  if (parts != std::vector<std::string>{"healthz"} && !authorized(req[http::field::authorization])) {
    auto res = make_error_response(http::status::unauthorized, "this endpoint needs Authorization: Bearer <admin_token>",
                                   "unauthorized", version_, keep_alive_);
    res.set(http::field::www_authenticate, "Bearer");
    return send(std::move(res));
  }
  const auto param = [&](std::string_view key) -> std::string {
    const auto params = target->params();
    const auto it = params.find(key);
    return it == params.end() ? std::string{} : std::string((*it).value);
  };
  const auto version = version_;
  const auto keep_alive = keep_alive_;

  if (parts == std::vector<std::string>{"healthz"})
    return send(make_response(http::status::ok, "application/json", "{\"status\":\"ok\"}", version, keep_alive));
  if (parts == std::vector<std::string>{"metrics"})
    return send(make_response(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", svc_.meters.scrape(),
                              version, keep_alive));
  if (parts == std::vector<std::string>{"usage"})
    return answer_from_ledger([=](sqlite3& db) {
      return make_response(http::status::ok, "application/json", usage_report::totals_json(db), version, keep_alive);
    });
  if (parts == std::vector<std::string>{"usage", "sessions"}) {
    auto parsed = usage_report::parse_top_sessions(param("top"), param("since"), param("by"), unix_ms_now());
    if (const auto* error = std::get_if<std::string>(&parsed))
      return send(make_error_response(http::status::bad_request, *error, "bad_query", version, keep_alive));
    return answer_from_ledger([=, query = std::get<usage_report::top_sessions_query>(parsed)](sqlite3& db) {
      return make_response(http::status::ok, "application/json", usage_report::top_sessions_json(db, query), version,
                           keep_alive);
    });
  }
  if (parts.size() == 3 && parts[0] == "usage" && parts[1] == "sessions")
    return answer_from_ledger([=, id = parts[2]](sqlite3& db) {
      if (auto body = usage_report::session_json(db, id))
        return make_response(http::status::ok, "application/json", std::move(*body), version, keep_alive);
      return make_error_response(http::status::not_found, "no exchange recorded for session '" + id + "'",
                                 "session_not_found", version, keep_alive);
    });
  if (parts == std::vector<std::string>{"usage", "requests"}) {
    const auto format = param("format");
    if (!format.empty() && format != "json" && format != "csv")
      return send(make_error_response(http::status::bad_request, "format must be json or csv", "bad_format", version,
                                      keep_alive));
    return answer_from_ledger([=, session = param("session")](sqlite3& db) {
      if (format == "csv")
        return make_response(http::status::ok, "text/csv; charset=utf-8", usage_report::requests_csv(db, session),
                             version, keep_alive);
      return make_response(http::status::ok, "application/json", usage_report::requests_json(db, session), version,
                           keep_alive);
    });
  }
  send(make_error_response(http::status::not_found, "no such endpoint", "not_found", version, keep_alive));
}

bool admin_session::authorized(std::string_view header) const {
  const std::string& token = svc_.cfg.admin_token;
  if (token.empty()) return true;
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() != scheme.size() + token.size() || !header.starts_with(scheme)) return false;
  // Constant time in the token's content, so its bytes cannot be guessed one by one.
  return CRYPTO_memcmp(header.data() + scheme.size(), token.data(), token.size()) == 0;
}

void admin_session::answer_from_ledger(std::function<http::response<http::string_body>(sqlite3&)> query) {
  auto job = [self = shared_from_this(), query = std::move(query)](sqlite3& db) {
    http::response<http::string_body> res;
    try {
      res = query(db);
    } catch (const std::exception& e) {
      res = make_error_response(http::status::internal_server_error, std::string("ledger query failed: ") + e.what(),
                                "ledger_error", self->version_, false);
    }
    boost::asio::post(self->stream_.get_executor(),
                      [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  };
  // Estimated exchanges reach the ledger through the estimator: the query waits for those
  // queued before it, then for the rows queued before it, so it sees every relayed exchange.
  svc_.recorder.after_estimates([&book = svc_.book, job = std::move(job)]() mutable {
    book.after_commit(std::move(job));
  });
}

void admin_session::send(http::response<http::string_body> res) {
  // HEAD gets the headers of the GET answer, Content-Length included, and no body.
  if (head_) res.body().clear();
  auto message = std::make_shared<http::response<http::string_body>>(std::move(res));
  stream_.expires_after(svc_.cfg.timeouts.write);
  http::async_write(stream_, *message, [self = shared_from_this(), message](auto ec, auto) {
    self->busy_ = false;
    if (ec || !message->keep_alive()) return self->stream_.close();
    self->do_read();
  });
}

void admin_session::stop() {
  stopping_ = true;
  if (!busy_) stream_.cancel();
}

void admin_session::abort() {
  stopping_ = true;
  stream_.close();
}

} // namespace tokenmeter
