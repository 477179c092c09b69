#!/usr/bin/env python3
"""Tables and plots of bench/growth.sh: python3 bench/growth_report.py OUTDIR

Reads OUTDIR/growth.txt (lines "id=growth.CURVE key=value ..."), writes
OUTDIR/growth.md (markdown tables), OUTDIR/growth-CURVE.dat and growth.gp,
and runs gnuplot on it for OUTDIR/growth-{fanout,breadth,depth,conns}.png
(pngcairo, or png without cairo; growth.gp names its files relative to
OUTDIR: `cd OUTDIR && gnuplot growth.gp` redraws them). Standard library only.
"""
import os
import subprocess
import sys


def rows(path):
    out = []
    for line in open(path):
        if not line.startswith("id="):
            continue
        kv = {}
        for f in line.split():
            if "=" in f:
                k, v = f.split("=", 1)
                kv[k] = v
        out.append(kv)
    return out


def num(v, default=float("nan")):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def f0(v):
    x = num(v)
    return "–" if x != x else f"{x:,.0f}"


def f1(v):
    x = num(v)
    return "–" if x != x else f"{x:,.1f}"


def mb(kb):
    x = num(kb)
    return "–" if x != x else f"{x / 1024:.1f}"


def k_(v):
    x = num(v)
    if x != x:
        return "–"
    return f"{x / 1000:.1f}k" if x >= 10000 else f"{x:,.0f}"


def human(n):
    n = int(num(n, 0))
    for div, suf in ((1000000, "M"), (1000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suf}"
    return f"{n:,}"


def table(head, body):
    s = "| " + " | ".join(head) + " |\n| " + " | ".join("---" for _ in head) + " |\n"
    for r in body:
        s += "| " + " | ".join(r) + " |\n"
    return s


def main():
    out = sys.argv[1]
    rs = rows(os.path.join(out, "growth.txt"))
    by = {}
    for r in rs:
        by.setdefault(r["id"], []).append(r)
    md = ["# How cost grows (issue 14): bench/growth.sh\n"]
    hdr = [l.rstrip("\n") for l in open(os.path.join(out, "growth.txt")) if l.startswith("#")]
    md.append("```text\n" + "\n".join(hdr) + "\n```\n")
    plots = []

    fan = by.get("growth.fanout", [])
    if fan:
        md.append("## Fan-out: one topic, K subscriptions\n")
        md.append(
            "Publish: wrk -t1 -c8, 1000 × 300 B per request. Delivery: every message to every "
            "subscription (FAN_DELIV in all, FAN_DELIV/K messages each), 8 connections, pull 100 + "
            "ack. Bytes/msg: Redis used_memory growth over the publish window / messages stored.\n")
        body = []
        with open(os.path.join(out, "growth-fanout.dat"), "w") as d:
            d.write("# subs pub_msgs_s deliveries_s per_sub bytes_per_msg rss_mb del_broker_us del_redis_us\n")
            for r in fan:
                body.append([
                    f0(r.get("subs")), k_(r.get("pub_msgs_s")),
                    f"{f0(r.get('pub_p50_us'))} / {f0(r.get('pub_p99_us'))}",
                    f1(r.get("pub_broker_us")) + " / " + f1(r.get("pub_redis_us")),
                    f1(r.get("bytes_per_msg")),
                    k_(r.get("del_msgs_s")), f0(r.get("del_per_sub_msgs_s")),
                    f1(r.get("del_broker_us")) + " / " + f1(r.get("del_redis_us")),
                    mb(r.get("rss_kb")), f"{f0(r.get('create_subs_s'))}"])
                d.write(" ".join(str(num(r.get(k), 0)) for k in (
                    "subs", "pub_msgs_s", "del_msgs_s", "del_per_sub_msgs_s", "bytes_per_msg")) +
                    f" {num(r.get('rss_kb'), 0) / 1024} {num(r.get('del_broker_us'), 0)} {num(r.get('del_redis_us'), 0)}\n")
        md.append(table(["subscriptions", "publish msgs/s", "publish p50 / p99 µs",
                         "publish CPU µs/msg broker / Redis", "Redis bytes per stored msg",
                         "deliveries/s (all subs)", "per subscription msgs/s",
                         "CPU µs/delivery broker / Redis", "broker RSS MB",
                         "subscriptions created/s"], body))
        md.append("\nPlot: `growth-fanout.png`\n")
        plots.append("fanout")

    brd = by.get("growth.breadth", [])
    if brd:
        md.append("## Breadth: N topics with one subscription each\n")
        md.append(
            "Created by 16 connections (topics, then subscriptions). Pull: BREADTH_DELIV messages "
            "spread over a sample of S = min(N, BREADTH_SAMPLE) topics, pull 100 + ack, 8 "
            "connections. Publish: wrk -t1 -c64 single 300-B messages, to one topic (pub1) and round "
            "robin over the S sampled topics (pubS). Sweep: the broker restarted with "
            "--retention-interval 5s, one client publishing sequentially across a tick.\n")
        body = []
        with open(os.path.join(out, "growth-breadth.dat"), "w") as d:
            d.write("# topics pull_msgs_s pub1_rps pubS_rps redis_mb rss_mb sweep_max_ms sweep_hwm_mb\n")
            for r in brd:
                body.append([
                    f0(r.get("topics")),
                    f"{f0(r.get('create_topics_s'))} / {f0(r.get('create_subs_s'))}",
                    f1(r.get("redis_used_mb")),
                    (f"{f0(r.get('bytes_per_topic'))} ({f0(r.get('audit_bytes_per_topic'))})"
                     if num(r.get("topics"), 0) >= 100 else
                     f"fixed cost {f0(r.get('bytes_per_topic'))}"),
                    f"{mb(r.get('rss_base_kb'))} → {mb(r.get('rss_kb'))}",
                    f"{k_(r.get('pull_msgs_s'))} (S={f0(r.get('sample'))})",
                    f"{k_(r.get('pub1_rps'))} ({f0(r.get('pub1_p99_us'))})",
                    f"{k_(r.get('pubS_rps'))} ({f0(r.get('pubS_p99_us'))})",
                    f"{f1(num(r.get('sweep_max_us')) / 1000)} / {f0(r.get('sweep_slow10ms'))} / {mb(r.get('sweep_hwm_kb'))}",
                ])
                d.write(" ".join(str(num(r.get(k), 0)) for k in ("topics", "pull_msgs_s", "pub1_rps", "pubS_rps", "redis_used_mb")) +
                        f" {num(r.get('rss_kb'), 0) / 1024} {num(r.get('sweep_max_us'), 0) / 1000} {num(r.get('sweep_hwm_kb'), 0) / 1024}\n")
        md.append(table(["topics", "created/s topics / subs", "Redis MB", "Redis bytes per topic+sub (audit entries)",
                         "broker RSS MB before → after create", "pull+ack msgs/s",
                         "publish 1 topic req/s (p99 µs)", "publish spread over S req/s (p99 µs)",
                         "sweep: longest request ms / requests > 10 ms / broker VmHWM MB"], body))
        md.append("\nPlot: `growth-breadth.png`\n")
        plots.append("breadth")

    dep = by.get("growth.depth", [])
    if dep:
        md.append("## Depth: one subscription's backlog of N messages of 300 B\n")
        md.append(
            "Redis bytes/msg = used_memory growth / XLEN; bare = redis-benchmark `XADD bare * d "
            "<300 B>` to the same N on its own redis-server (same configuration). Pulls at the head "
            "with returnImmediately, each acked (untimed).\n")
        body = []
        with open(os.path.join(out, "growth-depth.dat"), "w") as d:
            d.write("# backlog bytes_per_msg bare_bytes_per_msg pull1_p50_us pull1000_p50_us rss_mb hwm_mb pull1_p99_us pull1000_p99_us\n")
            for r in dep:
                body.append([
                    human(r.get("backlog")), f1(r.get("bytes_per_msg")), f1(r.get("bare_bytes_per_msg")),
                    f"{num(r.get('ratio')):.2f}×", f1(r.get("redis_used_mb")),
                    f"{f0(r.get('pull1_p50_us'))} / {f0(r.get('pull1_p99_us'))}",
                    f"{f1(num(r.get('pull1000_p50_us')) / 1000)} / {f1(num(r.get('pull1000_p99_us')) / 1000)}",
                    f"{mb(r.get('rss_kb'))} ({mb(r.get('hwm_kb'))})", k_(r.get("fill_fill_msgs_s"))])
                d.write(" ".join(str(num(r.get(k), 0)) for k in ("backlog", "bytes_per_msg", "bare_bytes_per_msg", "pull1_p50_us", "pull1000_p50_us")) +
                        f" {num(r.get('rss_kb'), 0) / 1024} {num(r.get('hwm_kb'), 0) / 1024} {num(r.get('pull1_p99_us'), 0)} {num(r.get('pull1000_p99_us'), 0)}\n")
        md.append(table(["backlog", "Redis bytes/msg", "bare XADD bytes/msg", "ratio (target ≤ 1.5×)",
                         "Redis MB", "pull 1: p50 / p99 µs", "pull 1000: p50 / p99 ms",
                         "broker RSS MB (VmHWM; target ≤ 30)", "fill msgs/s"], body))
        for r in by.get("growth.depth.lease", []):
            md.append(f"\nLeased, not acked: {f0(r.get('leased'))} messages pulled from the head "
                      f"and held: **{f1(r.get('lease_bytes_per_msg'))} Redis bytes per leased message** "
                      "(consumer-group PEL entry + lease sorted-set member), on top of the stored entry; "
                      f"broker RSS {mb(r.get('rss_kb'))} MB.\n")
        md.append("\nPlot: `growth-depth.png`\n")
        plots.append("depth")

    con = by.get("growth.conns", [])
    if con:
        md.append("## Connections: idle HTTP keep-alive connections and nng pipes\n")
        md.append(
            "Each idle HTTP connection has carried one GET /healthz; each nng pipe is its own req0 "
            "socket that has carried one /healthz frame. Active client meanwhile: 2000 sequential "
            "single 300-B publishes (after 200 warm-up) on one HTTP keep-alive connection and one "
            "nng socket.\n")
        body = []
        sizes = sorted({int(num(r.get("conns"), 0)) for r in con})
        with open(os.path.join(out, "growth-conns.dat"), "w") as d:
            d.write("# conns http_rss_mb nng_rss_mb http_http_p50 http_http_p99 nng_nng_p50 nng_nng_p99 http_per_conn nng_per_conn\n")
            for n in sizes:
                h = next((r for r in con if r.get("transport") == "http" and int(num(r.get("conns"), 0)) == n), {})
                g = next((r for r in con if r.get("transport") == "nng" and int(num(r.get("conns"), 0)) == n), {})
                d.write(f"{n} {num(h.get('rss_kb'), 0) / 1024} {num(g.get('rss_kb'), float('nan')) / 1024} "
                        f"{num(h.get('http_p50_us'), 0)} {num(h.get('http_p99_us'), 0)} "
                        f"{num(g.get('nng_p50_us'))} {num(g.get('nng_p99_us'))} "
                        f"{num(h.get('rss_per_conn_b'), 0)} {num(g.get('rss_per_conn_b'))}\n")
        for r in con:
            body.append([
                f0(r.get("conns")), r.get("transport", "?"),
                f"{f0(r.get('open'))} / {f0(r.get('failed'))}",
                f"{mb(r.get('rss_base_kb'))} → {mb(r.get('rss_kb'))}", f0(r.get("rss_per_conn_b")),
                f"{f0(r.get('fds_base'))} → {f0(r.get('fds'))}", f1(r.get("idle_broker_cpu_pct")),
                f"{f0(r.get('http_p50_us'))} / {f0(r.get('http_p99_us'))} / {f0(r.get('http_max_us'))}",
                f"{f0(r.get('nng_p50_us'))} / {f0(r.get('nng_p99_us'))} / {f0(r.get('nng_max_us'))}"])
        md.append(table(["idle connections", "transport", "opened / failed", "broker RSS MB",
                         "RSS bytes per connection", "broker fds", "broker CPU % while idle",
                         "active HTTP publish p50 / p99 / max µs", "active nng publish p50 / p99 / max µs"], body))
        for r in by.get("growth.conns.cap", []):
            line = r.get("log_line", "none").replace("_", " ")
            if r.get("transport", "http") == "http":
                md.append(
                    f"\nCap probe (HTTP): broker under `ulimit -n {r.get('nofile')}`, {r.get('tried')} idle HTTP "
                    f"connections tried: {r.get('open')} served (broker fds {r.get('fds')}), {r.get('failed')} not. "
                    f"At the limit the broker used {r.get('at_limit_broker_cpu_pct')} % of a core and its stderr "
                    f"grew by {num(r.get('at_limit_log_bytes_s'), 0) / 1e6:.0f} MB/s "
                    f"({f0(r.get('at_limit_log_lines_s'))} lines/s of `{line}`); "
                    f"{r.get('after_close_broker_cpu_pct')} % once the clients closed. " +
                    (f"A new client meanwhile got **no reply within {r.get('active_no_reply_within_s')} s** "
                     "(its connection waits in the listen backlog until an fd frees, e.g. when evhttp's "
                     "120-s idle timeout closes a connection).\n" if r.get('active_failed') else
                     f"A new client meanwhile: first reply after {f0(num(r.get('active_first_us')) / 1000)} ms, "
                     f"then p50 {f0(r.get('active_p50_us'))} µs, p99 {f0(r.get('active_p99_us'))} µs.\n"))
            else:
                md.append(
                    f"\nCap probe (nng): the same broker, {r.get('tried')} nng pipes tried one after the other: "
                    f"{r.get('open')} got their reply, the next one's request timed out (2 s) and the probe "
                    f"stopped; broker fds {r.get('fds')}, broker CPU {r.get('at_limit_broker_cpu_pct')} %, stderr "
                    f"{num(r.get('at_limit_log_bytes_s'), 0) / 1e6:.1f} MB/s; " +
                    (f"a new HTTP client got no reply within {r.get('active_no_reply_within_s')} s.\n"
                     if r.get('active_failed') else
                     f"a new HTTP client meanwhile: first reply after {f0(num(r.get('active_first_us')) / 1000)} ms, "
                     f"then p50 {f0(r.get('active_p50_us'))} µs, p99 {f0(r.get('active_p99_us'))} µs.\n"))
        md.append("\nPlot: `growth-conns.png`\n")
        plots.append("conns")

    with open(os.path.join(out, "growth.md"), "w") as f:
        f.write("\n".join(md))

    gp = ["set datafile commentschars '#'", "set key top left box opaque", "set grid",
          "set logscale x 10", "set format x '10^{%L}'"]
    term = "pngcairo size 1300,520 font ',10'"
    try:
        t = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        if "pngcairo" not in (t.stdout + t.stderr):
            term = "png size 1300,520"
    except OSError:
        print("gnuplot not found: no plots", file=sys.stderr)
        return
    gp.append(f"set terminal {term}")
    if "fanout" in plots:
        gp += ["set output 'growth-fanout.png'",
               "set multiplot layout 1,2 title 'Fan-out: one topic, K subscriptions'",
               "set xlabel 'subscriptions on the topic'", "set ylabel 'messages/s'", "set yrange [0:*]",
               "plot 'growth-fanout.dat' u 1:2 w lp lw 2 pt 7 t 'publish msgs/s (1000 x 300 B, c8)',"
               " '' u 1:3 w lp lw 2 pt 5 t 'deliveries/s, all subscriptions (pull 100 + ack, 8 conns)'",
               "set ylabel 'bytes / MB'", "set yrange [0:*]",
               "plot 'growth-fanout.dat' u 1:5 w lp lw 2 pt 7 t 'Redis bytes per stored message',"
               " '' u 1:6 w lp lw 2 pt 5 t 'broker RSS MB'",
               "unset multiplot"]
    if "breadth" in plots:
        gp += ["set output 'growth-breadth.png'",
               "set multiplot layout 1,2 title 'Breadth: N topics x 1 subscription'",
               "set xrange [0.5:*]", "set xlabel 'topics'", "set ylabel 'per second'", "set yrange [0:*]",
               "plot 'growth-breadth.dat' u 1:2 w lp lw 2 pt 7 t 'pull+ack msgs/s (sample)',"
               " '' u 1:3 w lp lw 2 pt 5 t 'publish req/s, one topic',"
               " '' u 1:4 w lp lw 2 pt 9 t 'publish req/s, spread over the sample'",
               "set logscale y 10", "set ylabel 'MB / ms'", "set yrange [*:*]",
               "plot 'growth-breadth.dat' u 1:5 w lp lw 2 pt 7 t 'Redis used MB',"
               " '' u 1:6 w lp lw 2 pt 5 t 'broker RSS MB',"
               " '' u 1:8 w lp lw 2 pt 9 t 'broker VmHWM MB across a sweep',"
               " '' u 1:7 w lp lw 2 pt 11 t 'longest request across a sweep, ms'",
               "unset logscale y", "set xrange [*:*]", "unset multiplot"]
    if "depth" in plots:
        gp += ["set output 'growth-depth.png'",
               "set multiplot layout 1,2 title 'Depth: one subscription, backlog of N x 300 B'",
               "set xlabel 'backlog (messages)'", "set ylabel 'Redis bytes per message'", "set yrange [0:*]",
               "set key bottom right",
               "plot 'growth-depth.dat' u 1:2 w lp lw 2 pt 7 t 'regnotifyd',"
               " '' u 1:3 w lp lw 2 pt 5 t 'bare XADD',"
               " '' u 1:($3*1.5) w l dt 2 lw 1 t 'target: 1.5 x bare'",
               "set key top left", "set logscale y 10", "set ylabel 'µs / MB'", "set yrange [*:*]",
               "plot 'growth-depth.dat' u 1:4 w lp lw 2 pt 7 t 'pull 1 at the head, p50 µs',"
               " '' u 1:5 w lp lw 2 pt 5 t 'pull 1000 at the head, p50 µs',"
               " '' u 1:6 w lp lw 2 pt 9 t 'broker RSS MB',"
               " 30 w l dt 2 t 'RSS target 30 MB'",
               "unset logscale y", "unset multiplot"]
    if "conns" in plots:
        gp += ["set output 'growth-conns.png'",
               "set multiplot layout 1,2 title 'Idle connections: broker RSS, and one active client meanwhile'",
               "set xlabel 'idle connections'", "set ylabel 'broker RSS MB'", "set yrange [0:*]",
               "plot 'growth-conns.dat' u 1:2 w lp lw 2 pt 7 t 'HTTP keep-alive',"
               " '' u 1:3 w lp lw 2 pt 5 t 'nng pipes'",
               "set ylabel 'single publish latency µs'", "set yrange [0:*]",
               "plot 'growth-conns.dat' u 1:4 w lp lw 2 pt 7 t 'HTTP p50', '' u 1:5 w lp lw 2 pt 6 dt 2 t 'HTTP p99',"
               " '' u 1:6 w lp lw 2 pt 5 t 'nng p50', '' u 1:7 w lp lw 2 pt 4 dt 2 t 'nng p99'",
               "unset multiplot"]
    with open(os.path.join(out, "growth.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    if plots:
        r = subprocess.run(["gnuplot", "growth.gp"], cwd=out, capture_output=True, text=True)
        if r.returncode != 0:
            print("gnuplot failed:\n" + r.stderr, file=sys.stderr)
        elif r.stderr.strip():
            print(r.stderr, file=sys.stderr)
    print(open(os.path.join(out, "growth.md")).read())


if __name__ == "__main__":
    main()
