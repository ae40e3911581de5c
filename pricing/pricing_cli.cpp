#include "pricing_cli.hpp"

#include "cost.hpp"
#include "micro_usd.hpp"
#include "price_book.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string_view>

namespace tokenmeter {
namespace {

constexpr std::string_view usage_text =
    "usage: tokenmeter pricing check FILE\n"
    "       tokenmeter pricing quote --model M --prompt N --completion N [--cached N]\n"
    "                                [--cache-write N [--cache-write-1h N]] [--reasoning N]\n"
    "                                [--service-tier T]\n"
    "                                [--pricing FILE]\n";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A rate in micro-USD per 1M tokens as USD per 1M tokens.
std::string usd(std::int64_t micro) { return decimal_text(static_cast<std::uint64_t>(micro), 6); }

/// Rates as "in 2.5 / cached 1.25 / write 0 / out 10" USD per 1M tokens.
std::string rates_text(const model_rates& rates) {
  return "in " + usd(rates.input) + " / cached " + usd(rates.cached_input) + " / write " +
         usd(rates.cache_write) + (rates.cache_write_1h ? " / 1h write " + usd(*rates.cache_write_1h) : "") +
         " / out " + usd(rates.output);
}

std::string usd_from_pico(std::int64_t pico) {
  return decimal_text(static_cast<std::uint64_t>(pico), 12);
}

void print_model(std::ostream& out, std::string_view name, const model_price& price) {
  out << "  " << name << ": " << rates_text(price.base) << "\n";
  if (price.long_context) {
    out << "    above " << price.long_context->above_prompt_tokens
        << " prompt tokens: " << rates_text(price.long_context->rates) << "\n";
  }
  for (const auto& [tier, rates] : price.service_tiers) {
    out << "    service tier " << tier << ": " << rates_text(rates) << "\n";
  }
  if (price.fine_tuned) {
    out << "    fine-tuned: " << rates_text(*price.fine_tuned) << "\n";
  }
}

int check(const std::vector<std::string>& args, std::ostream& out) {
  if (args.size() != 2) {
    throw usage_error("pricing check takes exactly one FILE");
  }
  const price_source source = load_price_source(args[1]);
  const price_list& summary = source.table->summary();
  out << source.path << ": valid " << summary.format << " price table\n"
      << "sha256: " << source.sha256 << "\n"
      << "models: " << source.table->size() << "\n";
  for (const provider_info& provider : summary.providers) {
    out << "provider " << provider.name << ": " << provider.models << " models";
    if (!provider.read_on.empty()) {
      out << ", read on " << provider.read_on;
    }
    out << ", source " << provider.source << "\n";
  }
  for (const auto& [reason, count] : summary.skipped) {
    out << "skipped " << count << " entries: " << reason << "\n";
  }
  if (summary.rounded > 0) {
    out << "rounded " << summary.rounded
        << " values finer than 1e-12 USD per token to the nearest 0.000001 USD per 1M\n";
  }
  out << "rates in USD per 1M tokens:\n";
  source.table->for_each([&](std::string_view name, const model_price& price) {
    print_model(out, name, price);
  });
  return 0;
}

std::uint64_t count_argument(std::string_view flag, const std::string& value) {
  std::uint64_t count = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (error != std::errc{} || end != value.data() + value.size()) {
    throw usage_error(std::string(flag) + " needs a token count, got '" + value + "'");
  }
  return count;
}

int quote(const std::vector<std::string>& args, const std::string& default_table,
          std::ostream& out) {
  std::map<std::string, std::string, std::less<>> options;
  for (std::size_t i = 1; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) {
      throw usage_error(args[i] + " needs a value");
    }
    options[args[i]] = args[i + 1];
  }
  constexpr std::string_view known[] = {"--model",     "--prompt",    "--completion",
                                        "--cached",    "--cache-write", "--cache-write-1h", "--reasoning",
                                        "--service-tier", "--pricing"};
  for (const auto& [flag, value] : options) {
    if (std::find(std::begin(known), std::end(known), flag) == std::end(known)) {
      throw usage_error("unknown option " + flag);
    }
  }
  for (const std::string_view required : {"--model", "--prompt", "--completion"}) {
    if (options.find(required) == options.end()) {
      throw usage_error("pricing quote needs " + std::string(required));
    }
  }
  token_usage usage;
  usage.prompt_tokens = count_argument("--prompt", options["--prompt"]);
  usage.completion_tokens = count_argument("--completion", options["--completion"]);
  const std::pair<std::string_view, std::optional<std::uint64_t> token_usage::*> optional_counts[] = {
      {"--cached", &token_usage::cached_prompt_tokens},
      {"--cache-write", &token_usage::cache_write_tokens},
      {"--cache-write-1h", &token_usage::cache_write_1h_tokens},
      {"--reasoning", &token_usage::reasoning_tokens},
  };
  for (const auto& [flag, field] : optional_counts) {
    if (const auto found = options.find(flag); found != options.end()) {
      usage.*field = count_argument(flag, found->second);
    }
  }
  const std::string table_path = options.count("--pricing") ? options["--pricing"] : default_table;
  if (table_path.empty()) {
    throw usage_error("no price table found; give --pricing FILE");
  }
  const price_book book(load_price_source(table_path), "", {});
  const std::string& model = options["--model"];
  const std::optional<price_quote> quoted =
      book.quote({model, model, "", options["--service-tier"], usage});
  if (!quoted) {
    out << model << ": unpriced in " << table_path << " (no name, alias or rule matches)\n";
    return 1;
  }
  const model_rates& rates = quoted->applied.rates;
  const billed_tokens billed = billed_tokens_of(usage);
  out << "model: " << model << "\n"
      << "matched: " << quoted->match.entry << " (" << quoted->match.rule << ")\n"
      << "tier: " << quoted->applied.tier << "\n"
      << "rates (USD per 1M tokens): " << rates_text(rates) << "\n"
      << "uncached prompt " << billed.uncached_prompt << " x " << usd(rates.input) << " + cached "
      << billed.cached_prompt << " x " << usd(rates.cached_input) << " + cache write " << billed.cache_write_5m << " x "
      << usd(rates.cache_write);
  if (billed.cache_write_1h > 0)
    out << " + 1h cache write " << billed.cache_write_1h << " x "
        << usd(rates.cache_write_1h.value_or(rates.cache_write));
  out << " + completion " << billed.completion << " x " << usd(rates.output)
      << " (reasoning " << usage.reasoning_tokens.value_or(0) << " included)\n"
      << "cost: " << usd_from_pico(quoted->cost_pico_usd) << " USD (" << quoted->cost_pico_usd
      << " pico-USD)\n"
      << "table: " << table_path << " sha256 " << book.source()->sha256 << "\n";
  return 0;
}

} // namespace

bool is_pricing_command(int argc, const char* const* argv) {
  return argc >= 2 && std::string_view(argv[1]) == "pricing";
}

int run_pricing_command(const std::vector<std::string>& args, const std::string& default_table,
                        std::ostream& out, std::ostream& err) {
  try {
    if (!args.empty() && args[0] == "check") {
      return check(args, out);
    }
    if (!args.empty() && args[0] == "quote") {
      return quote(args, default_table, out);
    }
    throw usage_error("expected `check` or `quote`");
  } catch (const usage_error& error) {
    err << "tokenmeter pricing: " << error.what() << "\n" << usage_text;
    return 2;
  } catch (const std::exception& error) {
    err << "tokenmeter pricing: " << error.what() << "\n";
    return 1;
  }
}

} // namespace tokenmeter
