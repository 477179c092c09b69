#!/usr/bin/env python3
# Vendored from the team's shared bench kit (summarize.py there); unchanged but for this line.
"""summarize.py RESULTS_FILE...: group 'id=... key=value ...' lines by id and
print median (min..max) of every numeric key over the runs.  Stdlib only."""
import re, statistics, sys
from collections import OrderedDict

groups = OrderedDict()
import os
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    for line in open(path):
        kv = dict(re.findall(r'(\w+)=(\S+)', line))
        if 'id' not in kv:
            continue
        g = groups.setdefault(kv['id'], OrderedDict())
        for k, v in kv.items():
            try:
                x = float(v)
            except ValueError:
                continue
            g.setdefault(k, []).append(x)
for gid, g in groups.items():
    runs = max((len(v) for v in g.values()), default=0)
    parts = []
    for k, v in g.items():
        if k in ('n', 'run', 'c', 'P', 'batch', 'pipe', 'window', 'rate', 'size', 'got'):
            continue
        med = statistics.median(v)
        fmt = (lambda x: f'{x:.0f}') if med >= 100 else (lambda x: f'{x:.3g}')
        parts.append(f'{k}={fmt(med)} ({fmt(min(v))}..{fmt(max(v))})')
    print(f'{gid} runs={runs} ' + ' '.join(parts))
