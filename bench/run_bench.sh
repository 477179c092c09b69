#!/usr/bin/env bash
# regnotifyd benchmark suite, with the anchors measured in the SAME run.
#
#   bash bench/run_bench.sh            (from the repo root; ~8 min with RUNS=3)
#
# Order: build; noise probe (bench/anchors/noise); then RUNS interleaved
# rounds of
#   rn.pub1.c64        wrk -t1 -c64 single-message publish (bench/publish.lua)
#   rn.pubbatch.c8     wrk -t1 -c8 batched publish, 1000 x 300 B per request
#   rn.drain           rnbench drain: 100k pre-filled, pull 1000 + ack, one client
#   rn.e2e.5000ps      rnbench e2e: open loop 5k msgs/s, 50k msgs, long-poll pulls
#   rn.nng.drain       rnsub drain: libregnotify streaming subscriber over nng, 100k msgs
#   rn.nng.e2e.5000ps  rnsub e2e: open loop 5k msgs/s over nng, publish -> subscriber callback
#   rn.ingest.*        wrk: Distribution envelopes (one manifest push event each,
#                      unique ids) over keep-alive and over a new connection per
#                      request (as docker-registry sends them)
#   rn.push.sink       deliveries/s of one push subscription to the evhttp_200
#                      sink (50k pre-published), against wrk on that sink
#   rn.push.sink.libcurl  the same with --push-client libcurl (what https:// and
#                      proxied endpoints use), where the broker has that option
#   rn.grpc.*          gRPC (google.pubsub.v1 on the REST port) driven by Google's
#                      official Node client @google-cloud/pubsub (bench/grpc_bench.js;
#                      needs node and `cd tests/google && npm ci`, else skipped):
#     rn.grpc.pub              200k x 300 B via topic.publishMessage, batching 1000/10 ms
#     rn.grpc.drain            100k pre-filled, subscription.on('message') acks each
#                              (library defaults: flowControl 1000, acks batched 100 ms)
#     rn.grpc.drain.flow10k    the same with flowControl.maxMessages 10000
#     rn.grpc.e2e.5000ps       open loop 5k msgs/s, 50k (+5k warm-up), publisher process
#                              (batching 100/1 ms) -> on('message') in another process
#     rn.grpc.e2e.1000ps.unbatched  10k at 1k msgs/s, one Publish call per message
#     rn.grpc.drain.rngrpc(.m1000)  the ceiling without the Node client: bench/rngrpc.c
#                              (C, one connection, each response acked at once;
#                              maxOutstandingMessages none / 1000)
#                      each with the CPU of the node process(es), broker and redis-server
#                      over the timed window (node_/pubnode_/broker_/redis_cpu_pct, _us_per_msg)
#   rn.*.nodelay       the same broker binary with TCP_NODELAY forced on its
#                      HTTP sockets at accept() by LD_PRELOAD (bench/nodelay_shim.c):
#                      a check on commits that set it themselves (07f1ded+), the
#                      what-if on older ones (docs/performance.md, Nagle)
#   http.post300.c64   anchor: bare libevent evhttp server (bench/anchors/http)
#   redis.*.everysec   anchors: redis-benchmark XADD c50 P1/P32, xstream_bench
#                      consume b100pipe and e2e 5k/s (bench/anchors/redis)
#   natsgo.*           anchor: NATS JetStream with nats.go (bench/anchors/nats-go),
#                      only when nats-server, go and Debian's nats.go are installed
#                      (otherwise skipped with a message)
# then a second noise probe; medians (min..max) and the target ratios.
# The anchor programs and common.sh are vendored from the team's shared bench
# kit into bench/anchors/ (bench/anchors/README.md), so a plain clone runs it.
#
# Every regnotifyd measurement gets a fresh redis-server (AOF everysec, RDB
# off, auto-rewrite off) and a fresh broker in a mktemp dir, on free
# 127.0.0.1 ports; only PIDs started here are stopped (common.sh).
# Env: RUNS (3), RESULTS (/tmp/rnbench/results), BIN (/tmp/rnbench/bin),
#      RN_REV (HEAD: build a clean `git archive` of that commit in
#      /tmp/rnbench/src-SHA; "worktree": build the working tree into
#      build-bench/), REGNOTIFYD (use this binary instead), DUR (10s),
#      WHATIF (1: run the *.nodelay rows), NATS (auto|0), NOISE (1: needs hyperfine),
#      ANCHORS (bench/anchors; SHARED is accepted as the old name: another copy
#      of the anchor kit with the same layout), PORT, RPORT, HPORT, NPORT,
#      SUITE (all | nng: only the nng cases with the REST e2e, Redis e2e and
#      JetStream anchors they are compared with | grpc: only the rn.grpc.* cases
#      with the REST rows and anchors they are compared with: rn.pubbatch.c8, XADD
#      P32, rn.drain, rn.e2e.5000ps, natsgo.*) | semantics: the delivery-model
#      rows of issue 13 (rn.sem.*: filtered vs unfiltered drain, publish to a
#      topic with a filtered subscription, ordered (100 keys) and exactly-once
#      drains vs rn.drain) with XADD P32; GRPC (auto|0).
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
ANCHORS="${ANCHORS:-${SHARED:-$HERE/anchors}}"
export BIN="${BIN:-/tmp/rnbench/bin}"
export RESULTS="${RESULTS:-/tmp/rnbench/results}"
RUNS="${RUNS:-3}"
DUR="${DUR:-10s}"
WHATIF="${WHATIF:-0}"
NATS="${NATS:-auto}"
NOISE="${NOISE:-1}"
SUITE="${SUITE:-all}"
GRPC="${GRPC:-auto}"
case "$SUITE" in all|nng|grpc|semantics) ;; *) echo "SUITE must be all, nng, grpc or semantics" >&2; exit 2 ;; esac
[ -f "$ANCHORS/common.sh" ] || { echo "missing $ANCHORS/common.sh (bench/anchors/ is part of the repo; ANCHORS/SHARED set wrong?)" >&2; exit 1; }
# shellcheck source=/dev/null
source "$ANCHORS/common.sh"   # set -euo pipefail, STARTED_PIDS, stop_pid, wait_quiet, cpu_mark...
T_BEGIN=$(date +%s)

# ---------------------------------------------------------------- tools
# Missing tools: bash scripts/deps.sh --bench installs them.
need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install -y $2" >&2; exit 1; }; }
need wrk wrk
need redis-server redis-server
need redis-benchmark redis-tools
need curl curl
need python3 python3
[ "$NOISE" = 1 ] && need hyperfine hyperfine   # only the noise probe uses it
for h in hiredis/hiredis.h event2/http.h; do   # the anchor programs' headers
  echo "#include <$h>" | ${CC:-cc} -E -x c - >/dev/null 2>&1 ||
    { echo "missing <$h>: apt-get install -y libhiredis-dev libevent-dev" >&2; exit 1; }
done
mkdir -p "$BIN" "$RESULTS" /tmp/perf-anchors   # run_noise.sh keeps its json there
make -s -C "$ANCHORS" OUT="$BIN" >/dev/null
make -s -C "$HERE" OUT="$BIN" "$BIN/rnbench" "$BIN/nodelay_shim.so" >/dev/null
RN_REV="${RN_REV:-HEAD}"
if [ -n "${REGNOTIFYD:-}" ]; then
  RN_DESC="given binary $REGNOTIFYD"
elif [ "$RN_REV" = worktree ]; then   # the working tree as it is (may hold others' edits)
  if [ ! -f "$ROOT/build-bench/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$ROOT/build-bench" -DRN_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$ROOT/build-bench" -j2 >/dev/null
  REGNOTIFYD="$ROOT/build-bench/broker/regnotifyd"
  RN_DESC="worktree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$ROOT" diff --quiet HEAD -- broker 2>/dev/null || echo '+dirty')"
else                                   # default: a clean export of a commit (HEAD)
  SHA="$(git -C "$ROOT" rev-parse --short "$RN_REV")"
  SRC="/tmp/rnbench/src-$SHA"
  if [ ! -x "$SRC/build/broker/regnotifyd" ]; then
    rm -rf "$SRC"; mkdir -p "$SRC"
    git -C "$ROOT" archive "$SHA" | tar -x -C "$SRC"
    cmake -S "$SRC" -B "$SRC/build" -DRN_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$SRC/build" -j2 >/dev/null
  fi
  REGNOTIFYD="$SRC/build/broker/regnotifyd"
  RN_DESC="commit $SHA (clean export, Release)"
fi
[ -x "$REGNOTIFYD" ] || { echo "no broker binary at $REGNOTIFYD" >&2; exit 1; }
# rnsub links the libregnotify of the same build as the broker (BUILD/broker/regnotifyd).
rm -f "$BIN/rnsub"
make -s -C "$HERE" OUT="$BIN" BUILD="$(dirname "$(dirname "$REGNOTIFYD")")" "$BIN/rnsub" >/dev/null
SHIM="$BIN/nodelay_shim.so"
RN="$BIN/rnbench"
case "$NATS" in
  auto) if command -v nats-server >/dev/null && command -v go >/dev/null &&
           [ -d /usr/share/gocode/src/github.com/nats-io/nats.go ]; then NATS=1; else
          NATS=0
          echo "skipping the natsgo.* anchors: needs nats-server, go and Debian's nats.go" \
               "(apt-get install -y nats-server golang-go golang-github-nats-io-go-nats-dev);" \
               "bench/ratios.py falls back to bench/anchors/RESULTS.md for them" >&2
        fi ;;
  0) echo "skipping the natsgo.* anchors (NATS=0)" >&2 ;;
esac
GRPC_JS="$HERE/grpc_bench.js"
GRPC_NODE_DIR="${GRPC_BENCH_NODE_DIR:-$ROOT/tests/google}"
case "$GRPC" in
  auto) if command -v node >/dev/null && [ -d "$GRPC_NODE_DIR/node_modules/@google-cloud/pubsub" ]; then
          GRPC=1
        else
          GRPC=0
          echo "skipping the rn.grpc.* rows: needs node and @google-cloud/pubsub" \
               "(cd tests/google && npm ci)" >&2
        fi ;;
  0) echo "skipping the rn.grpc.* rows (GRPC=0)" >&2 ;;
esac
[ "$SUITE" = grpc ] && [ "$GRPC" = 0 ] && { echo "SUITE=grpc needs the gRPC rows" >&2; exit 1; }
# rngrpc (bench/rngrpc.c, C StreamingPull client) links the broker build's
# protobuf-c code, like rnsub its libregnotify; commits before it: no rows.
RNGRPC=0
if [ "$GRPC" = 1 ] && [ -f "$HERE/rngrpc.c" ]; then
  rm -f "$BIN/rngrpc"
  if make -s -C "$HERE" OUT="$BIN" BUILD="$(dirname "$(dirname "$REGNOTIFYD")")" "$BIN/rngrpc" >/dev/null 2>&1; then
    RNGRPC=1
  else
    echo "skipping the rn.grpc.drain.rngrpc* rows: bench/rngrpc.c does not build against this broker build" >&2
  fi
fi

pick_port() {   # first port >= $1 that nobody listens on
  local p="$1"
  while (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
PORT="$(pick_port "${PORT:-18480}")"
RPORT="$(pick_port "${RPORT:-16480}")"
HPORT="$(pick_port "${HPORT:-18580}")"
NPORT="$(pick_port "${NPORT:-18680}")"
OUTF="$RESULTS/rnbench.txt"
: > "$OUTF"
rm -f "$RESULTS/noise.txt" "$RESULTS/nats-go.txt"
PAYLOAD="$(head -c 300 /dev/zero | tr '\0' x)"
PROJ=benchproj
{
  echo "# rnbench $(date -Is) host=$(hostname) nproc=$NCPU loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $("$REGNOTIFYD" --version 2>&1 | head -1); $(redis-server --version); $(wrk -v 2>&1 | head -1)"
  echo "# broker: $RN_DESC; ports broker=$PORT redis=$RPORT evhttp=$HPORT"
  if [ "$GRPC" = 1 ]; then
    echo "# grpc rows: node $(node --version) @google-cloud/pubsub $(node -p "require('$GRPC_NODE_DIR/node_modules/@google-cloud/pubsub/package.json').version") @grpc/grpc-js $(node -p "require('$GRPC_NODE_DIR/node_modules/@grpc/grpc-js/package.json').version")"
  fi
} | tee -a "$OUTF"

# ---------------------------------------------------------------- helpers
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1e6} else print v}'; }
start_redis() {   # fresh redis-server, AOF everysec -> RPID, RDIR
  RDIR="$(mktemp -d /tmp/rnbench-redis.XXXXXX)"
  port_free "$RPORT"
  redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$RDIR" --save '' \
    --appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0 \
    --logfile "$RDIR/redis.log" &
  RPID=$!; STARTED_PIDS+=("$RPID")
  wait_port "$RPORT"; alive "$RPID"
}
stop_redis() { stop_pid "$RPID"; rm -rf "$RDIR"; }
start_stack() {   # start_stack [LD_PRELOAD lib]: fresh redis + regnotifyd -> BPID
  start_redis
  port_free "$PORT"
  # BROKER_EXTRA: more regnotifyd arguments (word-split), e.g. --push-client libcurl
  # shellcheck disable=SC2086
  if [ -n "${1:-}" ]; then
    LD_PRELOAD="$1" "$REGNOTIFYD" --listen "127.0.0.1:$PORT" --redis "redis://127.0.0.1:$RPORT/0" \
      --nng-listen "tcp://127.0.0.1:$NPORT" --log-level warn ${BROKER_EXTRA:-} 2>"$RDIR/broker.log" &
  else
    "$REGNOTIFYD" --listen "127.0.0.1:$PORT" --redis "redis://127.0.0.1:$RPORT/0" \
      --nng-listen "tcp://127.0.0.1:$NPORT" --log-level warn ${BROKER_EXTRA:-} 2>"$RDIR/broker.log" &
  fi
  BPID=$!; STARTED_PIDS+=("$BPID")
  wait_port "$PORT"; alive "$BPID"
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && return 0
    sleep 0.1
  done
  echo "regnotifyd never became ready" >&2; cat "$RDIR/broker.log" >&2; return 1
}
stop_stack() {
  stop_pid "$BPID"
  if [ -s "$RDIR/broker.log" ]; then sed 's/^/# broker log: /' "$RDIR/broker.log" | tail -5 | tee -a "$OUTF"; fi
  stop_redis
}
make_topic() {    # make_topic TOPIC SUB   (SUB_FILTER: that subscription's filter)
  local flt=""
  [ -n "${SUB_FILTER:-}" ] && flt=",\"filter\":$(printf '%s' "$SUB_FILTER" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')"
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/$1"
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' \
    -d "{\"topic\":\"projects/$PROJ/topics/$1\",\"ackDeadlineSeconds\":600$flt}" \
    "http://127.0.0.1:$PORT/v1/projects/$PROJ/subscriptions/$2"
}
srv_mark() { SRV0_B=$(pid_ticks "$BPID"); SRV0_R=$(pid_ticks "$RPID"); SRV_T0=$(date +%s%N); }
srv_cpu() {       # CPU % of one core used by the broker and redis since srv_mark
  local b r el
  b=$(( $(pid_ticks "$BPID") - SRV0_B )); r=$(( $(pid_ticks "$RPID") - SRV0_R ))
  el=$(( $(date +%s%N) - SRV_T0 ))
  awk -v b="$b" -v r="$r" -v el="$el" -v hz="$CLK_TCK" \
    'BEGIN{printf "broker_cpu_pct=%.0f redis_cpu_pct=%.0f", b/hz/(el/1e9)*100, r/hz/(el/1e9)*100}'
}
record() { echo "$*" | tee -a "$OUTF"; }

wrk_parse() {  # wrk_parse OUTPUT: sets rps, p50, p99 (µs) and errs from wrk --latency output
  rps=$(echo "$1" | awk '/^Requests\/sec:/{print $2}')
  p50=$(echo "$1" | awk '$1=="50%"{print $2}' | to_us)
  p99=$(echo "$1" | awk '$1=="99%"{print $2}' | to_us)
  errs=$(echo "$1" | awk '/Non-2xx|Socket errors|FAILED/{printf "%s;", $0}' | tr ' ' '_')
}
wrk_pub() {   # wrk_pub ID CONNS LUA MSGS_PER_REQ [PRELOAD]   (MSGS_PER_REQ is also BATCH for the Lua)
  local id="$1" c="$2" lua="$3" mult="$4" pre="${5:-}" out fg sc rps p50 p99 errs
  start_stack "$pre"
  make_topic bench-topic bench-sub
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  out=$(BATCH="$mult" timeout 60 wrk -t1 -c"$c" -d"$DUR" --latency -s "$lua" \
        "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/bench-topic:publish") || out="FAILED"
  sc=$(srv_cpu); fg=$(cpu_foreign)
  stop_stack
  wrk_parse "$out"
  record "id=$id run=$run c=$c rps=${rps:-0} msgs_s=$(awk -v r="${rps:-0}" -v m="$mult" 'BEGIN{printf "%.0f", r*m}') p50_us=${p50:-nan} p99_us=${p99:-nan} $sc $fg${errs:+ errors=$errs}"
}
rn_case() {   # rn_case ID PRELOAD rnbench-args...
  local id="$1" pre="$2" out fg sc; shift 2
  start_stack "$pre"
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  out=$(timeout 200 "$RN" "$@" -p "$PORT" -P "$PROJ" 2>"$RESULTS/rnbench.stderr") || out="$out failed=1 stderr=$(head -c 200 "$RESULTS/rnbench.stderr" | tr ' \n' '_;')"
  sc=$(srv_cpu); fg=$(cpu_foreign)
  stop_stack
  record "id=$id run=$run $out $sc $fg"
}
rnsub_case() {   # rnsub_case ID rnsub-args...   (libregnotify over nng)
  local id="$1" out fg sc; shift
  start_stack ""
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  out=$(timeout 200 "$BIN/rnsub" "$@" -u "tcp://127.0.0.1:$NPORT" -P "$PROJ" 2>"$RESULTS/rnsub.stderr") || out="$out failed=1 stderr=$(head -c 200 "$RESULTS/rnsub.stderr" | tr ' \n' '_;')"
  sc=$(srv_cpu); fg=$(cpu_foreign)
  stop_stack
  record "id=$id run=$run $out $sc $fg"
}
http_anchor() {
  local out fg rps p50 p99
  port_free "$HPORT"
  "$BIN/evhttp_200" "$HPORT" 2>/dev/null &
  local hp=$!; STARTED_PIDS+=("$hp")
  wait_port "$HPORT"; alive "$hp"
  wait_quiet; cpu_mark "$hp"
  out=$(timeout 60 wrk -t1 -c64 -d"$DUR" --latency -s "$ANCHORS/http/post300.lua" "http://127.0.0.1:$HPORT/events") || out=FAILED
  fg=$(cpu_foreign)
  stop_pid "$hp"
  rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}' | to_us)
  p99=$(echo "$out" | awk '$1=="99%"{print $2}' | to_us)
  record "id=http.post300.c64 run=$run rps=${rps:-0} p50_us=${p50:-nan} p99_us=${p99:-nan} $fg"
}
redis_xadd() {   # redis_xadd ID CLIENTS PIPELINE N   (as bench/anchors/redis/run_redis.sh)
  local id="$1" c="$2" p="$3" n="$4" line fg
  start_redis
  wait_quiet; cpu_mark "$RPID"
  line=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$RPORT" -c "$c" -n "$n" -P "$p" --csv \
         XADD bs '*' d "$PAYLOAD" | tail -1) || line='"XADD","0","0","0","0","0","0","0"'
  fg=$(cpu_foreign)
  stop_redis
  echo "$line" | awk -F'","' -v id="$id" -v c="$c" -v p="$p" -v n="$n" -v fg="$fg" -v run="$run" \
    '{gsub(/"/,"",$8); printf "id=%s run=%s c=%s P=%s n=%s rps=%s p50_ms=%s p99_ms=%s max_ms=%s %s\n", id, run, c, p, n, $2, $5, $7, $8, fg}' \
    | tee -a "$OUTF"
}
redis_xs() {     # redis_xs ID xstream_bench-args...
  local id="$1" out fg; shift
  start_redis
  wait_quiet; cpu_mark "$RPID"
  out=$(timeout 180 "$BIN/xstream_bench" "$1" "$RPORT" "${@:2}") || out="$out failed=1"
  fg=$(cpu_foreign)
  stop_redis
  record "id=$id run=$run $out $fg"
}

ingest_case() {  # ingest_case ID CONNS CLOSE(0|1): Distribution envelopes, 1 event each
  local id="$1" c="$2" close="$3" out fg sc rps p50 p99 errs
  start_stack
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  out=$(CONNECTION_CLOSE="$close" timeout 60 wrk -t1 -c"$c" -d"$DUR" --latency \
        -s "$HERE/ingest_distribution.lua" "http://127.0.0.1:$PORT") || out="FAILED"
  sc=$(srv_cpu); fg=$(cpu_foreign)
  stop_stack
  wrk_parse "$out"
  record "id=$id run=$run c=$c events_s=${rps:-0} p50_us=${p50:-nan} p99_us=${p99:-nan} $sc $fg${errs:+ errors=$errs}"
}
grpc_case() {    # grpc_case ID grpc_bench.js-args...   (Google's Node client over gRPC)
  local id="$1" out fg sc; shift
  start_stack ""
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  # The node script measures its own window (node_/broker_/redis_cpu_pct);
  # srv_cpu's whole-case figures (fill included) are kept as case_*.
  out=$(PUBSUB_EMULATOR_HOST="127.0.0.1:$PORT" METADATA_SERVER_DETECTION=none \
        GRPC_BENCH_NODE_DIR="$GRPC_NODE_DIR" timeout 240 node "$GRPC_JS" "$@" \
        --project "$PROJ" --pids "broker:$BPID,redis:$RPID" --hz "$CLK_TCK" \
        2>"$RESULTS/grpc.stderr") ||
    out="$out failed=1 stderr=$(head -c 300 "$RESULTS/grpc.stderr" | tr ' \n' '_;')"
  if grep -q 'left after the drain' "$RESULTS/grpc.stderr" 2>/dev/null; then
    grep 'left after the drain' "$RESULTS/grpc.stderr" | sed "s/^/# $id run $run: /" | tee -a "$OUTF"
  fi
  sc=$(srv_cpu | sed 's/broker_cpu_pct/case_broker_cpu_pct/; s/redis_cpu_pct/case_redis_cpu_pct/')
  fg=$(cpu_foreign)
  stop_stack
  record "id=$id run=$run $out $sc $fg"
}
rngrpc_case() {  # rngrpc_case ID rngrpc-args...   (the C StreamingPull client: no Node client)
  local id="$1" out fg sc; shift
  start_stack ""
  wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
  out=$(timeout 200 "$BIN/rngrpc" "$@" -p "$PORT" 2>"$RESULTS/rngrpc.stderr") ||
    out="$out failed=1 stderr=$(head -c 200 "$RESULTS/rngrpc.stderr" | tr ' \n' '_;')"
  # whole case (the untimed fill included): case_*
  sc=$(srv_cpu | sed 's/broker_cpu_pct/case_broker_cpu_pct/; s/redis_cpu_pct/case_redis_cpu_pct/')
  fg=$(cpu_foreign)
  stop_stack
  record "id=$id run=$run $out $sc $fg"
}
grpc_rows() {
  grpc_case rn.grpc.pub            pub --n 200000 --batch 1000 --batch-ms 10 --window 20000
  grpc_case rn.grpc.drain          drain --n 100000
  grpc_case rn.grpc.drain.flow10k  drain --n 100000 --flow 10000
  grpc_case rn.grpc.e2e.5000ps     e2e --n 50000 --warmup 5000 --rate 5000 --procs 2
  grpc_case rn.grpc.e2e.1000ps.unbatched e2e --n 10000 --warmup 1000 --rate 1000 --procs 2 --batch 1
  if [ "$RNGRPC" = 1 ]; then
    rngrpc_case rn.grpc.drain.rngrpc       drain -n 100000 -m 0
    rngrpc_case rn.grpc.drain.rngrpc.m1000 drain -n 100000 -m 1000
  fi
}
push_metric() {  # acked push requests so far
  curl -sf "http://127.0.0.1:$PORT/metrics" |
    awk '/^regnotify_push_requests_total/ && /response_class="ack"/{s+=$2} END{print s+0}'
}
push_case() {    # push_case [ID]: deliveries/s from one push subscription to the evhttp_200 sink
  local id="${1:-rn.push.sink}" n="${PUSH_N:-50000}" fg sc sub hp a0 t0 t1 acked=0
  start_stack
  port_free "$HPORT"
  "$BIN/evhttp_200" "$HPORT" 2>/dev/null &
  hp=$!; STARTED_PIDS+=("$hp")
  wait_port "$HPORT"
  "$RN" pub -n "$n" -k 1000 -p "$PORT" -P "$PROJ" >/dev/null
  sub=$(curl -sf "http://127.0.0.1:$PORT/v1/projects/$PROJ/subscriptions" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["subscriptions"][0]["name"])')
  wait_quiet; cpu_mark "$RPID" "$BPID" "$hp"; srv_mark
  curl -sf -o /dev/null -X POST -d "{\"pushConfig\":{\"pushEndpoint\":\"http://127.0.0.1:$HPORT/events\"}}" \
    "http://127.0.0.1:$PORT/v1/$sub:modifyPushConfig"
  # Timed from the first ack (workers discover push subscriptions within ~1 s).
  for _ in $(seq 400); do a0=$(push_metric); [ "$a0" -gt 0 ] && break; sleep 0.005; done
  t0=$(date +%s%N)
  for _ in $(seq 12000); do acked=$(push_metric); [ "$acked" -ge "$n" ] && break; sleep 0.01; done
  t1=$(date +%s%N)
  sc=$(srv_cpu); fg=$(cpu_foreign)
  stop_pid "$hp"
  stop_stack
  record "id=$id run=$run n=$n acked=$acked deliveries_s=$(awk -v n="$acked" -v a="$a0" -v t="$(( t1 - t0 ))" 'BEGIN{printf "%.0f", (n-a)/(t/1e9)}') $sc $fg"
}

# ---------------------------------------------------------------- the run
[ "$NOISE" = 1 ] && bash "$ANCHORS/noise/run_noise.sh" before
semantics_rows() {   # issue 13: what filters (and later ordering, exactly-once) cost
  wrk_pub rn.pubbatch.c8 8 "$HERE/publish.lua" 1000
  ATTRS=1 SUB_FILTER='attributes.m = "1"' wrk_pub rn.sem.pubbatch.filtered.c8 8 "$HERE/publish.lua" 1000
  rn_case rn.sem.drain.attrs    "" drain -n 20000 -f 1
  rn_case rn.sem.drain.filter10 "" drain -n 20000 -f 10 -F
  rn_case rn.drain              "" drain -n 100000
  rn_case rn.sem.drain.ordered100 "" drain -n 100000 -K 100
  rn_case rn.sem.drain.eod      "" drain -n 100000 -E
  redis_xadd redis.xadd.everysec.c50.P32 50 32 1000000
}
for run in $(seq "$RUNS"); do
  echo "== run $run/$RUNS ($(date +%T))"
  if [ "$SUITE" = semantics ]; then semantics_rows; continue; fi
  [ "$SUITE" = all ] && wrk_pub rn.pub1.c64 64 "$HERE/publish.lua" 1
  if [ "$SUITE" != nng ]; then
    wrk_pub rn.pubbatch.c8   8  "$HERE/publish.lua" 1000
    rn_case rn.drain         "" drain -n 100000
  fi
  rn_case rn.e2e.5000ps    "" e2e -n 50000 -r 5000 -c 8 -l 2
  if [ "$SUITE" != grpc ]; then
    rnsub_case rn.nng.drain       drain -n 100000
    rnsub_case rn.nng.e2e.5000ps  e2e -n 50000 -r 5000
  fi
  [ "$SUITE" != nng ] && [ "$GRPC" = 1 ] && grpc_rows
  [ "$SUITE" = grpc ] && redis_xadd redis.xadd.everysec.c50.P32 50 32 1000000
  if [ "$SUITE" = all ]; then
    ingest_case rn.ingest.keepalive.c8 8 0
    ingest_case rn.ingest.newconn.c8   8 1
    push_case
    # The libcurl path (https://, proxies), where the binary has the choice.
    if "$REGNOTIFYD" --help 2>&1 | grep -q -- --push-client; then
      BROKER_EXTRA="--push-client libcurl" push_case rn.push.sink.libcurl
    fi
    http_anchor
    redis_xadd redis.xadd.everysec.c50.P1  50 1  200000
    redis_xadd redis.xadd.everysec.c50.P32 50 32 1000000
    redis_xs redis.consume.everysec.b100pipe consume 200000 100 1
  fi
  [ "$SUITE" != grpc ] && redis_xs redis.e2e.everysec.5000ps e2e 50000 5000
  if [ "$WHATIF" = 1 ]; then
    wrk_pub rn.pubbatch.c8.nodelay 8 "$HERE/publish.lua" 1000 "$SHIM"
    rn_case rn.drain.nodelay       "$SHIM" drain -n 100000
    rn_case rn.e2e.5000ps.nodelay  "$SHIM" e2e -n 50000 -r 5000 -c 8 -l 2
  fi
  if [ "$NATS" = 1 ]; then
    echo "== run $run: nats-go ($(date +%T))"
    RUNS=1 RUN0="$run" APPEND=1 PORT="$(pick_port 14222)" bash "$ANCHORS/nats-go/run_nats_go.sh" \
      > "$RESULTS/log.nats-go.$run" 2>&1 || echo "nats-go run $run FAILED (see $RESULTS/log.nats-go.$run)"
  fi
done
[ "$NOISE" = 1 ] && bash "$ANCHORS/noise/run_noise.sh" after
echo "# end $(date -Is) elapsed_s=$(( $(date +%s) - T_BEGIN )) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUTF"

echo "== medians over $RUNS runs (min..max) =="
python3 "$ANCHORS/summarize.py" "$RESULTS/noise.txt" "$OUTF" "$RESULTS/nats-go.txt" | tee "$RESULTS/summary.txt"
echo "== ratios against the targets =="
python3 "$HERE/ratios.py" "$OUTF" "$RESULTS/nats-go.txt" | tee "$RESULTS/ratios.txt"
