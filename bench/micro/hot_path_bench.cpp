// Google Benchmark micro-benchmarks of the per-byte and per-exchange work tokenmeter adds to a
// relay: SSE scanning through the usage tap (with and without usage in the stream), usage
// extraction of one event, price lookup, and a metrics update through the cached handles.
// Run: build/bench/hot_path_bench [--benchmark_filter=REGEX]
#include "metrics.hpp"
#include "price_table.hpp"
#include "sse_scanner.hpp"
#include "usage_extractor.hpp"
#include "usage_tap.hpp"

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>

namespace {

using namespace tokenmeter;

constexpr int events_per_stream = 200;

std::string content_event(int i) {
  return "data: {\"id\":\"chatcmpl-" + std::to_string(1000000 + i) +
         "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini-2024-07-18\","
         "\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},"
         "\"logprobs\":null,\"finish_reason\":null}]}\n\n";
}

constexpr std::string_view usage_event =
    "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":200,"
    "\"total_tokens\":320,\"prompt_tokens_details\":{\"cached_tokens\":0},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n";

/// A 200-event chat completion stream, optionally ending with its usage chunk and [DONE].
std::string chat_stream(bool with_usage) {
  std::string stream;
  for (int i = 0; i < events_per_stream; ++i) stream += content_event(i);
  if (with_usage) stream += std::string(usage_event) + "data: [DONE]\n\n";
  return stream;
}

/// Feeds a whole stream to a fresh tap in relay-sized pieces, as the relay does.
void tap_stream(benchmark::State& state, bool with_usage) {
  const std::string stream = chat_stream(with_usage);
  const auto piece = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    usage_tap tap(api_schema::openai_chat, "text/event-stream", "");
    for (std::size_t at = 0; at < stream.size(); at += piece)
      tap.feed(std::string_view(stream).substr(at, piece));
    auto result = tap.finish();
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}

void BM_tap_stream_without_usage(benchmark::State& state) { tap_stream(state, false); }
void BM_tap_stream_with_usage(benchmark::State& state) { tap_stream(state, true); }
BENCHMARK(BM_tap_stream_without_usage)->Arg(16384)->Arg(512);
BENCHMARK(BM_tap_stream_with_usage)->Arg(16384)->Arg(512);

/// The framing alone, without the extraction the tap does on top of it.
void BM_sse_scanner_framing(benchmark::State& state) {
  const std::string stream = chat_stream(true);
  for (auto _ : state) {
    sse_scanner scanner;
    std::string_view input = stream;
    std::size_t events = 0;
    while (scanner.next(input)) ++events;
    benchmark::DoNotOptimize(events);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_sse_scanner_framing);

/// Parsing one event's payload with simdjson On-Demand, from a padded copy.
void extract_one(benchmark::State& state, std::string_view event) {
  const std::string payload(event.substr(6, event.size() - 8));
  simdjson::padded_string padded(payload);
  for (auto _ : state) {
    usage_state usage;
    benchmark::DoNotOptimize(extract_openai_chat(padded, "", usage));
    benchmark::DoNotOptimize(usage);
  }
}
void BM_extract_usage_chunk(benchmark::State& state) { extract_one(state, usage_event); }
void BM_extract_content_chunk(benchmark::State& state) { extract_one(state, content_event(1)); }
BENCHMARK(BM_extract_usage_chunk);
BENCHMARK(BM_extract_content_chunk);

/// The byte search that lets a content delta skip parsing altogether.
void BM_may_change_state_content(benchmark::State& state) {
  const std::string event = content_event(1);
  usage_state known;
  known.model = "gpt-4o-mini-2024-07-18";
  for (auto _ : state)
    benchmark::DoNotOptimize(may_change_state(api_schema::openai_chat, "", event, known));
}
BENCHMARK(BM_may_change_state_content);

const price_table& shipped_prices() {
  static const price_table table = price_table::load_file(TOKENMETER_PRICING_FILE);
  return table;
}

void price_lookup(benchmark::State& state, std::string_view model) {
  const auto& table = shipped_prices();
  for (auto _ : state) benchmark::DoNotOptimize(table.match(model));
}
void BM_price_match_exact(benchmark::State& state) { price_lookup(state, "gpt-4o-mini"); }
void BM_price_match_snapshot(benchmark::State& state) { price_lookup(state, "gpt-4o-mini-2024-07-18"); }
void BM_price_match_unpriced(benchmark::State& state) { price_lookup(state, "in-house-model-v3"); }
BENCHMARK(BM_price_match_exact);
BENCHMARK(BM_price_match_snapshot);
BENCHMARK(BM_price_match_unpriced);

/// One finished exchange into every counter and histogram; the label tuple repeats, so the
/// cached handles are what is measured.
void BM_metrics_record_cached(benchmark::State& state) {
  metrics meters;
  exchange_record row;
  row.model = "gpt-4o-mini-2024-07-18";
  row.node = "PlannerNode";
  row.upstream = "default";
  row.status = 200;
  row.stream = true;
  row.source = usage_source::reported;
  row.usage.prompt_tokens = 120;
  row.usage.completion_tokens = 200;
  row.cost_pico_usd = 138000000;
  row.latency_us = 200000;
  row.ttft_us = 900;
  for (auto _ : state) meters.record(row);
}
BENCHMARK(BM_metrics_record_cached);

} // namespace

BENCHMARK_MAIN();
