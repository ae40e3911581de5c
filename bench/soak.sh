#!/usr/bin/env bash
# A bounded soak of the real binary on loopback: mixed streaming load from concurrent agents against
# the upstream stand-in, tokenmeter's RSS sampled into a CSV, and a summary (start/peak/end RSS,
# requests sent, ledger rows == requests). Not part of CI; run it before a release and report it.
#   bench/soak.sh [SECONDS]     default 600 (10 minutes)
#   TOKENMETER_BIN=path         the binary (default build/tokenmeter)
#   SOAK_AGENTS=N               concurrent agents (default 16)
#   SOAK_SAMPLE_S=N             seconds between RSS samples (default 5)
#   SOAK_OUT=dir                where rss.csv and the ledger go (default a new directory under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
bin=${TOKENMETER_BIN:-build/tokenmeter}
out=${SOAK_OUT:-$(mktemp -d /tmp/tokenmeter-soak-XXXXXX)}
if [ ! -x "$bin" ]; then
  echo "soak: no tokenmeter binary at $bin (build it, or set TOKENMETER_BIN)" >&2
  exit 2
fi
if [ ! -d tests/node_modules ]; then
  echo "soak: run 'npm ci' in tests/ first (scripts/setup.sh --test does)" >&2
  exit 2
fi
echo "soak: ${seconds}s, output in $out"
# The client bounds itself; the outer timeout is a last resort that still lets it reap its children.
timeout --kill-after=30 $((seconds + 180)) node bench/soak_client.mjs --seconds "$seconds" --bin "$bin" --out "$out" \
  --agents "${SOAK_AGENTS:-16}" --sample "${SOAK_SAMPLE_S:-5}"
