#!/usr/bin/env bash
# Installs the Debian 12 packages regnotify needs to build, run and test,
# only when something is missing (--test: also what the tests need;
# --bench: also what bench/run_bench.sh needs).
# Needs root (or sudo) for apt-get.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libevent-dev libjansson-dev libhiredis-dev
      libnng-dev libcurl4-openssl-dev libssl-dev libcmocka-dev redis-server redis-tools
      libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
      python3 curl)
# Test-only: the end-to-end tests push images with skopeo to a real docker-registry;
# man-db checks the man pages.
[ "${1:-}" = "--test" ] && PKGS+=(docker-registry skopeo clang-format man-db groff-base)
# Google's client library runs on Node.js (tests/google, from npm): Debian's
# nodejs and npm when the machine has no node of its own.
if [ "${1:-}" = "--test" ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
# Bench-only: the load generators and the noise probe.
[ "${1:-}" = "--bench" ] && PKGS+=(wrk hyperfine nats-server golang-go golang-github-nats-io-go-nats-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
# Keep Debian's redis-server package from starting its system service: the
# broker starts its own redis-server (embedded default, and in tests).
cleanup_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  cleanup_policy=1
fi
trap '[ $cleanup_policy -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
