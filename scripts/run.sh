#!/usr/bin/env bash
# Installs the dependencies, builds, and starts tokenmeter with its defaults: proxy on
# 127.0.0.1:8080, admin (/metrics, /usage, /healthz) on 127.0.0.1:9464, ledger
# tokenmeter.db in the directory you run this from. Arguments are passed to tokenmeter,
# e.g. --upstream http://127.0.0.1:8000/v1
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/setup.sh"
(cd "$repo" && scripts/build.sh -DTOKENMETER_BUILD_TESTS=OFF)
exec "$repo/build/tokenmeter" "$@"
