#!/usr/bin/env bash
# ab_publish.sh - the publish path of two commits in one run, alternating
# (docs/performance.md "Semantics": what moving topics.publish from
# XADD/MULTI to one Lua script per request cost). Kept for that record:
# bench/ab.sh OLD NEW with CASES="batch single" is the same measurement.
#   bash bench/ab_publish.sh [OLD_REV [NEW_REV]]   (default a9db22b HEAD)
# Env: ROUNDS (3), DUR (10s).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CASES="batch single" exec bash "$HERE/ab.sh" "${1:-a9db22b}" "${2:-HEAD}"
