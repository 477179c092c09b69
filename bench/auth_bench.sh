#!/usr/bin/env bash
# Access control's cost (issue 10; docs/performance.md): single-message
# publishes (wrk -t1 -c64, bench/publish.lua) on a broker with --auth off
# and on one with --auth required, the latter with a self-signed RS256
# service-account token and with a broker ES256 access token, interleaved
# ROUNDS times in one run; then jwt_bench (the cost of one token check with
# and without the broker's token memo).
#   bash bench/auth_bench.sh     (from a built tree; ~2 min with ROUNDS=3)
# Env: REGNOTIFYD (default build/broker/regnotifyd), ROUNDS (3), DUR (10s),
#      RESULTS (/tmp/rnbench/auth). Each broker starts its own embedded
#      redis-server in a mktemp dir; only PIDs started here are stopped.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BIN="${REGNOTIFYD:-$ROOT/build/broker/regnotifyd}"
ROUNDS="${ROUNDS:-3}"
DUR="${DUR:-10s}"
RESULTS="${RESULTS:-/tmp/rnbench/auth}"
mkdir -p "$RESULTS"
OUTF="$RESULTS/auth.txt"
: >"$OUTF"
for t in wrk curl python3 openssl; do
  command -v "$t" >/dev/null || { echo "missing $t (bash scripts/deps.sh --bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no broker at $BIN (build first)" >&2; exit 1; }
make -s -C "$HERE" OUT=/tmp/rnbench/bin BUILD="$ROOT/build" /tmp/rnbench/bin/jwt_bench

# shellcheck source=/dev/null
source "$HERE/lib.sh"
start() {   # start NAME ARGS... -> sets PORT_NAME, DIR_NAME
  local name="$1"; shift
  start_broker "$BIN" "$@"
  eval "PORT_$name=$BROKER_PORT; DIR_$name=$BROKER_DIR"
}
start off
start on --auth required --admin-key-file "$DIR_off.admin.json"
KEY="$DIR_off.admin.json"
for _ in $(seq 100); do [ -s "$KEY" ] && break; sleep 0.1; done
DIRS+=("$KEY")
SELF="$(cd "$ROOT/tests/integration" && python3 -c 'import json,jwtutil,sys
print(jwtutil.self_signed(json.load(open(sys.argv[1]))))' "$KEY")"
ASSERT="$(cd "$ROOT/tests/integration" && python3 -c 'import json,jwtutil,sys
print(jwtutil.assertion(json.load(open(sys.argv[1]))))' "$KEY")"
BROKER="$(curl -fs -d "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=$ASSERT" \
  "http://127.0.0.1:$PORT_on/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
curl -fs -X PUT -d '{}' "http://127.0.0.1:$PORT_off/v1/projects/bench/topics/bench-topic" >/dev/null
curl -fs -X PUT -d '{}' -H "Authorization: Bearer $SELF" \
  "http://127.0.0.1:$PORT_on/v1/projects/bench/topics/bench-topic" >/dev/null
echo "# auth_bench $(date -Is) nproc=$(nproc) $("$BIN" --version) rounds=$ROUNDS dur=$DUR" | tee -a "$OUTF"
run() {   # run ID PORT [TOKEN]
  local id="$1" port="$2" tok="${3:-}" out
  if [ -n "$tok" ]; then
    out="$(wrk -t1 -c64 -d"$DUR" -s "$HERE/publish.lua" -H "Authorization: Bearer $tok" \
      "http://127.0.0.1:$port/v1/projects/bench/topics/bench-topic:publish")"
  else
    out="$(wrk -t1 -c64 -d"$DUR" -s "$HERE/publish.lua" \
      "http://127.0.0.1:$port/v1/projects/bench/topics/bench-topic:publish")"
  fi
  wrk_line "$id" "$r" "$out" | tee -a "$OUTF"
}
for r in $(seq "$ROUNDS"); do
  run auth.pub1.off "$PORT_off"
  run auth.pub1.selfsigned "$PORT_on" "$SELF"
  run auth.pub1.brokertoken "$PORT_on" "$BROKER"
done
/tmp/rnbench/bin/jwt_bench 2000 | tee -a "$OUTF"
python3 - "$OUTF" <<'PY' | tee "$RESULTS/summary.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("id=auth.pub1"):
        kv = dict(f.split("=", 1) for f in line.split())
        if int(kv["non2xx"]) != 0:
            sys.exit("non-2xx answers in %s: the run is invalid" % kv["id"])
        rows.setdefault(kv["id"], []).append(float(kv["rps"]))
off = statistics.median(rows["auth.pub1.off"])
for k in ("auth.pub1.off", "auth.pub1.selfsigned", "auth.pub1.brokertoken"):
    m = statistics.median(rows[k])
    print("%-24s median %8.0f req/s  (%s)  / off = %.3f" % (
        k, m, " ".join("%.0f" % v for v in rows[k]), m / off))
PY
