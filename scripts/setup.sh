#!/usr/bin/env bash
# Installs what tokenmeter needs on Debian 12: the build and run dependencies, and with
# --test also GoogleTest, Node.js and the pinned npm packages of the client tests.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

packages=(build-essential cmake pkg-config ca-certificates openssl sqlite3
  libboost1.81-dev libboost-url1.81-dev libssl-dev libsimdjson-dev prometheus-cpp-dev
  libsqlite3-dev libyaml-cpp-dev zlib1g-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(libgtest-dev libgmock-dev clang libclang-rt-dev)
  # Node.js from Debian unless the machine already has one.
  if ! command -v node >/dev/null 2>&1; then packages+=(nodejs npm); fi
fi

"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

if [ "${1:-}" = "--test" ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
