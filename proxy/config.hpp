#pragma once

#include "log.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tokenmeter {

/// A configuration mistake; the message says what and where, for the operator.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Where an in-house upstream keeps its usage: RFC 6901 JSON Pointers into the JSON
/// body or into each stream event. Empty pointers are not read.
struct usage_pointers {
  std::string prompt;
  std::string completion;
  std::string cached;
  std::string reasoning;
  std::string total;
  std::string model;
  bool cumulative = true; ///< a stream repeats running totals (last wins); false: per-event deltas to add
};

/// One upstream as written in the config file.
struct upstream_config {
  std::string name;    ///< unique, used in X-Upstream, the ledger and metric labels
  std::string url;     ///< http(s)://host[:port][/base/path]
  std::string prefix;  ///< optional agent path prefix routed here (stripped)
  std::string ca_file; ///< optional PEM bundle trusted for this https upstream
  /// Add stream_options.include_usage to streamed Chat Completions / Completions requests
  /// that lack it (and hide the extra usage chunk from the agent). Off for upstreams that reject it.
  bool inject_include_usage = true;
  /// The upstream never returns usage (a local server, an in-house gateway): its counts are
  /// always estimated, and include_usage is not injected.
  bool never_reports_usage = false;
  std::string schema;                          ///< force a usage schema by name; empty: by path
  std::optional<usage_pointers> usage;         ///< a custom usage shape (overrides the schema)
  std::map<std::string, std::string> deployments; ///< Azure deployment name -> model priced
  std::string custom_prices_yaml; ///< a `models:` list in the price-file format, for this upstream only
};

/// Deadlines of each step of an exchange.
struct timeouts_config {
  std::chrono::milliseconds connect{10'000};         ///< TCP connect plus TLS handshake
  std::chrono::milliseconds first_byte{300'000};     ///< request sent -> response header read
  std::chrono::milliseconds idle{300'000};           ///< between two reads of a response body
  std::chrono::milliseconds request_header{30'000};  ///< agent: header of a request
  std::chrono::milliseconds request_body{60'000};    ///< agent: body of a request
  std::chrono::milliseconds keep_alive_idle{75'000}; ///< agent: idle keep-alive connection
  std::chrono::milliseconds write{60'000};           ///< any single write to the agent or upstream
  std::chrono::milliseconds shutdown_grace{30'000};  ///< SIGTERM: time left to in-flight exchanges
  std::chrono::milliseconds drain{120'000};          ///< agent gone: time left to read the upstream's usage
};

/// Token estimation for exchanges whose upstream reports no usage.
struct estimation_config {
  /// Where the .tiktoken vocabularies are (scripts/setup.sh puts them there); empty: the
  /// `vocab` directory next to the binary, else ../share/tokenmeter/vocab.
  std::string vocabulary_dir;
  /// Model name start -> vocabulary (o200k, cl100k, llama3), added over the defaults;
  /// the longest matching start wins, an unknown model gets o200k.
  std::map<std::string, std::string> families;
};

/// Optional TLS on the proxy listener.
struct listener_tls_config {
  std::string cert_file; ///< PEM certificate chain
  std::string key_file;  ///< PEM private key
};

/// The immutable process configuration, validated at start-up.
struct config {
  std::string listen = "127.0.0.1:8080";
  std::string admin_listen = "127.0.0.1:9464";
  unsigned threads = 0; ///< 0: one per core
  std::string ledger_path = "tokenmeter.db";
  std::string pricing_path; ///< empty: the shipped table next to the binary, if found
  std::string session_header = "X-Session-ID";
  std::string node_header = "X-Node";
  std::string upstream_header = "X-Upstream";
  std::vector<upstream_config> upstreams;
  std::string custom_prices_yaml; ///< a `models:` list in the price-file format, over the table
  std::string default_upstream; ///< name of the route taken when no prefix or header selects one
  std::uint64_t max_request_body_bytes = 32ull << 20;
  std::uint32_t max_header_bytes = 64u << 10;
  std::size_t max_tag_length = 256;
  std::uint64_t drain_max_bytes = 64ull << 20; ///< agent gone: upstream bytes still read for the usage
  std::size_t max_connections = 10'000;        ///< open agent connections; beyond: 503
  std::size_t max_label_values = 100;          ///< distinct node / model label values; beyond: "other"
  std::size_t ledger_queue_bound = 100'000;    ///< ledger rows queued; beyond: counted and warned, still kept
  bool otel_genai_metrics = false;             ///< also export token counts under OpenTelemetry GenAI names
  std::string admin_token;                     ///< when set, /metrics and /usage need this bearer token
  listener_tls_config tls;                     ///< proxy listener TLS; off when cert_file is empty
  estimation_config estimation;
  timeouts_config timeouts;
  log_level level = log_level::info;
};

/// What the command line asked for.
struct command_line {
  config cfg;
  bool show_help = false;
  bool show_version = false;
};

/// Parses the command line; a --config file is read first and flags override it.
/// Throws config_error on any mistake.
command_line parse_command_line(int argc, const char* const* argv);
/// Reads a YAML config file into `cfg` (fields it does not name keep their value).
void load_config_file(const std::string& path, config& cfg);
/// Checks the whole configuration; throws config_error naming the first problem.
void validate(config& cfg);
/// The --help text.
std::string usage_text();

} // namespace tokenmeter
