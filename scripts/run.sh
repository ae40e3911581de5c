#!/usr/bin/env bash
# Installs the dependencies, builds, and starts tokenmeter with its defaults: proxy on
# 127.0.0.1:8080, admin (/metrics, /usage, /healthz) on 127.0.0.1:9464, ledger in
# ./tokenmeter.db. Arguments are passed to tokenmeter, e.g. --upstream http://127.0.0.1:8000/v1
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DTOKENMETER_BUILD_TESTS=OFF
exec build/tokenmeter "$@"
