#!/usr/bin/env bash
# Vendored from the team's shared bench kit (http/run_http.sh there); unchanged but for this line.
# HTTP ceiling of this machine: wrk against evhttp_200 (one libevent loop that
# answers 200 to everything), GET and 300-byte POST, 1 and 64 connections,
# 10 s each, interleaved, RUNS times. wrk uses 1 thread (-t1) so that on 2
# cores the server and the load generator get one core each.
# Output: $RESULTS/http.txt
source "$(dirname "$0")/../common.sh"
PORT="${PORT:-18080}"
DUR="${DUR:-10s}"
OUTF="$RESULTS/http.txt"
[ "${APPEND:-0}" = 1 ] || : > "$OUTF"   # APPEND=1: keep earlier runs (run_all.sh)
port_free "$PORT"
"$BIN/evhttp_200" "$PORT" 2>"$RESULTS/evhttp_200.log" &
SPID=$!; STARTED_PIDS+=("$SPID")
wait_port "$PORT"; alive "$SPID"
echo "# $(wrk -v 2>&1 | head -1); libevent $(dpkg-query -W -f='${Version}' libevent-2.1-7 2>/dev/null)" | tee -a "$OUTF"
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1e6} else print v}'; }
one() { # one ID THREADS CONNS [lua]
  local id="$1" t="$2" c="$3" lua="${4:-}" out fg
  wait_quiet; cpu_mark "$SPID"
  if [ -n "$lua" ]; then
    out=$(timeout 60 wrk -t"$t" -c"$c" -d"$DUR" --latency -s "$lua" "http://127.0.0.1:$PORT/events")
  else
    out=$(timeout 60 wrk -t"$t" -c"$c" -d"$DUR" --latency "http://127.0.0.1:$PORT/events")
  fi
  fg=$(cpu_foreign)
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}' | to_us)
  p99=$(echo "$out" | awk '$1=="99%"{print $2}' | to_us)
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/{printf "%s;", $0}')
  echo "id=$id run=$run rps=$rps p50_us=$p50 p99_us=$p99 $fg ${errs:+errors=\"$errs\"}" | tee -a "$OUTF"
}
for run in $(seq "${RUN0:-1}" $(( ${RUN0:-1} + RUNS - 1 ))); do
  one http.get.c1     1 1
  one http.post300.c1 1 1  "$BENCH_DIR/http/post300.lua"
  one http.get.c64    1 64
  one http.post300.c64 1 64 "$BENCH_DIR/http/post300.lua"
done
stop_pid "$SPID"
cat "$RESULTS/evhttp_200.log"
echo "== medians over $RUNS runs (min..max) =="
python3 "$BENCH_DIR/summarize.py" "$OUTF"
