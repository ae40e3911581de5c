#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for a
# bounded time: the metering core, seeded with every fixture under tests/fixtures, for the given
# seconds; the request headers, tag values and config file for a third of that each, seeded with
# the shipped configs.
#   scripts/fuzz.sh          60 seconds (what scripts/test.sh runs)
#   scripts/fuzz.sh 3600     an hour; the corpora in build-fuzz/corpus* grow across runs
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
options=(-max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/" -print_final_stats=1)
"$build/metering_fuzz" -max_total_time="$seconds" "${options[@]}" "$corpus" "$seeds"

config_seeds="$build/config-seeds"
mkdir -p "$config_seeds"
cp deploy/tokenmeter.yaml "$config_seeds/"
for target in request_headers request_tags request_config; do
  mkdir -p "$build/corpus-$target"
  seed_dirs=()
  if [ "$target" = request_config ]; then seed_dirs=("$config_seeds"); fi
  "$build/${target}_fuzz" -max_total_time=$((seconds / 3)) "${options[@]}" "$build/corpus-$target" "${seed_dirs[@]}"
done
