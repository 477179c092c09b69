#!/usr/bin/env bash
# Vendored from the team's shared bench kit (noise/run_noise.sh there); unchanged but for this line.
# Host-noise probe: how repeatable is this shared 2-core VM right now?
#  - cpuspin (fixed single-thread work) x15 via hyperfine: mean/stddev/min/max
#  - two cpuspins at once (are both vCPUs really ours?)
#  - fsync_lat: write(300 B)+fdatasync latency on the disk /tmp lives on, x3
#  - wakeup_lat: how late a thread wakes for 5k/s absolute-time slots, x3
#  - /proc/pressure/cpu (PSI) and load average before/after
# Run it before and after a bench run; quote the spread next to results.
source "$(dirname "$0")/../common.sh"
OUTF="$RESULTS/noise.txt"
TAG="${1:-now}"
echo "# noise probe $TAG $(date -Is) loadavg=$(cut -d' ' -f1-3 /proc/loadavg) psi_some_avg10=$(psi_cpu)" | tee -a "$OUTF"
hyperfine -N --warmup 2 --runs 15 --export-json /tmp/perf-anchors/cpuspin.json "$BIN/cpuspin" >/dev/null 2>&1
python3 - "$TAG" <<'EOF' | tee -a "$OUTF"
import json, sys
r = json.load(open('/tmp/perf-anchors/cpuspin.json'))['results'][0]
t = sorted(r['times'])
print(f"id=noise.cpuspin.{sys.argv[1]} mean_ms={r['mean']*1e3:.1f} stddev_ms={r['stddev']*1e3:.1f} "
      f"min_ms={min(t)*1e3:.1f} median_ms={r['median']*1e3:.1f} max_ms={max(t)*1e3:.1f} "
      f"cv_pct={100*r['stddev']/r['mean']:.1f} max_over_min={max(t)/min(t):.2f}")
EOF
# two at once: ratio ~1.0 means two real cores, ~2.0 means they share one
s=$(date +%s%N); "$BIN/cpuspin" >/dev/null; one=$(( ($(date +%s%N)-s)/1000000 ))
s=$(date +%s%N); "$BIN/cpuspin" >/dev/null & p1=$!; "$BIN/cpuspin" >/dev/null & p2=$!; wait $p1 $p2
two=$(( ($(date +%s%N)-s)/1000000 ))
echo "id=noise.parallel2.$TAG one_ms=$one two_at_once_ms=$two ratio=$(awk -v a=$one -v b=$two 'BEGIN{printf "%.2f", b/a}')" | tee -a "$OUTF"
FD="$(mktemp -d /tmp/perf-anchors-fsync.XXXXXX)"
for i in 1 2 3; do
  echo "id=noise.fsync.$TAG run=$i $("$BIN/fsync_lat" "$FD" 3000 300)" | tee -a "$OUTF"
done
rm -rf "$FD"
for i in 1 2 3; do   # timer wake-up jitter at 5k/s, 5 s each: floor under any e2e p99
  echo "id=noise.wakeup.$TAG run=$i $("$BIN/wakeup_lat" 5000 25000)" | tee -a "$OUTF"
done
echo "# end noise probe $TAG loadavg=$(cut -d' ' -f1-3 /proc/loadavg) psi_some_avg10=$(psi_cpu)" | tee -a "$OUTF"
