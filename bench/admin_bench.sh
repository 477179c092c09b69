#!/usr/bin/env bash
# Admin writes with and without audit entries (issue 11): topics.create of a
# new topic per request (wrk -t1 -c16, bench/admin_create.lua) on two broker
# binaries - a commit before Admin Activity entries and one with them -
# alternated ROUNDS times in one run, each on a fresh embedded Redis.
#   bash bench/admin_bench.sh BEFORE_BINARY AFTER_BINARY
# CASE=publish measures single-message publishes instead (wrk -t1 -c64,
# bench/publish.lua, to a topic made first): not logged, so unchanged.
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
CASE="${CASE:-create}"
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
  if [ "$CASE" = publish ]; then
    curl -fs -X PUT "http://127.0.0.1:$BROKER_PORT/v1/projects/bench/topics/pub" >/dev/null
    out="$(wrk -t1 -c64 -d"$DUR" -s "$HERE/publish.lua" \
      "http://127.0.0.1:$BROKER_PORT/v1/projects/bench/topics/pub:publish")"
  else
    out="$(wrk -t1 -c16 -d"$DUR" -s "$HERE/admin_create.lua" \
      "http://127.0.0.1:$BROKER_PORT/v1/projects/bench/topics/")"
  fi
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  wrk_line "$1" "$r" "$out" | tee -a "$OUTF"
}
echo "# admin_bench $(date -Is) nproc=$(nproc) aof=$AOF before=$BEFORE after=$AFTER" | tee -a "$OUTF"
for r in $(seq "$ROUNDS"); do
  run "admin.$CASE.before" "$BEFORE"
  run "admin.$CASE.after" "$AFTER"
done
python3 - "$OUTF" "$CASE" <<'PY' | tee "$RESULTS/summary.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("id="):
        kv = dict(f.split("=", 1) for f in line.split())
        if int(kv["non2xx"]) != 0:
            sys.exit("non-2xx answers in %s: the run is invalid" % kv["id"])
        rows.setdefault(kv["id"], []).append(float(kv["rps"]))
case = sys.argv[2]
bv, av = rows["admin.%s.before" % case], rows["admin.%s.after" % case]
b, a = statistics.median(bv), statistics.median(av)
unit = "creates/s" if case == "create" else "publishes/s"
print("admin.%s.before median %8.0f %s (%s)" % (case, b, unit, " ".join("%.0f" % v for v in bv)))
print("admin.%s.after  median %8.0f %s (%s)  after/before = %.3f" % (case, a, unit, " ".join("%.0f" % v for v in av), a / b))
PY
