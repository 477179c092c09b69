# bench/lib.sh - what the small bench scripts share (sourced): the brokers
# and temp dirs they start, stopped by PID on exit; a free port; a broker
# on its own embedded Redis; wrk's requests/s and non-2xx count.
PIDS=()
DIRS=()
bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${DIRS[@]}"; do rm -rf "$d"; done
}
trap bench_cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_broker BINARY ARGS... -> BROKER_PORT, BROKER_DIR, BROKER_PID; waits for /readyz.
start_broker() {
  local bin="$1"; shift
  BROKER_DIR="$(mktemp -d /tmp/rnbench-b.XXXXXX)"; DIRS+=("$BROKER_DIR")
  BROKER_PORT="$(free_port)"
  "$bin" --listen "127.0.0.1:$BROKER_PORT" --nng-listen "" --data-dir "$BROKER_DIR/var" \
    --log-level warn "$@" >"$BROKER_DIR/log" 2>&1 &
  BROKER_PID=$!; PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$BROKER_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "broker $bin did not get ready: $(tail -3 "$BROKER_DIR/log")" >&2
  return 1
}
# wrk_line ID ROUND WRK_OUTPUT -> "id=ID round=N rps=R non2xx=K"
wrk_line() {
  local rps non2xx
  rps="$(echo "$3" | awk '/Requests\/sec/ {print $2}')"
  non2xx="$(echo "$3" | awk '/Non-2xx/ {print $NF}')"
  echo "id=$1 round=$2 rps=$rps non2xx=${non2xx:-0}"
}
