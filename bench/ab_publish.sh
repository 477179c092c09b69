#!/usr/bin/env bash
# ab_publish.sh - the publish path of two commits in one run, alternating
# (docs/performance.md "Semantics": what moving topics.publish from
# XADD/MULTI to one Lua script per request cost).
#   bash bench/ab_publish.sh [OLD_REV [NEW_REV]]   (default a9db22b HEAD)
# Env: ROUNDS (3), DUR (10s). Each commit is a clean `git archive` built
# Release in /tmp/rnbench/src-SHA (as run_bench.sh); every round gets a
# fresh redis-server (AOF everysec) and broker on free ports; only the PIDs
# started here are stopped. Prints one line per round and the medians.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OLD="$(git -C "$ROOT" rev-parse --short "${1:-a9db22b}")"
NEW="$(git -C "$ROOT" rev-parse --short "${2:-HEAD}")"
ROUNDS="${ROUNDS:-3}"
DUR="${DUR:-10s}"
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }
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

run_one() {   # run_one BINARY BATCH CONNS -> msgs/s
  local bin="$1" batch="$2" conns="$3" dir rport port nport rpid bpid out rps=""
  dir="$(mktemp -d /tmp/ab-publish.XXXXXX)"
  rport="$(free_port)"; port="$(free_port)"; nport="$(free_port)"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly yes \
    --appendfsync everysec --auto-aof-rewrite-percentage 0 > "$dir/redis.log" 2>&1 &
  rpid=$!; PIDS+=("$rpid")
  for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  "$bin" --listen "127.0.0.1:$port" --redis "redis://127.0.0.1:$rport/0" --nng-listen "tcp://127.0.0.1:$nport" \
    --log-level warn 2> "$dir/broker.log" &
  bpid=$!; PIDS+=("$bpid")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$port/v1/projects/abproj/topics/ab-topic"
  curl -sf -o /dev/null -X PUT -d '{"topic":"projects/abproj/topics/ab-topic"}' \
    "http://127.0.0.1:$port/v1/projects/abproj/subscriptions/ab-sub"
  out=$(BATCH="$batch" timeout 60 wrk -t1 -c"$conns" -d"$DUR" -s "$HERE/publish.lua" \
        "http://127.0.0.1:$port/v1/projects/abproj/topics/ab-topic:publish" 2>&1) || true
  if echo "$out" | grep -q "Non-2xx"; then
    echo "non-2xx answers: $(echo "$out" | grep Non-2xx)" >&2
    rps=0
  fi
  kill "$bpid" "$rpid" 2>/dev/null || true
  wait "$bpid" "$rpid" 2>/dev/null || true
  rm -rf "$dir"
  [ "${rps:-}" = 0 ] || rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
  awk -v r="${rps:-0}" -v b="$batch" 'BEGIN{printf "%.0f", r*b}'
}

OLD_BIN="$(build "$OLD")"
NEW_BIN="$(build "$NEW")"
echo "# ab_publish $(date -Is) old=$OLD new=$NEW rounds=$ROUNDS dur=$DUR nproc=$(nproc)"
declare -A R
for round in $(seq "$ROUNDS"); do
  for c in "batch 1000 8" "single 1 64"; do
    set -- $c
    for v in old new; do
      bin=$OLD_BIN; [ "$v" = new ] && bin=$NEW_BIN
      m=$(run_one "$bin" "$2" "$3")
      echo "round=$round case=$1 rev=$v msgs_s=$m"
      R[$1.$v]="${R[$1.$v]:-} $m"
    done
  done
done
for c in batch single; do
  python3 - "$c" "${R[$c.old]}" "${R[$c.new]}" <<'PY'
import statistics, sys
c, old, new = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
print("%s: old median %.0f msgs/s, new median %.0f msgs/s, new/old %.2fx (per round %s)" % (
    c, statistics.median(old), statistics.median(new), statistics.median(new) / statistics.median(old),
    " ".join("%.2f" % (n / o) for o, n in zip(old, new))))
PY
done
