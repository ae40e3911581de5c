#!/usr/bin/env bash
# Builds the libFuzzer target of the metering core with clang (ASan + UBSan) in build-fuzz/
# and runs it for a bounded time, seeded with every fixture under tests/fixtures.
#   scripts/fuzz.sh          60 seconds (what scripts/test.sh runs)
#   scripts/fuzz.sh 3600     an hour; the corpus in build-fuzz/corpus grows across runs
# TOKENMETER_FUZZ_BUILD=dir picks another build directory.
# Any crash, leak, sanitizer report or broken property stops it with a non-zero status and
# leaves the input in build-fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${TOKENMETER_FUZZ_BUILD:-build-fuzz}"

cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2

corpus="$build/corpus"
seeds="$build/seeds"
mkdir -p "$corpus" "$seeds"
# Each fixture under a few selector bytes: schema, framing, coding and custom pointers vary.
for fixture in $(find tests/fixtures -type f | sort); do
  name=$(echo "$fixture" | tr '/.' '__')
  for selector in 00 01 02 03 04 08 13 80 c0; do
    { printf "\x$selector"; cat "$fixture"; } > "$seeds/$name-$selector"
  done
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$build/metering_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/" -print_final_stats=1 "$corpus" "$seeds"
