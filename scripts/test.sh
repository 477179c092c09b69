#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every
# test: unit (cmocka) and integration (real redis-server + regnotifyd), then
# the same suite again on an ASan+UBSan build. CI runs this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
JOBS="$(nproc)"

echo "== formatting (.clang-format)"
unformatted=$(git ls-files '*.c' '*.h' | while read -r f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$unformatted" ]; then
  echo "not formatted per .clang-format (run clang-format -i on them):" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRN_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== tests"
(cd build && ctest --output-on-failure)

echo "== build (ASan+UBSan, -Werror)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRN_SANITIZE=ON -DRN_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== tests under ASan+UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure)
