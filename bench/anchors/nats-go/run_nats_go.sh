#!/usr/bin/env bash
# Vendored from the team's shared bench kit (nats-go/run_nats_go.sh there); unchanged but for this line.
# NATS JetStream anchors with the native Go client (nats.go 1.22.1 from
# Debian, built offline in GOPATH mode): same cases as js/run_nats.sh.
# Needs: apt-get install golang-go golang-github-nats-io-go-nats-dev
# Output: $RESULTS/nats-go.txt
source "$(dirname "$0")/../common.sh"
PORT="${PORT:-14222}"
N="${N:-100000}"
E2E_N="${E2E_N:-50000}"
E2E_RATE="${E2E_RATE:-5000}"
OUTF="$RESULTS/nats-go.txt"
[ "${APPEND:-0}" = 1 ] || : > "$OUTF"   # APPEND=1: keep earlier runs
if [ ! -x "$BIN/nats-go-bench" ] || [ "$BENCH_DIR/nats-go/main.go" -nt "$BIN/nats-go-bench" ]; then
  (cd "$BENCH_DIR/nats-go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=/tmp/perf-anchors/gocache \
     go build -o "$BIN/nats-go-bench" main.go)
fi
echo "# $(nats-server --version); nats.go $(dpkg-query -W -f='${Version}' golang-github-nats-io-go-nats-dev); $(go version)" | tee -a "$OUTF"
start_nats() {
  NDIR="$(mktemp -d /tmp/perf-anchors-nats.XXXXXX)"
  port_free "$PORT"
  nats-server -js -sd "$NDIR" -a 127.0.0.1 -p "$PORT" -l "$NDIR/nats.log" &
  NPID=$!; STARTED_PIDS+=("$NPID")
  wait_port "$PORT"; alive "$NPID"
}
stop_nats() { stop_pid "$NPID"; rm -rf "$NDIR"; }
gb() { # gb ID ARGS...
  local id="$1" out fg; shift
  wait_quiet; cpu_mark "$NPID"
  out=$(timeout 200 "$BIN/nats-go-bench" -port "$PORT" "$@")
  fg=$(cpu_foreign)
  echo "id=$id run=$run $out $fg" | tee -a "$OUTF"
}
for run in $(seq "${RUN0:-1}" $(( ${RUN0:-1} + RUNS - 1 ))); do
  start_nats
  gb natsgo.pub.w1              -mode pub -n "$N" -window 1
  gb natsgo.consume.after_w1    -mode consume -n "$N" -batch 256
  gb natsgo.pub.w256            -mode pub -n "$N" -window 256
  gb natsgo.consume.after_w256  -mode consume -n "$N" -batch 256
  gb "natsgo.e2e.${E2E_RATE}ps" -mode e2e -n "$E2E_N" -rate "$E2E_RATE" -batch 256
  gb "natsgo.pubonly.${E2E_RATE}ps" -mode e2e -nosub -n "$E2E_N" -rate "$E2E_RATE"
  stop_nats
done
echo "== medians (min..max) =="
python3 "$BENCH_DIR/summarize.py" "$OUTF"
