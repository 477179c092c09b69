#!/usr/bin/env python3
"""The gRPC endpoint at the HTTP/2 frame level, with hostile input
(docs/grpc.md): it_h2 (tests/integration/it_h2.c, nghttp2's client API or
raw bytes over a plain socket) runs one scenario per invocation and prints
one JSON line of what it saw; each test asserts on it, then that the broker
is still alive and serving (GET /healthz, a plain gRPC GetTopic on the REST
port and on --grpc-listen).

Covered: messages split over 1-byte DATA frames; unary bodies that are not
exactly one message; an 11 MiB Publish; compressed messages, a wrong
content-type, unknown methods answered at the headers; grpc-timeout
(DEADLINE_EXCEEDED during a long poll, nothing started once it was
answered, malformed values); request trailers; path fields that name
another collection; garbage after the preface, an oversized frame, a bad
HPACK block, CONTINUATION, PING and reset floods; 1000 concurrent streams
and a 1001st; unfinished request bodies held per connection; a
StreamingPull client that stops reading (the broker's memory stays
bounded, what the stream held is released when it breaks); streams
waiting for room when their subscription is deleted; RST_STREAM,
half-close and connection drops mid-call; the REST port's HTTP/2 sniffing
(a preface sent byte by byte, an HTTP/1.1 request that starts like one,
short HTTP/1.0 requests, a partial preface).

Run: REGNOTIFYD=build/broker/regnotifyd RN_IT_H2=build/tests/integration/it_h2 \\
     python3 tests/integration/test_grpc_wire.py"""

import json
import os
import select
import socket
import subprocess
import time

import harness

IT_H2 = os.environ.get("RN_IT_H2", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "tests", "integration",
    "it_h2"))

OK, DEADLINE_EXCEEDED, INVALID_ARGUMENT, INTERNAL, UNIMPLEMENTED = 0, 4, 3, 13, 12
# HTTP/2 error codes (RFC 9113 7)
PROTOCOL_ERROR, CANCEL, REFUSED_STREAM = 1, 8, 7
FRAME_SIZE_ERROR, COMPRESSION_ERROR = 6, 9


def rss(pid):
    """VmRSS of PID in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def sanitized(pid):
    """True when PID runs with AddressSanitizer (its RSS keeps a quarantine)."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


class GrpcWireTest(harness.BrokerTestCase):
    START_BROKER = False

    def setUp(self):
        super().setUp()
        if not os.access(IT_H2, os.X_OK):
            self.fail("it_h2 not found at %s: build it (cmake --build build --target it_h2)"
                      " or set RN_IT_H2" % IT_H2)
        self.gport = harness.free_port()
        self.b = self.env.start_broker(self.redis.port, extra=[
            "--grpc-listen", "127.0.0.1:%d" % self.gport])
        self.client = harness.Client(self.b.port)
        self.addCleanup(self.client.close)
        self.p = self.project()
        self.t, self.s = harness.uniq("topic"), harness.uniq("sub")
        self.create_topic(self.p, self.t)
        self.create_sub(self.p, self.s, self.t)
        self.T = harness.topic_name(self.p, self.t)
        self.S = harness.sub_name(self.p, self.s)

    # helpers --------------------------------------------------------------

    def h2(self, scenario, *args, port=None, timeout=150):
        """Runs it_h2 SCENARIO ARGS against PORT (default: the REST port);
        returns its JSON line."""
        cmd = [IT_H2, str(port or self.b.port), scenario] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, "%s: rc %d\n%s%s" % (cmd, p.returncode, p.stdout,
                                                                 p.stderr))
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, "%s printed no JSON: %r %r" % (cmd, p.stdout, p.stderr))
        return json.loads(lines[-1])

    @staticmethod
    def calls(out):
        return {c["label"]: c for c in out["calls"]}

    def assertStatus(self, call, code, message=None, what=""):
        self.assertEqual(call["status"], code, "%s: %s" % (what or call["label"], call))
        if message is not None:
            self.assertIn(message, call["message"], "%s: %s" % (what or call["label"], call))

    def assertTopicAnswer(self, call, what=""):
        """A successful GetTopic: status 0 in the trailers after one Topic."""
        self.assertStatus(call, OK, what=what)
        self.assertEqual(call["http"], 200, call)
        self.assertEqual(call["trailer"], 1, "grpc-status comes in the trailers: %s" % call)
        self.assertEqual(call["msgs"], 1, call)
        self.assertEqual(call["name"], self.T, call)

    def assertServing(self, what=""):
        """The broker lives, answers REST, and gRPC on both ports."""
        self.assertTrue(self.b.alive(), "%s: the broker died:\n%s" % (what, self.b.log_tail()))
        self.assertEqual(harness.http_status(self.b.port, "/healthz", timeout=5), 200, what)
        for port in (self.b.port, self.gport):
            out = self.h2("get", self.T, port=port)
            self.assertTopicAnswer(self.calls(out)["get"], "%s: GetTopic on port %d"
                                   % (what, port))

    def collect(self, sub, n, timeout):
        """messageIds pulled (returnImmediately, not acked) from SUB until N
        distinct ones or TIMEOUT; returns (ids, seconds)."""
        ids = set()
        t0 = time.monotonic()
        while len(ids) < n and time.monotonic() - t0 < timeout:
            rms = self.pull(self.p, sub, max_messages=100)
            ids.update(rm["message"]["messageId"] for rm in rms)
            if not rms:
                time.sleep(0.05)
        return ids, time.monotonic() - t0

    # 1. framing -----------------------------------------------------------

    def test_messages_split_over_tiny_data_frames(self):
        for port in (self.b.port, self.gport):
            out = self.h2("split", self.T, port=port)
            c = self.calls(out)
            get, pub = c["get_1byte"], c["publish_7byte"]
            self.assertTopicAnswer(get, "1-byte DATA frames, port %d" % port)
            self.assertGreaterEqual(get["data_frames"], 5 + 2 + len(self.T),
                                    "the prefix and body went one byte per frame: %s" % get)
            self.assertStatus(pub, OK)
            self.assertEqual(pub["trailer"], 1, pub)
            self.assertEqual(pub["f1"], 3, "three messageIds: %s" % pub)
            self.assertGreater(pub["data_frames"], 10, pub)
        # The 6 messages arrived whole (40 bytes: a digit and the alphabet).
        rms = self.pull_until(self.p, self.s, 6)
        datas = sorted(harness.unb64(rm["message"]["data"]) for rm in rms)
        want = sorted(bytes([ord("0") + k]) + bytes(ord("a") + i % 26 for i in range(1, 40))
                      for k in range(3) for _ in (0, 1))
        self.assertEqual(datas, want)
        self.assertServing()

    # 2. not exactly one message ---------------------------------------------

    def test_unary_body_must_be_exactly_one_message(self):
        out = self.h2("framing", self.T)
        c = self.calls(out)
        for label in ("two_messages", "headers_only", "empty_data", "truncated_prefix",
                      "short_body"):
            self.assertStatus(c[label], INTERNAL, "exactly one message")
            self.assertEqual(c[label]["trailers_only"], 1, c[label])
        self.assertStatus(c["junk_message"], INTERNAL, "does not parse")
        # The connection survived all of them.
        self.assertTopicAnswer(c["ok"], "GetTopic after the refusals")
        self.assertEqual((out["goaway"], out["eof"]), (0, 0), out)
        self.assertServing()

    # 3. oversized ------------------------------------------------------------

    def test_oversized_publish_then_same_connection_serves(self):
        out = self.h2("oversize", self.T)
        c = self.calls(out)
        self.assertStatus(c["publish_11MiB"], INVALID_ARGUMENT,
                          "Request payload size exceeds the limit")
        self.assertTopicAnswer(c["get_after"], "GetTopic on the same connection")
        self.assertEqual((out["goaway"], out["eof"]), (0, 0), out)
        self.assertNothingToPull(self.p, self.s, "the refused publish published nothing")
        self.assertServing()

    # 4. refusals -------------------------------------------------------------

    def test_refused_requests(self):
        out = self.h2("refusals", self.T, self.S)
        c = self.calls(out)
        self.assertStatus(c["compressed"], UNIMPLEMENTED, "Compressed")
        self.assertStatus(c["text_plain"], INVALID_ARGUMENT, "content-type")
        # No content-type at all: answered (not hung), whatever the code.
        self.assertIsNotNone(c["no_content_type"]["status"], c["no_content_type"])
        for label in ("unknown_method", "unknown_service", "no_path_method"):
            self.assertStatus(c[label], UNIMPLEMENTED)
            self.assertEqual(c[label]["data_at_end"], 0,
                             "%s: answered at the headers, before any DATA: %s"
                             % (label, c[label]))
            self.assertLess(c[label]["ms"], 2000, c[label])
        self.assertStatus(c["spull_huge_prefix"], INVALID_ARGUMENT,
                          "Request payload size exceeds the limit")
        self.assertStatus(c["spull_compressed"], UNIMPLEMENTED, "Compressed")
        self.assertStatus(c["spull_no_subscription"], INVALID_ARGUMENT, "name the subscription")
        self.assertStatus(c["spull_deadline_5"], INVALID_ARGUMENT, "stream ack deadline")
        self.assertStatus(c["spull_junk"], INTERNAL, "does not parse")
        self.assertStatus(c["spull_no_request"], INVALID_ARGUMENT, "first request")
        self.assertTopicAnswer(c["ok"], "GetTopic after the refusals")
        self.assertEqual((out["goaway"], out["eof"]), (0, 0), out)
        self.assertServing()

    def test_methods_not_served_are_refused_at_the_headers(self):
        # docs/grpc.md: methods without a route (the schema service, unknown
        # names) are answered UNIMPLEMENTED at the request's headers, "so a
        # client never waits". The body is held (3 s at most) until an
        # answer comes.
        schema = "projects/%s/schemas/%s" % (self.p, harness.uniq("schema"))
        cases = [("/google.pubsub.v1.SchemaService/CreateSchema", "projects/" + self.p, "-"),
                 ("/google.pubsub.v1.SchemaService/GetSchema", schema, "-"),
                 ("/google.pubsub.v1.Publisher/NoSuchMethod", self.T, "-"),
                 ("/google.pubsub.v1.Subscriber/NoSuchMethod", self.S, "-")]
        late = []
        for path, v1, v2 in cases:
            call = self.calls(self.h2("field1", path, v1, v2, "hold"))["call"]
            self.assertStatus(call, UNIMPLEMENTED, what=path)
            if call["data_at_end"] != 0:
                late.append("%s (answered %.0f ms after its headers, once its body came)"
                            % (path, call["ms"]))
        self.assertEqual(late, [], "not refused at the headers: the broker waited for the"
                         " request's message")
        self.assertServing()

    def test_path_fields_must_name_their_collection(self):
        # Each unary method is transcoded through its google.api.http rule,
        # whose path fields are patterns (DeleteTopic: {topic=projects/*/
        # topics/*}). A name of another collection must be refused, not
        # routed to another REST method.
        t2 = harness.uniq("topic")
        T2 = harness.topic_name(self.p, t2)
        self.create_topic(self.p, t2)
        cases = [
            ("/google.pubsub.v1.Publisher/DeleteTopic", self.S, "-",
             "GET", "/v1/" + self.S, "the subscription survives DeleteTopic"),
            ("/google.pubsub.v1.Subscriber/DeleteSubscription", T2, "-",
             "GET", "/v1/" + T2, "the topic survives DeleteSubscription"),
        ]
        newt = harness.topic_name(self.p, harness.uniq("topic"))
        wrong = []
        for path, v1, v2, method, check, what in cases:
            call = self.calls(self.h2("field1", path, v1, v2))["call"]
            st, _, _ = self.req(method, check)
            if call["status"] == OK or st != 200:
                wrong.append("%s(%s) -> grpc-status %s; %s %s -> %d (%s)"
                             % (path, v1, call["status"], method, check, st, what))
        # CreateSnapshot(name = a topic's name) must not create a topic
        # (nor be anything but UNIMPLEMENTED: no snapshots yet).
        call = self.calls(self.h2("field1", "/google.pubsub.v1.Subscriber/CreateSnapshot", newt,
                                  "-"))["call"]
        st, _, _ = self.req("GET", "/v1/" + newt)
        if call["status"] == OK or st != 404:
            wrong.append("CreateSnapshot(%s) -> grpc-status %s %r; GET it -> %d"
                         % (newt, call["status"], call["message"], st))
        self.assertEqual(wrong, [], "a path field of another collection was routed to that"
                         " collection's REST method")
        self.assertServing()

    # 5. grpc-timeout -----------------------------------------------------------

    def test_grpc_timeout_ends_a_long_poll(self):
        out = self.h2("timeout", self.S)
        call = self.calls(out)["pull_300m"]
        self.assertStatus(call, DEADLINE_EXCEEDED)
        # The long poll lasts pull_wait (10 s): the deadline answered it.
        self.assertLess(call["ms"], 5000, call)
        # A StreamingPull's grpc-timeout ends the stream the same way.
        call = self.calls(out)["spull_500m"]
        self.assertStatus(call, DEADLINE_EXCEEDED)
        self.assertLess(call["ms"], 5000, call)
        # The pull itself goes on; a publish wakes it and its answer is
        # dropped (the stream is gone).
        self.publish(self.p, self.t, ["wake"])
        time.sleep(0.3)
        self.assertServing()

    def test_request_trailers_on_a_unary_call(self):
        # HEADERS, DATA, then a trailer HEADERS frame with END_STREAM (legal
        # HTTP/2, which gRPC clients rarely send): 20 GetTopics with
        # grpc-timeout 500m. Right after, 20 long-polling Pulls without
        # grpc-timeout on the same connection: for 2 s (pull_wait is 10 s)
        # none may be answered, and the broker must live.
        out = self.h2("trailers", self.T, "500m", self.S, 20)
        self.assertTrue(self.b.alive(), "the broker died after requests with trailers"
                        " (rc %s):\n%s" % (self.b.proc.poll(), self.b.log_tail()))
        gets = [c for c in out["calls"] if c["label"] == "with_trailers"]
        pulls = [c for c in out["calls"] if c["label"] == "pull_no_timeout"]
        self.assertEqual((len(gets), len(pulls)), (20, 20), out)
        for call in gets:
            self.assertTopicAnswer(call, "GetTopic with request trailers")
        answered = ["%s %r after %.0f ms" % (c["status"], c["message"], c["ms"])
                    for c in pulls if c["status"] is not None]
        self.assertEqual(answered, [], "Pulls without grpc-timeout answered within 2 s")
        self.assertTopicAnswer(self.calls(out)["get_after"])
        self.assertEqual((out["goaway"], out["eof"]), (0, 0), out)
        self.assertServing()

    def test_no_work_starts_after_deadline_exceeded(self):
        # A Publish whose grpc-timeout (200m) runs out before its message
        # came: answered DEADLINE_EXCEEDED; the message that comes after
        # (600 ms) must not be published (a client that retries would
        # publish it twice).
        out = self.h2("late_body", self.T, "200m", 600)
        call = self.calls(out)["publish"]
        self.assertEqual(out["answered_before_body"], 1, out)
        self.assertStatus(call, DEADLINE_EXCEEDED)
        time.sleep(0.3)
        self.assertNothingToPull(self.p, self.s, "a Publish answered DEADLINE_EXCEEDED before"
                                 " its message arrived")
        self.assertServing()

    def test_malformed_grpc_timeout(self):
        c = self.calls(self.h2("bad_timeout", self.T))
        for label in ("abc", "nine_digits", "no_unit", "bad_unit"):
            self.assertStatus(c[label], INVALID_ARGUMENT, "grpc-timeout")
        self.assertTopicAnswer(c["valid_1H"], "grpc-timeout 1H")
        self.assertServing()

    # 6. malformed HTTP/2 ---------------------------------------------------------

    def test_malformed_http2_closes_the_connection(self):
        want = {"garbage": PROTOCOL_ERROR, "bigframe": FRAME_SIZE_ERROR,
                "badhpack": COMPRESSION_ERROR}
        for port in (self.b.port, self.gport):
            for scenario, code in sorted(want.items()):
                out = self.h2(scenario, port=port)
                what = "%s on port %d: %s" % (scenario, port, out)
                self.assertEqual(out["eof"], 1, "the broker closes the connection: " + what)
                self.assertLess(out["ms"], 4000, what)
                self.assertEqual(out["goaway"], 1, what)
                self.assertEqual(out["goaway_code"], code, what)
        # HTTP/1.1 on the HTTP/2-only port: closed, not answered.
        out = self.h2("badmagic", port=self.gport)
        self.assertEqual(out["eof"], 1, out)
        self.assertLess(out["ms"], 4000, out)
        self.assertServing()

    def test_header_floods(self):
        for port in (self.b.port, self.gport):
            # CONTINUATION frames that never end the headers: cut short.
            out = self.h2("continuation", 8192, port=port)
            # Closed: EOF, or the reset of a write (EPIPE, ECONNRESET) when
            # the broker closed with the flood still unread.
            self.assertTrue(out["eof"] == 1 or out.get("write_error") in (32, 104),
                            "port %d: %s" % (port, out))
            self.assertLess(out["sent"], out["of"], out)
            self.assertLess(out["ms"], 5000, out)
        # 32 KiB of headers in CONTINUATION frames, under the 64 KiB the
        # broker advertises: answered (no message: INTERNAL, in a HEADERS).
        out = self.h2("continuation", 32, "end")
        self.assertEqual((out["headers"], out["eof"]), (1, 0), out)
        # 32 unknown headers of 1000 bytes: ignored, the call served.
        c = self.calls(self.h2("bigheaders", self.T, 32))
        self.assertTopicAnswer(c["get"], "GetTopic with 32 KB of extra headers")
        self.assertTopicAnswer(c["get_after"])
        self.assertServing()

    def test_floods(self):
        # PINGs written without reading the ACKs: nghttp2's flood guard
        # closes the connection (the broker's output stops at 4 MiB).
        out = self.h2("pingflood", 1000000, "noread")
        self.assertEqual(out["eof"], 1, out)
        self.assertLess(out["sent"], out["of"], out)
        # Streams sent whole and reset at once, 100 at a time (CVE-2023-
        # 44487): the connection is closed by a GOAWAY, or keeps serving.
        out = self.h2("rapid_reset", self.T, 20000)
        if out["goaway"]:
            self.assertEqual(out["eof"], 1, out)
        else:
            self.assertTopicAnswer(out["get_after"], "GetTopic after 20000 resets")
        time.sleep(0.3)                                # the calls in flight end
        self.assertServing()

    # 7. concurrency ---------------------------------------------------------------

    def test_1000_concurrent_streams_and_a_1001st(self):
        # Before the client has read (and acknowledged) the server's
        # SETTINGS: the 1001st is refused with RST_STREAM REFUSED_STREAM
        # (nghttp2's rule for a limit not acknowledged yet); the 1000 are
        # answered.
        for port in (self.b.port, self.gport):
            out = self.h2("streams", self.T, port=port)
            what = "port %d: %s" % (port, {k: v for k, v in out.items() if k != "s1001"})
            self.assertEqual(out["max_streams"], 1000, what)
            self.assertEqual(out["headers_sent"], 1001, what)
            self.assertEqual(out["ok"], 1000, what)
            self.assertEqual(out["s1001"]["rst"], REFUSED_STREAM, out["s1001"])
            self.assertEqual((out["goaway"], out["eof"], out["h2err"]), (0, 0, 0), what)
        # After the SETTINGS were acknowledged, the 1001st (written past
        # the client library's own limit) is a connection error.
        out = self.h2("streams", self.T, "acked")
        self.assertEqual(out["headers_sent"], 1000, out)
        self.assertEqual(out["goaway"], 1, out)
        self.assertEqual(out["goaway_code"], PROTOCOL_ERROR, out)
        self.assertEqual(out["eof"], 1, out)
        self.assertServing()

    # 8. a client that never reads ------------------------------------------------

    def stuck_client(self, window):
        """A StreamingPull (stream deadline 60 s) that stops reading once
        open; 64 MiB published meanwhile. The broker's RSS grows far less
        than that, other clients are served, and when the socket closes
        every message it had been sent comes back at once."""
        pid = self.b.pid
        size, per, batches = 64 * 1024, 16, 64       # 64 MiB in 1 MiB publishes
        payload = harness.b64(os.urandom(size))
        body = {"messages": [{"data": payload} for _ in range(per)]}
        warm = harness.uniq("topic")                   # the allocator sees such bodies first
        self.create_topic(self.p, warm)
        for _ in range(4):
            self.assertOk(self.req("POST", "/v1/projects/%s/topics/%s:publish" % (self.p, warm),
                                   body))
        r0 = rss(pid)
        proc = subprocess.Popen([IT_H2, str(self.b.port), "stuck", self.S, str(window)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 15)
            self.assertTrue(ready, "it_h2 stuck did not get its StreamingPull open")
            first = json.loads(proc.stdout.readline())
            self.assertEqual((first["phase"], first["http"], first["end"]), ("ready", 200, 0),
                             first)
            peak, n = r0, 0
            for _ in range(batches):
                self.assertOk(self.req("POST", "/v1/projects/%s/topics/%s:publish"
                                       % (self.p, self.t), body))
                n += per
                peak = max(peak, rss(pid))
            time.sleep(0.5)
            peak = max(peak, rss(pid))
            self.assertServing("while a client does not read")
            peak = max(peak, rss(pid))
            proc.stdin.write("close\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 15)
            self.assertTrue(ready, "it_h2 stuck did not close")
            last = json.loads(proc.stdout.readline())
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            proc.stdin.close()
            proc.stdout.close()
        # The stream was sent messages (more than its response headers).
        self.assertGreater(last["unread"], 200, last)
        grown = peak - r0
        if sanitized(pid):
            print("\n[%s] ASan build: RSS grew %.1f MB (not bounded here: the quarantine)"
                  % (self.id(), grown / 1e6))
        else:
            self.assertLess(grown, 40 * 1024 * 1024,
                            "RSS grew %.1f MB while 64 MiB waited for a client that does not"
                            " read" % (grown / 1e6))
        # Closed: what the stream held (never confirmed) is released, long
        # before its 60 s leases would run out.
        ids, took = self.collect(self.s, n, 20)
        self.assertEqual(len(ids), n, "only %d of %d messages came back within %.0f s after"
                         " the stuck stream closed" % (len(ids), n, took))
        self.assertServing("after the stuck client left")
        return last

    def test_client_that_never_reads_tiny_window(self):
        # SETTINGS_INITIAL_WINDOW_SIZE 1024, no WINDOW_UPDATE.
        self.stuck_client(1024)

    def test_client_that_never_reads_its_socket(self):
        # Windows of 1 GiB, the socket never read: TCP backs up instead.
        self.stuck_client(1 << 30)

    def test_request_bodies_in_flight_are_bounded_per_connection(self):
        # 40 Publish streams on one connection, each sending a 10 MiB
        # message (the limit) and never ending: what the broker accepts
        # it holds until END_STREAM. 1000 streams may be open, so without
        # a budget per connection (flow control: no WINDOW_UPDATE for what
        # is not processed yet) one connection could make it hold 10 GiB.
        pid = self.b.pid
        r0 = rss(pid)
        proc = subprocess.Popen([IT_H2, str(self.b.port), "bodies", self.T, "40", "10240"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 40)
            self.assertTrue(ready, "it_h2 bodies did not report")
            sent = json.loads(proc.stdout.readline())
            time.sleep(0.3)
            grown = rss(pid) - r0
            self.assertEqual(harness.http_status(self.b.port, "/healthz", timeout=5), 200)
            proc.stdin.write("close\n")
            proc.stdin.flush()
            proc.stdout.readline()
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            proc.stdin.close()
            proc.stdout.close()
        msg = ("RSS grew %.0f MB while one connection had %.0f MB of unfinished request"
               " bodies accepted (%s)" % (grown / 1e6, sent["sent"] / 1e6, sent))
        if sanitized(pid):
            print("\n[%s] ASan build: %s (not bounded here)" % (self.id(), msg))
        else:
            self.assertLess(grown, 160 * 1024 * 1024, msg)
        self.assertServing()

    # 9. cancels and drops -------------------------------------------------------

    def test_cancel_long_polling_pull(self):
        out = self.h2("cancel_pull", self.S, self.T)
        c = self.calls(out)
        self.assertEqual(out["answered_before_cancel"], 0, "the Pull long-polls: %s" % out)
        self.assertEqual(c["pull"]["close_code"], CANCEL, c["pull"])
        self.assertTopicAnswer(c["get_after"], "GetTopic after the cancel")
        # The cancelled pull is still parked: a publish wakes it, for nobody.
        self.publish(self.p, self.t, ["wake"])
        time.sleep(0.3)
        self.assertServing()

    def streaming_pull_broken(self, mode):
        ids = set(self.publish(self.p, self.t, ["m%d" % i for i in range(5)]))
        out = self.h2("spull_break", self.S, self.T, 5, mode)
        c = self.calls(out)
        self.assertEqual(out["received_before"], 5, "the stream got the 5 messages: %s" % out)
        self.assertEqual(out["ended_before"], 0, out)
        if mode == "halfclose":
            self.assertStatus(c["spull"], OK)
            self.assertEqual(c["spull"]["trailer"], 1, c["spull"])
        if mode != "drop":
            self.assertTopicAnswer(c["get_after"], "GetTopic after the %s" % mode)
        # Never confirmed (no modack, no ack): released at once, long before
        # the stream's 60 s deadline.
        got, took = self.collect(self.s, 5, 5)
        self.assertEqual(got, ids, "after %s: %d of 5 back within %.1f s" % (mode, len(got),
                                                                               took))
        self.assertServing()

    def test_streaming_pull_rst_stream(self):
        self.streaming_pull_broken("rst")

    def test_streaming_pull_half_close(self):
        self.streaming_pull_broken("halfclose")

    def test_streaming_pull_connection_drop(self):
        self.streaming_pull_broken("drop")

    def test_streams_waiting_for_room_end_when_their_subscription_goes(self):
        # 11 StreamingPulls of one subscription on one connection: one
        # client, at most 10,000 outstanding, pulls of 1000. All 11 open at
        # once (their first pulls return immediately); then 10 long polls
        # reserve all the room and the 11th waits for some. The
        # subscription is deleted: every stream must end with NOT_FOUND at
        # once (a library reports the error when all its streams ended),
        # none may wait forever.
        out = self.h2("spulls", self.S, 11, 0, 10000, 5000)
        what = {k: v for k, v in out.items() if k != "delete"}
        self.assertEqual(out["opened"], 11, what)
        self.assertStatus(out["delete"], OK, what="DeleteSubscription")
        self.assertEqual(out["unended"], 0, "streams still open %.0f ms after their"
                         " subscription was deleted: %s" % (out["end_ms"], what))
        self.assertEqual(out["by_status"], {"5": 11}, what)
        self.assertServing()

    def test_room_of_a_cancelled_pull_is_freed(self):
        # Two streams of one client (one connection, maxOutstandingMessages
        # 10): the first one's long poll holds the room when it is
        # cancelled; the second must then get what is published.
        t2, s2 = harness.uniq("topic"), harness.uniq("sub")
        self.create_topic(self.p, t2)
        self.create_sub(self.p, s2, t2)
        out = self.h2("room_after_cancel", harness.sub_name(self.p, s2),
                      harness.topic_name(self.p, t2))
        self.assertEqual(out["second_received"], 5, out)
        self.assertServing()

    def test_a_closing_client_does_not_bounce_its_messages(self):
        # 5 streams of one client (a dead-letter policy of 5 attempts on the
        # subscription) take 20 messages and are cancelled 60 ms apart, as
        # a library closes. What they never confirmed is released once
        # they are all gone - not pulled again by the closing siblings,
        # each time a delivery attempt more, towards the dead-letter topic.
        t2, s2, dt, ds = (harness.uniq("topic"), harness.uniq("sub"), harness.uniq("dead"),
                          harness.uniq("deadsub"))
        self.create_topic(self.p, t2)
        self.create_topic(self.p, dt)
        self.create_sub(self.p, ds, dt)
        self.create_sub(self.p, s2, t2, deadLetterPolicy={
            "deadLetterTopic": harness.topic_name(self.p, dt), "maxDeliveryAttempts": 5})
        self.publish(self.p, t2, ["m%d" % i for i in range(20)])
        out = self.h2("close_all", harness.sub_name(self.p, s2), 5, 20, 60)
        self.assertEqual(out["received"], 20, out)
        time.sleep(1.5)
        st, js, raw = self.client.req("POST", "/v1/projects/%s/subscriptions/%s:pull"
                                      % (self.p, s2),
                                      {"maxMessages": 100, "returnImmediately": True})
        self.assertEqual(st, 200, raw)
        got = js.get("receivedMessages", [])
        self.assertEqual(len(got), 20, "all released: %r" % js)
        self.assertEqual(sorted({m["deliveryAttempt"] for m in got}), [2],
                         "one attempt for the cancelled delivery, no bounces")
        self.assertNothingToPull(self.p, ds, "the dead-letter topic")

    def test_connection_drop_mid_call(self):
        t2, s2 = harness.uniq("topic"), harness.uniq("sub")
        self.create_topic(self.p, t2)
        self.create_sub(self.p, s2, t2)
        out = self.h2("drop_mid", self.S, harness.topic_name(self.p, t2))
        self.assertEqual(out["pull_done"], 0, out)
        self.assertGreater(out["sent_of_publish"], 0, out)
        self.assertLess(out["sent_of_publish"], out["publish_len"], out)
        # 1000 long polls in flight on one connection that goes away.
        out = self.h2("pulls", self.S, 1000)
        self.assertEqual(out["answered"], 0, out)
        time.sleep(0.3)
        self.publish(self.p, self.t, ["wake %d" % i for i in range(20)])
        time.sleep(0.5)
        # Half a Publish published nothing.
        self.assertNothingToPull(self.p, s2, "the half-sent publish")
        self.assertServing()

    # 10. the REST port's sniffing ---------------------------------------------------

    def raw_http(self, chunks, pause=0.3, timeout=5.0):
        """Sends CHUNKS on a fresh REST-port socket with PAUSE between them
        and returns what comes back until EOF or TIMEOUT."""
        s = socket.create_connection(("127.0.0.1", self.b.port), timeout=timeout)
        try:
            for i, ch in enumerate(chunks):
                if i:
                    time.sleep(pause)
                s.sendall(ch)
            data = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                r, _, _ = select.select([s], [], [], 0.1)
                if not r:
                    continue
                d = s.recv(65536)
                if not d:
                    break
                data += d
            return data
        finally:
            s.close()

    def test_rest_port_sniffing(self):
        # (a) the preface (and the SETTINGS header) one byte per write
        out = self.h2("slow_preface", self.T)
        self.assertTopicAnswer(self.calls(out)["get"], "GetTopic after a slow preface")
        # (b) HTTP/1.1 that starts like the preface ("P"), the rest later
        body = json.dumps({"messages": [{"data": harness.b64("sniffed")}]}).encode()
        head = ("OST /v1/projects/%s/topics/%s:publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n"
                "Connection: close\r\n\r\n" % (self.p, self.t, len(body))).encode()
        resp = self.raw_http([b"P", head + body])
        self.assertTrue(resp.startswith(b"HTTP/1.1 200"), resp[:300])
        js = json.loads(resp.split(b"\r\n\r\n", 1)[1])
        self.assertEqual(len(js["messageIds"]), 1, js)
        rms = self.pull_until(self.p, self.s, 1)
        self.assertEqual([harness.unb64(rm["message"]["data"]) for rm in rms], [b"sniffed"])
        # (c) short HTTP/1.0 requests, fewer bytes than the preface's 24 too
        for req in (b"GET /healthz HTTP/1.0\r\n\r\n", b"HEAD / HTTP/1.0\r\n\r\n",
                    b"GET / HTTP/1.0\r\n\r\n"):
            t0 = time.monotonic()
            resp = self.raw_http([req])
            self.assertRegex(resp[:12], rb"^HTTP/1\.[01] \d\d\d",
                             "%r: got %r after %.1f s" % (req, resp[:200],
                                                          time.monotonic() - t0))
            if req.startswith(b"GET /healthz"):
                self.assertTrue(resp.startswith(b"HTTP/1.0 200") or
                                resp.startswith(b"HTTP/1.1 200"), resp[:200])
        # (d) 10 bytes of the preface, then closed; another that stalls
        # there while others are served; the whole preface, then closed.
        s = socket.create_connection(("127.0.0.1", self.b.port), timeout=5)
        s.sendall(b"PRI * HTTP")
        s.close()
        stalled = socket.create_connection(("127.0.0.1", self.b.port), timeout=5)
        self.addCleanup(stalled.close)
        stalled.sendall(b"PRI * HTTP")
        s = socket.create_connection(("127.0.0.1", self.b.port), timeout=5)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        s.close()
        self.assertServing("with a connection stalled inside the preface")
        stalled.close()
        time.sleep(0.2)
        self.assertServing()


if __name__ == "__main__":
    harness.main()
