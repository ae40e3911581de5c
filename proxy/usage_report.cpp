#include "usage_report.hpp"

#include "iso_time.hpp"

#include "json_writer.hpp"
#include "money.hpp"

#include <sqlite3.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>

namespace tokenmeter::usage_report {
namespace {

struct statement_finalizer {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

[[noreturn]] void fail(sqlite3& db) {
  throw std::runtime_error(std::string("usage report: ") + sqlite3_errmsg(&db));
}

/// Prepares `sql`, binding the session to ?1 when the query filters on one.
statement_ptr prepare(sqlite3& db, const std::string& sql,
                      std::optional<std::string_view> session) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(&db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    fail(db);
  }
  statement_ptr statement(raw);
  if (session && sqlite3_bind_text(raw, 1, session->data(), static_cast<int>(session->size()),
                                   SQLITE_TRANSIENT) != SQLITE_OK) {
    fail(db);
  }
  return statement;
}

/// True when a row is ready, false when done. Errors, such as SUM's integer overflow
/// past 9.2M USD, throw rather than yield a wrong number.
bool next_row(sqlite3& db, sqlite3_stmt* statement) {
  const int step = sqlite3_step(statement);
  if (step == SQLITE_ROW) return true;
  if (step == SQLITE_DONE) return false;
  fail(db);
}

std::string_view column_text(sqlite3_stmt* statement, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
  return {text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(statement, index))};
}

std::string where_clause(std::optional<std::string_view> session) {
  return session ? " WHERE session_id = ?1" : "";
}

// The token-fields block: SQL aggregates and JSON keys in the same order.
constexpr std::string_view token_sums_sql =
    "COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
    "COALESCE(SUM(cached_prompt_tokens), 0), COALESCE(SUM(cache_write_tokens), 0), "
    "COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(total_tokens), 0), "
    "COALESCE(SUM(cost_pico_usd), 0), COUNT(*) - COUNT(cost_pico_usd), "
    "COALESCE(SUM(usage_source = 'estimated'), 0)";
constexpr std::array<std::string_view, 7> token_sum_keys = {
    "requests",           "prompt_tokens",    "completion_tokens", "cached_prompt_tokens",
    "cache_write_tokens", "reasoning_tokens", "total_tokens"};
constexpr int cost_sum_offset = 7;
constexpr int unpriced_offset = 8;
constexpr int estimated_offset = 9;

/// Writes the token-fields block read from the columns starting at `first`.
void write_token_sums(json_writer& json, sqlite3_stmt* statement, int first) {
  for (std::size_t i = 0; i < token_sum_keys.size(); ++i) {
    json.key(token_sum_keys[i]);
    json.integer(sqlite3_column_int64(statement, first + static_cast<int>(i)));
  }
  const std::int64_t requests = sqlite3_column_int64(statement, first);
  const std::int64_t unpriced = sqlite3_column_int64(statement, first + unpriced_offset);
  // A sum over no priced request is not a cost of zero: it is unknown.
  json.key("cost_usd");
  if (unpriced > 0 && unpriced == requests) {
    json.null();
  } else {
    json.number(money::usd_from_pico(sqlite3_column_int64(statement, first + cost_sum_offset)));
  }
  json.key("unpriced_requests");
  json.integer(unpriced);
  // Counted by tokenmeter, not reported by the upstream: included in the sums above.
  json.key("estimated_requests");
  json.integer(sqlite3_column_int64(statement, first + estimated_offset));
}

/// Writes `"<name>": {"<key>": {block}, ...}`, one entry per distinct value of `column`.
void write_breakdown(json_writer& json, sqlite3& db, std::optional<std::string_view> session,
                     std::string_view name, std::string_view column, std::string_view empty_key) {
  const std::string key_sql = "CASE WHEN " + std::string(column) + " = '' THEN '" +
                              std::string(empty_key) + "' ELSE " + std::string(column) + " END";
  const statement_ptr statement =
      prepare(db,
              "SELECT " + key_sql + " AS breakdown_key, " + std::string(token_sums_sql) +
                  " FROM exchanges" + where_clause(session) +
                  " GROUP BY breakdown_key ORDER BY breakdown_key",
              session);
  json.key(name);
  json.begin_object();
  while (next_row(db, statement.get())) {
    json.key(column_text(statement.get(), 0));
    json.begin_object();
    write_token_sums(json, statement.get(), 1);
    json.end_object();
  }
  json.end_object();
}

/// Writes the block, by_node and by_model for the whole ledger or one session, and
/// returns how many requests it covers.
std::int64_t write_scope(json_writer& json, sqlite3& db, std::optional<std::string_view> session) {
  const statement_ptr totals = prepare(
      db, "SELECT " + std::string(token_sums_sql) + " FROM exchanges" + where_clause(session),
      session);
  if (!next_row(db, totals.get())) fail(db);
  const std::int64_t requests = sqlite3_column_int64(totals.get(), 0);
  write_token_sums(json, totals.get(), 0);
  write_breakdown(json, db, session, "by_node", "node", "(none)");
  write_breakdown(json, db, session, "by_model", "model", "(unknown)");
  return requests;
}

/// How a ledger column becomes a report field.
enum class column_kind { integer, text, time, boolean, cost, millis };

struct report_column {
  std::string_view name;
  column_kind kind;
};

// The report columns, in the order of requests_sql's select list.
constexpr std::array<report_column, 27> request_columns = {{
    {"id", column_kind::integer},
    {"time", column_kind::time},
    {"session_id", column_kind::text},
    {"node", column_kind::text},
    {"model", column_kind::text},
    {"upstream", column_kind::text},
    {"path", column_kind::text},
    {"stream", column_kind::boolean},
    {"status", column_kind::integer},
    {"prompt_tokens", column_kind::integer},
    {"cached_prompt_tokens", column_kind::integer},
    {"cache_write_tokens", column_kind::integer},
    {"cache_write_1h_tokens", column_kind::integer},
    {"completion_tokens", column_kind::integer},
    {"reasoning_tokens", column_kind::integer},
    {"total_tokens", column_kind::integer},
    {"usage_source", column_kind::text},
    {"cost_usd", column_kind::cost},
    {"latency_ms", column_kind::millis},
    {"ttfb_ms", column_kind::millis},
    {"error", column_kind::text},
    {"request_model", column_kind::text},
    {"stream_complete", column_kind::boolean},
    {"provider_cost_usd", column_kind::cost},
    {"service_tier", column_kind::text},
    {"pricing_sha256", column_kind::text},
    {"notes", column_kind::text},
}};

constexpr std::string_view requests_sql =
    "SELECT id, time_unix_ms, session_id, node, model, upstream, path, stream, status, "
    "prompt_tokens, cached_prompt_tokens, cache_write_tokens, cache_write_1h_tokens, completion_tokens, "
    "reasoning_tokens, total_tokens, usage_source, cost_pico_usd, latency_us, ttfb_us, error, "
    "request_model, stream_complete, provider_cost_pico_usd, service_tier, pricing_sha256, notes "
    "FROM exchanges";

/// One report field: null, text (quoted in JSON) or a JSON literal (number or boolean).
enum class cell_type { null, text, literal };
struct cell {
  cell_type type = cell_type::null;
  std::string value;
};
using request_row = std::array<cell, request_columns.size()>;

/// ISO-8601 UTC with milliseconds, e.g. 2026-12-03T18:29:15.123Z.
cell read_cell(sqlite3_stmt* statement, int index, column_kind kind) {
  const bool is_null = sqlite3_column_type(statement, index) == SQLITE_NULL;
  const std::int64_t number = sqlite3_column_int64(statement, index);
  switch (kind) {
  case column_kind::text: return {cell_type::text, std::string(column_text(statement, index))};
  case column_kind::time: return {cell_type::text, iso8601_utc(number)};
  case column_kind::boolean: return {cell_type::literal, number != 0 ? "true" : "false"};
  case column_kind::millis: return {cell_type::literal, money::millis_from_micros(number)};
  case column_kind::integer:
    if (is_null) return {};
    return {cell_type::literal, std::to_string(number)};
  case column_kind::cost:
    if (is_null) return {};
    return {cell_type::literal, money::usd_from_pico(number)};
  }
  return {};
}

/// Calls `emit` with each ledger row of the session (every row when it is empty), in id order.
void for_each_request(sqlite3& db, std::string_view session_id,
                      const std::function<void(const request_row&)>& emit) {
  const std::optional<std::string_view> session =
      session_id.empty() ? std::nullopt : std::optional(session_id);
  const statement_ptr statement =
      prepare(db, std::string(requests_sql) + where_clause(session) + " ORDER BY id", session);
  request_row row;
  while (next_row(db, statement.get())) {
    for (std::size_t i = 0; i < request_columns.size(); ++i) {
      row[i] = read_cell(statement.get(), static_cast<int>(i), request_columns[i].kind);
    }
    emit(row);
  }
}

/// Appends one CSV field per RFC 4180. Text that a spreadsheet would run as a formula
/// gets a leading apostrophe first.
void append_csv_field(std::string& out, const cell& field) {
  std::string value = field.value;
  if (field.type == cell_type::text && !value.empty() &&
      std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) {
    value.insert(0, 1, '\'');
  }
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

/// The digits of `text` as a number, or nullopt when it is anything else or too large.
std::optional<std::int64_t> parse_digits(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || text.front() == '-') return std::nullopt;
  return value;
}

/// "2026-01-02T03:04:05Z" or "2026-01-02T03:04:05.678Z" as Unix milliseconds.
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text) {
  if (text.size() != 20 && text.size() != 24) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z')
    return std::nullopt;
  const auto year = parse_digits(text.substr(0, 4));
  const auto month = parse_digits(text.substr(5, 2));
  const auto day = parse_digits(text.substr(8, 2));
  const auto hour = parse_digits(text.substr(11, 2));
  const auto minute = parse_digits(text.substr(14, 2));
  const auto second = parse_digits(text.substr(17, 2));
  std::optional<std::int64_t> millis = 0;
  if (text.size() == 24) millis = text[19] == '.' ? parse_digits(text.substr(20, 3)) : std::nullopt;
  if (!year || !month || !day || !hour || !minute || !second || !millis) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*year)),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto days = std::chrono::sys_days(date).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(days).count() +
         ((*hour * 60 + *minute) * 60 + *second) * 1000 + *millis;
}

/// "90s", "15m", "24h", "7d" as milliseconds, up to ten years.
std::optional<std::int64_t> parse_age(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const auto count = parse_digits(text.substr(0, text.size() - 1));
  constexpr std::int64_t max_age_ms = 10LL * 366 * 24 * 3600 * 1000;
  std::int64_t unit_ms = 0;
  switch (text.back()) {
  case 's': unit_ms = 1000; break;
  case 'm': unit_ms = 60'000; break;
  case 'h': unit_ms = 3'600'000; break;
  case 'd': unit_ms = 86'400'000; break;
  default: return std::nullopt;
  }
  if (!count || *count > max_age_ms / unit_ms) return std::nullopt;
  return *count * unit_ms;
}

constexpr std::size_t max_top_sessions = 1000;

} // namespace

std::variant<top_sessions_query, std::string> parse_top_sessions(std::string_view top, std::string_view since,
                                                                 std::string_view by, std::int64_t now_ms) {
  top_sessions_query query;
  if (!top.empty()) {
    const auto count = parse_digits(top);
    if (!count || *count < 1 || *count > static_cast<std::int64_t>(max_top_sessions))
      return std::string("top must be a whole number from 1 to ") + std::to_string(max_top_sessions);
    query.top = static_cast<std::size_t>(*count);
  }
  if (!since.empty()) {
    if (const auto age = parse_age(since)) query.since_ms = now_ms - *age;
    else if (const auto time = parse_iso8601_utc(since)) query.since_ms = *time;
    else return std::string("since must be an ISO-8601 UTC time (2026-01-02T03:04:05Z) or an age (90s, 15m, 24h, 7d)");
  }
  if (by == "tokens") query.by_cost = false;
  else if (!by.empty() && by != "cost") return std::string("by must be cost or tokens");
  return query;
}

std::string top_sessions_json(sqlite3& db, const top_sessions_query& query) {
  const std::string sql =
      "SELECT session_id, MIN(time_unix_ms), MAX(time_unix_ms), " + std::string(token_sums_sql) +
      " FROM exchanges WHERE session_id <> '' AND time_unix_ms >= ?1 GROUP BY session_id ORDER BY " +
      (query.by_cost ? "COALESCE(SUM(cost_pico_usd), 0) DESC, COALESCE(SUM(total_tokens), 0) DESC"
                     : "COALESCE(SUM(total_tokens), 0) DESC, COALESCE(SUM(cost_pico_usd), 0) DESC") +
      ", session_id LIMIT ?2";
  const statement_ptr statement = prepare(db, sql, std::nullopt);
  if (sqlite3_bind_int64(statement.get(), 1, query.since_ms.value_or(std::numeric_limits<std::int64_t>::min())) !=
          SQLITE_OK ||
      sqlite3_bind_int64(statement.get(), 2, static_cast<std::int64_t>(query.top)) != SQLITE_OK) {
    fail(db);
  }
  json_writer json;
  json.begin_object();
  json.key("by");
  json.string(query.by_cost ? "cost" : "tokens");
  json.key("since");
  if (query.since_ms) json.string(iso8601_utc(*query.since_ms));
  else json.null();
  json.key("sessions");
  json.begin_array();
  while (next_row(db, statement.get())) {
    json.begin_object();
    json.key("session_id");
    json.string(column_text(statement.get(), 0));
    json.key("first_time");
    json.string(iso8601_utc(sqlite3_column_int64(statement.get(), 1)));
    json.key("last_time");
    json.string(iso8601_utc(sqlite3_column_int64(statement.get(), 2)));
    write_token_sums(json, statement.get(), 3);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.take();
}

std::string totals_json(sqlite3& db) {
  const statement_ptr sessions = prepare(
      db, "SELECT COUNT(DISTINCT session_id) FROM exchanges WHERE session_id <> ''", std::nullopt);
  if (!next_row(db, sessions.get())) fail(db);
  json_writer json;
  json.begin_object();
  json.key("total_sessions");
  json.integer(sqlite3_column_int64(sessions.get(), 0));
  write_scope(json, db, std::nullopt);
  json.end_object();
  return json.take();
}

std::optional<std::string> session_json(sqlite3& db, std::string_view session_id) {
  // Rows without a session are not a session of their own.
  if (session_id.empty()) return std::nullopt;
  json_writer json;
  json.begin_object();
  json.key("session_id");
  json.string(session_id);
  if (write_scope(json, db, session_id) == 0) return std::nullopt;
  json.end_object();
  return json.take();
}

std::string requests_json(sqlite3& db, std::string_view session_id) {
  json_writer json;
  json.begin_object();
  json.key("requests");
  json.begin_array();
  for_each_request(db, session_id, [&](const request_row& row) {
    json.begin_object();
    for (std::size_t i = 0; i < row.size(); ++i) {
      json.key(request_columns[i].name);
      switch (row[i].type) {
      case cell_type::null: json.null(); break;
      case cell_type::text: json.string(row[i].value); break;
      case cell_type::literal: json.number(row[i].value); break;
      }
    }
    json.end_object();
  });
  json.end_array();
  json.end_object();
  return json.take();
}

std::string requests_csv(sqlite3& db, std::string_view session_id) {
  std::string csv;
  for (std::size_t i = 0; i < request_columns.size(); ++i) {
    if (i != 0) csv += ',';
    csv += request_columns[i].name;
  }
  csv += "\r\n";
  for_each_request(db, session_id, [&](const request_row& row) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i != 0) csv += ',';
      append_csv_field(csv, row[i]);
    }
    csv += "\r\n";
  });
  return csv;
}

} // namespace tokenmeter::usage_report
