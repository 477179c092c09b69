#!/usr/bin/env bash
# Admin writes with and without audit entries (issue 11): topics.create of a
# new topic per request (wrk -t1 -c16, bench/admin_create.lua) on two broker
# binaries - a commit before Admin Activity entries and one with them -
# alternated ROUNDS times in one run, each on a fresh embedded Redis.
#   bash bench/admin_bench.sh BEFORE_BINARY AFTER_BINARY
# Env: ROUNDS (3), DUR (10s), RESULTS (/tmp/rnbench/admin); AOF=no runs both
# against one redis-server without an append-only file (flushed before each
# run) instead, to tell Redis' durability cost from the rest.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BEFORE="${1:?usage: bench/admin_bench.sh BEFORE_BINARY AFTER_BINARY}"
AFTER="${2:?usage: bench/admin_bench.sh BEFORE_BINARY AFTER_BINARY}"
ROUNDS="${ROUNDS:-3}"
DUR="${DUR:-10s}"
RESULTS="${RESULTS:-/tmp/rnbench/admin}"
mkdir -p "$RESULTS"
OUTF="$RESULTS/admin.txt"
: >"$OUTF"
# shellcheck source=/dev/null
source "$HERE/lib.sh"
AOF="${AOF:-yes}"
EXTRA=()
if [ "$AOF" = no ]; then
  RPORT="$(free_port)"; RDIR="$(mktemp -d /tmp/rnbench-r.XXXXXX)"; DIRS+=("$RDIR")
  redis-server --port "$RPORT" --dir "$RDIR" --appendonly no --save "" >/dev/null 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 50); do redis-cli -p "$RPORT" PING >/dev/null 2>&1 && break; sleep 0.1; done
  EXTRA=(--redis "redis://127.0.0.1:$RPORT/0")
fi
run() {   # run ID BINARY
  local out
  [ "$AOF" = no ] && redis-cli -p "$RPORT" FLUSHALL >/dev/null
  start_broker "$2" "${EXTRA[@]}"
  out="$(wrk -t1 -c16 -d"$DUR" -s "$HERE/admin_create.lua" \
    "http://127.0.0.1:$BROKER_PORT/v1/projects/bench/topics/")"
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  wrk_line "$1" "$r" "$out" | tee -a "$OUTF"
}
echo "# admin_bench $(date -Is) nproc=$(nproc) aof=$AOF before=$BEFORE after=$AFTER" | tee -a "$OUTF"
for r in $(seq "$ROUNDS"); do
  run admin.create.before "$BEFORE"
  run admin.create.after "$AFTER"
done
python3 - "$OUTF" <<'PY' | tee "$RESULTS/summary.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("id="):
        kv = dict(f.split("=", 1) for f in line.split())
        if int(kv["non2xx"]) != 0:
            sys.exit("non-2xx answers in %s: the run is invalid" % kv["id"])
        rows.setdefault(kv["id"], []).append(float(kv["rps"]))
b = statistics.median(rows["admin.create.before"])
a = statistics.median(rows["admin.create.after"])
print("admin.create.before median %8.0f creates/s (%s)" % (b, " ".join("%.0f" % v for v in rows["admin.create.before"])))
print("admin.create.after  median %8.0f creates/s (%s)  after/before = %.3f" % (a, " ".join("%.0f" % v for v in rows["admin.create.after"]), a / b))
PY
