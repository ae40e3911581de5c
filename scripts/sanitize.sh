#!/usr/bin/env bash
# The sanitizer builds of CI. First a g++ build with AddressSanitizer and UBSan (build-asan/) that
# runs the whole ctest suite: unit tests, and the Node integration and client tests, which drive the
# sanitized tokenmeter through TOKENMETER_BIN. Then a ThreadSanitizer build (build-tsan/) of what the
# concurrency tests need: the ledger and metrics unit tests and the shutdown integration test (50
# concurrent streams, SIGKILL under load, two I/O threads).
#
# Every sanitized process writes its reports to a log directory, so a report from a tokenmeter child
# whose exit code no test looks at still fails the run. Exits non-zero on any test failure or report.
#   JOBS=N                        parallel build and test jobs (default 2)
#   ASAN_BUILD_DIR, TSAN_BUILD_DIR  build directories (default build-asan, build-tsan)
#   SANITIZE_ONLY=asan|tsan       run one half only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-2}
asan_dir=$(realpath -m "${ASAN_BUILD_DIR:-build-asan}")
tsan_dir=$(realpath -m "${TSAN_BUILD_DIR:-build-tsan}")
only=${SANITIZE_ONLY:-}
# -O1: the sanitizers' usual level, far quicker to compile than -O2 and still readable stacks.
build_type=(-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g")

# Fails when a sanitizer wrote any report into $1; prints the reports.
check_reports() {
  local dir=$1 name=$2
  if compgen -G "$dir/*" >/dev/null; then
    echo "sanitize: $name reported errors:" >&2
    for report in "$dir"/*; do
      echo "---- $report" >&2
      cat "$report" >&2
    done
    return 1
  fi
  echo "sanitize: $name: no reports"
}

# Runs a command with ASLR off when the kernel's mmap randomisation is too wide for this TSan
# runtime (it aborts with "unexpected memory mapping"); setarch's personality is inherited.
no_aslr() {
  if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] || [ -n "${SANITIZE_NO_ASLR:-}" ]; then
    setarch "$(uname -m)" -R "$@"
  else
    "$@"
  fi
}

run_asan() {
  local reports="$asan_dir/sanitizer-reports"
  cmake -S . -B "$asan_dir" "${build_type[@]}" -DTOKENMETER_BUILD_TESTS=ON -DTOKENMETER_SANITIZE=address,undefined
  cmake --build "$asan_dir" -j "$jobs"
  rm -rf "$reports" && mkdir -p "$reports"
  local status=0
  ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:log_path=$reports/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan" \
    ctest --test-dir "$asan_dir" --output-on-failure --parallel "$jobs" --timeout 900 || status=$?
  check_reports "$reports" "address,undefined" || status=1
  return "$status"
}

run_tsan() {
  local reports="$tsan_dir/sanitizer-reports"
  cmake -S . -B "$tsan_dir" "${build_type[@]}" -DTOKENMETER_BUILD_TESTS=ON -DTOKENMETER_SANITIZE=thread
  cmake --build "$tsan_dir" -j "$jobs" --target tokenmeter ledger_test metrics_test
  rm -rf "$reports" && mkdir -p "$reports"
  local status=0
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
  no_aslr "$tsan_dir/tests/ledger_test" || status=$?
  no_aslr "$tsan_dir/tests/metrics_test" || status=$?
  (cd tests && export TOKENMETER_BIN="$tsan_dir/tokenmeter" TOKENMETER_PRICING_FILE="$root/pricing/prices.yaml" &&
    no_aslr node --test --test-reporter=spec integration/shutdown.test.mjs) || status=$?
  unset TSAN_OPTIONS
  check_reports "$reports" "thread" || status=1
  return "$status"
}

status=0
if [ "$only" != "tsan" ]; then run_asan || status=1; fi
if [ "$only" != "asan" ]; then run_tsan || status=1; fi
if [ "$status" -ne 0 ]; then
  echo "sanitize: FAILED" >&2
  exit 1
fi
echo "sanitize: passed"
