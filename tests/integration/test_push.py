#!/usr/bin/env python3
"""Push subscriptions: a real regnotifyd pushes to a scriptable HTTP/1.1
sink (tests/integration/push_sink.py) started by each test on a free
127.0.0.1 port.

Covers: the wrapped body (exact fields, both spellings, deliveryAttempt only
with a deadLetterPolicy), noWrapper with and without writeMetadata,
attributes that must not override protocol headers (request smuggling,
Host, Authorization, ...), CloudEvents binary mode, ack statuses
(200/201/202/204 ack; 203/205/3xx/4xx/5xx nack, redirects not followed;
102 is an interim response to an HTTP client and is not scripted here),
timeouts, connection refused, backoff
(growing per-subscription pause, retryPolicy, Retry-After, no hot loop),
dead-lettering, stop/resume (modifyPushConfig {}, PATCH, DELETE), SIGKILL of
the broker mid-stream, Standard Webhooks / X-Hub-Signature-256 /
Authorization (verified independently here) with secrets never shown by GET
nor written to the broker log, pushConfig validation and the push metrics.
Run: python3 tests/integration/test_push.py"""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid

import harness
from harness import Client, b64, unb64, parse_time, topic_name, sub_name, RFC3339_Z
from push_sink import Reply, Sink

WRAPPED_MESSAGE_KEYS = {"attributes", "data", "messageId", "message_id", "publishTime",
                        "publish_time", "orderingKey"}

_METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')


def parse_metrics(text):
    """Prometheus text -> {(name, ((label, value), ...)): float}."""
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = _METRIC_LINE.match(ln)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(3))
    return out


def gaps(reqs):
    return [b.t - a.t for a, b in zip(reqs, reqs[1:])]


def whsec(nbytes=32):
    return "whsec_" + base64.b64encode(os.urandom(nbytes)).decode()


class PushTest(harness.BrokerTestCase):

    # helpers ----------------------------------------------------------------

    def sink(self, script=None, port=0):
        s = Sink(script, port).start()
        self.addCleanup(s.stop)
        return s

    def push_sub(self, p, s, t, push_config, **fields):
        js = self.create_sub(p, s, t, pushConfig=push_config, **fields)
        self.addCleanup(self._delete_quietly, self.client, p, s)
        return js

    @staticmethod
    def _delete_quietly(client, p, s):
        try:
            client.req("DELETE", "/v1/projects/%s/subscriptions/%s" % (p, s))
        except Exception:
            pass

    def get_sub(self, p, s):
        return self.req("GET", "/v1/projects/%s/subscriptions/%s" % (p, s))

    def modify_push(self, p, s, pc):
        return self.req("POST", "/v1/projects/%s/subscriptions/%s:modifyPushConfig" % (p, s),
                        {"pushConfig": pc})

    def metrics(self):
        st, _, raw = self.req("GET", "/metrics")
        self.assertEqual(st, 200, raw[:300])
        return raw.decode("utf-8", "replace")

    def metric(self, name, sub, text=None, **labels):
        m = parse_metrics(text if text is not None else self.metrics())
        labels["subscription"] = sub
        return m.get((name, tuple(sorted(labels.items()))))

    def requests_metric(self, sub, cls, text=None):
        return self.metric("regnotify_push_requests_total", sub, text, response_class=cls)

    def mirror_messages(self, p, s, n, timeout=10):
        """messageId -> message pulled from the pull subscription S."""
        rms = self.pull_until(p, s, n, timeout=timeout)
        out = {rm["message"]["messageId"]: rm["message"] for rm in rms}
        self.assertEqual(len(out), n, "mirror subscription %s got %r" % (s, rms))
        return out

    def assertSameTime(self, a, b, what=""):
        self.assertEqual(parse_time(a), parse_time(b), "%s: %s vs %s" % (what, a, b))

    def verify_standard_webhook(self, req, secret):
        wid = req.header("webhook-id")
        ts = req.header("webhook-timestamp")
        sig = req.header("webhook-signature")
        self.assertTrue(wid and ts and sig, "Standard Webhooks headers missing: %r"
                        % req.header_items)
        self.assertNotIn(".", wid)
        self.assertRegex(ts, r"^[0-9]+$")
        self.assertLessEqual(abs(int(ts) - req.wall), 5,
                             "webhook-timestamp %s is not the time of this attempt (%.0f)"
                             % (ts, req.wall))
        self.assertTrue(secret.startswith("whsec_"))
        key = base64.b64decode(secret[len("whsec_"):])
        signed = wid.encode() + b"." + ts.encode() + b"." + req.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        ok = False
        for part in sig.split(" "):
            version, _, value = part.partition(",")
            if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
                ok = True
        self.assertTrue(ok, "webhook-signature %r does not verify (expected v1,%s)"
                        % (sig, expected))
        return wid, int(ts)

    def verify_hub_signature(self, req, secret):
        got = req.header("X-Hub-Signature-256")
        self.assertIsNotNone(got, "X-Hub-Signature-256 missing: %r" % req.header_items)
        want = "sha256=" + hmac.new(secret.encode(), req.body, hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(got.encode(), want.encode()),
                        "X-Hub-Signature-256 %r, expected %r" % (got, want))

    # formats -------------------------------------------------------------------

    def test_wrapped_format_exact(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        sink = self.sink()
        self.create_sub(p, "mirror", "top")
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url("/plain"),
                                         "attributes": {"x-goog-version": "v1"}})
        self.push_sub(p, "push-dlq", "top", {"pushEndpoint": sink.url("/dlq"),
                                             "pubsubWrapper": {}},
                      deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                        "maxDeliveryAttempts": 5})
        ids = self.publish(p, "top", [
            {"data": b64("hello")},
            {"data": b64(b"\x00\x01binary\xff\xfe"), "attributes": {"k": "v", "empty": ""}},
            {"attributes": {"only": "attributes"}},
            {"data": b64(json.dumps({"action": "INSERT", "digest": "h/r@sha256:" + "a" * 64}))},
        ])
        ids += self.publish(p, "top", [{"data": b64("ordered"), "orderingKey": "key-1"}])
        mirror = self.mirror_messages(p, "mirror", len(ids))
        self.assertEqual(set(mirror), set(ids))

        def both(reqs):
            got = {(r.path, r.key) for r in reqs}
            return all((path, i) in got for i in ids for path in ("/plain", "/dlq"))
        sink.wait_for(both, 10, "every message on both push subscriptions")
        time.sleep(1.0)       # acked: nothing more may come

        for path, sub, has_attempt in (("/plain", "push", False), ("/dlq", "push-dlq", True)):
            for mid in ids:
                reqs = [r for r in sink.for_key(mid) if r.path == path]
                self.assertEqual(len(reqs), 1, "%s %s: acked by a 200 but pushed %d times"
                                 % (path, mid, len(reqs)))
                r = reqs[0]
                want = mirror[mid]
                self.assertEqual(r.method, "POST")
                self.assertEqual(r.header("Content-Type", "").split(";")[0].strip().lower(),
                                 "application/json")
                body = r.json()
                self.assertIsInstance(body, dict, r.body[:300])
                expect_keys = {"message", "subscription"} | ({"deliveryAttempt"}
                                                             if has_attempt else set())
                self.assertEqual(set(body), expect_keys, "%s top-level keys of %r" % (path, body))
                self.assertEqual(body["subscription"], sub_name(p, sub))
                if has_attempt:
                    self.assertIs(type(body["deliveryAttempt"]), int)
                    self.assertEqual(body["deliveryAttempt"], 1)
                msg = body["message"]
                self.assertLessEqual(set(msg), WRAPPED_MESSAGE_KEYS, "message keys %r" % msg)
                self.assertEqual(msg["messageId"], mid)
                self.assertEqual(msg["message_id"], mid)
                self.assertRegex(msg["publishTime"], RFC3339_Z)
                self.assertEqual(msg["publishTime"], msg["publish_time"])
                self.assertSameTime(msg["publishTime"], want["publishTime"], "publishTime")
                self.assertEqual(unb64(msg.get("data", "")), unb64(want.get("data", "")))
                if "attributes" in want:
                    self.assertEqual(msg.get("attributes"), want["attributes"])
                else:
                    self.assertFalse(msg.get("attributes"), "no attributes published: %r" % msg)
                if want.get("orderingKey"):
                    self.assertEqual(msg.get("orderingKey"), want["orderingKey"])
                else:
                    self.assertNotIn("orderingKey", msg, "orderingKey only when set: %r" % msg)
        self.assertEqual(sink.for_key(ids[-1])[0].json()["message"]["orderingKey"], "key-1")
        self.assertEqual(sink.for_key(ids[1])[0].data, b"\x00\x01binary\xff\xfe")
        self.assertEqual(sink.script_errors, [])

    def test_no_wrapper_with_and_without_metadata(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink()
        self.create_sub(p, "mirror", "top")
        self.push_sub(p, "meta", "top", {"pushEndpoint": sink.url("/meta"),
                                         "noWrapper": {"writeMetadata": True}})
        self.push_sub(p, "nometa", "top", {"pushEndpoint": sink.url("/nometa"),
                                           "noWrapper": {"writeMetadata": False}})
        data1 = b"\x00\x01raw \xff bytes " + uuid.uuid4().hex.encode()
        data2 = b"ordered " + uuid.uuid4().hex.encode()
        ids = self.publish(p, "top", [{"data": b64(data1),
                                       "attributes": {"color": "blue", "X-Trace-Id": "abc-123"}}])
        ids += self.publish(p, "top", [{"data": b64(data2), "orderingKey": "ok-1"}])
        mirror = self.mirror_messages(p, "mirror", 2)

        sink.wait_for(lambda reqs: len({r.key for r in reqs if r.path == "/meta"}) >= 2
                      and len({r.key for r in reqs if r.path == "/nometa"}) >= 2, 10,
                      "both messages on both subscriptions")
        meta = {r.key: r for r in sink.snapshot() if r.path == "/meta"}
        self.assertEqual(set(meta), set(ids), "writeMetadata: x-goog-pubsub-message-id headers")
        for mid, data in zip(ids, (data1, data2)):
            r = meta[mid]
            self.assertEqual(r.method, "POST")
            self.assertEqual(r.body, data, "noWrapper: the body is the raw data")
            self.assertEqual(r.header("x-goog-pubsub-subscription-name"), sub_name(p, "meta"))
            self.assertEqual(r.header("x-goog-pubsub-message-id"), mid)
            pt = r.header("x-goog-pubsub-publish-time")
            self.assertRegex(pt or "", RFC3339_Z)
            self.assertSameTime(pt, mirror[mid]["publishTime"], "x-goog-pubsub-publish-time")
        first, second = meta[ids[0]], meta[ids[1]]
        self.assertEqual(first.header("color"), "blue", "attributes become headers")
        self.assertEqual(first.header("x-trace-id"), "abc-123")
        self.assertIsNone(first.header("x-goog-pubsub-ordering-key"))
        self.assertEqual(second.header("x-goog-pubsub-ordering-key"), "ok-1")
        self.assertIsNone(second.header("color"))

        nometa = [r for r in sink.snapshot() if r.path == "/nometa"]
        self.assertEqual(sorted(r.body for r in nometa), sorted([data1, data2]))
        for r in nometa:
            self.assertEqual([h for h in r.header_names() if h.startswith("x-goog")], [],
                             "writeMetadata false: no metadata headers, got %r" % r.header_items)
            self.assertIsNone(r.header("color"))
            self.assertIsNone(r.header("x-trace-id"))

    def test_no_wrapper_attributes_cannot_override_protocol_headers(self):
        # Attributes become headers, but a publisher must not be able to
        # change the framing of the request (Content-Length, Transfer-Encoding:
        # request smuggling on the keep-alive connection), its Host, or the
        # headers the broker itself sets (Authorization, Content-Type,
        # x-goog-pubsub-*, webhook-*).
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink()
        token = "Bearer real-" + uuid.uuid4().hex
        secret = whsec(32)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url(),
                                         "noWrapper": {"writeMetadata": True},
                                         "authorization": token,
                                         "standardWebhooks": {"secret": secret}})
        smuggle = b"POST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        cases = [(smuggle, {"Content-Length": "0"}),
                 (b"m1-host", {"Host": "evil.example"}),
                 (b"m2-auth", {"Authorization": "Bearer attacker"}),
                 (b"m3-te", {"Transfer-Encoding": "chunked"}),
                 (b"m4-ct", {"Content-Type": "text/evil"}),
                 (b"m5-id", {"x-goog-pubsub-message-id": "spoofed", "webhook-id": "spoofed"}),
                 (b"m6-plain", {"harmless": "yes"}),
                 (b"m7-crlf", {"inject": "a\r\nX-Injected: 1"})]
        ids = self.publish(p, "top", [{"data": b64(d), "attributes": a} for d, a in cases])
        sink.wait_for(lambda reqs: len([r for r in reqs if r.path == "/push"]) >= len(cases),
                      15, "one request per message")
        time.sleep(1.0)
        reqs = sink.snapshot()
        with self.subTest("no smuggled request"):
            self.assertEqual([(r.method, r.path, r.header_items) for r in reqs
                              if r.path != "/push"], [],
                             "message data was parsed as another request (request smuggling)")
        with self.subTest("bodies"):
            self.assertEqual(sorted(r.body for r in reqs if r.path == "/push"),
                             sorted(d for d, _ in cases),
                             "request bodies must be exactly the message data")
        for r in [r for r in reqs if r.path == "/push"]:
            with self.subTest(body=r.body[:20]):
                cl = r.headers_named("Content-Length")
                self.assertLessEqual(len(cl), 1, r.header_items)
                if cl:
                    self.assertEqual(int(cl[0]), len(r.body))
                self.assertEqual(r.headers_named("Transfer-Encoding"), [], r.header_items)
                self.assertEqual(r.headers_named("Host"), ["127.0.0.1:%d" % sink.port])
                self.assertEqual(r.headers_named("Authorization"), [token])
                self.assertEqual(len(r.headers_named("Content-Type")), 1, r.header_items)
                mids = r.headers_named("x-goog-pubsub-message-id")
                self.assertEqual(len(mids), 1, r.header_items)
                self.assertIn(mids[0], ids)
                self.assertEqual(r.headers_named("webhook-id"), mids, r.header_items)
                self.verify_standard_webhook(r, secret)
                self.assertEqual(r.headers_named("X-Injected"), [], "header injection")
        plain = [r for r in reqs if r.body == b"m6-plain"]
        self.assertEqual(plain[0].header("harmless"), "yes")

    def test_cloud_events_binary_mode(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink()
        self.create_sub(p, "mirror", "top")
        self.push_sub(p, "ce-default", "top", {"pushEndpoint": sink.url("/default"),
                                               "cloudEvents": {}})
        self.push_sub(p, "ce-custom", "top", {"pushEndpoint": sink.url("/custom"),
                                              "cloudEvents": {
                                                  "typePrefix": "com.example.registry",
                                                  "source": "https://registry.example.com/r"}})
        digest = "gcr.io/proj/app@sha256:" + "0123456789abcdef" * 4
        insert = json.dumps({"action": "INSERT", "digest": digest,
                             "tag": "gcr.io/proj/app:1.0"}).encode()
        delete = json.dumps({"action": "DELETE", "digest": digest}).encode()
        plain = b"plain text, not an image event"
        ids = self.publish(p, "top", [
            {"data": b64(insert), "attributes": {"action": "INSERT"}},
            {"data": b64(delete), "attributes": {"action": "DELETE"}},
            {"data": b64(plain)},
        ])
        mirror = self.mirror_messages(p, "mirror", 3)
        sink.wait_for(lambda reqs: {(r.path, r.key) for r in reqs} >=
                      {(path, i) for i in ids for path in ("/default", "/custom")}, 10,
                      "every message on both CloudEvents subscriptions")
        want_type = {ids[0]: "image.inserted", ids[1]: "image.deleted",
                     ids[2]: "message.published"}
        want_subject = {ids[0]: "gcr.io/proj/app:1.0", ids[1]: digest, ids[2]: None}
        want_body = {ids[0]: insert, ids[1]: delete, ids[2]: plain}
        for path, prefix, source in (("/default", "dev.regnotify",
                                      "//regnotify/" + topic_name(p, "top")),
                                     ("/custom", "com.example.registry",
                                      "https://registry.example.com/r")):
            for mid in ids:
                reqs = [r for r in sink.for_key(mid) if r.path == path]
                self.assertTrue(reqs)
                r = reqs[0]
                self.assertEqual(r.body, want_body[mid], "binary mode: the body is the data")
                self.assertEqual(r.header("ce-specversion"), "1.0")
                self.assertEqual(r.header("ce-id"), mid)
                self.assertEqual(r.header("ce-source"), source)
                self.assertEqual(r.header("ce-type"), prefix + "." + want_type[mid])
                ct = r.header("ce-time")
                self.assertRegex(ct or "", RFC3339_Z)
                self.assertSameTime(ct, mirror[mid]["publishTime"], "ce-time")
                self.assertEqual(r.header("ce-subject"), want_subject[mid],
                                 "%s %s ce-subject" % (path, mid))
                self.assertFalse(r.is_wrapped())
                if mid != ids[2]:
                    self.assertEqual(r.header("Content-Type", "").split(";")[0].strip().lower(),
                                     "application/json", "datacontenttype of JSON data")

    # ack / nack ----------------------------------------------------------------

    def test_ack_and_nack_status_codes(self):
        p = self.project()
        self.create_topic(p, "top")
        plan = {"ack-200": [200], "ack-201": [201], "ack-202": [202], "ack-204": [204],
                "nack-203": [203, 200], "nack-205": [205, 200], "nack-302": [302, 200],
                "nack-404": [404, 200], "nack-503": [503, 200]}
        holder = {}

        def script(req, n):
            seq = plan[req.data.decode()]
            st = seq[min(n, len(seq)) - 1]
            if req.path != "/push":
                return 500
            if st == 302:
                return Reply(302, {"Location": holder["sink"].url("/followed")})
            return st
        sink = holder["sink"] = self.sink(script)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()})
        names = sorted(plan)
        ids = dict(zip(self.publish(p, "top", names), names))
        for mid, name in ids.items():
            sink.wait_count(mid, len(plan[name]), 20, "%s: %d attempts" % (name, len(plan[name])))
        time.sleep(1.5)
        self.assertEqual([r for r in sink.snapshot() if r.path != "/push"], [],
                         "a redirect must not be followed")
        for mid, name in ids.items():
            reqs = [r for r in sink.for_key(mid) if r.path == "/push"]
            answered = [r.answered for r in reqs]
            self.assertEqual(answered, plan[name],
                             "%s: the sink answered %r; %s" % (
                                 name, answered,
                                 "an ack must not be redelivered" if name.startswith("ack")
                                 else "a nack must be redelivered, an ack not"))
        self.assertEqual(sink.script_errors, [])

    def test_nack_then_ack_attempts_and_growing_backoff(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        k = 4
        sink = self.sink(lambda req, n: 500 if n <= k else 200)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()},
                      deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                        "maxDeliveryAttempts": 10})
        mid = self.publish(p, "top", ["fail four times"])[0]
        sink.wait_count(mid, k + 1, 15)
        time.sleep(1.0)
        reqs = sink.for_key(mid)
        self.assertEqual([r.answered for r in reqs], [500] * k + [200],
                         "delivered again after the 200: %r" % reqs)
        self.assertEqual([r.json()["deliveryAttempt"] for r in reqs], list(range(1, k + 2)))
        self.assertEqual(len({r.json()["message"]["publishTime"] for r in reqs}), 1,
                         "a redelivery is the same message")
        g = gaps(reqs)
        self.assertGreaterEqual(min(g), 0.05, "retries without a pause: gaps %r" % g)
        self.assertGreater(g[-1], g[0] * 2, "the pause must grow: gaps %r" % g)
        for a, b in zip(g, g[1:]):
            self.assertGreaterEqual(b, a * 0.9, "gaps must not shrink: %r" % g)

    def test_constant_failure_is_not_a_hot_loop(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: 500)
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()})
        self.publish(p, "top", ["a", "b", "c"])
        first = sink.wait_for(lambda reqs: reqs and reqs[0], 10, "a first attempt")
        time.sleep(max(0.0, first.t + 3.0 - time.monotonic()))
        n = len([r for r in sink.snapshot() if r.t <= first.t + 3.0])
        self.assertGreaterEqual(n, 3, "failed messages must be retried")
        self.assertLess(n, 20, "%d attempts in 3 s of constant failure: a hot loop" % n)
        nacks = self.requests_metric(name, "nack")
        self.assertIsNotNone(nacks, "no nack metric for %s" % name)
        self.assertGreaterEqual(nacks, n - 1)
        self.assertEqual(self.requests_metric(name, "ack"), 0)

    def test_retry_policy_minimum_backoff(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: 500 if n <= 2 else 200)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()},
                      retryPolicy={"minimumBackoff": "1s", "maximumBackoff": "10s"})
        mid = self.publish(p, "top", ["back off"])[0]
        sink.wait_count(mid, 3, 15)
        reqs = sink.for_key(mid)
        g = gaps(reqs[:3])
        self.assertGreaterEqual(g[0], 0.95, "retryPolicy minimumBackoff 1s: gaps %r" % g)
        self.assertGreaterEqual(g[1], 1.9, "second backoff is min*2 = 2s: gaps %r" % g)
        self.assertLess(g[1], 6, "gaps %r" % g)

    def test_retry_after_is_honoured(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: Reply(503, {"Retry-After": "2"}) if n == 1 else 200)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()})
        mid = self.publish(p, "top", ["wait for it"])[0]
        sink.wait_count(mid, 2, 15)
        reqs = sink.for_key(mid)
        gap = reqs[1].t - reqs[0].t
        self.assertGreaterEqual(gap, 1.95, "Retry-After: 2 but retried after %.3fs" % gap)
        self.assertLess(gap, 6, "Retry-After: 2 but retried only after %.3fs" % gap)

    def test_timeout_is_a_nack(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: Reply(200, delay=12) if n == 1 else 200)
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()}, ackDeadlineSeconds=10)
        mid = self.publish(p, "top", ["slow"])[0]
        sink.wait_count(mid, 2, 25, "redelivery after the 10 s HTTP timeout")
        reqs = sink.for_key(mid)
        gap = reqs[1].t - reqs[0].t
        self.assertGreaterEqual(gap, 9.5, "redelivered %.2fs after the first attempt, before "
                                "the 10 s ackDeadline" % gap)
        self.assertLess(gap, 13.0, "the timeout must be ackDeadlineSeconds, gap %.2fs" % gap)
        self.assertGreaterEqual(harness.wait_until(
            lambda: self.requests_metric(name, "timeout"), 5, what="timeout metric"), 1)

    def test_connection_refused_then_endpoint_comes_up(self):
        p = self.project()
        self.create_topic(p, "top")
        port = harness.free_port()
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top", {"pushEndpoint": "http://127.0.0.1:%d/push" % port})
        ids = self.publish(p, "top", ["r%d" % i for i in range(5)])
        harness.wait_until(lambda: (self.requests_metric(name, "error") or 0) >= 4, 10,
                           what="connection errors counted")
        time.sleep(0.5)
        sink = self.sink(port=port)
        sink.wait_keys(ids, 20, "every message after the endpoint came up")
        self.assertEqual({r.data for r in sink.snapshot()}, {b"r%d" % i for i in range(5)})

    def test_hostname_endpoint_and_connections_the_endpoint_closes(self):
        """A name (resolved off the loop; where localhost also resolves to
        ::1 first, the sink on 127.0.0.1 is reached through the next
        address), an endpoint that answers with bodies and closes every
        third connection: every message acked once, Host and query kept."""
        p = self.project()
        self.create_topic(p, "top")

        def script(req, n):
            i = int(req.data.decode()[1:])
            if i % 3 == 0:
                return Reply(200, {"Connection": "close"}, body=b"bye")
            if i % 3 == 1:
                return Reply(204)
            return Reply(200, body=b"x" * 20000)
        sink = self.sink(script)
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top",
                      {"pushEndpoint": "http://localhost:%d/push?q=1" % sink.port})
        ids = self.publish(p, "top", ["m%d" % i for i in range(12)])
        sink.wait_keys(ids, 20, "every message")
        time.sleep(1.0)
        got = sorted(r.data.decode() for r in sink.snapshot())
        self.assertEqual(got, sorted("m%d" % i for i in range(12)), "each exactly once")
        self.assertTrue(all(r.path == "/push?q=1" for r in sink.snapshot()))
        self.assertTrue(all(r.header("Host") == "localhost:%d" % sink.port
                            for r in sink.snapshot()))
        self.assertEqual(harness.wait_until(
            lambda: self.requests_metric(name, "ack") == 12 and 12, 5, what="12 acks"), 12)
        self.assertEqual(self.requests_metric(name, "error"), 0)

    # dead letter ----------------------------------------------------------------

    def test_dead_letter_after_max_attempts(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        self.create_sub(p, "dlq-sub", "dlq")
        self.create_sub(p, "mirror", "top")
        sink = self.sink(lambda req, n: 500 if req.data.startswith(b"bad") else 200)
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()},
                      deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                        "maxDeliveryAttempts": 5})
        datas = ["bad-1", "good-1", "good-2", "bad-2", "good-3"]
        msgs = [{"data": b64(d), "attributes": {"orig": d}} for d in datas]
        ids = self.publish(p, "top", msgs)
        by_data = dict(zip(datas, ids))
        mirror = self.mirror_messages(p, "mirror", len(ids))
        bad = {by_data["bad-1"], by_data["bad-2"]}

        dl = self.pull_until(p, "dlq-sub", 2, timeout=25)
        self.assertEqual(sorted(unb64(r["message"]["data"]) for r in dl), [b"bad-1", b"bad-2"])
        sink.wait_keys(set(ids) - bad, 5, "the good messages")
        time.sleep(2.0)
        for mid in bad:
            reqs = sink.for_key(mid)
            self.assertEqual([r.json().get("deliveryAttempt") for r in reqs], [1, 2, 3, 4, 5],
                             "a dead-lettered message must have been pushed exactly "
                             "maxDeliveryAttempts times, and not after")
        for d in ("good-1", "good-2", "good-3"):
            self.assertEqual(len(sink.for_key(by_data[d])), 1, d)
        for rm in dl:
            m = rm["message"]
            d = unb64(m["data"]).decode()
            src = mirror[by_data[d]]
            attrs = m.get("attributes", {})
            self.assertEqual(attrs.get("orig"), d, "original attributes kept")
            self.assertEqual(attrs.get("CloudPubSubDeadLetterSourceDeliveryCount"), "5")
            self.assertEqual(attrs.get("CloudPubSubDeadLetterSourceSubscription"), "push")
            self.assertEqual(attrs.get("CloudPubSubDeadLetterSourceSubscriptionProject"), p)
            tpt = attrs.get("CloudPubSubDeadLetterSourceTopicPublishTime")
            self.assertIsNotNone(tpt, attrs)
            self.assertLess(abs((parse_time(tpt) - parse_time(src["publishTime"]))
                                .total_seconds()), 0.002, "%s vs %s" % (tpt, src["publishTime"]))
            self.assertNotEqual(m["messageId"], by_data[d], "a new message on the DLQ topic")
        self.assertEqual(self.pull(p, "dlq-sub"), [], "nothing else on the DLQ")
        self.assertEqual(self.metric("regnotify_push_dead_lettered_total", name), 2)

    # stop / resume ----------------------------------------------------------------

    def test_modify_push_config_stop_resume_and_delete(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: 500 if req.data == b"poison" else 200)
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()})
        ids1 = self.publish(p, "top", ["m1"])
        sink.wait_keys(ids1, 10)

        st, js, raw = self.modify_push(p, "push", {})
        self.assertEqual((st, js), (200, {}), raw[:300])
        sub = self.assertOk(self.get_sub(p, "push"))
        self.assertEqual(sub["pushConfig"], {})
        time.sleep(2.0)                      # workers notice within ~1 s
        ids2 = self.publish(p, "top", ["m2", "m3"])
        time.sleep(2.0)
        self.assertEqual([r for r in sink.snapshot() if r.key in ids2], [],
                         "pushed after modifyPushConfig {}")
        rms = self.pull_until(p, "push", 2, timeout=5)
        self.assertEqual(sorted(r["message"]["messageId"] for r in rms), sorted(ids2),
                         "the messages pile up for pull")
        self.modack(p, "push", [r["ackId"] for r in rms], 0)      # nack: due again now
        ids3 = self.publish(p, "top", ["m3b"])                      # never pulled

        js = self.assertOk(self.req("PATCH", "/v1/projects/%s/subscriptions/push" % p,
                                    {"subscription": {"pushConfig":
                                                      {"pushEndpoint": sink.url("/again")}},
                                     "updateMask": "pushConfig"}), "PATCH pushConfig")
        self.assertEqual(js["pushConfig"].get("pushEndpoint"), sink.url("/again"))
        sink.wait_keys(ids2 + ids3, 15, "unacked messages after push is set again")
        self.assertTrue(all(r.path == "/again" for r in sink.snapshot()
                            if r.key in ids2 + ids3))
        ids4 = self.publish(p, "top", ["m4"])
        sink.wait_keys(ids4, 10)
        self.assertNothingToPull(p, "push", "everything was pushed and acked")

        # deleting the subscription stops the retries of a failing message
        poison = self.publish(p, "top", ["poison"])[0]
        sink.wait_count(poison, 2, 10)
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/push" % p))
        time.sleep(1.5)
        n = len(sink.for_key(poison))
        time.sleep(2.5)
        self.assertEqual(len(sink.for_key(poison)), n,
                         "still pushed %.1f s after the subscription was deleted" % 1.5)
        self.publish(p, "top", ["after delete"])
        time.sleep(1.0)
        self.assertEqual([r for r in sink.snapshot() if r.data == b"after delete"], [])

    # crash ----------------------------------------------------------------------

    def test_sigkill_mid_stream_every_message_delivered(self):
        redis = self.env.start_redis()
        broker = self.env.start_broker(redis.port)
        self.client = Client(broker.port)
        self.addCleanup(lambda: self.__dict__.pop("client").close())
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: Reply(200, delay=0.03))
        self.create_sub(p, "push", "top", pushConfig={"pushEndpoint": sink.url()},
                        ackDeadlineSeconds=10)
        ids = []
        for i in range(4):
            ids += self.publish(p, "top", ["k%03d-%03d" % (i, j) for j in range(100)])
        sink.wait_for(lambda reqs: len({r.key for r in reqs}) >= 120, 30, "120 messages pushed")
        broker.kill9()
        killed_at = time.monotonic()
        before = sink.keys()
        self.assertLess(len(before & set(ids)), len(ids), "the kill came after the stream ended")

        self.client.close()
        broker2 = self.env.start_broker(redis.port)
        self.client = Client(broker2.port)
        ids += self.publish(p, "top", ["after-%03d" % j for j in range(100)])
        sink.wait_keys(ids, 45, "every published message after the restart")
        after = {r.key for r in sink.snapshot() if r.t > killed_at}
        self.assertTrue(after - before, "nothing new was pushed after the restart")
        got = sink.keys()
        self.assertEqual(set(ids) - got, set())

    def test_two_brokers_share_one_push_subscription(self):
        """Every broker runs a worker for the subscription; the atomic lease
        keeps them from sending the same delivery twice."""
        redis = self.env.start_redis()
        b1 = self.env.start_broker(redis.port)
        b2 = self.env.start_broker(redis.port)
        self.client = Client(b1.port)
        self.addCleanup(lambda: self.__dict__.pop("client").close())
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: Reply(200, delay=0.01))
        self.create_sub(p, "push", "top", pushConfig={"pushEndpoint": sink.url()},
                        ackDeadlineSeconds=60)
        time.sleep(1.5)  # both brokers' workers find the subscription within a second
        ids = []
        for i in range(6):
            ids += self.publish(p, "top", ["m%d-%03d" % (i, j) for j in range(100)])
        sink.wait_keys(ids, 30, "every message pushed")
        time.sleep(0.5)
        keys = [r.key for r in sink.snapshot()]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        self.assertEqual(dups, [], "delivered twice although each delivery was acked in time")
        acks = []
        for b in (b1, b2):
            c = Client(b.port)
            try:
                st, _, raw = c.req("GET", "/metrics")
            finally:
                c.close()
            self.assertEqual(st, 200)
            m = parse_metrics(raw.decode())
            acks.append(m.get(("regnotify_push_requests_total",
                               (("response_class", "ack"),
                                ("subscription", sub_name(p, "push")))), 0))
        self.assertEqual(sum(acks), len(ids))
        self.assertTrue(all(a > 0 for a in acks), "one broker did all the work: %r" % acks)

    # signatures and secrets -------------------------------------------------------

    def test_signatures_verify_and_secrets_stay_secret(self):
        p = self.project()
        self.create_topic(p, "top")
        wh1, wh2 = whsec(32), whsec(24)
        hub1, hub2 = "hub-" + uuid.uuid4().hex, "hub-" + uuid.uuid4().hex
        token = "Bearer tok-" + uuid.uuid4().hex
        secrets = [wh1, wh1[6:], wh2, wh2[6:], hub1, hub2, token, token.split()[1]]
        sink = self.sink(lambda req, n: 500 if req.path == "/wrapped" and n == 1 else 200)
        pc1 = {"pushEndpoint": sink.url("/wrapped"), "standardWebhooks": {"secret": wh1},
               "hubSignature": {"secret": hub1}, "authorization": token}
        pc2 = {"pushEndpoint": sink.url("/raw"), "noWrapper": {"writeMetadata": False},
               "standardWebhooks": {"secret": wh2}, "hubSignature": {"secret": hub2}}
        created = [self.push_sub(p, "wrapped", "top", pc1), self.push_sub(p, "raw", "top", pc2)]

        def check_redacted(raw_or_obj, what):
            text = raw_or_obj if isinstance(raw_or_obj, str) else json.dumps(raw_or_obj)
            for s in secrets:
                self.assertNotIn(s, text, "%s shows a secret" % what)

        for js in created:
            check_redacted(js, "create response")
        for s, pc in (("wrapped", pc1), ("raw", pc2)):
            st, js, raw = self.get_sub(p, s)
            self.assertEqual(st, 200)
            check_redacted(raw.decode(), "GET " + s)
            got = js["pushConfig"]
            self.assertEqual(got["pushEndpoint"], pc["pushEndpoint"])
            self.assertEqual(got["standardWebhooks"], {"secret": "REDACTED"})
            self.assertEqual(got["hubSignature"], {"secret": "REDACTED"})
            if "authorization" in pc:
                self.assertEqual(got["authorization"], "REDACTED")
        st, _, raw = self.req("GET", "/v1/projects/%s/subscriptions" % p)
        self.assertEqual(st, 200)
        check_redacted(raw.decode(), "list")

        data = b"\x00signed \xff body " + uuid.uuid4().hex.encode()
        ids = self.publish(p, "top", [{"data": b64(data), "attributes": {"a": "1"}}])
        mid = ids[0]
        sink.wait_for(lambda reqs: len([r for r in reqs if r.path == "/wrapped"]) >= 2
                      and [r for r in reqs if r.path == "/raw"], 10, "signed deliveries")
        wrapped = [r for r in sink.snapshot() if r.path == "/wrapped"]
        self.assertEqual([r.answered for r in wrapped[:2]], [500, 200])
        stamps = []
        for r in wrapped:
            wid, ts = self.verify_standard_webhook(r, wh1)
            self.assertEqual(wid, mid, "webhook-id is the messageId, stable across retries")
            stamps.append(ts)
            self.verify_hub_signature(r, hub1)
            self.assertEqual(r.header("Authorization"), token)
        self.assertLessEqual(stamps[0], stamps[1])
        raw_reqs = [r for r in sink.snapshot() if r.path == "/raw"]
        for r in raw_reqs:
            self.assertEqual(r.body, data)
            wid, _ = self.verify_standard_webhook(r, wh2)
            self.assertEqual(wid, mid)
            self.verify_hub_signature(r, hub2)
            self.assertIsNone(r.header("Authorization"))

        # Sending the redacted config back keeps the stored secrets.
        redacted = self.assertOk(self.get_sub(p, "wrapped"))["pushConfig"]
        st, js, raw = self.modify_push(p, "wrapped", redacted)
        self.assertEqual((st, js), (200, {}), raw[:300])
        st, js, raw = self.req("PATCH", "/v1/projects/%s/subscriptions/raw" % p,
                               {"subscription": {"pushConfig": self.assertOk(
                                   self.get_sub(p, "raw"))["pushConfig"]},
                                "updateMask": "pushConfig"})
        self.assertEqual(st, 200, raw[:300])
        check_redacted(raw.decode(), "PATCH response")
        self.assertEqual(self.assertOk(self.get_sub(p, "wrapped"))["pushConfig"], redacted)
        time.sleep(1.5)                      # a changed config would be picked up by now
        mid2 = self.publish(p, "top", ["second"])[0]
        sink.wait_for(lambda reqs: len([r for r in reqs if r.key == mid2]) >= 2, 10,
                      "second message on both subscriptions")
        for r in sink.for_key(mid2):
            if r.path == "/wrapped":
                self.verify_standard_webhook(r, wh1)
                self.verify_hub_signature(r, hub1)
                self.assertEqual(r.header("Authorization"), token)
            else:
                self.verify_standard_webhook(r, wh2)
                self.verify_hub_signature(r, hub2)

        with open(self.broker.log, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        check_redacted(log, "the broker log")

    # validation ----------------------------------------------------------------

    def test_push_config_validation(self):
        p = self.project()
        self.create_topic(p, "top")
        ok_url = "http://127.0.0.1:9/push"
        cases = [
            ({"pushEndpoint": "not a url"}, 400),
            ({"pushEndpoint": "/relative/path"}, 400),
            ({"pushEndpoint": "ftp://127.0.0.1/x"}, 400),
            ({"pushEndpoint": "file:///etc/passwd"}, 400),
            ({"pushEndpoint": "http://169.254.169.254/computeMetadata/v1/"}, 400),
            ({"pushEndpoint": "http://169.254.1.1:8080/x"}, 400),
            ({"pushEndpoint": "http://[fe80::1]/x"}, 400),
            ({"pushEndpoint": "http://[::ffff:169.254.169.254]/x"}, 400),
            ({"pushEndpoint": "http://metadata.google.internal/x"}, 400),
            ({"pushEndpoint": 5}, 400),
            ({"pushEndpoint": ok_url, "oidcToken": {"audience": "no-account"}}, 400),
            ({"pushEndpoint": ok_url, "oidcToken": {"serviceAccountEmail": "no-at-sign"}}, 400),
            ({"pushEndpoint": ok_url, "authorization": "Bearer x",
              "oidcToken": {"serviceAccountEmail": "push@p.iam.regnotify"}}, 400),
            ({"pushEndpoint": ok_url, "noWrapper": {}, "cloudEvents": {}}, 400),
            ({"pushEndpoint": ok_url, "pubsubWrapper": {}, "noWrapper": {"writeMetadata": True}},
             400),
            ({"pushEndpoint": ok_url, "pubsubWrapper": {}, "cloudEvents": {}}, 400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": whsec(16)}}, 400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": whsec(65)}}, 400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": "plain-secret-" + "x" * 40}},
             400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": "whsec_!!not*base64!!"}},
             400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": ""}}, 400),
            ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": "REDACTED"}}, 400),
            ({"pushEndpoint": ok_url, "authorization": "REDACTED"}, 400),
            ({"pushEndpoint": ok_url, "hubSignature": {}}, 400),
            ({"pushEndpoint": ok_url, "attributes": {"x-goog-version": "v9"}}, 400),
            ({"pushEndpoint": ok_url, "attributes": {"other": "v1"}}, 400),
            ({"pushEndpoint": ok_url, "authorization": "Bearer a\r\nX-Evil: 1"}, 400),
            ({"pushEndpoint": ok_url, "noWrapper": {"writeMetadata": "yes"}}, 400),
            ({"pushEndpoint": ok_url, "unknownField": 1}, 400),
        ]
        for i, (pc, code) in enumerate(cases):
            s = "bad-%d" % i
            self.addCleanup(self._delete_quietly, self.client, p, s)
            with self.subTest(pushConfig=pc):
                resp = self.req("PUT", "/v1/projects/%s/subscriptions/%s" % (p, s),
                                {"topic": topic_name(p, "top"), "pushConfig": pc})
                self.assertError(resp, code,
                                 "UNIMPLEMENTED" if code == 501 else "INVALID_ARGUMENT",
                                 "PUT pushConfig %r" % pc)
                self.assertEqual(self.get_sub(p, s)[0], 404, "rejected %r but created" % pc)

        good = [{"pushEndpoint": ok_url, "standardWebhooks": {"secret": whsec(24)}},
                {"pushEndpoint": ok_url, "standardWebhooks": {"secret": whsec(64)}},
                {"pushEndpoint": "https://127.0.0.1:9/x", "pubsubWrapper": {},
                 "attributes": {"x-goog-version": "v1"}},
                {"pushEndpoint": ok_url, "noWrapper": {}},
                {"pushEndpoint": ok_url, "cloudEvents": {"typePrefix": "a.b"}},
                {"pushEndpoint": ok_url, "oidcToken": {}},
                {"pushEndpoint": ok_url,
                 "oidcToken": {"serviceAccountEmail": "push@p.iam.regnotify", "audience": "a"}}]
        for i, pc in enumerate(good):
            self.push_sub(p, "good-%d" % i, "top", pc)

        # An invalid update leaves the stored config alone.
        before = self.assertOk(self.get_sub(p, "good-3"))
        for pc, code in (({"pushEndpoint": "ftp://127.0.0.1/x"}, 400),
                         ({"pushEndpoint": "http://169.254.169.254/"}, 400),
                         ({"pushEndpoint": ok_url, "noWrapper": {}, "cloudEvents": {}}, 400),
                         ({"pushEndpoint": ok_url, "oidcToken": {"audience": "x"}}, 400),
                         ({"pushEndpoint": ok_url, "standardWebhooks": {"secret": "REDACTED"}},
                          400),
                         ({"pushEndpoint": ok_url, "authorization": "REDACTED"}, 400)):
            with self.subTest(update=pc):
                self.assertError(self.modify_push(p, "good-3", pc), code, None,
                                 "modifyPushConfig %r" % pc)
                self.assertError(self.req("PATCH", "/v1/projects/%s/subscriptions/good-3" % p,
                                          {"subscription": {"pushConfig": pc},
                                           "updateMask": "pushConfig"}), code, None,
                                 "PATCH pushConfig %r" % pc)
        self.assertEqual(self.assertOk(self.get_sub(p, "good-3")), before)
        self.assertError(self.modify_push(p, "missing", {}), 404, "NOT_FOUND")
        self.assertError(self.req("POST", "/v1/projects/%s/subscriptions/good-3:modifyPushConfig"
                                  % p, {}), 400, "INVALID_ARGUMENT")

        # --push-allow-link-local true lets metadata/link-local endpoints through
        # (own Redis, so that broker's push workers never see the other tests).
        redis = self.env.start_redis()
        b2 = self.env.start_broker(redis.port, extra=("--push-allow-link-local", "true"))
        c2 = Client(b2.port)
        self.addCleanup(c2.close)
        st, _, raw = c2.req("PUT", "/v1/projects/%s/topics/top" % p)
        self.assertEqual(st, 200, raw)
        for i, url in enumerate(("http://169.254.169.254/computeMetadata/v1/",
                                 "http://[fe80::1]/x")):
            st, js, raw = c2.req("PUT", "/v1/projects/%s/subscriptions/ll-%d" % (p, i),
                                 {"topic": topic_name(p, "top"),
                                  "pushConfig": {"pushEndpoint": url}})
            self.assertEqual(st, 200, "with --push-allow-link-local true: %r" % raw[:300])
            self.assertEqual(js["pushConfig"]["pushEndpoint"], url)

    # metrics ----------------------------------------------------------------

    def test_push_metrics(self):
        p = self.project()
        self.create_topic(p, "top")
        sink = self.sink(lambda req, n: 500 if req.data == b"once" and n == 1 else 200)
        name = sub_name(p, "push")
        self.push_sub(p, "push", "top", {"pushEndpoint": sink.url()})
        ids = self.publish(p, "top", ["a", "b", "c", "once"])
        sink.wait_keys(ids, 10)
        sink.wait_count(ids[3], 2, 10)
        text = harness.wait_until(
            lambda: (lambda t: t if self.requests_metric(name, "ack", t) == 4 else None)(
                self.metrics()), 5, what="4 acks counted")
        for h in ("regnotify_push_requests_total", "regnotify_push_request_latency_seconds",
                  "regnotify_push_dead_lettered_total", "regnotify_push_outstanding",
                  "regnotify_push_window"):
            self.assertIn("# TYPE %s " % h, text)
        self.assertEqual(len(sink.snapshot()), 5)
        self.assertEqual(self.requests_metric(name, "nack", text), 1)
        self.assertEqual(self.requests_metric(name, "timeout", text), 0)
        self.assertEqual(self.requests_metric(name, "error", text), 0)
        self.assertEqual(self.metric("regnotify_push_request_latency_seconds_count", name, text), 5)
        lat = self.metric("regnotify_push_request_latency_seconds_sum", name, text)
        self.assertIsNotNone(lat)
        self.assertGreater(lat, 0)
        self.assertLess(lat, 5)
        self.assertEqual(self.metric("regnotify_push_dead_lettered_total", name, text), 0)
        self.assertEqual(self.metric("regnotify_push_outstanding", name, text), 0)
        self.assertGreaterEqual(self.metric("regnotify_push_window", name, text), 1)


class PushLibcurlTest(PushTest):
    """What https:// and proxied endpoints always use, for plain http://
    too (--push-client libcurl): the same deliveries through libcurl. A
    subset of PushTest (the protocol, not the scheduling)."""

    BROKER_ARGS = PushTest.BROKER_ARGS + ("--push-client", "libcurl")


_LIBCURL_SUBSET = {"test_wrapped_format_exact", "test_ack_and_nack_status_codes",
                   "test_retry_after_is_honoured", "test_connection_refused_then_endpoint_comes_up",
                   "test_signatures_verify_and_secrets_stay_secret",
                   "test_hostname_endpoint_and_connections_the_endpoint_closes"}
for _n in [n for n in dir(PushTest) if n.startswith("test_") and n not in _LIBCURL_SUBSET]:
    setattr(PushLibcurlTest, _n, None)


if __name__ == "__main__":
    harness.main()
