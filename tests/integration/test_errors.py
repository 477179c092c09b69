#!/usr/bin/env python3
"""Errors: the Pub/Sub error body, status codes for bad names, missing and
existing resources, bad publish/pull/ack requests, size limits, unknown paths
and wrong methods; and for every rejected request, that nothing changed.
Run: python3 tests/integration/test_errors.py"""

import time

import harness
from harness import topic_name, sub_name, b64

BAD_IDS = [
    ("too short", "ab"),
    ("too long", "a" * 256),
    ("starts with a digit", "1abc"),
    ("starts with a dash", "-abc"),
    ("starts with goog", "goog-topic"),
    ("exactly goog", "goog"),
    ("bad char !", "bad!name"),
    ("bad char @", "bad@name"),
    ("bad char ,", "bad,name"),
    ("bad char =", "bad=name"),
]


class ErrorTest(harness.BrokerTestCase):

    def turl(self, p, t=None):
        return "/v1/projects/%s/topics" % p + ("/" + t if t is not None else "")

    def surl(self, p, s=None):
        return "/v1/projects/%s/subscriptions" % p + ("/" + s if s is not None else "")

    def pair(self, **sub_fields):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", **sub_fields)
        return p

    def assertNoTopics(self, p):
        self.assertEqual(self.assertOk(self.req("GET", self.turl(p))), {}, "no topic was created")

    def assertNoSubs(self, p):
        self.assertEqual(self.assertOk(self.req("GET", self.surl(p))), {},
                         "no subscription was created")

    # ---------------------------------------------------------------- names

    def test_bad_topic_ids(self):
        p = self.project()
        for why, t in BAD_IDS:
            self.assertError(self.req("PUT", self.turl(p, t)), 400, "INVALID_ARGUMENT",
                             "create topic %s (%r)" % (why, t[:20]))
            self.assertError(self.req("GET", self.turl(p, t)), 400, "INVALID_ARGUMENT",
                             "get topic %s" % why)
            self.assertError(self.req("POST", self.turl(p, t) + ":publish",
                                      {"messages": [{"data": b64("x")}]}),
                             400, "INVALID_ARGUMENT", "publish to %s" % why)
        self.assertNoTopics(p)

    def test_bad_subscription_ids(self):
        p = self.project()
        self.create_topic(p, "top")
        for why, s in BAD_IDS:
            self.assertError(self.req("PUT", self.surl(p, s), {"topic": topic_name(p, "top")}),
                             400, "INVALID_ARGUMENT", "create subscription %s" % why)
            self.assertError(self.req("GET", self.surl(p, s)), 400, "INVALID_ARGUMENT",
                             "get subscription %s" % why)
        self.assertNoSubs(p)

    def test_non_ascii_id(self):
        # raw UTF-8 "é" in the path, as a non-encoding client would send it
        p = self.project()
        head = ("PUT /v1/projects/%s/topics/caf" % p).encode() + "é".encode() + \
            b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        resp = harness.raw_request(self.broker.port, head)
        self.assertError(resp, 400, "INVALID_ARGUMENT", "topic id with raw é")
        self.assertNoTopics(p)

    def test_bad_topic_name_in_subscription_body(self):
        p = self.project()
        self.create_topic(p, "top")
        for bad in ("projects/%s/topics/bad name" % p, "projects/%s/topics/ab" % p,
                    "projects/%s/topics/goog-x" % p, "nonsense", "", "projects/%s/queues/t" % p):
            self.assertError(self.req("PUT", self.surl(p, "sub"), {"topic": bad}),
                             400, "INVALID_ARGUMENT", "subscription topic %r" % bad)
        self.assertError(self.req("PUT", self.surl(p, "sub"), {}), 400, "INVALID_ARGUMENT",
                         "subscription without topic")
        self.assertError(self.req("PUT", self.surl(p, "sub")), 400, "INVALID_ARGUMENT",
                         "subscription without body")
        self.assertNoSubs(p)

    # ------------------------------------------------------- missing/existing

    def test_missing_topic(self):
        p = self.project()
        self.assertError(self.req("GET", self.turl(p, "nope")), 404, "NOT_FOUND")
        self.assertError(self.req("DELETE", self.turl(p, "nope")), 404, "NOT_FOUND")
        self.assertError(self.req("PATCH", self.turl(p, "nope"),
                                  {"topic": {"labels": {"a": "b"}}, "updateMask": "labels"}),
                         404, "NOT_FOUND")
        self.assertError(self.req("POST", self.turl(p, "nope") + ":publish",
                                  {"messages": [{"data": b64("x")}]}), 404, "NOT_FOUND")
        self.assertError(self.req("GET", self.turl(p, "nope") + "/subscriptions"),
                         404, "NOT_FOUND")
        self.assertNoTopics(p)

    def test_missing_subscription(self):
        p = self.project()
        self.create_topic(p, "top")
        # a well-formed ackId (from a real subscription) so that only the
        # subscription is wrong
        self.create_sub(p, "real", "top")
        self.publish(p, "top", ["x"])
        ack_id = self.pull_until(p, "real", 1)[0]["ackId"]
        u = self.surl(p, "nope")
        self.assertError(self.req("GET", u), 404, "NOT_FOUND")
        self.assertError(self.req("DELETE", u), 404, "NOT_FOUND")
        self.assertError(self.req("PATCH", u, {"subscription": {"ackDeadlineSeconds": 20},
                                               "updateMask": "ackDeadlineSeconds"}),
                         404, "NOT_FOUND")
        self.assertError(self.req("POST", u + ":pull", {"maxMessages": 1, "returnImmediately": True}),
                         404, "NOT_FOUND")
        self.assertError(self.req("POST", u + ":acknowledge", {"ackIds": [ack_id]}),
                         404, "NOT_FOUND")
        self.assertError(self.req("POST", u + ":modifyAckDeadline",
                                  {"ackIds": [ack_id], "ackDeadlineSeconds": 0}), 404, "NOT_FOUND")
        self.assertEqual([s["name"] for s in self.assertOk(self.req("GET", self.surl(p)))
                          ["subscriptions"]], [sub_name(p, "real")])

    def test_create_existing(self):
        p = self.project()
        self.create_topic(p, "top", {"labels": {"v": "1"}})
        self.assertError(self.req("PUT", self.turl(p, "top"), {"labels": {"v": "2"}}),
                         409, "ALREADY_EXISTS")
        self.assertEqual(self.assertOk(self.req("GET", self.turl(p, "top")))["labels"], {"v": "1"},
                         "a rejected create changed the topic")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=20)
        self.create_topic(p, "top2")
        self.assertError(self.req("PUT", self.surl(p, "sub"),
                                  {"topic": topic_name(p, "top2"), "ackDeadlineSeconds": 30}),
                         409, "ALREADY_EXISTS")
        got = self.assertOk(self.req("GET", self.surl(p, "sub")))
        self.assertEqual((got["topic"], got["ackDeadlineSeconds"]), (topic_name(p, "top"), 20))

    def test_subscription_for_missing_topic(self):
        p = self.project()
        self.assertError(self.req("PUT", self.surl(p, "sub"), {"topic": topic_name(p, "nope")}),
                         404, "NOT_FOUND")
        self.assertError(self.req("GET", self.surl(p, "sub")), 404, "NOT_FOUND")
        self.assertNoSubs(p)

    def test_dead_letter_topic_must_exist(self):
        p = self.project()
        self.create_topic(p, "top")
        self.assertError(self.req("PUT", self.surl(p, "sub"),
                                  {"topic": topic_name(p, "top"),
                                   "deadLetterPolicy": {"deadLetterTopic": topic_name(p, "dlq"),
                                                        "maxDeliveryAttempts": 5}}),
                         404, "NOT_FOUND")
        self.assertError(self.req("GET", self.surl(p, "sub")), 404, "NOT_FOUND")
        self.assertNoSubs(p)

    # ------------------------------------------------------------- publish

    def assertPublishRejected(self, p, body, what, raw=None):
        """Publish BODY (or RAW bytes) -> 400 INVALID_ARGUMENT, then prove
        nothing was stored: a marker published afterwards is the only message."""
        if raw is not None:
            resp = self.req("POST", self.turl(p, "top") + ":publish", raw=raw)
        else:
            resp = self.req("POST", self.turl(p, "top") + ":publish", body)
        self.assertError(resp, 400, "INVALID_ARGUMENT", what)
        marker = self.publish(p, "top", ["marker"])
        got = self.pull_until(p, "sub", 1)
        time.sleep(0.2)
        got += self.pull(p, "sub")
        self.assertEqual([r["message"]["messageId"] for r in got], marker,
                         "%s: a rejected publish stored messages" % what)
        self.ack(p, "sub", [r["ackId"] for r in got])

    def test_publish_validation(self):
        p = self.pair(ackDeadlineSeconds=600)
        cases = [
            ("no messages key", {}),
            ("zero messages", {"messages": []}),
            ("empty message", {"messages": [{}]}),
            ("empty data, no attributes", {"messages": [{"data": ""}]}),
            ("empty attributes only", {"messages": [{"attributes": {}}]}),
            ("one bad message in a batch", {"messages": [{"data": b64("ok")}, {}]}),
            ("invalid base64", {"messages": [{"data": "!!!not base64!!!"}]}),
            ("invalid base64 in a batch", {"messages": [{"data": b64("ok")},
                                                        {"data": "a$b%"}]}),
            ("1001 messages", {"messages": [{"data": b64("m%d" % i)} for i in range(1001)]}),
            ("101 attributes", {"messages": [{"data": b64("x"),
                                              "attributes": {"k%d" % i: "v" for i in range(101)}}]}),
            ("messages not a list", {"messages": {"data": b64("x")}}),
            ("data not a string", {"messages": [{"data": 12}]}),
            ("attribute value not a string", {"messages": [{"attributes": {"a": 1}}]}),
        ]
        for what, body in cases:
            self.assertPublishRejected(p, body, what)

    def test_publish_limits_accepted(self):
        p = self.pair(ackDeadlineSeconds=600)
        ids = self.publish(p, "top", [{"data": b64("m%d" % i)} for i in range(1000)])
        self.assertEqual(len(set(ids)), 1000)
        ids2 = self.publish(p, "top", [{"attributes": {"k%d" % i: "v" for i in range(100)}}])
        got = self.pull_until(p, "sub", 1001, timeout=20)
        self.assertEqual(sorted(r["message"]["messageId"] for r in got), sorted(ids + ids2))

    def test_publish_malformed_json(self):
        p = self.pair(ackDeadlineSeconds=600)
        for raw in (b'{"messages": [', b"not json", b'{"messages": [{"data": "eA=="}]}}',
                    b"\xff\xfe"):
            self.assertPublishRejected(p, None, "malformed JSON %r" % raw[:20], raw=raw)

    def test_publish_message_over_10mb(self):
        p = self.pair(ackDeadlineSeconds=600)
        big = b"x" * (10 * 1024 * 1024 + 1)
        self.assertPublishRejected(p, {"messages": [{"data": b64(big)}]}, "message > 10 MB")

    def test_request_body_over_16mib(self):
        p = self.pair(ackDeadlineSeconds=600)
        n = 17 * 1024 * 1024
        body = b'{"messages":[{"data":"' + b"A" * n + b'"}]}'
        head = ("POST /v1/projects/%s/topics/top:publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (p, len(body))).encode()
        status, js, rawb = harness.raw_request(self.broker.port, head, body, timeout=30)
        self.assertEqual(status, 413, rawb[:300])
        self.assertTrue(self.broker.alive())
        marker = self.publish(p, "top", ["marker"])
        got = self.pull_until(p, "sub", 1)
        time.sleep(0.2)
        got += self.pull(p, "sub")
        self.assertEqual([r["message"]["messageId"] for r in got], marker)

    # ------------------------------------------------- subscriptions, pull, ack

    def test_ack_deadline_out_of_range_at_create(self):
        p = self.project()
        self.create_topic(p, "top")
        for v in (9, 601, -1, 1000):
            self.assertError(self.req("PUT", self.surl(p, "sub"),
                                      {"topic": topic_name(p, "top"), "ackDeadlineSeconds": v}),
                             400, "INVALID_ARGUMENT", "ackDeadlineSeconds %d" % v)
        self.assertNoSubs(p)

    def test_ack_deadline_out_of_range_at_patch(self):
        p = self.pair(ackDeadlineSeconds=20)
        for v in (9, 601):
            self.assertError(self.req("PATCH", self.surl(p, "sub"),
                                      {"subscription": {"ackDeadlineSeconds": v},
                                       "updateMask": "ackDeadlineSeconds"}),
                             400, "INVALID_ARGUMENT", "patch ackDeadlineSeconds %d" % v)
        self.assertEqual(self.assertOk(self.req("GET", self.surl(p, "sub")))["ackDeadlineSeconds"], 20)

    def test_duration_and_policy_ranges(self):
        # pubsub.md §2 limits: retention 10 min .. 31 d (topic and subscription),
        # maxDeliveryAttempts 5..100, expiration ttl >= 1 d, backoff 0..600 s
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        for bad in ("599s", "2678401s", "abc", "10", "-600s"):
            self.assertError(self.req("PUT", self.turl(p, "t-" + bad.strip("-") + "x"),
                                      {"messageRetentionDuration": bad}),
                             400, "INVALID_ARGUMENT", "topic retention %r" % bad)
        self.assertEqual(self.assertOk(self.req("GET", self.turl(p)))["topics"],
                         [{"name": topic_name(p, "dlq"), "state": "ACTIVE"},
                          {"name": topic_name(p, "top"), "state": "ACTIVE"}])
        base = {"topic": topic_name(p, "top")}
        bad_subs = [
            ("sub retention 599s", {"messageRetentionDuration": "599s"}),
            ("sub retention > 31 d", {"messageRetentionDuration": "2678401s"}),
            ("maxDeliveryAttempts 4", {"deadLetterPolicy": {
                "deadLetterTopic": topic_name(p, "dlq"), "maxDeliveryAttempts": 4}}),
            ("maxDeliveryAttempts 101", {"deadLetterPolicy": {
                "deadLetterTopic": topic_name(p, "dlq"), "maxDeliveryAttempts": 101}}),
            ("expiration ttl < 1 d", {"expirationPolicy": {"ttl": "86399s"}}),
            ("ephemeral label other than true", {"expirationPolicy": {"ttl": "300s"},
                                                 "labels": {"regnotify-ephemeral": "yes"}}),
            ("ephemeral ttl < 60 s", {"expirationPolicy": {"ttl": "59s"},
                                      "labels": {"regnotify-ephemeral": "true"}}),
            ("minimumBackoff > 600 s", {"retryPolicy": {"minimumBackoff": "601s"}}),
            ("maximumBackoff > 600 s", {"retryPolicy": {"maximumBackoff": "601s"}}),
        ]
        for what, fields in bad_subs:
            body = dict(base)
            body.update(fields)
            self.assertError(self.req("PUT", self.surl(p, "sub"), body), 400, "INVALID_ARGUMENT",
                             what)
        self.assertNoSubs(p)
        # the boundaries themselves are fine
        self.create_topic(p, "lo-ret", {"messageRetentionDuration": "600s"})
        self.create_topic(p, "hi-ret", {"messageRetentionDuration": "2678400s"})
        js = self.create_sub(p, "edges", "top", messageRetentionDuration="2678400s",
                             expirationPolicy={"ttl": "86400s"},
                             deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                               "maxDeliveryAttempts": 100})
        self.assertEqual(js["messageRetentionDuration"], "2678400s")
        self.assertEqual(js["deadLetterPolicy"]["maxDeliveryAttempts"], 100)
        # regnotify extension: ephemeral subscriptions (regnotify tail) may
        # expire after as little as 60 s, and a patch cannot drop the label
        # while keeping the short ttl
        js = self.create_sub(p, "eph", "top", expirationPolicy={"ttl": "60s"},
                             labels={"regnotify-ephemeral": "true"})
        self.assertEqual(js["expirationPolicy"], {"ttl": "60s"})
        self.assertError(self.req("PATCH", self.surl(p, "eph"),
                                  {"subscription": {"labels": {}}, "updateMask": "labels"}),
                         400, "INVALID_ARGUMENT", "patch away the ephemeral label")

    def test_labels_validation(self):
        # pubsub.md §2: up to 64 labels; keys 1-63 chars, lowercase letter first,
        # [a-z0-9_-]; values 0-63 chars
        p = self.project()
        self.create_topic(p, "top")
        bad = [
            ("key starts with uppercase", {"Team": "x"}),
            ("key starts with a digit", {"1team": "x"}),
            ("empty key", {"": "x"}),
            ("key of 64 chars", {"k" * 64: "x"}),
            ("value of 64 chars", {"team": "v" * 64}),
            ("key with a space", {"my team": "x"}),
            ("65 labels", {"k%d" % i: "v" for i in range(65)}),
        ]
        for what, labels in bad:
            self.assertError(self.req("PUT", self.turl(p, "lbl"), {"labels": labels}),
                             400, "INVALID_ARGUMENT", "topic " + what)
            self.assertError(self.req("PUT", self.surl(p, "lbl"),
                                      {"topic": topic_name(p, "top"), "labels": labels}),
                             400, "INVALID_ARGUMENT", "subscription " + what)
            self.assertError(self.req("PATCH", self.turl(p, "top"),
                                      {"topic": {"labels": labels}, "updateMask": "labels"}),
                             400, "INVALID_ARGUMENT", "topic patch " + what)
        self.assertEqual([t["name"] for t in self.assertOk(self.req("GET", self.turl(p)))["topics"]],
                         [topic_name(p, "top")])
        self.assertNotIn("labels", self.assertOk(self.req("GET", self.turl(p, "top"))))
        self.assertNoSubs(p)
        ok = {"k%d" % i: "v" for i in range(62)}   # + 2 below = 64
        ok.update({"a" * 63: "v" * 63, "x_y-z9": ""})
        self.assertEqual(self.create_topic(p, "lbl", {"labels": ok})["labels"], ok)

    def test_bad_update_masks(self):
        p = self.pair(ackDeadlineSeconds=20)
        self.create_topic(p, "other")
        cases = [
            ("immutable topic", {"subscription": {"topic": topic_name(p, "other")},
                                 "updateMask": "topic"}),
            ("unknown path", {"subscription": {"ackDeadlineSeconds": 30}, "updateMask": "bogus"}),
            ("empty mask", {"subscription": {"ackDeadlineSeconds": 30}, "updateMask": ""}),
            ("no mask", {"subscription": {"ackDeadlineSeconds": 30}}),
        ]
        for what, body in cases:
            self.assertError(self.req("PATCH", self.surl(p, "sub"), body), 400,
                             "INVALID_ARGUMENT", "subscription patch: " + what)
        got = self.assertOk(self.req("GET", self.surl(p, "sub")))
        self.assertEqual((got["topic"], got["ackDeadlineSeconds"]), (topic_name(p, "top"), 20))
        for what, body in [("unknown path", {"topic": {"labels": {"a": "b"}}, "updateMask": "bogus"}),
                           ("no mask", {"topic": {"labels": {"a": "b"}}})]:
            self.assertError(self.req("PATCH", self.turl(p, "top"), body), 400,
                             "INVALID_ARGUMENT", "topic patch: " + what)
        self.assertNotIn("labels", self.assertOk(self.req("GET", self.turl(p, "top"))))

    def test_modack_out_of_range(self):
        p = self.pair(ackDeadlineSeconds=600)
        self.publish(p, "top", ["x"])
        rm = self.pull_until(p, "sub", 1)[0]
        for v in (-1, 601, 3600):
            self.assertError(self.req("POST", self.surl(p, "sub") + ":modifyAckDeadline",
                                      {"ackIds": [rm["ackId"]], "ackDeadlineSeconds": v}),
                             400, "INVALID_ARGUMENT", "modifyAckDeadline %d" % v)
        # a rejected modack (e.g. -1 read as "now") must not have nacked it
        self.assertNothingToPull(p, "sub", "rejected modifyAckDeadline changed the lease")
        self.modack(p, "sub", [rm["ackId"]], 600)   # boundary accepted
        self.modack(p, "sub", [rm["ackId"]], 0)
        self.assertEqual(len(self.pull(p, "sub")), 1)

    def test_integer_overflow_is_rejected_not_wrapped(self):
        # int32 fields: a value that wraps to an allowed one must still be rejected
        p = self.pair(ackDeadlineSeconds=600)
        for v in (4294967306, 2 ** 63 + 10, -4294967286):     # wrap to 10 as int32/uint
            self.assertError(self.req("PUT", self.surl(p, "wrap"),
                                      {"topic": topic_name(p, "top"), "ackDeadlineSeconds": v}),
                             400, "INVALID_ARGUMENT", "ackDeadlineSeconds %d" % v)
        self.assertError(self.req("GET", self.surl(p, "wrap")), 404, "NOT_FOUND")
        self.publish(p, "top", ["x"])
        rm = self.pull_until(p, "sub", 1)[0]
        self.assertError(self.req("POST", self.surl(p, "sub") + ":modifyAckDeadline",
                                  {"ackIds": [rm["ackId"]], "ackDeadlineSeconds": 4294967296}),
                         400, "INVALID_ARGUMENT", "modifyAckDeadline 2^32 (wraps to 0 = nack)")
        self.assertNothingToPull(p, "sub", "a wrapped modifyAckDeadline nacked the message")
        st, js, rawb = self.req("POST", self.surl(p, "sub") + ":pull",
                                {"maxMessages": 10000000000, "returnImmediately": True})
        self.assertIn(st, (200, 400), rawb)
        if st == 400:
            self.assertError((st, js, rawb), 400, "INVALID_ARGUMENT")
        self.assertTrue(self.broker.alive())

    def test_pull_max_messages(self):
        p = self.pair()
        self.publish(p, "top", ["x"])
        for body in ({"maxMessages": 0, "returnImmediately": True},
                     {"maxMessages": -5, "returnImmediately": True},
                     {"returnImmediately": True}):
            self.assertError(self.req("POST", self.surl(p, "sub") + ":pull", body),
                             400, "INVALID_ARGUMENT", "pull %r" % body)
        got = self.pull_until(p, "sub", 1)
        self.assertEqual(len(got), 1, "rejected pulls must not lease the message")

    def test_empty_ack_ids(self):
        p = self.pair()
        self.publish(p, "top", ["x"])
        self.assertError(self.req("POST", self.surl(p, "sub") + ":acknowledge", {"ackIds": []}),
                         400, "INVALID_ARGUMENT", "acknowledge []")
        self.assertError(self.req("POST", self.surl(p, "sub") + ":acknowledge", {}),
                         400, "INVALID_ARGUMENT", "acknowledge without ackIds")
        self.assertError(self.req("POST", self.surl(p, "sub") + ":modifyAckDeadline",
                                  {"ackIds": [], "ackDeadlineSeconds": 0}),
                         400, "INVALID_ARGUMENT", "modifyAckDeadline []")
        self.assertEqual(len(self.pull_until(p, "sub", 1)), 1)

    def test_malformed_json_elsewhere(self):
        p = self.project()
        self.create_topic(p, "top")
        bad = b'{"labels": {'
        self.assertError(self.req("PUT", self.turl(p, "top2"), raw=bad), 400, "INVALID_ARGUMENT",
                         "create topic with malformed body")
        self.assertError(self.req("GET", self.turl(p, "top2")), 404, "NOT_FOUND")
        self.assertError(self.req("PUT", self.surl(p, "sub"), raw=bad), 400, "INVALID_ARGUMENT")
        self.assertError(self.req("PUT", self.surl(p, "sub"), raw=b"[1,2]"), 400, "INVALID_ARGUMENT")
        self.assertNoSubs(p)
        self.create_sub(p, "sub", "top")
        for verb in (":pull", ":acknowledge", ":modifyAckDeadline"):
            self.assertError(self.req("POST", self.surl(p, "sub") + verb, raw=bad),
                             400, "INVALID_ARGUMENT", verb)
        self.assertError(self.req("PATCH", self.turl(p, "top"), raw=bad), 400, "INVALID_ARGUMENT")
        self.assertError(self.req("PATCH", self.surl(p, "sub"), raw=bad), 400, "INVALID_ARGUMENT")
        self.assertEqual(self.assertOk(self.req("GET", self.surl(p, "sub"))),
                         {"name": sub_name(p, "sub"), "topic": topic_name(p, "top"),
                          "pushConfig": {}, "ackDeadlineSeconds": 10,
                          "messageRetentionDuration": "604800s",
                          "expirationPolicy": {"ttl": "2678400s"}, "state": "ACTIVE"})

    # --------------------------------------------------------- routing

    def test_unknown_paths(self):
        for path in ("/v1/foo", "/nope", "/v1/projects/p/queues/q", "/v2/projects/p/topics/top",
                     "/v1/projects/p/topics/top/extra/bits"):
            for method in ("GET", "POST"):
                body = {} if method == "POST" else None
                self.assertError(self.req(method, path, body), 404, "NOT_FOUND",
                                 "%s %s" % (method, path))

    def test_wrong_method(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        cases = [("POST", self.turl(p, "top")), ("DELETE", self.turl(p, "top") + ":publish"),
                 ("GET", self.turl(p, "top") + ":publish"), ("PUT", self.surl(p, "sub") + ":pull"),
                 ("DELETE", self.turl(p)), ("POST", self.surl(p, "sub"))]
        for method, path in cases:
            self.assertError(self.req(method, path, {} if method in ("POST", "PUT") else None),
                             405, None, "%s %s" % (method, path))
        # still there
        self.assertOk(self.req("GET", self.turl(p, "top")))
        self.assertOk(self.req("GET", self.surl(p, "sub")))

    def test_connection_survives_errors(self):
        # keep-alive: an error reply does not break the connection for the next request
        p = self.project()
        self.assertError(self.req("GET", self.turl(p, "nope")), 404, "NOT_FOUND")
        self.create_topic(p, "top")
        self.assertError(self.req("POST", self.turl(p, "top") + ":publish", raw=b"{"),
                         400, "INVALID_ARGUMENT")
        self.assertError(self.req("GET", "/nope"), 404, "NOT_FOUND")
        self.assertOk(self.req("GET", self.turl(p, "top")))


if __name__ == "__main__":
    harness.main()
