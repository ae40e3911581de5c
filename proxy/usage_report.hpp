#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

struct sqlite3;

namespace tokenmeter::usage_report {

/// GET /usage: totals over the whole ledger, with by_node and by_model maps.
std::string totals_json(sqlite3& db);
/// GET /usage/sessions/{id}: that session's totals, or nullopt when it has no row.
std::optional<std::string> session_json(sqlite3& db, std::string_view session_id);
/// What GET /usage/sessions?top=N&since=...&by=cost|tokens asks for.
struct top_sessions_query {
  std::size_t top = 10;                   ///< at most this many sessions, 1..1000
  std::optional<std::int64_t> since_ms;   ///< only exchanges at or after this Unix time
  bool by_cost = true;                    ///< rank by cost, else by total tokens
};
/// Reads the query parameters (empty: not given). `since` is ISO-8601 UTC
/// (2026-01-02T03:04:05Z, optional .mmm) or an age before `now_ms` (90s, 15m, 24h, 7d).
/// Returns the query or a message naming the bad parameter.
std::variant<top_sessions_query, std::string> parse_top_sessions(std::string_view top, std::string_view since,
                                                                 std::string_view by, std::int64_t now_ms);
/// GET /usage/sessions?top=N...: the sessions that used the most, largest first.
std::string top_sessions_json(sqlite3& db, const top_sessions_query& query);
/// GET /usage/requests?session=ID&format=json: the ledger rows (all sessions when id is empty).
std::string requests_json(sqlite3& db, std::string_view session_id);
/// GET /usage/requests?session=ID&format=csv: the same rows as RFC 4180 CSV with a header line.
std::string requests_csv(sqlite3& db, std::string_view session_id);

} // namespace tokenmeter::usage_report
