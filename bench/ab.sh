#!/usr/bin/env bash
# ab.sh - two commits in one run, alternating, on the hot paths
# (docs/performance.md: what one change bought, with both sides measured
# under the same machine noise).
#   bash bench/ab.sh OLD_REV NEW_REV
# Env: CASES ("batch single drain e2e"), ROUNDS (3), DUR (10s, wrk cases).
#   batch   wrk c8, 1000 x 300 B per publish       -> msgs/s
#   single  wrk c64, one 300-B message per publish -> msgs/s
#   drain   rnbench drain -n 100000 (pull 1000 + ack, one client) -> msgs/s
#   e2e     rnbench e2e 50k at 5k/s -> e2e p50 and p99 (us)
# Each commit is a clean `git archive` built Release in /tmp/rnbench/src-SHA
# (as run_bench.sh); every measurement gets a fresh redis-server (AOF
# everysec) and broker on free ports; only the PIDs started here are
# stopped. Prints one line per measurement and the medians with new/old.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OLD="$(git -C "$ROOT" rev-parse --short "${1:?usage: bench/ab.sh OLD_REV NEW_REV}")"
NEW="$(git -C "$ROOT" rev-parse --short "${2:?usage: bench/ab.sh OLD_REV NEW_REV}")"
ROUNDS="${ROUNDS:-3}"
DUR="${DUR:-10s}"
CASES="${CASES:-batch single drain e2e}"
BIN="${BIN:-/tmp/rnbench/bin}"
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }
make -s -C "$HERE" OUT="$BIN" >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

build() {   # build SHA -> path of its regnotifyd
  local src="/tmp/rnbench/src-$1"
  if [ ! -x "$src/build/broker/regnotifyd" ]; then
    rm -rf "$src"; mkdir -p "$src"
    git -C "$ROOT" archive "$1" | tar -x -C "$src"
    cmake -S "$src" -B "$src/build" -DRN_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$src/build" -j2 >/dev/null
  fi
  echo "$src/build/broker/regnotifyd"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_one() {   # run_one BINARY CASE -> the case's figure(s)
  local bin="$1" case="$2" dir rport port nport rpid bpid out val=""
  dir="$(mktemp -d /tmp/ab.XXXXXX)"
  rport="$(free_port)"; port="$(free_port)"; nport="$(free_port)"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes \
    --appendfsync everysec --auto-aof-rewrite-percentage 0 > "$dir/redis.log" 2>&1 &
  rpid=$!; PIDS+=("$rpid")
  for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  "$bin" --listen "127.0.0.1:$port" --redis "redis://127.0.0.1:$rport/0" \
    --nng-listen "tcp://127.0.0.1:$nport" --log-level warn 2> "$dir/broker.log" &
  bpid=$!; PIDS+=("$bpid")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  case "$case" in
    batch|single)
      local batch=1 conns=64
      [ "$case" = batch ] && batch=1000 conns=8
      curl -sf -o /dev/null -X PUT "http://127.0.0.1:$port/v1/projects/abproj/topics/ab-topic"
      curl -sf -o /dev/null -X PUT -d '{"topic":"projects/abproj/topics/ab-topic"}' \
        "http://127.0.0.1:$port/v1/projects/abproj/subscriptions/ab-sub"
      out=$(BATCH="$batch" timeout 60 wrk -t1 -c"$conns" -d"$DUR" -s "$HERE/publish.lua" \
            "http://127.0.0.1:$port/v1/projects/abproj/topics/ab-topic:publish" 2>&1) || true
      if echo "$out" | grep -q "Non-2xx"; then
        echo "non-2xx answers: $(echo "$out" | grep Non-2xx)" >&2
        val=0
      else
        val=$(echo "$out" | awk -v b="$batch" '/^Requests\/sec:/{printf "%.0f", $2 * b}')
      fi ;;
    drain)
      out=$(timeout 120 "$BIN/rnbench" drain -n 100000 -p "$port" -P abproj 2>&1) || true
      val=$(echo "$out" | sed -n 's/.* msgs_s=\([0-9.]*\).*/\1/p' | tail -1) ;;
    e2e)
      out=$(timeout 120 "$BIN/rnbench" e2e -n 50000 -r 5000 -c 8 -l 2 -p "$port" -P abproj 2>&1) || true
      val=$(echo "$out" | sed -n 's/.* e2e_p50_us=\([0-9.]*\) e2e_p99_us=\([0-9.]*\).*/\1 \2/p' | tail -1) ;;
  esac
  kill "$bpid" "$rpid" 2>/dev/null || true
  wait "$bpid" "$rpid" 2>/dev/null || true
  rm -rf "$dir"
  echo "${val:-0}"
}

OLD_BIN="$(build "$OLD")"
NEW_BIN="$(build "$NEW")"
echo "# ab $(date -Is) old=$OLD new=$NEW rounds=$ROUNDS dur=$DUR cases=\"$CASES\" nproc=$(nproc)"
declare -A R
for round in $(seq "$ROUNDS"); do
  for c in $CASES; do
    for v in old new; do
      bin=$OLD_BIN; [ "$v" = new ] && bin=$NEW_BIN
      m=$(run_one "$bin" "$c")
      echo "round=$round case=$c rev=$v value=\"$m\""
      R[$c.$v]="${R[$c.$v]:-}${R[$c.$v]:+,}$m"
    done
  done
done
for c in $CASES; do
  python3 - "$c" "${R[$c.old]}" "${R[$c.new]}" <<'PY'
import statistics, sys
c = sys.argv[1]
old = [[float(x) for x in r.split()] for r in sys.argv[2].split(",")]
new = [[float(x) for x in r.split()] for r in sys.argv[3].split(",")]
names = ["e2e_p50_us", "e2e_p99_us"] if c == "e2e" else ["msgs_s"]
for i, n in enumerate(names):
    o = [r[i] if len(r) > i else 0 for r in old]
    w = [r[i] if len(r) > i else 0 for r in new]
    mo, mw = statistics.median(o), statistics.median(w)
    print("%s %s: old median %.0f, new median %.0f, new/old %.2fx (per round %s)" % (
        c, n, mo, mw, mw / mo if mo else 0, " ".join("%.2f" % (b / a if a else 0) for a, b in zip(o, w))))
PY
done
