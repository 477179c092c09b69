#!/usr/bin/env python3
"""libregnotify (the C client library) against a real regnotifyd over nng.

The C side is tests/client/it_client (path in RN_IT_CLIENT): each test runs
one of its commands, which prints key=value lines (and one JSON object per
received message); this file checks them against what it published or
pulls over HTTP itself.
"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BrokerTestCase, Client, b64, unb64, uniq  # noqa: E402

IT_CLIENT = os.environ.get("RN_IT_CLIENT", "")
RUN_TIMEOUT = 120


def parse_kv(text):
    """The key=value results of it_client's output as a dict. A line whose
    value is JSON, or whose key ends in _msg, is one value; other lines may
    hold several space-separated key=value tokens. JSON lines (messages)
    are skipped; a key seen twice keeps its last value."""
    out = {}
    for line in text.splitlines():
        if line.startswith("{") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if value.startswith(("{", "[")) or key.endswith("_msg"):
            out[key] = value
            continue
        for tok in line.split():
            k, _, v = tok.partition("=")
            out[k] = v
    return out


def json_lines(text):
    return [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]


class ClientLibTest(BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        if not IT_CLIENT or not os.access(IT_CLIENT, os.X_OK):
            raise AssertionError("RN_IT_CLIENT=%r is not an executable it_client" % IT_CLIENT)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.p = uniq("lib")

    # helpers ---------------------------------------------------------------

    def run_c(self, *args, url=None, env=None, timeout=RUN_TIMEOUT):
        """Run it_client URL PROJECT ARGS (ENV: extra environment); fail
        unless it exits 0. Returns (stdout, key=value dict)."""
        cmd = [IT_CLIENT, url or self.broker.nng_url, self.p] + [str(a) for a in args]
        full_env = dict(os.environ, **(env or {}))
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           env=full_env)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 0, "%s exited %d\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(cmd), r.returncode, out[-3000:], err[-3000:]))
        return out, parse_kv(out)

    def topic_and_sub(self, **sub_fields):
        t, s = uniq("top"), uniq("sub")
        self.create_topic(self.p, t)
        self.create_sub(self.p, s, t, **sub_fields)
        return t, s

    def publish_data(self, t, items):
        ids = []
        for i in range(0, len(items), 100):
            ids += self.publish(self.p, t, items[i:i + 100])
        return ids

    def assertStats(self, kv, n, max_outstanding=None):
        self.assertEqual(int(kv["distinct"]), n, kv)
        self.assertGreaterEqual(int(kv["acked"]), n, kv)
        self.assertEqual(int(kv["outstanding"]), 0, kv)
        if max_outstanding is not None:
            self.assertLessEqual(int(kv["max_outstanding_seen"]), max_outstanding, kv)

    def own_broker(self, *extra):
        """A broker of its own (with EXTRA flags), a topic and a subscription
        on it (made over HTTP). Returns (broker, HTTP client, topic, sub)."""
        redis = self.env.start_redis()
        b = self.env.start_broker(redis.port, extra=list(extra))
        http = Client(b.port)
        self.addCleanup(http.close)
        t, s = uniq("top"), uniq("sub")
        self.assertOk(http.req("PUT", "/v1/projects/%s/topics/%s" % (self.p, t)))
        self.assertOk(http.req("PUT", "/v1/projects/%s/subscriptions/%s" % (self.p, s),
                               {"topic": "projects/%s/topics/%s" % (self.p, t)}))
        return b, http, t, s

    # tests -------------------------------------------------------------------

    def test_sync_publish_pull_ack(self):
        t, s = self.topic_and_sub()
        sent = [{"data": b64(b"\x00\xff\x10\x00"), "attributes": {"a": "1", "b": "x y"}},
                {"data": b64(bytes(range(256)))},
                {"attributes": {"only": "attrs"}, "orderingKey": "ok-1"}]
        # one orderingKey per publish request
        ids = self.publish(self.p, t, sent[:2]) + self.publish(self.p, t, sent[2:])
        t0 = time.time()
        out, kv = self.run_c("pull", s, len(sent))
        got = json_lines(out)
        self.assertEqual([m["id"] for m in got], ids)
        for m, want in zip(got, sent):
            self.assertEqual(bytes.fromhex(m["hex"]), unb64(want.get("data", "")))
            self.assertEqual(m["attrs"], want.get("attributes", {}))
            self.assertEqual(m["ordering_key"], want.get("orderingKey", ""))
            self.assertLess(abs(m["publish_ms"] / 1000.0 - t0), 30)
        self.assertEqual(kv["pulled"], "3")
        self.assertEqual(kv["left"], "0")
        self.assertEqual(kv["pull_missing"], "3")     # RN_ENOTFOUND
        self.assertEqual(kv["ack_bad"], "1")          # RN_EINVAL (400)
        self.assertEqual(kv["modack_range"], "1")
        self.assertNothingToPull(self.p, s, "after the library acked")

        # The other way round: the library publishes, HTTP pulls.
        out, kv = self.run_c("publish", t, 5)
        ids = [ln[3:] for ln in out.splitlines() if ln.startswith("id=")]
        self.assertEqual(len(ids), 5)
        self.assertEqual(kv["publish_empty"], "1")
        self.assertEqual(kv["publish_missing"], "3")
        rms = self.pull_until(self.p, s, 5)
        self.assertEqual(sorted(rm["message"]["messageId"] for rm in rms), sorted(ids))
        for rm in rms:
            i = int(rm["message"]["attributes"]["idx"])
            self.assertEqual(unb64(rm["message"]["data"]), b"\x00\xff" + bytes([i]) + b"\n")
            self.assertEqual(rm["message"]["attributes"], {"kind": "binary", "idx": str(i)})
            self.assertEqual(rm["message"]["messageId"], ids[i])
        self.ack(self.p, s, [rm["ackId"] for rm in rms])

    def test_message_of_9_mb(self):
        # nng refuses frames over 1 MB by default; Pub/Sub allows 10 MB
        # messages, so both the broker and the library lift that limit.
        t, s = self.topic_and_sub()
        n = 9 * 1000 * 1000
        out, kv = self.run_c("big", t, s, n)
        self.assertEqual(kv["big_len"], str(n), out)
        self.assertEqual(kv["big_equal"], "1")
        self.assertEqual(kv["big_left"], "0")

    def test_resources(self):
        t, s = uniq("top"), uniq("sub")
        out, kv = self.run_c("resources", t, s)
        topic = json.loads(kv["topic_create"])
        self.assertEqual(topic["name"], "projects/%s/topics/%s" % (self.p, t))
        self.assertEqual(topic["labels"], {"team": "it"})
        self.assertEqual(json.loads(kv["topic_get"]), topic)
        self.assertEqual(kv["topic_create_again"], "4")            # RN_EEXISTS
        self.assertIn("already exists", kv["topic_create_again_msg"])
        self.assertEqual(kv["topic_get_missing"], "3")             # RN_ENOTFOUND
        msg_line = [ln for ln in out.splitlines() if ln.startswith("topic_get_missing_msg=")][0]
        self.assertEqual(msg_line, "topic_get_missing_msg=Resource not found "
                         "(resource=missing-topic).")
        self.assertEqual(kv["topic_bad_name"], "1")
        self.assertEqual(kv["topic_bad_config"], "1")
        self.assertEqual(kv["topic_unknown_field"], "1")          # broker's 400
        sub = json.loads(kv["sub_create"])
        self.assertEqual(sub["topic"], topic["name"])
        self.assertEqual(sub["ackDeadlineSeconds"], 20)
        self.assertEqual(sub["expirationPolicy"], {})
        self.assertEqual(json.loads(kv["sub_get"]), sub)
        self.assertEqual(kv["sub_create_missing_topic"], "3")
        self.assertEqual(json.loads(kv["sub_create_filter"])["filter"], 'attributes.a = "b"')
        self.assertEqual(kv["sub_create_bad_filter"], "1")         # the broker's 400
        self.assertIn("(at column 16)", kv["sub_create_bad_filter_msg"])
        # 2101 topics: the list follows nextPageToken over three pages.
        names = [x["name"] for x in json.loads(kv["topic_list"])]
        self.assertEqual(len(names), 2101)
        self.assertEqual(names, sorted(names))
        self.assertIn(topic["name"], names)
        self.assertEqual([x["name"] for x in json.loads(kv["sub_list"])],
                         sorted([sub["name"], "projects/%s/subscriptions/sub-y" % self.p]))
        self.assertEqual(kv["seek"], "0")
        self.assertEqual(kv["sub_delete_again"], "3")
        self.assertEqual(kv["topic_delete_again"], "3")
        st, _, _ = self.req("GET", "/v1/projects/%s/topics/%s" % (self.p, t))
        self.assertEqual(st, 404)

    def test_async_publisher(self):
        t, s = self.topic_and_sub()
        n = 250
        out, kv = self.run_c("async_publish", t, n)
        self.assertEqual(kv["flush"], "0")
        self.assertEqual(kv["ok"], str(n))
        self.assertEqual(kv["errors"], "0")
        self.assertEqual(kv["distinct_ids"], str(n))
        self.assertEqual(kv["async_invalid"], "1")
        self.assertEqual(kv["flush_missing"], "3")   # the error reaches flush...
        self.assertEqual(kv["errors_missing"], "1")  # ...and the callback
        rms = self.pull_until(self.p, s, n, max_messages=1000)
        self.assertEqual(len(rms), n)
        seen = {}
        for rm in rms:
            m = rm["message"]
            i = int(unb64(m["data"]).decode().split("-")[1])
            seen[i] = m
            self.assertEqual(m["attributes"], {"okey": "odd" if i % 2 else "even"})
            self.assertEqual(m.get("orderingKey", ""), "k3" if i % 3 == 0 else "")
        self.assertEqual(sorted(seen), list(range(n)))

    def test_streaming_flow_control(self):
        t, s = self.topic_and_sub()
        n = 60
        self.publish_data(t, ["flow-%d" % i for i in range(n)])
        out, kv = self.run_c("stream", s, n, 5, 30)
        self.assertStats(kv, n, max_outstanding=5)
        self.assertEqual(kv["statuses"], "0", "one (re)connected status, no errors")
        self.assertNothingToPull(self.p, s)

    def test_lease_extension(self):
        # ackDeadline 10 s, each message held 25 s: without extensions it
        # would be redelivered (and seen twice).
        t, s = self.topic_and_sub(ackDeadlineSeconds=10)
        ids = self.publish_data(t, ["lease-%d" % i for i in range(3)])
        out, kv = self.run_c("lease", s, 3, 25000)
        counts = {}
        for ln in out.splitlines():
            if ln.startswith("deliveries "):
                k, _, v = ln[len("deliveries "):].partition("=")
                counts[k] = int(v)
        self.assertEqual(counts, {i: 1 for i in ids}, out)
        self.assertEqual(kv["total"], "3", out)
        self.assertGreaterEqual(int(kv["extensions"]), 6, out)
        self.assertEqual(kv["acked"], "3", out)

    def test_many_threads_ack(self):
        t, s = self.topic_and_sub(ackDeadlineSeconds=10)
        n = 300
        self.publish_data(t, ["ack-%d" % i for i in range(n)])
        out, kv = self.run_c("many_ackers", s, n, 16)
        self.assertStats(kv, n)
        self.assertEqual(kv["acked"], str(n), out)
        # Had an ack been lost, its message would come back after the 10 s
        # deadline (the library extends leases to 10 s only when due).
        time.sleep(11)
        self.assertNothingToPull(self.p, s, "11 s after 16 threads acked")

    def test_stop_nacks_buffered(self):
        t, s = self.topic_and_sub(ackDeadlineSeconds=60)
        self.publish_data(t, ["stop-%d" % i for i in range(10)])
        out, kv = self.run_c("stop_nack", s, 10)
        self.assertEqual(kv["received"], "10", out)
        self.assertEqual(kv["nacked"], "9", out)     # all but the one in the callback
        self.assertEqual(kv["distinct"], "1", out)   # no callback started after stop
        self.assertEqual(kv["repulled"], "9", out)   # redelivered at once...
        self.assertLess(int(kv["within_ms"]), 2000, out)  # ...not after 60 s
        self.assertEqual(kv["held_acked"], "1")
        self.assertNothingToPull(self.p, s)

    def test_connect_refused(self):
        url = "tcp://127.0.0.1:%d" % harness.free_port()
        out, kv = self.run_c("connect_refused", url=url)
        self.assertEqual(kv["connect"], "7", out)    # RN_ECONNREFUSED
        self.assertLess(int(kv["elapsed_ms"]), 5000)

    def test_tls(self):
        """tls+tcp://: the CA and server name are checked; a certificate of
        another CA is refused with RN_ETLS."""
        d = self.env.path("tls")
        os.makedirs(d)

        def cert(name, cn):
            r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                "-subj", "/CN=" + cn, "-days", "2",
                                "-keyout", os.path.join(d, name + ".key"),
                                "-out", os.path.join(d, name + ".pem")],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return os.path.join(d, name + ".pem")

        ca = cert("broker", "localhost")
        other = cert("other", "localhost")
        cert_key = os.path.join(d, "cert_key.pem")
        with open(cert_key, "w") as f:
            for part in ("broker.pem", "broker.key"):
                with open(os.path.join(d, part)) as src:
                    f.write(src.read())
        url = "tls+tcp://127.0.0.1:%d" % harness.free_port()
        _, _, t, s = self.own_broker("--nng-listen", url, "--nng-tls-cert-key", cert_key)
        env = {"RN_IT_TLS_CA": ca, "RN_IT_TLS_SERVER_NAME": "localhost"}
        out, kv = self.run_c("publish", t, 2, url=url, env=env)
        ids = [ln[3:] for ln in out.splitlines() if ln.startswith("id=")]
        out, kv = self.run_c("pull", s, 2, url=url, env=env)
        self.assertEqual([m["id"] for m in json_lines(out)], ids)
        self.assertEqual(kv["left"], "0")
        out, kv = self.run_c("connect_refused", url=url, env={"RN_IT_TLS_CA": other})
        self.assertEqual(kv["connect"], "17", out)    # RN_ETLS

    def test_protocol_errors(self):
        """Frames the library never sends: the broker answers 400 naming the
        problem (and the version it speaks) in a version-1 reply, and keeps
        HTTP-only routes off nng."""
        raw = os.environ.get("RN_IT_RAW", os.path.join(os.path.dirname(IT_CLIENT), "it_raw"))
        self.assertTrue(os.access(raw, os.X_OK), "it_raw missing at %s" % raw)

        def send(case):
            r = subprocess.run([raw, self.broker.nng_url, case], capture_output=True,
                               timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            kv = parse_kv(out)
            body = out.split("body=", 1)[1].strip() if "body=" in out else ""
            return kv, (json.loads(body) if body else None)

        for case, what in (("version", "unsupported protocol version"),
                           ("short", "shorter than its header"),
                           ("magic", "does not start with"),
                           ("method", "unknown method")):
            kv, js = send(case)
            self.assertEqual(kv.get("status"), "400", (case, kv))
            self.assertEqual(kv.get("version"), "1", (case, kv))
            self.assertEqual(js["error"]["status"], "INVALID_ARGUMENT")
            self.assertIn(what, js["error"]["message"])
            self.assertIn("protocol version 1", js["error"]["message"])
        kv, js = send("healthz")
        self.assertEqual(kv.get("status"), "200", kv)
        for case in ("metrics", "ingest"):
            kv, js = send(case)
            self.assertEqual(kv.get("status"), "404", (case, kv))
            self.assertEqual(js["error"]["status"], "NOT_FOUND")
        # the broker is still fine for the library
        t, s = self.topic_and_sub()
        out, kv = self.run_c("publish", t, 1)

    def test_ipc(self):
        """ipc://: the same calls over a Unix domain socket."""
        url = "ipc://" + self.env.path("nng.sock")
        _, _, t, s = self.own_broker("--nng-listen", url)
        out, kv = self.run_c("publish", t, 3, url=url)
        ids = [ln[3:] for ln in out.splitlines() if ln.startswith("id=")]
        self.assertEqual(len(ids), 3)
        out, kv = self.run_c("pull", s, 3, url=url)
        self.assertEqual([m["id"] for m in json_lines(out)], ids)
        self.assertEqual(kv["left"], "0")

    def test_broker_killed_and_restarted(self):
        """SIGKILL the broker during a stream and start it again on the same
        ports: the subscriber reconnects and every message is received and
        acked (duplicates allowed, loss not)."""
        b, http, t, s = self.own_broker()
        redis = self.env.redises[-1]

        def pub(c, lo, hi):
            msgs = [{"data": b64("m-%d" % i)} for i in range(lo, hi)]
            self.assertOk(c.req("POST", "/v1/projects/%s/topics/%s:publish" % (self.p, t),
                                {"messages": msgs}))

        n = 40
        proc = subprocess.Popen([IT_CLIENT, b.nng_url, self.p, "restart", s, str(n)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        harness._track(proc)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines, errs = [], []
        readers = [threading.Thread(target=lambda: lines.extend(
                       ln.decode() for ln in proc.stdout), daemon=True),
                   threading.Thread(target=lambda: errs.extend(
                       ln.decode() for ln in proc.stderr), daemon=True)]
        for r in readers:
            r.start()
        harness.wait_until(lambda: "ready\n" in lines, 15, what="it_client ready")
        pub(http, 0, n // 2)
        harness.wait_until(lambda: sum(ln.startswith("got ") for ln in lines) >= 5, 15,
                           what="first messages streamed")
        b.kill9()
        time.sleep(0.5)
        b2 = self.env.start_broker(redis.port, port=b.port,
                                   extra=["--nng-listen", b.nng_url])
        http2 = Client(b2.port)
        self.addCleanup(http2.close)
        pub(http2, n // 2, n)
        try:
            proc.wait(100)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for r in readers:
            r.join(5)
        proc.stdout.close()
        proc.stderr.close()
        harness._untrack(proc)
        text = "".join(lines)
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (text[-3000:], "".join(errs)[-3000:]))
        got = {ln.split()[1] for ln in lines if ln.startswith("got ")}
        self.assertEqual(got, {"m-%d" % i for i in range(n)}, text[-3000:])
        kv = parse_kv(text)
        if os.environ.get("RN_IT_VERBOSE"):
            print(text, "".join(errs), file=sys.stderr)
        self.assertStats(kv, n)
        # Whatever was reported while the broker was away, it ends receiving.
        statuses = [int(x) for x in kv["statuses"].split(",")]
        self.assertEqual(statuses[-1], 0, kv)


if __name__ == "__main__":
    harness.main()
