#!/usr/bin/env bash
# Builds what the benchmark needs (Release, bench targets on) and runs it, then the micro-benchmarks,
# then the tokenizer speed against its JavaScript references (bench/tokenizer_speed.mjs).
#   bench/run.sh            the full run: results in bench/results/ (about 17 minutes)
#   bench/run.sh --smoke    a few seconds per target, no thresholds, results in a temporary dir (CI)
#   TOKENMETER_BENCH_BUILD=dir   the build directory (default build/, shared with scripts/build.sh)
# Needs scripts/setup.sh --bench (wrk, nginx, HAProxy, Google Benchmark, the Node gateway) and
# scripts/setup.sh --test (the reference tokenizers in tests/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TOKENMETER_BENCH_BUILD:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTOKENMETER_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j 2 --target tokenmeter bench_upstream stream_client hot_path_bench tokenizer_bench
if [ "${1:-}" = "--smoke" ]; then
  timeout --kill-after=10 240 node bench/run.mjs --build "$build" "$@"
  "$build/bench/hot_path_bench" --benchmark_min_time=0.01
  timeout --kill-after=10 240 node bench/tokenizer_speed.mjs --build "$build" --smoke
else
  timeout --kill-after=30 3600 node bench/run.mjs --build "$build" "$@"
  "$build/bench/hot_path_bench" --benchmark_min_time=1 --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out=bench/results/micro.json --benchmark_out_format=json
  timeout --kill-after=30 1200 node bench/tokenizer_speed.mjs --build "$build"
fi
