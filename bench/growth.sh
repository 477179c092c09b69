#!/usr/bin/env bash
# How cost grows (issue 14): four growth curves of regnotifyd, each a table
# and a PNG plot (gnuplot), from a plain clone:
#
#   bash bench/growth.sh                      (full size, ~6 min on 2 vCPUs)
#   SIZES=small bash bench/growth.sh          (every curve, small sizes, ~3 min)
#   CURVES="depth" MAXDEPTH=1000000 bash bench/growth.sh
#
# Curves (each size gets a fresh redis-server, AOF everysec, RDB off,
# auto-rewrite off, and a fresh broker, on free 127.0.0.1 ports; the broker
# runs with --retention-interval 3600s so that the retention sweep, measured
# on its own by the breadth curve's sweep probe, never lands in a window):
#
#   fanout   one topic with K subscriptions (FANOUT_SIZES, 1 10 100 1000).
#            deliveries: FAN_DELIV/K messages are published (untimed), then
#              bench/growth_load drain delivers all of them to every one of
#              the K subscriptions (FAN_DELIV deliveries in all), 8 keep-alive
#              connections, each: pull maxMessages 100 returnImmediately, ack
#              those ackIds, next pull; aggregate deliveries/s and that /K per
#              subscription, broker and Redis CPU µs per delivery.
#            publish: wrk -t1 -c8 -d DUR, bench/publish.lua BATCH=1000
#              (1000 x 300 B per request) to the topic with its K groups:
#              msgs/s, p50/p99, CPU per message, and the Redis bytes stored per
#              published message (used_memory delta / XLEN delta: stored once?).
#   breadth  N topics with one subscription each (BREADTH_SIZES, 1 1000 10000
#            100000), made by growth_load create (16 connections, topics then
#            subscriptions; rate recorded). Broker RSS and Redis used_memory
#            before and after (bytes per topic+subscription, and how much of it
#            is the Admin Activity audit entries the creates write).
#            pull: BREADTH_DELIV messages spread over a sample of S =
#              min(N, BREADTH_SAMPLE) topics (published first, untimed), drained
#              as in fanout (maxMessages 100, 8 connections): msgs/s.
#            publish: wrk -t1 -c64 -d DUR single-message publishes (bench/
#              growth_publish.lua) to ONE topic (pub1) and round robin over the
#              S sampled topics (pubS): req/s, p50/p99.
#            sweep probe (SWEEP=1): the broker is restarted on the same Redis
#              with --retention-interval SWEEP_RI (5s) and one client publishes
#              sequentially for SWEEP_RI+3 s: the retention tick queues one
#              trim script per topic and one expiry script per subscription on
#              the broker's Redis link; max latency, requests > 10 ms, VmHWM.
#   depth    backlog of one subscription, DEPTH_SIZES (10000 1000000 10000000)
#            messages of 300 B, sizes above MAXDEPTH dropped; one stack, filled
#            cumulatively by growth_load fill (1000 per request, 4 connections).
#            At each size: Redis bytes per message (used_memory delta / N)
#            against a bare `XADD key * d <the same 300 B>` done by
#            redis-benchmark (-c 50 -P 32) to the same N on a second fresh
#            redis-server of the same configuration (target <= 1.5x); pull
#            latency at the head (growth_load lat: pull of 1, 200 times, and of
#            1000, 20 times, returnImmediately, each acked untimed); broker
#            VmRSS/VmHWM (target <= 30 MB). At the end: LEASE_N messages pulled
#            and not acked: Redis bytes per leased message (PEL + lease zset).
#   conns    CONN_SIZES (10 1000 10000) idle connections: HTTP keep-alive
#            (growth_load idle-http: each has carried one GET /healthz) and,
#            on a fresh stack, nng pipes to the broker's --nng-listen rep0
#            socket (growth_load idle-nng: one req0 socket per pipe, each has
#            carried one /healthz frame). Broker RSS and fd count before and
#            with them, broker CPU while they idle (2 s), and the latency of
#            one active client meanwhile: 2000 sequential single publishes over
#            HTTP keep-alive and over nng (p50/p99/max).
#            cap probe (CAP=1): the broker under `ulimit -n CAP_NOFILE` (1024,
#            a common default soft limit) and CAP_N (1200) HTTP connections:
#            how many get served, the broker's CPU and stderr lines/s at the
#            limit, whether a new client gets a reply within CAP_WAIT (10) s;
#            then the same for CAP_N nng pipes.
#
# Output (OUT, default /tmp/rnbench/growth-DATE): growth.txt (raw lines
# "id=growth.CURVE key=value ..."), growth.md (the tables), growth-*.png and
# the .dat/.gp files they are made from (bench/growth_report.py), log.
#
# Knobs (env): SIZES full|small (small: fanout 1 10 100, breadth 1 1000
#   10000, depth 10000 100000 1000000, conns 10 100 1000; explicit
#   *_SIZES win), CURVES ("fanout breadth depth conns"), OUT, REGNOTIFYD (a
#   broker binary; default: RN_REV=HEAD built Release from `git archive`:
#   bench/run_bench.sh's /tmp/rnbench/src-SHA if its build is complete, else
#   our own /tmp/rnbench/growth-src-SHA; RN_REV=worktree builds the working
#   tree into build-bench/), BIN (/tmp/rnbench/bin: growth_load),
#   DUR (10s, each wrk window), MAXDEPTH, FAN_DELIV (200000), BREADTH_SAMPLE
#   (1000), BREADTH_DELIV (100000), LEASE_N (100000), SWEEP (1), SWEEP_RI (5s),
#   NNG (auto|0), CAP (1), CAP_NOFILE (1024), CAP_N (1200), QUIET_MAX (10:
#   most seconds to wait for a quiet CPU before a measurement), PORT, RPORT,
#   NPORT (first ports tried).
# The open-files limit is raised to min(65536, hard limit) for the broker and
# the clients; if the hard limit is below what a size needs, that size's
# failures are recorded (not hidden).
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="${OUT:-/tmp/rnbench/growth-$(date +%Y%m%d-%H%M%S)}"
export RESULTS="$OUT"
export BIN="${BIN:-/tmp/rnbench/bin}"
QUIET_MAX="${QUIET_MAX:-10}"
# shellcheck source=/dev/null
source "$HERE/anchors/common.sh"   # set -euo pipefail, STARTED_PIDS, stop_pid, wait_port, wait_quiet, cpu_mark...
T_BEGIN=$(date +%s)

SIZES="${SIZES:-full}"
case "$SIZES" in
  full)  d_fan="1 10 100 1000"; d_brd="1 1000 10000 100000"; d_dep="10000 1000000 10000000"; d_con="10 1000 10000" ;;
  small) d_fan="1 10 100"; d_brd="1 1000 10000"; d_dep="10000 100000 1000000"; d_con="10 100 1000" ;;
  *) echo "SIZES must be full or small" >&2; exit 2 ;;
esac
FANOUT_SIZES="${FANOUT_SIZES:-$d_fan}"
BREADTH_SIZES="${BREADTH_SIZES:-$d_brd}"
DEPTH_SIZES="${DEPTH_SIZES:-$d_dep}"
CONN_SIZES="${CONN_SIZES:-$d_con}"
CURVES="${CURVES:-fanout breadth depth conns}"
DUR="${DUR:-10s}"
MAXDEPTH="${MAXDEPTH:-}"
FAN_DELIV="${FAN_DELIV:-200000}"
BREADTH_SAMPLE="${BREADTH_SAMPLE:-1000}"
BREADTH_DELIV="${BREADTH_DELIV:-100000}"
LEASE_N="${LEASE_N:-100000}"
SWEEP="${SWEEP:-1}"
SWEEP_RI="${SWEEP_RI:-5}"; SWEEP_RI="${SWEEP_RI%s}"
NNG="${NNG:-auto}"
CAP="${CAP:-1}"
CAP_NOFILE="${CAP_NOFILE:-1024}"
CAP_N="${CAP_N:-1200}"
PROJ=growth

need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install -y $2" >&2; exit 1; }; }
need wrk wrk
need redis-server redis-server
need redis-cli redis-tools
need redis-benchmark redis-tools
need curl curl
need python3 python3
need gnuplot gnuplot-nox

# ---------------------------------------------------------------- open files
hard="$(ulimit -Hn)"
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi
NOFILE="$(ulimit -n)"

# ---------------------------------------------------------------- binaries
mkdir -p "$OUT" "$BIN"
LOG="$OUT/log"
: >"$LOG"
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
  SRC="/tmp/rnbench/src-$SHA"          # run_bench.sh's build of that commit, when complete
  if [ ! -x "$SRC/build/broker/regnotifyd" ]; then
    # Never rm or build in run_bench.sh's directory: another run may be
    # building there right now. A directory of our own instead.
    SRC="/tmp/rnbench/growth-src-$SHA"
    if [ ! -x "$SRC/build/broker/regnotifyd" ]; then
      rm -rf "$SRC"; mkdir -p "$SRC"
      git -C "$ROOT" archive "$SHA" | tar -x -C "$SRC"
      cmake -S "$SRC" -B "$SRC/build" -DRN_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$SRC/build" -j2 >/dev/null
    fi
  fi
  REGNOTIFYD="$SRC/build/broker/regnotifyd"
  RN_DESC="commit $SHA (clean export, Release)"
fi
[ -x "$REGNOTIFYD" ] || { echo "no broker binary at $REGNOTIFYD" >&2; exit 1; }
GL="$BIN/growth_load"
if echo '#include <nng/nng.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
  ${CC:-cc} -O2 -Wall -o "$GL" "$HERE/growth_load.c" -lnng -lpthread
  [ "$NNG" = auto ] && NNG=1
else
  ${CC:-cc} -O2 -Wall -DNO_NNG -o "$GL" "$HERE/growth_load.c" -lpthread
  [ "$NNG" = 1 ] && { echo "NNG=1 needs <nng/nng.h>: apt-get install -y libnng-dev" >&2; exit 1; }
  NNG=0
  echo "skipping the nng pipes of the conns curve: no <nng/nng.h> (apt-get install -y libnng-dev)" >&2
fi
[ "$NNG" = auto ] && NNG=0

pick_port() {   # first port >= $1 that nobody listens on
  local p="$1"
  while (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
PORT="$(pick_port "${PORT:-18780}")"
RPORT="$(pick_port "${RPORT:-16780}")"
[ "$RPORT" = "$PORT" ] && RPORT="$(pick_port $((RPORT + 1)))"
NPORT="$(pick_port "${NPORT:-18880}")"
BPORT="$(pick_port $((RPORT + 50)))"   # the bare-XADD redis-server of the depth curve
OUTF="$OUT/growth.txt"
: >"$OUTF"
record() { echo "$*" | tee -a "$OUTF"; }
record "# growth $(date -Is) host=$(hostname) nproc=$NCPU mem_total_kb=$(awk '/MemTotal/{print $2}' /proc/meminfo) nofile=$NOFILE loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
record "# $("$REGNOTIFYD" --version 2>&1 | head -1) ($RN_DESC); $(redis-server --version | cut -d' ' -f1-3); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); nng=$NNG"
record "# sizes: fanout=[$FANOUT_SIZES] breadth=[$BREADTH_SIZES] depth=[$DEPTH_SIZES] maxdepth=${MAXDEPTH:-none} conns=[$CONN_SIZES] dur=$DUR"

# ---------------------------------------------------------------- stack
TMPDIRS=()
growth_cleanup() {
  stop_started
  local d
  for d in "${TMPDIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done
}
trap growth_cleanup EXIT
BPID=""; RPID=""; RDIR=""
start_redis() {   # start_redis PORT -> RPID_NEW, RDIR_NEW (AOF everysec, RDB off, no auto-rewrite)
  RDIR_NEW="$(mktemp -d /tmp/rnbench-growth.XXXXXX)"; TMPDIRS+=("$RDIR_NEW")
  port_free "$1"
  redis-server --port "$1" --bind 127.0.0.1 --dir "$RDIR_NEW" --save '' \
    --appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0 \
    --logfile "$RDIR_NEW/redis.log" &
  RPID_NEW=$!; STARTED_PIDS+=("$RPID_NEW")
  wait_port "$1"; alive "$RPID_NEW"
  for _ in $(seq 100); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  echo "redis-server on $1 not answering" >&2; return 1
}
start_broker() {  # start_broker [extra regnotifyd args...] -> BPID (on RPORT's Redis)
  port_free "$PORT"
  "$REGNOTIFYD" --listen "127.0.0.1:$PORT" --redis "redis://127.0.0.1:$RPORT/0" \
    --nng-listen "tcp://127.0.0.1:$NPORT" --log-level warn --retention-interval 3600s "$@" \
    2>>"$RDIR/broker.log" </dev/null &
  BPID=$!; STARTED_PIDS+=("$BPID")
  broker_ready
}
broker_ready() {
  wait_port "$PORT"; alive "$BPID"
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && return 0
    sleep 0.1
  done
  echo "regnotifyd never became ready" >&2; tail -5 "$RDIR/broker.log" >&2; return 1
}
start_stack() {   # fresh redis + broker
  start_redis "$RPORT"; RPID="$RPID_NEW"; RDIR="$RDIR_NEW"
  start_broker
}
stop_broker() {
  stop_pid "$BPID"
  if [ -s "$RDIR/broker.log" ]; then
    sed 's/^/# broker log: /' "$RDIR/broker.log" | tail -5 | tee -a "$OUTF"
    : >"$RDIR/broker.log"
  fi
}
stop_stack() { stop_broker; stop_pid "$RPID"; rm -rf "$RDIR"; }
rmem() { redis-cli -p "${2:-$RPORT}" info memory | awk -F: -v k="$1" '$1==k{print $2+0}'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
xlen() { redis-cli -p "$RPORT" xlen "rn:v1:{$PROJ/$1}:log"; }
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1e6} else print v}'; }
wrk_parse() {  # wrk_parse OUTPUT: sets rps, p50, p99 (µs) and errs
  rps=$(echo "$1" | awk '/^Requests\/sec:/{print $2}')
  p50=$(echo "$1" | awk '$1=="50%"{print $2}' | to_us)
  p99=$(echo "$1" | awk '$1=="99%"{print $2}' | to_us)
  errs=$(echo "$1" | awk '/Non-2xx|Socket errors|FAILED/{printf "%s;", $0}' | tr ' ' '_')
}
srv_mark() { SRV0_B=$(pid_ticks "$BPID"); SRV0_R=$(pid_ticks "$RPID"); SRV_T0=$(date +%s%N); }
srv_cpu() {       # srv_cpu PREFIX [N]: CPU % of one core of broker and redis since srv_mark (and µs per unit of N)
  local b r el
  b=$(( $(pid_ticks "$BPID") - SRV0_B )); r=$(( $(pid_ticks "$RPID") - SRV0_R ))
  el=$(( $(date +%s%N) - SRV_T0 ))
  awk -v p="$1" -v n="${2:-0}" -v b="$b" -v r="$r" -v el="$el" -v hz="$CLK_TCK" \
    'BEGIN{printf "%sbroker_cpu_pct=%.0f %sredis_cpu_pct=%.0f", p, b/hz/(el/1e9)*100, p, r/hz/(el/1e9)*100
           if (n > 0) printf " %sbroker_us=%.2f %sredis_us=%.2f", p, b/hz*1e6/n, p, r/hz*1e6/n}'
}
kv() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2; exit}'; }   # kv LINE KEY
gl() {   # gl ARGS...: growth_load, its stderr to the log; a failure is recorded, not fatal
  local o
  if ! o=$(timeout -k 5 900 "$GL" "$@" 2>>"$LOG"); then
    echo "growth_load $* failed: $(tail -2 "$LOG" | tr '\n' ' ')" >&2
    o="$o failed=1"
  fi
  echo "$o"
}
pfx() { echo "$1" | sed -E "s/(^| )([a-z_0-9]+)=/\1$2\2=/g"; }   # pfx LINE PREFIX: prefix every key
wrk_pub() {  # wrk_pub CONNS BATCH URL LUA [env...]: sets WRK_LINE ("rps= msgs_s= p50_us= p99_us=") and WRK_MSGS
  local c="$1" b="$2" url="$3" lua="$4" out rps p50 p99 errs
  shift 4
  out=$(env BATCH="$b" "$@" timeout 120 wrk -t1 -c"$c" -d"$DUR" --latency -s "$lua" "$url" 2>>"$LOG") || out=FAILED
  wrk_parse "$out"
  WRK_MSGS=$(awk -v r="${rps:-0}" -v m="$b" -v d="${DUR%s}" 'BEGIN{printf "%.0f", r*m*d}')
  WRK_LINE="rps=${rps:-0} msgs_s=$(awk -v r="${rps:-0}" -v m="$b" 'BEGIN{printf "%.0f", r*m}') p50_us=${p50:-nan} p99_us=${p99:-nan}${errs:+ errors=$errs}"
}

# ---------------------------------------------------------------- fanout
curve_fanout() {
  local k line drain pub m1 m2 x1 x2 per dsc psc fg
  for k in $FANOUT_SIZES; do
    echo "== fanout: 1 topic, $k subscriptions ($(date +%T))"
    start_stack
    line=$(gl create -p "$PORT" -P "$PROJ" -T fan -n 1 -k "$k" -c 16)
    per=$(( FAN_DELIV / k )); [ "$per" -lt 1 ] && per=1
    gl fill -p "$PORT" -P "$PROJ" -T fan -n 1 -q "$per" -b 1000 -c 4 >/dev/null
    wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
    drain=$(gl drain -p "$PORT" -P "$PROJ" -T fan -n 1 -k "$k" -q "$FAN_DELIV" -m 100 -c 8)
    dsc=$(srv_cpu del_ "$(kv "$drain" delivered)"); fg=$(cpu_foreign)
    m1=$(rmem used_memory); x1=$(xlen fan0)
    wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
    wrk_pub 8 1000 "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/fan0:publish" "$HERE/publish.lua"
    pub="$WRK_LINE"
    psc=$(srv_cpu pub_ "$WRK_MSGS")
    m2=$(rmem used_memory); x2=$(xlen fan0)
    record "id=growth.fanout subs=$k $(pfx "$line" create_) $(pfx "$drain" del_)" \
      "del_per_sub_msgs_s=$(awk -v r="$(kv "$drain" msgs_s)" -v k="$k" 'BEGIN{printf "%.0f", r/k}') $dsc" \
      "$(pfx "$pub" pub_) pub_stored=$((x2 - x1)) $psc" \
      "bytes_per_msg=$(awk -v a="$m1" -v b="$m2" -v n="$((x2 - x1))" 'BEGIN{printf "%.1f", (n>0?(b-a)/n:0)}')" \
      "redis_used_mb=$(awk -v b="$m2" 'BEGIN{printf "%.1f", b/1048576}') rss_kb=$(rss_kb "$BPID") hwm_kb=$(hwm_kb "$BPID") $fg $(cpu_foreign | sed 's/foreign/pub_foreign/; s/quiet_wait_s/pub_quiet_wait_s/')"
    stop_stack
  done
}

# ---------------------------------------------------------------- breadth
curve_breadth() {
  local n s line m0 m1 m2 r0 r1 aud q b drain pone pspr sweep dsc fg1 fg2
  for n in $BREADTH_SIZES; do
    echo "== breadth: $n topics x 1 subscription ($(date +%T))"
    start_stack
    m0=$(rmem used_memory); r0=$(rss_kb "$BPID")
    line=$(gl create -p "$PORT" -P "$PROJ" -T brd -n "$n" -k 1 -c 16)
    sleep 1
    m1=$(rmem used_memory); r1=$(rss_kb "$BPID")
    aud=$(redis-cli -p "$RPORT" memory usage "rn:v1:audit:$PROJ:activity" samples 0 | awk '{print $1+0}')
    s=$(( n < BREADTH_SAMPLE ? n : BREADTH_SAMPLE ))
    q=$(( BREADTH_DELIV / s )); b=$(( q < 1000 ? q : 1000 ))
    gl fill -p "$PORT" -P "$PROJ" -T brd -n "$n" -S "$s" -q "$q" -b "$b" -c 4 >/dev/null
    wait_quiet; cpu_mark "$RPID" "$BPID"; srv_mark
    drain=$(gl drain -p "$PORT" -P "$PROJ" -T brd -n "$n" -S "$s" -k 1 -q "$BREADTH_DELIV" -m 100 -c 8)
    dsc=$(srv_cpu pull_ "$(kv "$drain" delivered)"); fg1=$(cpu_foreign | sed 's/foreign/pull_foreign/; s/quiet_wait_s/pull_quiet_wait_s/')
    wait_quiet; cpu_mark "$RPID" "$BPID"
    wrk_pub 64 1 "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/" "$HERE/growth_publish.lua" PREFIX=brd NT="$n" S=1
    pone="$WRK_LINE"
    wait_quiet
    wrk_pub 64 1 "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/" "$HERE/growth_publish.lua" PREFIX=brd NT="$n" S="$s"
    pspr="$WRK_LINE"
    fg2=$(cpu_foreign | sed 's/foreign/pub_foreign/; s/quiet_wait_s/pub_quiet_wait_s/')
    m2=$(rmem used_memory)
    sweep=""
    if [ "$SWEEP" = 1 ]; then
      local r2 lat
      r2=$(rss_kb "$BPID")
      stop_broker
      start_broker --retention-interval "${SWEEP_RI}s"
      lat=$(gl lat -p "$PORT" -P "$PROJ" -t brd0 -m pub -d "$((SWEEP_RI + 3))")
      sweep="rss_after_load_kb=$r2 $(pfx "$lat" sweep_) sweep_hwm_kb=$(hwm_kb "$BPID") sweep_rss_kb=$(rss_kb "$BPID")"
    fi
    record "id=growth.breadth topics=$n sample=$s $(pfx "$line" create_)" \
      "redis_base_mb=$(awk -v b="$m0" 'BEGIN{printf "%.1f", b/1048576}') redis_used_mb=$(awk -v b="$m1" 'BEGIN{printf "%.1f", b/1048576}')" \
      "bytes_per_topic=$(awk -v a="$m0" -v b="$m1" -v n="$n" 'BEGIN{printf "%.0f", (b-a)/n}')" \
      "audit_bytes_per_topic=$(awk -v a="$aud" -v n="$n" 'BEGIN{printf "%.0f", a/n}')" \
      "rss_base_kb=$r0 rss_kb=$r1 $(pfx "$drain" pull_) $dsc $fg1 $(pfx "$pone" pub1_) $(pfx "$pspr" pubS_)" \
      "redis_after_load_mb=$(awk -v b="$m2" 'BEGIN{printf "%.1f", b/1048576}') $fg2 $sweep"
    stop_stack
  done
}

# ---------------------------------------------------------------- depth
curve_depth() {
  local sizes=() n filled=0 m0 m line fillo p1 p1k x bare=() r hw mlease
  for n in $DEPTH_SIZES; do
    if [ -n "$MAXDEPTH" ] && [ "$n" -gt "$MAXDEPTH" ]; then
      record "# depth $n skipped (MAXDEPTH=$MAXDEPTH)"; continue
    fi
    sizes+=("$n")
  done
  [ "${#sizes[@]}" -gt 0 ] || return 0
  # the bare XADD reference first (its own redis-server, same configuration)
  echo "== depth: bare XADD reference ($(date +%T))"
  local payload brp brd bm0 bm have=0
  payload=$(python3 -c 'h="{\"type\":\"registry.event\",\"source\":\"bench\",\"data\":\""; t="\"}"; print(h+"x"*(300-len(h)-len(t))+t, end="")')
  start_redis "$BPORT"; brp="$RPID_NEW"; brd="$RDIR_NEW"
  bm0=$(rmem used_memory "$BPORT")
  for n in "${sizes[@]}"; do
    timeout 600 redis-benchmark -p "$BPORT" -c 50 -P 32 -n "$((n - have))" -q XADD bare '*' d "$payload" >/dev/null 2>>"$LOG" || true
    have=$n
    sleep 1
    bm=$(rmem used_memory "$BPORT")
    bare+=("$(awk -v a="$bm0" -v b="$bm" -v n="$(redis-cli -p "$BPORT" xlen bare)" 'BEGIN{printf "bare_xlen=%d bare_bytes_per_msg=%.1f", n, (b-a)/n}')")
  done
  stop_pid "$brp"; rm -rf "$brd"
  echo "== depth: one subscription's backlog ($(date +%T))"
  start_stack
  line=$(gl create -p "$PORT" -P "$PROJ" -T deep -n 1 -k 1)
  [ "$(kv "$line" errors)" = 0 ] || record "# depth create: $line"
  sleep 0.5
  m0=$(rmem used_memory)
  local i=0 used=0 k1
  for n in "${sizes[@]}"; do
    fillo=$(gl fill -p "$PORT" -P "$PROJ" -T deep -n 1 -q "$((n - filled))" -b 1000 -c 4)
    filled=$n
    sleep 1
    m=$(rmem used_memory); x=$(xlen deep0); r=$(rss_kb "$BPID"); hw=$(hwm_kb "$BPID")
    wait_quiet
    # each pull is acked: the head moves by 220 + 1000 x (k1 + 3) messages
    p1=$(gl lat -p "$PORT" -P "$PROJ" -s deep0-s0 -m pull1 -N 200 -w 20)
    k1=$(( (n - used - 220) / 1000 - 3 )); [ "$k1" -gt 20 ] && k1=20
    if [ "$k1" -ge 1 ]; then
      p1k=$(gl lat -p "$PORT" -P "$PROJ" -s deep0-s0 -m pull1000 -N "$k1" -w 3)
    else
      p1k="n=0"; k1=-3
    fi
    used=$(( used + 220 + 1000 * (k1 + 3) ))
    record "id=growth.depth backlog=$n xlen=$x $(pfx "$fillo" fill_) bytes_per_msg=$(awk -v a="$m0" -v b="$m" -v n="$x" 'BEGIN{printf "%.1f", (b-a)/n}')" \
      "${bare[$i]} ratio=$(awk -v a="$m0" -v b="$m" -v n="$x" -v r="$(kv "${bare[$i]}" bare_bytes_per_msg)" 'BEGIN{printf "%.3f", (b-a)/n/r}')" \
      "redis_used_mb=$(awk -v b="$m" 'BEGIN{printf "%.1f", b/1048576}') rss_kb=$r hwm_kb=$hw rss_after_pulls_kb=$(rss_kb "$BPID")" \
      "$(pfx "$p1" pull1_) $(pfx "$p1k" pull1000_)"
    i=$((i + 1))
  done
  # what a leased (delivered, not yet acked) message costs in Redis
  m=$(rmem used_memory)
  line=$(gl drain -p "$PORT" -P "$PROJ" -T deep -n 1 -k 1 -q "$LEASE_N" -m 1000 -c 1 -A)
  sleep 0.5
  mlease=$(rmem used_memory)
  record "id=growth.depth.lease backlog=$filled leased=$(kv "$line" delivered)" \
    "lease_bytes_per_msg=$(awk -v a="$m" -v b="$mlease" -v n="$(kv "$line" delivered)" 'BEGIN{printf "%.1f", (n>0?(b-a)/n:0)}')" \
    "rss_kb=$(rss_kb "$BPID") hwm_kb=$(hwm_kb "$BPID")"
  stop_stack
}

# ---------------------------------------------------------------- conns
idle_open() {   # idle_open MODE N [extra...] -> IPID, IOUT, ISTAT (waits for "ready")
  ISTAT="$RDIR/idle.status"; IOUT="$RDIR/idle.out"; rm -f "$ISTAT"
  local mode="$1" n="$2"; shift 2
  if [ "$mode" = http ]; then
    "$GL" idle-http -p "$PORT" -n "$n" -H 300 -o "$ISTAT" "$@" >"$IOUT" 2>>"$LOG" &
  else
    "$GL" idle-nng -u "tcp://127.0.0.1:$NPORT" -n "$n" -H 300 -o "$ISTAT" "$@" >"$IOUT" 2>>"$LOG" &
  fi
  IPID=$!; STARTED_PIDS+=("$IPID")
  for _ in $(seq 1800); do
    [ -f "$ISTAT" ] && return 0
    kill -0 "$IPID" 2>/dev/null || { echo "idle-$mode client died: $(tail -2 "$LOG")" >&2; return 0; }
    sleep 0.1
  done
  echo "idle-$mode: not ready after 180 s" >&2
}
idle_close() { stop_pid "$IPID"; }
conn_case() {   # conn_case MODE N
  local mode="$1" n="$2" r0 f0 st r1 f1 t0 t1 lh ln fin
  start_stack
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/lat0"
  sleep 0.5
  r0=$(rss_kb "$BPID"); f0=$(nfds "$BPID")
  idle_open "$mode" "$n"
  st=$(cat "$ISTAT" 2>/dev/null || echo "ready open=0 failed=$n")
  sleep 1
  r1=$(rss_kb "$BPID"); f1=$(nfds "$BPID")
  t0=$(pid_ticks "$BPID"); sleep 2; t1=$(pid_ticks "$BPID")
  wait_quiet
  lh=$(gl lat -p "$PORT" -P "$PROJ" -t lat0 -m pub -N 2000 -w 200)
  ln="n=0"
  [ "$NNG" = 1 ] && ln=$(gl lat -p "$PORT" -P "$PROJ" -t lat0 -m pubnng -u "tcp://127.0.0.1:$NPORT" -N 2000 -w 200)
  idle_close
  fin=$(cat "$IOUT" 2>/dev/null)
  record "id=growth.conns transport=$mode conns=$n ${st#ready } rss_base_kb=$r0 rss_kb=$r1" \
    "rss_per_conn_b=$(awk -v a="$r0" -v b="$r1" -v n="$(echo "$st" | tr ' ' '\n' | awk -F= '$1=="open"{print $2}')" 'BEGIN{printf "%.0f", (n>0?(b-a)*1024/n:0)}')" \
    "fds_base=$f0 fds=$f1 idle_broker_cpu_pct=$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN{printf "%.1f", t/hz/2*100}')" \
    "$(pfx "$lh" http_) $(pfx "$ln" nng_) closed_by_peer=$(kv "$fin" closed_by_peer)"
  stop_stack
}
cap_probe() {   # the broker at its open-files limit
  echo "== conns: cap probe, broker under ulimit -n $CAP_NOFILE, $CAP_N HTTP connections ($(date +%T))"
  local st t0 t1 t2 t3 lh s0 s1 line sn fn
  start_redis "$RPORT"; RPID="$RPID_NEW"; RDIR="$RDIR_NEW"
  port_free "$PORT"
  (ulimit -n "$CAP_NOFILE"; exec "$REGNOTIFYD" --listen "127.0.0.1:$PORT" --redis "redis://127.0.0.1:$RPORT/0" \
    --nng-listen "tcp://127.0.0.1:$NPORT" --log-level warn --retention-interval 3600s 2>>"$RDIR/broker.log" </dev/null) &
  BPID=$!; STARTED_PIDS+=("$BPID")
  broker_ready
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$PORT/v1/projects/$PROJ/topics/lat0"
  # (at the limit the broker's stderr grows by hundreds of MB/s: keep the window short)
  idle_open http "$CAP_N" -G 2
  st=$(cat "$ISTAT" 2>/dev/null || echo "ready open=0")
  s0=$(stat -c %s "$RDIR/broker.log"); t0=$(pid_ticks "$BPID"); sleep 1
  t1=$(pid_ticks "$BPID"); s1=$(stat -c %s "$RDIR/broker.log")
  sn=$(nfds "$BPID")
  : >"$RDIR/broker.log"
  # a new client while the broker is at its limit: is it served (within CAP_WAIT s)?
  lh=$(timeout -k 2 "${CAP_WAIT:-10}" "$GL" lat -p "$PORT" -P "$PROJ" -t lat0 -m pub -N 200 -w 20 2>>"$LOG") ||
    lh="n=0 failed=1 no_reply_within_s=${CAP_WAIT:-10}"
  idle_close
  sleep 0.5
  t2=$(pid_ticks "$BPID"); sleep 1; t3=$(pid_ticks "$BPID")
  line=$(head -c 4096 "$RDIR/broker.log" | head -1 | tr -d '\0')
  record "id=growth.conns.cap transport=http nofile=$CAP_NOFILE tried=$CAP_N ${st#ready } fds=$sn" \
    "at_limit_broker_cpu_pct=$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", t/hz*100}')" \
    "at_limit_log_bytes_s=$((s1 - s0)) at_limit_log_lines_s=$(( (s1 - s0) / (${#line} + 1) ))" \
    "log_line=$(echo "${line:-none}" | tr ' ' '_')" \
    "after_close_broker_cpu_pct=$(awk -v t="$((t3 - t2))" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", t/hz*100}') $(pfx "$lh" active_)"
  : >"$RDIR/broker.log"
  if [ "$NNG" = 1 ]; then   # the same limit for nng pipes
    idle_open nng "$CAP_N" -G 2
    st=$(cat "$ISTAT" 2>/dev/null || echo "ready open=0")
    fn=$(nfds "$BPID"); t0=$(pid_ticks "$BPID"); s0=$(stat -c %s "$RDIR/broker.log"); sleep 1
    t1=$(pid_ticks "$BPID"); s1=$(stat -c %s "$RDIR/broker.log")
    lh=$(timeout -k 2 "${CAP_WAIT:-10}" "$GL" lat -p "$PORT" -P "$PROJ" -t lat0 -m pub -N 200 -w 20 2>>"$LOG") ||
      lh="n=0 failed=1 no_reply_within_s=${CAP_WAIT:-10}"
    idle_close
    line=$(head -c 4096 "$RDIR/broker.log" | head -1 | tr -d '\0')
    record "id=growth.conns.cap transport=nng nofile=$CAP_NOFILE tried=$CAP_N ${st#ready } fds=$fn" \
      "at_limit_broker_cpu_pct=$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", t/hz*100}')" \
      "at_limit_log_bytes_s=$((s1 - s0)) log_line=$(echo "${line:-none}" | tr ' ' '_') $(pfx "$lh" active_)"
  fi
  stop_pid "$BPID"; : >"$RDIR/broker.log"
  stop_pid "$RPID"; rm -rf "$RDIR"
}
curve_conns() {
  local n
  for n in $CONN_SIZES; do
    echo "== conns: $n idle HTTP keep-alive connections ($(date +%T))"
    conn_case http "$n"
    if [ "$NNG" = 1 ]; then
      echo "== conns: $n idle nng pipes ($(date +%T))"
      conn_case nng "$n"
    fi
  done
  [ "$NNG" = 1 ] || record "# conns: nng pipes skipped (NNG=0 or no libnng-dev)"
  [ "$CAP" = 1 ] && cap_probe
  return 0
}

# ---------------------------------------------------------------- run
for c in $CURVES; do
  case "$c" in
    fanout) curve_fanout ;;
    breadth) curve_breadth ;;
    depth) curve_depth ;;
    conns) curve_conns ;;
    *) echo "unknown curve $c (fanout breadth depth conns)" >&2; exit 2 ;;
  esac
done
record "# end $(date -Is) elapsed_s=$(( $(date +%s) - T_BEGIN )) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$HERE/growth_report.py" "$OUT"
echo "results: $OUT (growth.txt, growth.md, growth-*.png)"
