#!/usr/bin/env bash
# Installs everything, builds, and runs every test: unit tests, integration tests against
# the real binary, and the real-client tests (openai SDK, LangGraph). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
scripts/build.sh -DTOKENMETER_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure --parallel 2 --timeout 600
scripts/fuzz.sh 60
scripts/sanitize.sh
scripts/setup.sh --bench && bench/run.sh --smoke
