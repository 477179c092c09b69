#!/usr/bin/env python3
"""Before/after table of bench/compare.sh: OUT holds before-N/ and after-N/
(each a run_bench.sh RESULTS dir with rnbench.txt). Per case, the headline
metric's median over the rounds for each side, after/before, and the same
ratio with each value first divided by its own round's anchor (what the
machine could do in that round). >1 is better for throughput, <1 for
latency. Usage: compare.py OUT BEFORE_NAME AFTER_NAME"""
import glob
import os
import statistics
import sys

# case -> (metric, higher is better, anchor case, anchor metric)
CASES = [
    ("rn.pub1.c64", "rps", True, "http.post300.c64", "rps"),
    ("rn.pubbatch.c8", "msgs_s", True, "redis.xadd.everysec.c50.P32", "rps"),
    ("rn.drain", "msgs_s", True, "redis.consume.everysec.b100pipe", "msgs_s"),
    ("rn.e2e.5000ps", "e2e_p50_us", False, "redis.e2e.everysec.5000ps", "e2e_p50_us"),
    ("rn.e2e.5000ps", "e2e_p99_us", False, "redis.e2e.everysec.5000ps", "e2e_p99_us"),
    ("rn.nng.drain", "msgs_s", True, "redis.consume.everysec.b100pipe", "msgs_s"),
    ("rn.nng.e2e.5000ps", "e2e_p50_us", False, "redis.e2e.everysec.5000ps", "e2e_p50_us"),
    ("rn.ingest.keepalive.c8", "events_s", True, "http.post300.c64", "rps"),
    ("rn.ingest.newconn.c8", "events_s", True, "http.post300.c64", "rps"),
    ("rn.push.sink", "deliveries_s", True, "http.post300.c64", "rps"),
]


def read(path):
    """{case: {metric: float}} of one rnbench.txt (one run each)."""
    out = {}
    for line in open(path):
        if not line.startswith("id="):
            continue
        kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
        vals = {}
        for k, v in kv.items():
            try:
                vals[k] = float(v)
            except ValueError:
                pass
        out[kv["id"]] = vals
    return out


def rounds(out, side):
    res = []
    for d in sorted(glob.glob(os.path.join(out, side + "-*"))):
        f = os.path.join(d, "rnbench.txt")
        if os.path.exists(f):
            res.append(read(f))
    return res


def main():
    out, bname, aname = sys.argv[1], sys.argv[2], sys.argv[3]
    before, after = rounds(out, "before"), rounds(out, "after")
    print("rounds: %d before (%s), %d after (%s), alternated" % (len(before), bname, len(after),
                                                                aname))
    print("%-24s %-13s %12s %12s %9s %12s" % ("case", "metric", bname, aname, "after/bef",
                                              "vs anchor"))
    for case, metric, higher, anchor, ametric in CASES:
        bv = [r[case][metric] for r in before if case in r and metric in r[case]]
        av = [r[case][metric] for r in after if case in r and metric in r[case]]
        if not bv or not av:
            continue
        bn = [r[case][metric] / r[anchor][ametric] for r in before
              if case in r and anchor in r and r[anchor].get(ametric)]
        an = [r[case][metric] / r[anchor][ametric] for r in after
              if case in r and anchor in r and r[anchor].get(ametric)]
        mb, ma = statistics.median(bv), statistics.median(av)
        norm = (statistics.median(an) / statistics.median(bn)) if bn and an else float("nan")
        print("%-24s %-13s %12.0f %12.0f %9.3f %12.3f%s" % (
            case, metric, mb, ma, ma / mb, norm, "" if higher else "  (lower is better)"))


if __name__ == "__main__":
    main()
