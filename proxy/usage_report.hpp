#pragma once

#include <optional>
#include <string>
#include <string_view>

struct sqlite3;

namespace tokenmeter::usage_report {

/// GET /usage: totals over the whole ledger, with by_node and by_model maps.
std::string totals_json(sqlite3& db);
/// GET /usage/sessions/{id}: that session's totals, or nullopt when it has no row.
std::optional<std::string> session_json(sqlite3& db, std::string_view session_id);
/// GET /usage/requests?session=ID&format=json: the ledger rows (all sessions when id is empty).
std::string requests_json(sqlite3& db, std::string_view session_id);
/// GET /usage/requests?session=ID&format=csv: the same rows as RFC 4180 CSV with a header line.
std::string requests_csv(sqlite3& db, std::string_view session_id);

} // namespace tokenmeter::usage_report
