#include "config.hpp"

#include "tokenizer_set.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>
#include <thread>

namespace tokenmeter {
namespace {

template <class T> T scalar(const YAML::Node& node, std::string_view where) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw config_error("config: '" + std::string(where) + "' has the wrong type");
  }
}

void read_duration(const YAML::Node& node, std::string_view name, std::chrono::milliseconds& out) {
  if (!node[std::string(name)]) return;
  const auto seconds = scalar<double>(node[std::string(name)], "timeouts." + std::string(name));
  if (!(seconds > 0) || seconds > 86'400)
    throw config_error("config: timeouts." + std::string(name) + " must be between 0 and 86400 seconds");
  out = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

usage_pointers read_usage_pointers(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) throw config_error("config: " + where + " must be a mapping of JSON Pointers");
  usage_pointers p;
  const std::pair<const char*, std::string*> fields[] = {{"prompt", &p.prompt},       {"completion", &p.completion},
                                                        {"cached", &p.cached},       {"reasoning", &p.reasoning},
                                                        {"total", &p.total},         {"model", &p.model}};
  for (const auto& item : node) {
    const auto key = item.first.as<std::string>();
    if (key == "cumulative") {
      p.cumulative = scalar<bool>(item.second, where + ".cumulative");
      continue;
    }
    std::string* target = nullptr;
    for (const auto& [name, field] : fields)
      if (key == name) target = field;
    if (!target) throw config_error("config: unknown key '" + key + "' in " + where);
    *target = scalar<std::string>(item.second, where + "." + key);
    if (!target->empty() && target->front() != '/')
      throw config_error("config: " + where + "." + key + " must be a JSON Pointer starting with '/'");
  }
  if (p.prompt.empty() && p.completion.empty() && p.total.empty())
    throw config_error("config: " + where + " needs at least one of prompt, completion or total");
  return p;
}

upstream_config default_route(std::string url) {
  upstream_config up;
  up.name = "default";
  up.url = std::move(url);
  return up;
}

std::uint64_t parse_unsigned(std::string_view text, std::string_view flag) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw config_error(std::string(flag) + ": expected a whole number, got '" + std::string(text) + "'");
  return value;
}

/// A section that is present must be a mapping: reading keys of a scalar or a list would
/// otherwise throw yaml-cpp's own exceptions past the config error path.
YAML::Node section(const YAML::Node& root, const char* name) {
  const auto node = root[name];
  if (node && !node.IsMap()) throw config_error(std::string("config: ") + name + " must be a mapping");
  return node;
}

/// A misspelt key would otherwise be ignored and its default silently kept.
void require_known_keys(const YAML::Node& node, std::initializer_list<std::string_view> known,
                        std::string_view where, const std::string& path) {
  for (const auto& item : node) {
    const auto key = item.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw config_error("config: unknown key '" + std::string(where) + "." + key + "' in " + path);
  }
}

void read_config(const YAML::Node& root, const std::string& path, config& cfg) {

  static const std::set<std::string> known{"listen",    "admin_listen",     "threads", "ledger",   "pricing",
                                           "headers",   "upstreams",        "limits",  "timeouts", "log_level",
                                           "default_upstream", "custom_prices", "admin_token", "tls", "estimation", "metrics"};
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    if (!known.contains(key)) throw config_error("config: unknown key '" + key + "' in " + path);
  }
  if (root["listen"]) cfg.listen = scalar<std::string>(root["listen"], "listen");
  if (root["admin_listen"]) cfg.admin_listen = scalar<std::string>(root["admin_listen"], "admin_listen");
  if (root["threads"]) cfg.threads = scalar<unsigned>(root["threads"], "threads");
  if (root["ledger"]) cfg.ledger_path = scalar<std::string>(root["ledger"], "ledger");
  if (root["pricing"]) cfg.pricing_path = scalar<std::string>(root["pricing"], "pricing");
  if (root["default_upstream"]) cfg.default_upstream = scalar<std::string>(root["default_upstream"], "default_upstream");
  if (root["log_level"]) {
    const auto text = scalar<std::string>(root["log_level"], "log_level");
    const auto level = parse_log_level(text);
    if (!level) throw config_error("config: log_level must be debug, info, warn or error");
    cfg.level = *level;
  }
  if (root["admin_token"]) cfg.admin_token = scalar<std::string>(root["admin_token"], "admin_token");
  if (const auto metrics = section(root, "metrics")) {
    require_known_keys(metrics, {"otel_genai"}, "metrics", path);
    if (metrics["otel_genai"]) cfg.otel_genai_metrics = scalar<bool>(metrics["otel_genai"], "metrics.otel_genai");
  }
  if (const auto estimation = section(root, "estimation")) {
    require_known_keys(estimation, {"vocabulary_dir", "families"}, "estimation", path);
    if (estimation["vocabulary_dir"])
      cfg.estimation.vocabulary_dir = scalar<std::string>(estimation["vocabulary_dir"], "estimation.vocabulary_dir");
    if (const auto families = estimation["families"]) {
      if (!families.IsMap()) throw config_error("config: estimation.families must map model name starts to vocabularies");
      for (const auto& f : families)
        cfg.estimation.families[f.first.as<std::string>()] = scalar<std::string>(f.second, "estimation.families");
    }
  }
  if (const auto tls = section(root, "tls")) {
    require_known_keys(tls, {"cert_file", "key_file"}, "tls", path);
    if (tls["cert_file"]) cfg.tls.cert_file = scalar<std::string>(tls["cert_file"], "tls.cert_file");
    if (tls["key_file"]) cfg.tls.key_file = scalar<std::string>(tls["key_file"], "tls.key_file");
  }
  if (root["custom_prices"]) cfg.custom_prices_yaml = YAML::Dump(root["custom_prices"]);
  if (const auto headers = section(root, "headers")) {
    require_known_keys(headers, {"session", "node", "upstream"}, "headers", path);
    if (headers["session"]) cfg.session_header = scalar<std::string>(headers["session"], "headers.session");
    if (headers["node"]) cfg.node_header = scalar<std::string>(headers["node"], "headers.node");
    if (headers["upstream"]) cfg.upstream_header = scalar<std::string>(headers["upstream"], "headers.upstream");
  }
  if (const auto limits = section(root, "limits")) {
    require_known_keys(limits,
                       {"max_request_body_bytes", "max_header_bytes", "max_tag_length", "drain_max_bytes",
                        "max_connections", "max_label_values", "ledger_queue_rows"},
                       "limits", path);
    if (limits["max_request_body_bytes"])
      cfg.max_request_body_bytes = scalar<std::uint64_t>(limits["max_request_body_bytes"], "limits.max_request_body_bytes");
    if (limits["max_header_bytes"])
      cfg.max_header_bytes = scalar<std::uint32_t>(limits["max_header_bytes"], "limits.max_header_bytes");
    if (limits["max_tag_length"])
      cfg.max_tag_length = scalar<std::size_t>(limits["max_tag_length"], "limits.max_tag_length");
    if (limits["drain_max_bytes"])
      cfg.drain_max_bytes = scalar<std::uint64_t>(limits["drain_max_bytes"], "limits.drain_max_bytes");
    if (limits["max_connections"])
      cfg.max_connections = scalar<std::size_t>(limits["max_connections"], "limits.max_connections");
    if (limits["max_label_values"])
      cfg.max_label_values = scalar<std::size_t>(limits["max_label_values"], "limits.max_label_values");
    if (limits["ledger_queue_rows"])
      cfg.ledger_queue_bound = scalar<std::size_t>(limits["ledger_queue_rows"], "limits.ledger_queue_rows");
  }
  if (const auto t = section(root, "timeouts")) {
    require_known_keys(t,
                       {"connect", "first_byte", "idle", "request_header", "request_body", "keep_alive_idle",
                        "write", "shutdown_grace", "drain"},
                       "timeouts", path);
    read_duration(t, "connect", cfg.timeouts.connect);
    read_duration(t, "first_byte", cfg.timeouts.first_byte);
    read_duration(t, "idle", cfg.timeouts.idle);
    read_duration(t, "request_header", cfg.timeouts.request_header);
    read_duration(t, "request_body", cfg.timeouts.request_body);
    read_duration(t, "keep_alive_idle", cfg.timeouts.keep_alive_idle);
    read_duration(t, "write", cfg.timeouts.write);
    read_duration(t, "shutdown_grace", cfg.timeouts.shutdown_grace);
    read_duration(t, "drain", cfg.timeouts.drain);
  }
  if (const auto ups = root["upstreams"]) {
    if (!ups.IsSequence()) throw config_error("config: 'upstreams' must be a list");
    for (std::size_t i = 0; i < ups.size(); ++i) {
      const auto u = ups[i];
      const auto where = "upstreams[" + std::to_string(i) + "]";
      if (!u.IsMap() || !u["name"] || !u["url"])
        throw config_error("config: " + where + " needs at least 'name' and 'url'");
      upstream_config up;
      up.name = scalar<std::string>(u["name"], where + ".name");
      up.url = scalar<std::string>(u["url"], where + ".url");
      if (u["prefix"]) up.prefix = scalar<std::string>(u["prefix"], where + ".prefix");
      if (u["ca_file"]) up.ca_file = scalar<std::string>(u["ca_file"], where + ".ca_file");
      if (u["inject_include_usage"])
        up.inject_include_usage = scalar<bool>(u["inject_include_usage"], where + ".inject_include_usage");
      if (u["never_reports_usage"]) {
        up.never_reports_usage = scalar<bool>(u["never_reports_usage"], where + ".never_reports_usage");
        if (up.never_reports_usage) up.inject_include_usage = false;
      }
      if (u["schema"]) up.schema = scalar<std::string>(u["schema"], where + ".schema");
      if (const auto usage = u["usage"]) up.usage = read_usage_pointers(usage, where + ".usage");
      if (const auto deployments = u["deployments"]) {
        if (!deployments.IsMap()) throw config_error("config: " + where + ".deployments must map deployment names to models");
        for (const auto& d : deployments)
          up.deployments[d.first.as<std::string>()] = scalar<std::string>(d.second, where + ".deployments");
      }
      if (u["custom_prices"]) up.custom_prices_yaml = YAML::Dump(u["custom_prices"]);
      static const std::set<std::string> upstream_keys{"name",   "url",   "prefix",      "ca_file",      "inject_include_usage",
                                                       "schema", "usage", "deployments", "custom_prices",
                                                       "never_reports_usage"};
      for (const auto& item : u)
        if (!upstream_keys.contains(item.first.as<std::string>()))
          throw config_error("config: unknown key '" + item.first.as<std::string>() + "' in " + where);
      cfg.upstreams.push_back(std::move(up));
    }
  }
}

} // namespace

void load_config_file(const std::string& path, config& cfg) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw config_error("config: cannot read " + path);
  } catch (const YAML::Exception& e) {
    throw config_error("config: " + path + ": " + e.what());
  }
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw config_error("config: " + path + " must be a YAML mapping");
  try {
    read_config(root, path, cfg);
  } catch (const YAML::Exception& e) {
    // A shape no check above anticipated (a key that is itself a list, say): still a config error.
    throw config_error("config: " + path + ": " + e.what());
  }
}

void validate(config& cfg) {
  for (const auto& [start, name] : cfg.estimation.families)
    if (start.empty() || !parse_vocabulary(name))
      throw config_error("config: estimation.families: '" + start + ": " + name +
                         "' must map a model name start to o200k, cl100k or llama3");
  if (cfg.threads == 0) cfg.threads = std::max(1u, std::thread::hardware_concurrency());
  if (cfg.threads > 256) throw config_error("config: threads must be at most 256");
  std::set<std::string> names;
  std::set<std::string> prefixes;
  for (auto& up : cfg.upstreams) {
    if (up.name.empty()) throw config_error("config: an upstream has an empty name");
    if (!names.insert(up.name).second) throw config_error("config: upstream name '" + up.name + "' is used twice");
    static const std::set<std::string> schemas{"", "openai_chat", "openai_responses", "anthropic_messages",
                                               "cohere_v2", "ollama"};
    if (!schemas.contains(up.schema))
      throw config_error("config: upstream '" + up.name + "' has an unknown schema '" + up.schema +
                         "' (openai_chat, openai_responses, anthropic_messages, cohere_v2, ollama)");
    if (!up.prefix.empty()) {
      if (up.prefix.front() != '/') throw config_error("config: prefix of upstream '" + up.name + "' must start with '/'");
      while (up.prefix.size() > 1 && up.prefix.back() == '/') up.prefix.pop_back();
      if (!prefixes.insert(up.prefix).second)
        throw config_error("config: prefix '" + up.prefix + "' is used by two upstreams");
    }
  }
  if (cfg.default_upstream.empty()) {
    for (const auto& up : cfg.upstreams)
      if (up.prefix.empty()) {
        cfg.default_upstream = up.name;
        break;
      }
  } else if (!names.contains(cfg.default_upstream)) {
    throw config_error("config: default_upstream '" + cfg.default_upstream + "' names no upstream");
  }
  for (const auto* header : {&cfg.session_header, &cfg.node_header, &cfg.upstream_header})
    if (header->empty()) throw config_error("config: header names must not be empty");
  if (cfg.max_tag_length == 0 || cfg.max_tag_length > 4096)
    throw config_error("config: limits.max_tag_length must be between 1 and 4096");
  if (cfg.max_header_bytes < 1024) throw config_error("config: limits.max_header_bytes must be at least 1024");
  if (cfg.max_connections == 0) throw config_error("config: limits.max_connections must be at least 1");
  if (cfg.max_label_values == 0) throw config_error("config: limits.max_label_values must be at least 1");
  if (cfg.ledger_queue_bound == 0) throw config_error("config: limits.ledger_queue_rows must be at least 1");
  if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty())
    throw config_error("config: tls needs both cert_file and key_file");
  // The token may come from the environment so that it stays out of config files and process lists.
  if (cfg.admin_token.empty())
    if (const char* token = std::getenv("TOKENMETER_ADMIN_TOKEN")) cfg.admin_token = token;
}

command_line parse_command_line(int argc, const char* const* argv) {
  command_line out;
  std::string config_path;
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.show_help = true;
      return out;
    }
    if (arg == "--version") {
      out.show_version = true;
      return out;
    }
    std::string value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw config_error(arg + " needs a value (see --help)");
    }
    if (arg == "--config") config_path = value;
    else flags.emplace_back(arg, value);
  }
  if (!config_path.empty()) load_config_file(config_path, out.cfg);
  auto& cfg = out.cfg;
  for (const auto& [flag, value] : flags) {
    if (flag == "--listen") cfg.listen = value;
    else if (flag == "--admin-listen") cfg.admin_listen = value;
    else if (flag == "--ledger") cfg.ledger_path = value;
    else if (flag == "--pricing") cfg.pricing_path = value;
    else if (flag == "--threads") cfg.threads = static_cast<unsigned>(parse_unsigned(value, flag));
    else if (flag == "--log-level") {
      const auto level = parse_log_level(value);
      if (!level) throw config_error("--log-level must be debug, info, warn or error");
      cfg.level = *level;
    } else if (flag == "--upstream") {
      std::erase_if(cfg.upstreams, [](const upstream_config& u) { return u.name == "default"; });
      cfg.upstreams.insert(cfg.upstreams.begin(), default_route(value));
      cfg.default_upstream = "default";
    } else {
      throw config_error("unknown option " + flag + " (see --help)");
    }
  }
  validate(cfg);
  return out;
}

std::string usage_text() {
  return R"(tokenmeter - a transparent reverse proxy that meters LLM tokens

Usage: tokenmeter [options]

  --config FILE          YAML config file (see deploy/tokenmeter.yaml); the flags below override it
  --listen HOST:PORT     where agents connect (default 127.0.0.1:8080); port 0 picks a free port
  --admin-listen HOST:PORT
                         /metrics, /usage, /healthz (default 127.0.0.1:9464)
  --upstream URL         the default upstream, e.g. http://127.0.0.1:8000/v1; the agent's path is
                         appended to the URL's path
  --ledger PATH          SQLite ledger file, one row per exchange (default tokenmeter.db)
  --pricing FILE         price table (default: the shipped pricing/prices.yaml)
  --threads N            I/O threads (default: one per core)
  --log-level LEVEL      debug, info, warn or error (default info)
  --version              print the version
  --help                 this text

Agents set their base URL to http://HOST:PORT (plus the upstream's path if the agent expects one) and
send X-Session-ID and X-Node headers to attribute their requests.
)";
}

} // namespace tokenmeter
