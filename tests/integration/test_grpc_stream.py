#!/usr/bin/env python3
"""StreamingPull (issue 12) driven by Google's official client library,
@google-cloud/pubsub 5.3.1 (tests/google/stream_client.js), with
PUBSUB_EMULATOR_HOST pointing at the broker's REST port (HTTP/2 with prior
knowledge is served as gRPC there) or at --grpc-listen:
subscription.on('message') receives and acks 1,000 messages; a nack comes
back at once; a handler holding messages past the ack deadline is not
redelivered meanwhile (the library extends the leases); flowControl
maxMessages 5 never has more than 5 in the handler; dead-lettering after 5
attempts; 5 MB messages; seek; NOT_FOUND, UNAUTHENTICATED and
INVALID_ARGUMENT end a stream; a stream cancelled before it confirmed its
messages has them released at once, and acks sent on the stream land; two
brokers on one Redis stream one subscription to two clients at once; a
broker SIGKILLed (or shut down: UNAVAILABLE) mid-stream while a TCP proxy
moves the client to a second broker on the same Redis: every message
published before is received. METADATA_SERVER_DETECTION=none everywhere.
Run: python3 tests/integration/test_grpc_stream.py"""

import json
import os
import select
import socket
import subprocess
import threading
import time

import harness

GOOGLE_DIR = os.environ.get("RN_GOOGLE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "google"))


class Proxy:
    """A TCP proxy on 127.0.0.1 whose target can be switched: new
    connections go to the current target (a load balancer in front of two
    brokers). Threads are daemons and stop with close()."""

    def __init__(self, target):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                c.close()
                continue
            self.conns += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()

    def _pump(self, a, b):
        try:
            while not self.stopping:
                r, _, _ = select.select([a, b], [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def close(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class GrpcStreamTest(harness.BrokerTestCase):
    START_BROKER = False

    def env_for(self, port):
        env = dict(os.environ, METADATA_SERVER_DETECTION="none", NO_PROXY="127.0.0.1",
                   PUBSUB_EMULATOR_HOST="127.0.0.1:%d" % port)
        for k in ("GOOGLE_APPLICATION_CREDENTIALS", "HTTPS_PROXY", "HTTP_PROXY"):
            env.pop(k, None)
        return env

    def script(self):
        if not os.path.isdir(os.path.join(GOOGLE_DIR, "node_modules", "@google-cloud",
                                          "pubsub")):
            self.fail("@google-cloud/pubsub is not installed: run 'npm ci' in %s "
                      "(scripts/test.sh does)" % GOOGLE_DIR)
        return os.path.join(GOOGLE_DIR, "stream_client.js")

    def node(self, port, scenario, arg=None, project=None):
        cmd = ["node", self.script(), project or self.project(), scenario]
        if arg is not None:
            cmd.append(str(arg))
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env_for(port),
                           timeout=180, cwd=GOOGLE_DIR)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, p.stdout + p.stderr)
        out = json.loads(lines[-1])
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
        return out

    def start(self, *extra):
        return self.env.start_broker(self.redis.port, extra=list(extra))

    # ---- the library's streaming subscriber ------------------------------

    def test_on_message_through_the_rest_port(self):
        b = self.start()
        out = self.node(b.port, "basic")
        self.assertEqual(out["received"], 1000, out)
        self.assertEqual(out["attributes_ok"], 1000, out)
        self.assertEqual(out["redelivered_after_ack"], 0, "every ack landed: %r" % out)
        # The same port still serves HTTP/1.1.
        c = harness.Client(b.port)
        self.addCleanup(c.close)
        st, _, _ = c.req("GET", "/healthz")
        self.assertEqual(st, 200)

    def test_nack_redelivers_at_once_and_leases_are_extended(self):
        gport = harness.free_port()
        b = self.start("--grpc-listen", "127.0.0.1:%d" % gport)
        out = self.node(gport, "nack")
        self.assertEqual(out["deliveries"], 2, out)
        # The ack deadline is 10 s: a nack must not wait for it (the
        # library's receipt modack races the nack; it must not win).
        self.assertLess(out["redelivery_ms"], 8000, out)
        out = self.node(b.port, "hold", 15000)
        self.assertEqual((out["received"], out["deliveries"]), (3, 3),
                         "held 15 s past a 10 s deadline: extended, not redelivered: %r" % out)

    def test_flow_control_and_dead_letter(self):
        b = self.start()
        out = self.node(b.port, "flow")
        self.assertEqual(out["received"], 200, out)
        self.assertLessEqual(out["max_in_handler"], 5, out)
        out = self.node(b.port, "deadletter")
        self.assertEqual(out["dead_lettered"], "poison", out)
        self.assertEqual(out["attempts"], [1, 2, 3, 4, 5], out)

    def test_ordered_delivery_through_the_library(self):
        b = self.start()
        out = self.node(b.port, "ordered")
        self.assertEqual(out["received"], 120, out)
        self.assertIs(out["in_order"], True, out)
        self.assertEqual(out["firsts"], [[0, 1, 2]] * 3, out)
        self.assertIs(out["enabled"], True, out)

    def test_exactly_once_through_the_library(self):
        b = self.start()
        out = self.node(b.port, "eod")
        self.assertEqual(out["received"], 50, out)
        self.assertEqual(out["deliveries"], 50, out)
        self.assertEqual(out["responses"], {"SUCCESS": 50}, out)

    def test_exactly_once_confirmations_on_the_stream(self):
        b = self.start()
        out = self.node(b.port, "eodstream")
        # (protobufjs leaves out the false messageOrderingEnabled)
        self.assertEqual(out["properties"], {"exactlyOnceDeliveryEnabled": True}, out)
        self.assertEqual(out["confirmed"], [out["id"]], out)
        self.assertEqual(out["invalid"], [out["id"]], out)

    def test_big_messages_and_seek(self):
        b = self.start()
        out = self.node(b.port, "big")
        self.assertEqual(out["intact"], 2, out)
        out = self.node(b.port, "seek")
        self.assertEqual((out["received"], out["replayed"]), (10, 10), out)
        self.assertNotIn("seek_error", out)

    def test_errors_end_the_stream(self):
        b = self.start()
        out = self.node(b.port, "missing")
        self.assertEqual(out["code"], 5, out)
        out = self.node(b.port, "badrequest")
        self.assertEqual((out["short_deadline"], out["no_subscription"], out["bad_name"]),
                         (3, 3, 3), out)
        a = self.start("--auth", "required")
        out = self.node(a.port, "unauth")
        self.assertEqual(out["code"], 16, out)

    def test_cancelled_stream_releases_what_it_did_not_confirm(self):
        b = self.start()
        out = self.node(b.port, "breaks")
        self.assertEqual(out["first_batch"], 20, out)
        self.assertEqual(out["redelivered"], 20, "released at once, not after 600 s: %r" % out)
        self.assertEqual(out["left_after_stream_acks"], 0, out)

    def test_two_brokers_serve_one_subscription(self):
        a = self.start()
        b = self.start()
        c = harness.Client(a.port)
        self.addCleanup(c.close)
        p = self.project()
        self.assertEqual(c.req("PUT", "/v1/projects/%s/topics/two-t" % p)[0], 200)
        self.assertEqual(c.req("PUT", "/v1/projects/%s/subscriptions/two-s" % p,
                               {"topic": "projects/%s/topics/two-t" % p})[0], 200)
        procs = [subprocess.Popen(["node", self.script(), p, "recv", "two-s"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=self.env_for(x.port), cwd=GOOGLE_DIR) for x in (a, b)]
        for q in procs:
            harness._track(q)
            self.addCleanup(lambda q=q: q.poll() is None and q.kill())
        time.sleep(2)  # both streams open
        n = 400
        for i in range(0, n, 100):
            msgs = [{"data": harness.b64("x%d" % k)} for k in range(i, i + 100)]
            st, _, raw = c.req("POST", "/v1/projects/%s/topics/two-t:publish" % p,
                               {"messages": msgs})
            self.assertEqual(st, 200, raw)
        got = []
        for q in procs:
            o, e = q.communicate(timeout=120)
            harness._untrack(q)
            js = [l for l in o.splitlines() if l.startswith("{")]
            self.assertTrue(js, o + e)
            got.append(json.loads(js[-1])["got"])
        self.assertEqual(set(got[0]) | set(got[1]), {"x%d" % k for k in range(n)})
        self.assertTrue(got[0] and got[1], "both brokers delivered: %d + %d"
                        % (len(got[0]), len(got[1])))

    # ---- a broker dies mid-stream ----------------------------------------

    def run_with_failover(self, how):
        a = self.start()
        b = self.start()
        proxy = Proxy(a.port)
        self.addCleanup(proxy.close)
        n = 200
        cmd = ["node", self.script(), self.project(), "slow", str(n)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.env_for(proxy.port), cwd=GOOGLE_DIR)
        harness._track(p)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        lines = []
        deadline = time.monotonic() + 60
        switched = False
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("progress ") and int(line.split()[1]) >= 40 and not switched:
                switched = True
                proxy.target = b.port  # new connections: the second broker
                if how == "kill":
                    a.kill9()
                else:
                    self.assertEqual(a.stop(), 0, a.log_tail())
            if line.startswith("{"):
                break
        rest, err = p.communicate(timeout=120)
        harness._untrack(p)
        lines += rest.splitlines()
        js = [l for l in lines if l.startswith("{")]
        self.assertTrue(switched, "".join(lines)[-2000:] + err[-2000:])
        self.assertTrue(js, "".join(lines)[-2000:] + err[-2000:])
        out = json.loads(js[-1])
        self.assertEqual(out.get("received"), n, "none lost: %r\n%s" % (out, err[-2000:]))
        return a, b

    def test_broker_sigkill_mid_stream(self):
        self.run_with_failover("kill")

    def test_broker_shutdown_mid_stream_ends_streams_unavailable(self):
        a, _ = self.run_with_failover("stop")
        log = a.log_tail(200)
        self.assertRegex(log, r"StreamingPull: [1-9][0-9]* streams? ended with UNAVAILABLE", log)


if __name__ == "__main__":
    harness.main()
