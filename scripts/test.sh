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

echo "== npm ci (tests/google: Google's client library, pinned in package-lock.json)"
(cd tests/google && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRN_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== tests"
(cd build && ctest --output-on-failure)

echo "== make install, regnotify.pc, CMake package, man pages"
PREFIX="$(mktemp -d)"
trap 'rm -rf "$PREFIX"' EXIT
cmake --install build --prefix "$PREFIX" >/dev/null
PCDIR="$(dirname "$(find "$PREFIX" -name regnotify.pc)")"
for f in bin/regnotify sbin/regnotifyd include/regnotify/client.h share/man/man1/regnotify.1 \
         share/man/man8/regnotifyd.8 share/man/man5/regnotifyd.json.5; do
  test -e "$PREFIX/$f" || { echo "make install did not install $f" >&2; exit 1; }
done
[ -n "$(find "$PREFIX" -name libregnotify.so.0)" ] ||
  { echo "make install did not install libregnotify.so.0" >&2; exit 1; }
# shellcheck disable=SC2046
cc -Wall -Werror -o "$PREFIX/cd-trigger" examples/cd-trigger.c \
  $(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags --libs regnotify jansson)
LD_LIBRARY_PATH="$(dirname "$(find "$PREFIX" -name libregnotify.so.0)")" "$PREFIX/cd-trigger" -h >/dev/null
cmake -S tests/package -B "$PREFIX/consumer" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$PREFIX/consumer" >/dev/null
for m in docs/man/regnotify.1 docs/man/regnotifyd.8 docs/man/regnotifyd.json.5; do
  warn="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)"
  [ -z "$warn" ] || { echo "$m: $warn" >&2; exit 1; }
done

echo "== build (ASan+UBSan, -Werror)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRN_SANITIZE=ON -DRN_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== tests under ASan+UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure)

# The client library runs callbacks, pullers, lease and ack threads, and the
# broker hands nng requests between threads: their tests run once more under
# ThreadSanitizer (a report fails the program and so the test).
echo "== build (TSan, -Werror): the threaded parts"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DRN_TSAN=ON -DRN_WERROR=ON >/dev/null
cmake --build build-tsan -j"$JOBS"
echo "== library, CLI, examples, key-file clients and push (its resolver thread) tests under TSan"
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1 \
  ctest --output-on-failure -R 'unit_wire|unit_client|client_lib|test_cli|test_examples|test_auth_clients|integration_test_push$')
