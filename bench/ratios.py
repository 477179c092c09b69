#!/usr/bin/env python3
"""ratios.py RESULTS_FILE...: regnotifyd / anchor ratios against the targets.

Reads the 'id=... run=N key=value' lines written by run_bench.sh (and the
nats-go lines of bench/anchors/nats-go/run_nats_go.sh), and prints for each
target: the broker's median (min..max), the anchor's median, the median of
the per-run ratios (broker and anchor from the same round) and the verdict.
Where an anchor was not measured in this run, the RESULTS.md value is used
and marked 'RESULTS.md'. Stdlib only."""
import os
import re
import statistics
import sys
from collections import defaultdict

# anchors quoted from bench/anchors/RESULTS.md (2026-11-28), used only when
# the anchor was not measured in this run
RESULTS_MD = {
    ('natsgo.pub.w256', 'msgs_s'): 78695,
    ('natsjs.pub.w256', 'msgs_s'): 20397,
    ('natsgo.consume.after_w256', 'msgs_s'): 132476,
    ('natsgo.consume.after_w1', 'msgs_s'): 134148,
    ('natsgo.e2e.5000ps', 'e2e_p99_us'): 40500,
}

runs = defaultdict(dict)      # id -> run -> {key: value}
noisy = defaultdict(list)     # id -> [foreign_cpu_pct...]
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    for line in open(path):
        kv = dict(re.findall(r'(\w+)=(\S+)', line))
        if 'id' not in kv:
            continue
        r = kv.get('run', '0')
        vals = {}
        for k, v in kv.items():
            try:
                vals[k] = float(v)
            except ValueError:
                pass
        runs[kv['id']][r] = vals


def series(i, k):
    return [v[k] for v in runs.get(i, {}).values() if k in v]


def med(i, k):
    s = series(i, k)
    return statistics.median(s) if s else None


def fmt(x):
    if x is None:
        return 'n/a'
    return f'{x:,.0f}' if abs(x) >= 100 else f'{x:.3g}'


def spread(i, k):
    s = series(i, k)
    if not s:
        return 'n/a'
    return f'{fmt(statistics.median(s))} ({fmt(min(s))}..{fmt(max(s))})'


def fg(i):
    s = series(i, 'foreign_cpu_pct')
    if not s:
        return ''
    return f'foreign_cpu med {statistics.median(s):.0f}% max {max(s):.0f}%'


def ratio(bid, bk, aid, ak, invert=False):
    """median of per-run ratios (same round) and ratio of medians"""
    per = []
    for r, bv in runs.get(bid, {}).items():
        av = runs.get(aid, {}).get(r)
        if av and bk in bv and ak in av and av[ak] and bv[bk]:
            per.append(av[ak] / bv[bk] if invert else bv[bk] / av[ak])
    bm, am, src = med(bid, bk), med(aid, ak), 'same run'
    if am is None:
        am, src = RESULTS_MD.get((aid, ak)), 'RESULTS.md'
    if bm is None or not am:
        return None, None, src, am
    rm = (am / bm) if invert else (bm / am)
    return (statistics.median(per) if per else rm), per, src, am


def row(name, bid, bk, aid, ak, target, op='>=', invert=False, unit=''):
    r, per, src, am = ratio(bid, bk, aid, ak, invert)
    if r is None:
        print(f'{name}: no data ({bid}.{bk} / {aid}.{ak})')
        return
    ok = r >= target if op == '>=' else r <= target
    pr = ' '.join(f'{x:.2f}' for x in per) if per and src == 'same run' else '-'
    print(f'{name}:\n  broker {bid} {bk} = {spread(bid, bk)}{unit}  [{fg(bid)}]\n'
          f'  anchor {aid} {ak} = {fmt(am)}{unit} ({src})  [{fg(aid)}]\n'
          f'  ratio = {r:.2f}  (per run: {pr})  target {op} {target}  -> '
          f'{"MET" if ok else "MISSED"}')


print('# ratio = median of per-run ratios when both sides ran in the same round')


def below(name, i, k, limit):
    v = med(i, k)
    if v is None:
        print(f'{name}: no data ({i}.{k})')
        return
    print(f'{name}: {spread(i, k)} us, target <= {limit} us -> '
          f'{"MET" if v <= limit else "MISSED"}  [{fg(i)}]')


print('## issue 14: the table to close')
row('I14-1. durable single publish, keep-alive c64 / bare evhttp',
    'rn.pub1.c64', 'rps', 'http.post300.c64', 'rps', 0.8)
row('I14-2. batched publish (1000 x 300 B) / XADD c50 P32',
    'rn.pubbatch.c8', 'msgs_s', 'redis.xadd.everysec.c50.P32', 'rps', 0.7)
row('I14-3. REST pull + ack drain / JetStream nats.go pull drain',
    'rn.drain', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.5)
row('I14-4. REST publish->pull e2e p50 at 5k/s / JetStream e2e p50',
    'rn.e2e.5000ps', 'e2e_p50_us', 'natsgo.e2e.5000ps', 'e2e_p50_us', 1.0, op='<=')
below('I14-4b. REST e2e p99', 'rn.e2e.5000ps', 'e2e_p99_us', 1000)
row('I14-5. libregnotify e2e p50 at 5k/s (nng) / JetStream e2e p50',
    'rn.nng.e2e.5000ps', 'e2e_p50_us', 'natsgo.e2e.5000ps', 'e2e_p50_us', 1.0, op='<=')
below('I14-5b. libregnotify e2e p99', 'rn.nng.e2e.5000ps', 'e2e_p99_us', 1000)
row('I14-6. libregnotify streaming-subscriber drain / JetStream drain',
    'rn.nng.drain', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
row('I14-7. push deliveries to a keep-alive C sink / wrk c64 on that sink',
    'rn.push.sink', 'deliveries_s', 'http.post300.c64', 'rps', 0.5)
row('I14-7b. the same through libcurl (--push-client libcurl; https:// and proxies)',
    'rn.push.sink.libcurl', 'deliveries_s', 'http.post300.c64', 'rps', 0.0)
print('## the earlier targets')
row('1. durable single publish vs bare evhttp (POST 300 B, c64)',
    'rn.pub1.c64', 'rps', 'http.post300.c64', 'rps', 0.6)
row('2a. batched publish vs pipelined XADD (c50 P32, AOF everysec)',
    'rn.pubbatch.c8', 'msgs_s', 'redis.xadd.everysec.c50.P32', 'rps', 0.5)
row('2b. batched publish vs NATS JetStream nats.go (w256)',
    'rn.pubbatch.c8', 'msgs_s', 'natsgo.pub.w256', 'msgs_s', 1.0)
row('2c. batched publish vs NATS JetStream nats.js (w256)',
    'rn.pubbatch.c8', 'msgs_s', 'natsjs.pub.w256', 'msgs_s', 1.0)
row('3. pull+ack drain vs JetStream nats.go durable pull drain',
    'rn.drain', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
row('3c. pull+ack drain vs JetStream nats.go drain of the w1-published stream',
    'rn.drain', 'msgs_s', 'natsgo.consume.after_w1', 'msgs_s', 1.0)
row('3b. pull+ack drain vs Redis XREADGROUP COUNT 100 + XACK (pipelined)',
    'rn.drain', 'msgs_s', 'redis.consume.everysec.b100pipe', 'msgs_s', 0.0)
e = med('rn.e2e.5000ps', 'e2e_p99_us')
print(f'4. publish->pull e2e p99 at 5k msgs/s: {spread("rn.e2e.5000ps", "e2e_p99_us")} us '
      f'target <= 4000 us -> {"MET" if e is not None and e <= 4000 else "MISSED"}  '
      f'[{fg("rn.e2e.5000ps")}]')
for k in ('e2e_p50_us', 'pub_p50_us', 'pub_p99_us', 'schedlag_p99_us', 'pipelined'):
    print(f'   rn.e2e.5000ps {k} = {spread("rn.e2e.5000ps", k)}')
row('4b. e2e p99: JetStream nats.go / broker (>1 = broker better)',
    'rn.e2e.5000ps', 'e2e_p99_us', 'natsgo.e2e.5000ps', 'e2e_p99_us', 1.0, invert=True)
row('4c. e2e p99: broker / Redis-only xstream e2e',
    'rn.e2e.5000ps', 'e2e_p99_us', 'redis.e2e.everysec.5000ps', 'e2e_p99_us', 10.0, op='<=')

# issue 5: libregnotify's streaming subscriber over nng
e = med('rn.nng.e2e.5000ps', 'e2e_p99_us')
print(f'7. nng publish->subscriber callback e2e p99 at 5k msgs/s: '
      f'{spread("rn.nng.e2e.5000ps", "e2e_p99_us")} us target <= 4000 us -> '
      f'{"MET" if e is not None and e <= 4000 else "MISSED"}  [{fg("rn.nng.e2e.5000ps")}]')
for k in ('e2e_p50_us', 'pub_p50_us', 'pub_p99_us', 'schedlag_p99_us'):
    print(f'   rn.nng.e2e.5000ps {k} = {spread("rn.nng.e2e.5000ps", k)}')
row('7b. nng e2e p50: broker / JetStream nats.go e2e p50 (target <= 1)',
    'rn.nng.e2e.5000ps', 'e2e_p50_us', 'natsgo.e2e.5000ps', 'e2e_p50_us', 1.0, op='<=')
row('7c. nng e2e p50: broker over nng / broker over REST (rnbench e2e)',
    'rn.nng.e2e.5000ps', 'e2e_p50_us', 'rn.e2e.5000ps', 'e2e_p50_us', 99.0, op='<=')
row('8. nng streaming-subscriber drain vs JetStream nats.go durable pull drain',
    'rn.nng.drain', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
row('8b. nng streaming-subscriber drain vs REST pull+ack drain (rnbench drain)',
    'rn.nng.drain', 'msgs_s', 'rn.drain', 'msgs_s', 0.0)

# issue 12: gRPC with Google's official Node client (bench/grpc_bench.js)
if any(i.startswith('rn.grpc.') for i in runs):
    row('G1a. gRPC publish (Node client, batching 1000/10 ms) vs REST batched publish (no target)',
        'rn.grpc.pub', 'msgs_s', 'rn.pubbatch.c8', 'msgs_s', 0.0)
    row('G1b. gRPC publish vs pipelined XADD (c50 P32; REST\'s target there is 0.5)',
        'rn.grpc.pub', 'msgs_s', 'redis.xadd.everysec.c50.P32', 'rps', 0.0)
    row('G1c. gRPC publish vs NATS JetStream nats.go publish (w256)',
        'rn.grpc.pub', 'msgs_s', 'natsgo.pub.w256', 'msgs_s', 0.0)
    row('G2. gRPC streaming drain (on(message), library defaults) vs JetStream nats.go pull drain',
        'rn.grpc.drain', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('G2b. the same, natsgo\'s method (first 5000 untimed) on both sides',
        'rn.grpc.drain', 'msgs_s_warm', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('G2c. gRPC drain, flowControl.maxMessages 10000, vs JetStream nats.go pull drain',
        'rn.grpc.drain.flow10k', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('G2d. gRPC drain (defaults) vs REST pull+ack drain (rnbench drain)',
        'rn.grpc.drain', 'msgs_s', 'rn.drain', 'msgs_s', 0.0)
    row('G2e. gRPC drain (flow10k) vs REST pull+ack drain (rnbench drain)',
        'rn.grpc.drain.flow10k', 'msgs_s', 'rn.drain', 'msgs_s', 0.0)
    row('G2f. C StreamingPull client (bench/rngrpc.c, no flow limit) vs JetStream nats.go pull drain',
        'rn.grpc.drain.rngrpc', 'msgs_per_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('G2g. C StreamingPull client, maxOutstandingMessages 1000, vs JetStream nats.go pull drain',
        'rn.grpc.drain.rngrpc.m1000', 'msgs_per_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('G2h. Node client drain (flow10k) / C client drain (the Node client\'s share of the ceiling)',
        'rn.grpc.drain.flow10k', 'msgs_s', 'rn.grpc.drain.rngrpc', 'msgs_per_s', 0.0)
    e = med('rn.grpc.e2e.5000ps', 'e2e_p99_us')
    print(f'G3. gRPC publishMessage->on(message) e2e p99 at 5k msgs/s: '
          f'{spread("rn.grpc.e2e.5000ps", "e2e_p99_us")} us target <= 4000 us -> '
          f'{"MET" if e is not None and e <= 4000 else "MISSED"}  [{fg("rn.grpc.e2e.5000ps")}]')
    for k in ('e2e_p50_us', 'e2e_p999_us', 'e2e_max_us', 'pub_p50_us', 'pub_p99_us',
              'schedlag_p50_us', 'schedlag_p99_us', 'in_p50_us', 'in_p99_us', 'out_p50_us',
              'out_p99_us'):
        print(f'   rn.grpc.e2e.5000ps {k} = {spread("rn.grpc.e2e.5000ps", k)}')
    row('G3b. gRPC e2e p50 / JetStream nats.go e2e p50 (target <= 1)',
        'rn.grpc.e2e.5000ps', 'e2e_p50_us', 'natsgo.e2e.5000ps', 'e2e_p50_us', 1.0, op='<=')
    row('G3c. gRPC e2e p99 / JetStream nats.go e2e p99 (context)',
        'rn.grpc.e2e.5000ps', 'e2e_p99_us', 'natsgo.e2e.5000ps', 'e2e_p99_us', 99.0, op='<=')
    row('G3d. gRPC e2e p50 / REST e2e p50 (rnbench e2e)',
        'rn.grpc.e2e.5000ps', 'e2e_p50_us', 'rn.e2e.5000ps', 'e2e_p50_us', 99.0, op='<=')
    for k in ('e2e_p50_us', 'e2e_p99_us', 'pub_p50_us', 'pub_p99_us', 'schedlag_p99_us',
              'in_p50_us', 'in_p99_us', 'out_p50_us', 'out_p99_us'):
        print(f'   rn.grpc.e2e.1000ps.unbatched {k} = {spread("rn.grpc.e2e.1000ps.unbatched", k)}')
    print('G4. CPU over the timed window, % of one core (us per message): '
          'node = the subscribing/publishing node process, pubnode = the e2e publisher process')
    for i in ('rn.grpc.pub', 'rn.grpc.drain', 'rn.grpc.drain.flow10k', 'rn.grpc.e2e.5000ps',
              'rn.grpc.e2e.1000ps.unbatched'):
        parts = []
        for who in ('node', 'pubnode', 'broker', 'redis'):
            if series(i, f'{who}_cpu_pct'):
                parts.append(f'{who} {fmt(med(i, who + "_cpu_pct"))}% '
                             f'({med(i, who + "_us_per_msg"):.1f} us)')
        if parts:
            print(f'   {i}: ' + ', '.join(parts))
    for i in ('rn.grpc.drain.rngrpc', 'rn.grpc.drain.rngrpc.m1000'):
        if series(i, 'case_broker_cpu_pct'):
            print(f'   {i} (whole case, fill included): broker '
                  f'{fmt(med(i, "case_broker_cpu_pct"))}%, redis {fmt(med(i, "case_redis_cpu_pct"))}%')

print(f'5. registry ingest (Distribution envelopes, 1 event each): keep-alive c8 '
      f'{spread("rn.ingest.keepalive.c8", "events_s")} events/s [{fg("rn.ingest.keepalive.c8")}], '
      f'new connection per request c8 {spread("rn.ingest.newconn.c8", "events_s")} events/s '
      f'[{fg("rn.ingest.newconn.c8")}]')
row('6. push deliveries/s to a keep-alive C sink vs wrk on that sink (POST 300 B, c64)',
    'rn.push.sink', 'deliveries_s', 'http.post300.c64', 'rps', 0.5)

if any(i.endswith('.nodelay') for i in runs):
    print('\n# *.nodelay: the same broker binary with TCP_NODELAY forced at accept() by '
          'LD_PRELOAD (bench/nodelay_shim.c); equal to the plain rows when the broker sets '
          'TCP_NODELAY itself (07f1ded and later), the fix\'s effect on older commits')
    row('W2a. batched publish (nodelay) vs XADD P32',
        'rn.pubbatch.c8.nodelay', 'msgs_s', 'redis.xadd.everysec.c50.P32', 'rps', 0.5)
    row('W2b. batched publish (nodelay) vs nats.go w256',
        'rn.pubbatch.c8.nodelay', 'msgs_s', 'natsgo.pub.w256', 'msgs_s', 1.0)
    row('W3. drain (nodelay) vs nats.go drain',
        'rn.drain.nodelay', 'msgs_s', 'natsgo.consume.after_w256', 'msgs_s', 1.0)
    row('W3c. drain (nodelay) vs nats.go drain after w1',
        'rn.drain.nodelay', 'msgs_s', 'natsgo.consume.after_w1', 'msgs_s', 1.0)
    e = med('rn.e2e.5000ps.nodelay', 'e2e_p99_us')
    print(f'W4. e2e p99 (nodelay): {spread("rn.e2e.5000ps.nodelay", "e2e_p99_us")} us '
          f'-> {"MET" if e is not None and e <= 4000 else "MISSED"}')
    for k in ('e2e_p50_us', 'pub_p50_us', 'pub_p99_us', 'pipelined'):
        print(f'   rn.e2e.5000ps.nodelay {k} = {spread("rn.e2e.5000ps.nodelay", k)}')

print('\n# noisy rounds (foreign_cpu_pct > 10: other processes used > 10 % of the 2 CPUs)')
bad = [(i, r, v['foreign_cpu_pct']) for i, rr in runs.items() for r, v in rr.items()
       if v.get('foreign_cpu_pct', 0) > 10]
for i, r, f in sorted(bad, key=lambda x: (x[1], x[0])):
    print(f'  run {r} {i}: foreign_cpu_pct={f:.0f}')
if not bad:
    print('  none')
