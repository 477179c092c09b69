#!/usr/bin/env bash
# Vendored from the team's shared bench kit (redis/run_redis.sh there); unchanged but for this line.
# Redis Streams anchors: XADD of a 300-byte field with redis-benchmark
# (50 clients, pipeline 1 and 32; 1 client pipeline 1), XREADGROUP+XACK
# drain rate and end-to-end latency at a fixed rate (xstream_bench), for
#   nopersist : appendonly no            (memory-only ceiling)
#   everysec  : appendonly yes, appendfsync everysec
#   always    : appendonly yes, appendfsync always
# Every measurement gets a fresh redis-server (own temp dir, 127.0.0.1:16379,
# RDB snapshots off, AOF auto-rewrite off) so AOF growth/rewrites never land
# inside a run. Runs are interleaved across configs to spread host noise.
# Env: RUNS (3), PORT (16379), RESULTS, BIN.  Output: $RESULTS/redis.txt
source "$(dirname "$0")/../common.sh"
PORT="${PORT:-16379}"
OUTF="$RESULTS/redis.txt"
[ "${APPEND:-0}" = 1 ] || : > "$OUTF"   # APPEND=1: keep earlier runs (run_all.sh)
PAYLOAD="$(head -c 300 /dev/zero | tr '\0' x)"
TMPD="$(mktemp -d /tmp/perf-anchors-redis.XXXXXX)"
E2E_N="${E2E_N:-50000}"
E2E_RATE="${E2E_RATE:-5000}"

start_redis() {   # start_redis CFG -> sets RPID
  local cfg="$1" dir="$TMPD/$cfg.$RANDOM"
  mkdir -p "$dir"
  port_free "$PORT"
  local aof=(--appendonly no)
  case "$cfg" in
    everysec) aof=(--appendonly yes --appendfsync everysec) ;;
    always)   aof=(--appendonly yes --appendfsync always) ;;
  esac
  redis-server --port "$PORT" --bind 127.0.0.1 --dir "$dir" --save '' \
    --auto-aof-rewrite-percentage 0 --logfile "$dir/redis.log" "${aof[@]}" &
  RPID=$!
  STARTED_PIDS+=("$RPID")
  wait_port "$PORT"
  alive "$RPID"
  RDIR="$dir"
}
stop_redis() {
  stop_pid "$RPID"
  rm -rf "$RDIR"
}
rb() {  # rb ID CFG CLIENTS PIPELINE N
  local id="$1" cfg="$2" c="$3" p="$4" n="$5" line fg
  start_redis "$cfg"
  wait_quiet; cpu_mark "$RPID"
  line=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$c" -n "$n" -P "$p" --csv \
         XADD bs '*' d "$PAYLOAD" | tail -1)
  fg=$(cpu_foreign)
  stop_redis
  # "test","rps","avg","min","p50","p95","p99","max"
  echo "$line" | awk -F'","' -v id="$id" -v c="$c" -v p="$p" -v n="$n" -v fg="$fg" -v run="$run" \
    '{gsub(/"/,"",$8); printf "id=%s run=%s c=%s P=%s n=%s rps=%s p50_ms=%s p99_ms=%s max_ms=%s %s\n", id, run, c, p, n, $2, $5, $7, $8, fg}' \
    | tee -a "$OUTF"
}
xs() {  # xs ID CFG ARGS...
  local id="$1" cfg="$2" out fg; shift 2
  start_redis "$cfg"
  wait_quiet; cpu_mark "$RPID"
  out=$(timeout 180 "$BIN/xstream_bench" "$1" "$PORT" "${@:2}")
  fg=$(cpu_foreign)
  stop_redis
  echo "id=$id run=$run $out $fg" | tee -a "$OUTF"
}

echo "# redis $(redis-server --version)" | tee -a "$OUTF"
for run in $(seq "${RUN0:-1}" $(( ${RUN0:-1} + RUNS - 1 ))); do
  for cfg in nopersist everysec always; do
    rb "redis.xadd.$cfg.c50.P1"  "$cfg" 50 1  200000
    rb "redis.xadd.$cfg.c50.P32" "$cfg" 50 32 1000000
    rb "redis.xadd.$cfg.c1.P1"   "$cfg" 1  1  30000
    xs "redis.consume.$cfg.b1"       "$cfg" consume 20000 1 0
    xs "redis.consume.$cfg.b100pipe" "$cfg" consume 200000 100 1
    xs "redis.e2e.$cfg.${E2E_RATE}ps" "$cfg" e2e "$E2E_N" "$E2E_RATE"
  done
done
rm -rf "$TMPD"
echo "== medians over $RUNS runs (min..max) =="
python3 "$BENCH_DIR/summarize.py" "$OUTF"
