#!/usr/bin/env bash
# Quick start: install what is missing, build, and run regnotifyd on its
# embedded default (it starts its own redis-server with data in ./var).
# Extra arguments go to regnotifyd (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRN_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/broker/regnotifyd "$@"
