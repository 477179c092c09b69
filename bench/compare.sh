#!/usr/bin/env bash
# Before/after: the whole suite (bench/run_bench.sh, RUNS=1) on two commits,
# alternated ROUNDS times (B A B A ...), so that both see the same machine
# noise; then bench/compare.py prints per case the median of each commit
# and the after/before ratio, also normalised by the same round's anchors.
#
#   bash bench/compare.sh BEFORE AFTER      (commits; e.g. 7f70b09 HEAD)
#
# Env: ROUNDS (3), OUT (/tmp/rnbench/compare-BEFORE-AFTER), plus what
# run_bench.sh takes (DUR, NATS, ...). NOISE defaults to 0 here.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BEFORE="${1:?usage: bench/compare.sh BEFORE AFTER}"
AFTER="${2:?usage: bench/compare.sh BEFORE AFTER}"
B="$(git -C "$HERE" rev-parse --short "$BEFORE")"
A="$(git -C "$HERE" rev-parse --short "$AFTER")"
ROUNDS="${ROUNDS:-3}"
OUT="${OUT:-/tmp/rnbench/compare-$B-$A}"
mkdir -p "$OUT"
for r in $(seq "$ROUNDS"); do
  for side in before after; do
    rev="$B"; [ "$side" = after ] && rev="$A"
    echo "== round $r/$ROUNDS: $side ($rev) $(date +%T)"
    RN_REV="$rev" RUNS=1 NOISE="${NOISE:-0}" RESULTS="$OUT/$side-$r" \
      bash "$HERE/run_bench.sh" >"$OUT/log.$side-$r" 2>&1 ||
      { echo "run_bench.sh failed: $OUT/log.$side-$r" >&2; tail -20 "$OUT/log.$side-$r" >&2; exit 1; }
  done
done
python3 "$HERE/compare.py" "$OUT" "$B" "$A" | tee "$OUT/compare.txt"
