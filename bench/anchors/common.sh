# Vendored from the team's shared bench kit (common.sh there); unchanged but for this line.
# Sourced by the run_*.sh scripts. Servers are started by these scripts on
# non-default 127.0.0.1 ports in a temp dir and stopped by their own PID only.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="${BIN:-/tmp/perf-anchors/bin}"
RESULTS="${RESULTS:-/tmp/perf-anchors/results}"
RUNS="${RUNS:-3}"
mkdir -p "$RESULTS"
STARTED_PIDS=()
stop_pid() {                # stop_pid PID: TERM, wait <=10 s, KILL; forget it
  local p="$1" q keep=()
  if kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
  for q in "${STARTED_PIDS[@]:-}"; do [ -n "$q" ] && [ "$q" != "$p" ] && keep+=("$q"); done
  STARTED_PIDS=("${keep[@]:-}")
}
stop_started() {            # stop only what this script started, by PID
  local p
  for p in "${STARTED_PIDS[@]:-}"; do [ -n "$p" ] && stop_pid "$p"; done
  STARTED_PIDS=()
}
trap stop_started EXIT
wait_port() {               # wait_port PORT  (max 10 s)
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "port $1 never opened" >&2; return 1
}
median() { sort -g | awk '{a[NR]=$1} END{ if(NR==0){print "nan"; exit} if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2} }'; }
psi_cpu() { awk '/some/{sub("avg10=","",$2); print $2}' /proc/pressure/cpu 2>/dev/null || echo nan; }
port_free() {               # port_free PORT: fail if something already listens
  if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
    echo "127.0.0.1:$1 already in use; refusing to bench against a stranger" >&2; return 1
  fi
}
alive() { kill -0 "$1" 2>/dev/null || { echo "process $1 died at start" >&2; return 1; }; }

# --- noise accounting -------------------------------------------------------
# This VM is shared (other workloads may run on the same 2 vCPUs). Before
# each measurement wait_quiet waits (<= QUIET_MAX s) for a 1-s window with
# < QUIET_BUSY % CPU busy; cpu_mark/cpu_foreign then report how much CPU
# *others* used during the measurement (system busy user+nice+system minus
# this script's own tree and the long-lived server PIDs passed in).
QUIET_BUSY="${QUIET_BUSY:-15}"
QUIET_MAX="${QUIET_MAX:-30}"
NCPU="$(nproc)"
CLK_TCK="$(getconf CLK_TCK)"
sys_busy() { awk '/^cpu /{print $2+$3+$4}' /proc/stat; }
sys_all() { awk '/^cpu /{s=0; for(i=2;i<=NF;i++) s+=$i; print s}' /proc/stat; }
pid_ticks() {   # utime+stime+cutime+cstime of each PID (reaped children incl.)
  local p t=0 v
  for p in "$@"; do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
wait_quiet() {  # sets QUIET_WAITED (s) and QUIET_BUSY_SEEN (%)
  local i b0 a0 b1 a1
  QUIET_WAITED=0
  for i in $(seq "$QUIET_MAX"); do
    b0=$(sys_busy); a0=$(sys_all); sleep 1; b1=$(sys_busy); a1=$(sys_all)
    QUIET_BUSY_SEEN=$(( 100 * (b1 - b0) / (a1 - a0 + 1) ))
    [ "$QUIET_BUSY_SEEN" -lt "$QUIET_BUSY" ] && return 0
    QUIET_WAITED=$i
  done
}
cpu_mark() {    # cpu_mark [server PIDs...]
  CM_PIDS=("$$" "$@"); CM_BUSY=$(sys_busy); CM_OURS=$(pid_ticks "${CM_PIDS[@]}"); CM_T0=$(date +%s%N)
}
cpu_foreign() { # prints "foreign_cpu_pct=X quiet_wait_s=W" for the span since cpu_mark
  local busy ours el
  busy=$(( $(sys_busy) - CM_BUSY )); ours=$(( $(pid_ticks "${CM_PIDS[@]}") - CM_OURS ))
  el=$(( $(date +%s%N) - CM_T0 ))
  awk -v b="$busy" -v o="$ours" -v el="$el" -v n="$NCPU" -v hz="$CLK_TCK" -v w="${QUIET_WAITED:-0}" \
    'BEGIN{f=(b-o)/hz/(el/1e9)/n*100; if(f<0)f=0; printf "foreign_cpu_pct=%.1f quiet_wait_s=%d", f, w}'
}
