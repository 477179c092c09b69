#!/usr/bin/env python3
"""Delivery semantics: pull shape, ack, ack deadlines and redelivery,
modifyAckDeadline (0 = nack), deliveryAttempt and dead-lettering, fan-out,
and retention trimming of the topic stream in Redis.
Run: python3 tests/integration/test_delivery.py"""

import datetime
import threading
import time

import harness
from harness import topic_name, sub_name, b64, unb64, parse_time


class DeliveryTest(harness.BrokerTestCase):

    def setup_pair(self, **sub_fields):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", **sub_fields)
        return p

    def test_pull_message_shape(self):
        p = self.setup_pair()
        before = datetime.datetime.now(datetime.timezone.utc)
        ids = self.publish(p, "top", [{"data": b64(b"hello \x00\xff world"),
                                     "attributes": {"k": "v", "empty": ""}}])
        after = datetime.datetime.now(datetime.timezone.utc)
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual(len(rms), 1)
        rm = rms[0]
        self.assertEqual(set(rm.keys()), {"ackId", "message"},
                         "no deliveryAttempt without a deadLetterPolicy")
        m = rm["message"]
        self.assertEqual(set(m.keys()), {"data", "attributes", "messageId", "publishTime"})
        self.assertEqual(unb64(m["data"]), b"hello \x00\xff world")
        self.assertEqual(m["attributes"], {"k": "v", "empty": ""})
        self.assertEqual(m["messageId"], ids[0])
        self.assertRegex(m["publishTime"], harness.RFC3339_Z)
        pt = parse_time(m["publishTime"])
        slack = datetime.timedelta(seconds=2)
        self.assertTrue(before - slack <= pt <= after + slack,
                        "publishTime %s not between %s and %s" % (pt, before, after))

    def test_concurrent_publishes_keep_their_own_ids(self):
        """Small publishes to one topic that arrive together share one
        publish script call (store/publish.c); each request must still get
        the ids of its own messages, in order, a missing topic in the same
        burst its 404, and each orderingKey its publish order."""
        p = self.setup_pair()
        self.create_topic(p, "other")
        self.create_sub(p, "osub", "other")
        nconn, rounds = 32, 4
        bodies, expect = [], []
        for r in range(rounds):
            for i in range(nconn):
                if i == 7:
                    topic = "nope%d" % r
                    msgs = [{"data": b64(b"x")}]
                else:
                    topic = "other" if i % 5 == 0 else "top"
                    n = 1 + (i % 3)
                    msgs = [{"data": b64(("r%d-c%d-m%d" % (r, i, k)).encode()),
                             "orderingKey": "key%d" % (i % 4),
                             "attributes": {"k": str(k)}} for k in range(n)]
                bodies.append((i, topic, msgs))
        calls_before = self.evalsha_calls()
        results = [None] * len(bodies)
        per_conn = [[] for _ in range(nconn)]
        for j, (i, topic, msgs) in enumerate(bodies):
            per_conn[i].append(j)

        # One thread per connection sends its rounds back to back; the
        # rounds of all 32 meet in the broker's loop.
        start = threading.Barrier(nconn)

        def run(ci):
            cl = harness.Client(self.broker.port)
            try:
                start.wait(10)
                for j in per_conn[ci]:
                    _, topic, msgs = bodies[j]
                    results[j] = cl.req("POST", "/v1/projects/%s/topics/%s:publish" % (p, topic),
                                        {"messages": msgs})
            finally:
                cl.close()
        threads = [threading.Thread(target=run, args=(ci,)) for ci in range(nconn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        calls = self.evalsha_calls() - calls_before
        want = {"top": {}, "other": {}}
        for j, (i, topic, msgs) in enumerate(bodies):
            if topic.startswith("nope"):
                self.assertError(results[j], 404, "NOT_FOUND", "publish to a missing topic")
                continue
            ids = self.assertOk(results[j], "publish %d" % j)["messageIds"]
            self.assertEqual(len(ids), len(msgs))
            self.assertEqual(len(set(ids)), len(ids))
            for mid, m in zip(ids, msgs):
                want[topic][mid] = unb64(m["data"]).decode()
        for topic, sub in (("top", "sub"), ("other", "osub")):
            got = {}
            order = []
            for rm in self.pull_until(p, sub, len(want[topic]), max_messages=1000):
                m = rm["message"]
                got[m["messageId"]] = unb64(m["data"]).decode()
                order.append((m.get("orderingKey"), unb64(m["data"]).decode()))
            self.assertEqual(got, want[topic], "each id names its own request's message")
            # Within a request, messages are stored in order; the requests of
            # one connection follow each other.
            for conn in set(d.split("-")[1] for _, d in order):
                mine = [d for _, d in order if d.split("-")[1] == conn]
                self.assertEqual(mine, sorted(mine, key=lambda d: (int(d.split("-")[0][1:]),
                                                                   int(d.split("-")[2][1:]))),
                                 "publish order of connection %s" % conn)
        # 128 requests, of which those that met in one loop turn shared a call.
        self.assertLess(calls, len(bodies), "no publishes were coalesced")

    def test_entries_read_but_never_leased_are_delivered(self):
        """A split pull (store/messages.c) reads new entries with its own
        XREADGROUP before pull.lua leases them; if the script never ran,
        they are in the group's pending list without a lease. The next
        whole pull (a broker that starts has learnt nothing yet) delivers
        them, once."""
        p = self.setup_pair()
        sub = "%s/sub" % p
        self.pull_until(p, "sub", 0, timeout=0.2)   # the group exists, lr set
        self.publish(p, "top", ["orphan-1", "orphan-2"])
        log = "rn:v1:{%s/top}:log" % p
        # What a split pull whose script failed leaves behind.
        self.redis.cmd("XREADGROUP", "GROUP", sub, "rn", "COUNT", "10", "STREAMS", log, ">")
        other = self.env.start_broker(self.redis.port)
        cl = harness.Client(other.port)
        try:
            status, js, _ = cl.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                   {"maxMessages": 10, "returnImmediately": True})
            self.assertEqual(status, 200)
            got = sorted(unb64(m["message"]["data"]).decode()
                         for m in js.get("receivedMessages", []))
            self.assertEqual(got, ["orphan-1", "orphan-2"])
            self.assertEqual({m.get("deliveryAttempt", 1) for m in js["receivedMessages"]}, {1})
            acks = [m["ackId"] for m in js["receivedMessages"]]
            self.assertOk(cl.req("POST", "/v1/projects/%s/subscriptions/sub:acknowledge" % p,
                                 {"ackIds": acks}))
            status, js, _ = cl.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                   {"maxMessages": 10, "returnImmediately": True})
            self.assertEqual(js.get("receivedMessages", []), [], "delivered once")
        finally:
            cl.close()

    def evalsha_calls(self):
        for line in self.redis.cmd("INFO", "commandstats").decode().splitlines():
            if line.startswith("cmdstat_evalsha:"):
                return int(line.split("calls=")[1].split(",")[0])
        return 0

    def test_large_message_round_trip(self):
        p = self.setup_pair()
        data = bytes(range(256)) * (9000000 // 256)      # ~9 MB, under the 10 MB limit
        ids = self.publish(p, "top", [{"data": b64(data)}])
        rms = self.pull_until(p, "sub", 1, timeout=15)
        self.assertEqual(rms[0]["message"]["messageId"], ids[0])
        self.assertEqual(unb64(rms[0]["message"]["data"]), data)
        self.ack(p, "sub", [rms[0]["ackId"]])

    def test_unicode_attributes_round_trip(self):
        p = self.setup_pair()
        attrs = {"ключ": "значение 🚀", "quote\"back\\slash": "tab\tnl\n", "e\u00e9": "\u00e9x\u2028"}
        self.publish(p, "top", [{"data": b64("ü".encode()), "attributes": attrs}])
        m = self.pull_until(p, "sub", 1)[0]["message"]
        self.assertEqual(m["attributes"], attrs)
        self.assertEqual(unb64(m["data"]), "ü".encode())

    def test_pull_returns_at_most_1000(self):
        p = self.setup_pair(ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["a%d" % i for i in range(1000)])
        ids += self.publish(p, "top", ["b%d" % i for i in range(5)])
        rms = self.pull(p, "sub", max_messages=5000)
        self.assertGreaterEqual(len(rms), 1)
        self.assertLessEqual(len(rms), 1000)
        rms += self.pull_until(p, "sub", len(ids) - len(rms), max_messages=1000, timeout=15)
        self.assertEqual(sorted(r["message"]["messageId"] for r in rms), sorted(ids))

    def test_ack_2500_ids_in_one_call(self):
        # the Python client library sends up to 2500 ackIds per request
        p = self.setup_pair(ackDeadlineSeconds=600)
        ids = []
        for b in range(3):
            ids += self.publish(p, "top", ["b%d-%d" % (b, i) for i in range(1000)])
        rms = self.pull_until(p, "sub", 3000, timeout=20, max_messages=1000)
        self.assertEqual(len(rms), 3000)
        first, rest = rms[:2500], rms[2500:]
        self.ack(p, "sub", [r["ackId"] for r in first])
        self.modack(p, "sub", [r["ackId"] for r in rms[:2500]], 0)   # no revival of acked ones
        self.modack(p, "sub", [r["ackId"] for r in rest], 0)
        again = self.pull_until(p, "sub", 500, timeout=10, max_messages=1000)
        time.sleep(0.2)
        again += self.pull(p, "sub", 1000)
        self.assertEqual(sorted(r["message"]["messageId"] for r in again),
                         sorted(r["message"]["messageId"] for r in rest))

    def test_fan_out_many_subscriptions(self):
        p = self.project()
        self.create_topic(p, "top")
        subs = ["fan-%02d" % i for i in range(20)]
        for s in subs:
            self.create_sub(p, s, "top")
        ids = self.publish(p, "top", ["to all", "twice"])
        for s in subs:
            got = self.pull_until(p, s, 2)
            self.assertEqual(sorted(r["message"]["messageId"] for r in got), sorted(ids), s)

    def test_ack_id_of_other_subscription_does_not_ack_here(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub-a", "top", ackDeadlineSeconds=600)
        self.create_sub(p, "sub-b", "top", ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["shared"])
        ra = self.pull_until(p, "sub-a", 1)[0]
        # sub-a's ackId sent to sub-b: OK or INVALID_ARGUMENT, but sub-b
        # never received the message, so it must still deliver it
        st, js, rawb = self.req("POST", "/v1/projects/%s/subscriptions/sub-b:acknowledge" % p,
                                {"ackIds": [ra["ackId"]]})
        self.assertIn(st, (200, 400), rawb)
        st, js, rawb = self.req("POST", "/v1/projects/%s/subscriptions/sub-b:modifyAckDeadline" % p,
                                {"ackIds": [ra["ackId"]], "ackDeadlineSeconds": 0})
        self.assertIn(st, (200, 400), rawb)
        rb = self.pull_until(p, "sub-b", 1)
        self.assertEqual([r["message"]["messageId"] for r in rb], ids)
        # and sub-a's lease was not touched by the nack sent to sub-b
        self.assertNothingToPull(p, "sub-a", "sub-a's lease changed through sub-b")

    def test_waiting_pull_wakes_on_publish(self):
        # returnImmediately=false: the pull waits for a message instead of
        # answering {} at once
        p = self.setup_pair()
        out = {}

        def waiter():
            c = harness.Client(self.broker.port, timeout=30)
            try:
                t0 = time.monotonic()
                out["resp"] = c.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 5, "returnImmediately": False})
                out["took"] = time.monotonic() - t0
            except Exception as e:
                out["err"] = e
            finally:
                c.close()

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.7)
        ids = self.publish(p, "top", ["wake up"])
        th.join(30)
        self.assertNotIn("err", out)
        js = self.assertOk(out["resp"], "waiting pull")
        self.assertEqual([r["message"]["messageId"] for r in js.get("receivedMessages", [])], ids,
                         "the waiting pull did not return the message published meanwhile")
        self.assertLess(out["took"], 5)
        self.assertGreater(out["took"], 0.5, "answered before the message existed")

    def test_empty_attributes_omitted(self):
        p = self.setup_pair()
        self.publish(p, "top", ["just data"])
        m = self.pull_until(p, "sub", 1)[0]["message"]
        self.assertNotIn("attributes", m)
        self.assertEqual(unb64(m["data"]), b"just data")

    def test_empty_pull_is_exactly_empty_object(self):
        p = self.setup_pair()
        status, js, rawb = self.pull_raw(p, "sub")
        self.assertEqual(status, 200)
        self.assertEqual(js, {})

    def test_only_messages_after_subscription_creation(self):
        p = self.project()
        self.create_topic(p, "top")
        self.publish(p, "top", ["before-1", "before-2"])
        self.create_sub(p, "sub", "top")
        self.assertNothingToPull(p, "sub", "messages published before the subscription existed")
        ids = self.publish(p, "top", ["after"])
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual([r["message"]["messageId"] for r in rms], ids)
        self.ack(p, "sub", [rms[0]["ackId"]])
        self.assertNothingToPull(p, "sub")

    def test_max_messages_and_drain(self):
        p = self.setup_pair(ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["m%d" % i for i in range(25)])
        first = self.pull(p, "sub", max_messages=10)
        self.assertGreaterEqual(len(first), 1)
        self.assertLessEqual(len(first), 10)
        got = first + self.pull_until(p, "sub", 25 - len(first), max_messages=10)
        got_ids = [r["message"]["messageId"] for r in got]
        self.assertEqual(sorted(got_ids), sorted(ids), "every message once while leased")
        self.assertEqual(len(set(r["ackId"] for r in got)), 25, "ackIds unique")
        self.assertNothingToPull(p, "sub", "all 25 are leased")

    def test_batch_publish_all_delivered(self):
        p = self.setup_pair()
        ids = self.publish(p, "top", ["a", "b", "c", "d"])
        got = self.pull_until(p, "sub", 4)
        self.assertEqual(sorted(r["message"]["messageId"] for r in got), sorted(ids))

    def test_ack_removes_and_is_idempotent(self):
        p = self.setup_pair()
        ids = self.publish(p, "top", ["one", "two"])
        rms = self.pull_until(p, "sub", 2)
        self.assertEqual(len(rms), 2)
        by_id = {r["message"]["messageId"]: r["ackId"] for r in rms}
        self.ack(p, "sub", [by_id[ids[0]]])
        self.ack(p, "sub", [by_id[ids[0]]])            # acking twice is not an error
        self.ack(p, "sub", [by_id[ids[0]], by_id[ids[0]]])
        # nack both: only the unacked one comes back
        self.modack(p, "sub", [by_id[ids[0]], by_id[ids[1]]], 0)
        again = self.pull_until(p, "sub", 1)
        self.assertEqual([r["message"]["messageId"] for r in again], [ids[1]])
        self.assertNotEqual(again[0]["ackId"], by_id[ids[1]], "a redelivery has a new ackId")
        self.ack(p, "sub", [again[0]["ackId"]])
        time.sleep(0.3)
        self.assertNothingToPull(p, "sub", "everything acked")

    def test_modack_zero_is_immediate_nack(self):
        p = self.setup_pair(ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["nack me"])
        rm = self.pull_until(p, "sub", 1)[0]
        self.assertNothingToPull(p, "sub", "leased for 600 s")
        self.modack(p, "sub", [rm["ackId"]], 0)
        again = self.pull(p, "sub")
        self.assertEqual(len(again), 1, "modifyAckDeadline 0 makes it available at once")
        self.assertEqual(again[0]["message"]["messageId"], ids[0])
        self.assertNotEqual(again[0]["ackId"], rm["ackId"])
        self.assertEqual(again[0]["message"]["data"], rm["message"]["data"])
        self.assertEqual(again[0]["message"]["publishTime"], rm["message"]["publishTime"])

    def test_short_modack_redelivers_after_deadline(self):
        p = self.setup_pair(ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["short"])
        rm = self.pull_until(p, "sub", 1)[0]
        t0 = time.monotonic()
        self.modack(p, "sub", [rm["ackId"]], 1)
        self.assertNothingToPull(p, "sub", "still leased right after modifyAckDeadline 1")
        time.sleep(1.5)
        again = self.pull_until(p, "sub", 1, timeout=5)
        elapsed = time.monotonic() - t0
        self.assertEqual(len(again), 1, "not redelivered after the 1 s deadline")
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertEqual(again[0]["message"]["messageId"], ids[0])
        self.assertNotEqual(again[0]["ackId"], rm["ackId"])
        # the expired ackId can still be acked (200 {}), and the new one too
        self.ack(p, "sub", [rm["ackId"]])
        self.ack(p, "sub", [again[0]["ackId"]])

    def test_modack_extends_lease(self):
        p = self.setup_pair()        # default 10 s
        self.publish(p, "top", ["extend"])
        rm = self.pull_until(p, "sub", 1)[0]
        self.modack(p, "sub", [rm["ackId"]], 600)
        self.modack(p, "sub", [rm["ackId"]], 1)    # deadline counts from the request
        time.sleep(1.5)
        self.assertEqual(len(self.pull_until(p, "sub", 1, timeout=5)), 1)

    def test_default_deadline_redelivery(self):
        # the real thing: default 10 s ack deadline, no modifyAckDeadline
        p = self.setup_pair()
        ids = self.publish(p, "top", ["slow consumer"])
        rm = self.pull_until(p, "sub", 1)[0]
        t0 = time.monotonic()
        time.sleep(8)
        self.assertNothingToPull(p, "sub", "still inside the 10 s deadline")
        again = self.pull_until(p, "sub", 1, timeout=7)
        elapsed = time.monotonic() - t0
        self.assertEqual(len(again), 1, "not redelivered within ~15 s")
        self.assertGreaterEqual(elapsed, 9.5)
        self.assertEqual(again[0]["message"]["messageId"], ids[0])
        self.assertNotEqual(again[0]["ackId"], rm["ackId"])
        self.ack(p, "sub", [rm["ackId"]])          # old ackId: 200 {}
        self.ack(p, "sub", [again[0]["ackId"]])

    def test_acked_message_not_redelivered(self):
        p = self.setup_pair()
        self.publish(p, "top", ["once"])
        rm = self.pull_until(p, "sub", 1)[0]
        self.ack(p, "sub", [rm["ackId"]])
        # a nack / short deadline on an already acked message does not revive it
        self.modack(p, "sub", [rm["ackId"]], 0)
        self.modack(p, "sub", [rm["ackId"]], 1)
        time.sleep(1.5)
        self.assertNothingToPull(p, "sub", "acked message came back")

    def test_fan_out(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub-a", "top")
        self.create_sub(p, "sub-b", "top")
        ids = self.publish(p, "top", ["f%d" % i for i in range(10)])
        for s in ("sub-a", "sub-b"):
            got = self.pull_until(p, s, 10)
            self.assertEqual(sorted(r["message"]["messageId"] for r in got), sorted(ids), s)
            self.ack(p, s, [r["ackId"] for r in got])
        # acking on a does not affect b and vice versa: both now empty
        self.assertNothingToPull(p, "sub-a")
        self.assertNothingToPull(p, "sub-b")

    def test_ack_on_one_subscription_leaves_the_other(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub-a", "top")
        self.create_sub(p, "sub-b", "top", ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["x"])
        ra = self.pull_until(p, "sub-a", 1)
        self.ack(p, "sub-a", [ra[0]["ackId"]])
        rb = self.pull_until(p, "sub-b", 1)
        self.assertEqual([r["message"]["messageId"] for r in rb], ids)

    def test_delivery_attempt_counts(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600,
                        deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                          "maxDeliveryAttempts": 10})
        ids = self.publish(p, "top", ["count me"])
        rm = self.pull_until(p, "sub", 1)[0]
        self.assertEqual(rm.get("deliveryAttempt"), 1)
        self.modack(p, "sub", [rm["ackId"]], 0)        # nack
        rm = self.pull_until(p, "sub", 1)[0]
        self.assertEqual(rm.get("deliveryAttempt"), 2)
        self.modack(p, "sub", [rm["ackId"]], 1)        # let it expire
        time.sleep(1.5)
        rm = self.pull_until(p, "sub", 1, timeout=5)[0]
        self.assertEqual(rm.get("deliveryAttempt"), 3, "an expiry counts as an attempt")
        self.assertEqual(rm["message"]["messageId"], ids[0])
        self.ack(p, "sub", [rm["ackId"]])

    def test_dead_letter_after_max_attempts(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        self.create_sub(p, "dlq-sub", "dlq")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600,
                        deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                          "maxDeliveryAttempts": 5})
        ids = self.publish(p, "top", [{"data": b64("poison"), "attributes": {"k": "v"}}])
        publish_time = None
        for attempt in range(1, 6):
            rms = self.pull_until(p, "sub", 1)
            self.assertEqual(len(rms), 1, "attempt %d not delivered" % attempt)
            rm = rms[0]
            self.assertEqual(rm["message"]["messageId"], ids[0])
            self.assertEqual(rm.get("deliveryAttempt"), attempt)
            publish_time = rm["message"]["publishTime"]
            self.modack(p, "sub", [rm["ackId"]], 0)
        self.assertNothingToPull(p, "sub", "after 5 nacks the message must leave the source")
        dl = self.pull_until(p, "dlq-sub", 1, timeout=5)
        self.assertEqual(len(dl), 1, "message did not reach the dead-letter topic's subscription")
        m = dl[0]["message"]
        self.assertNotIn("deliveryAttempt", dl[0], "dlq-sub has no deadLetterPolicy")
        self.assertEqual(unb64(m["data"]), b"poison")
        attrs = m["attributes"]
        self.assertEqual(attrs.get("k"), "v", "original attributes are kept")
        self.assertEqual(attrs.get("CloudPubSubDeadLetterSourceDeliveryCount"), "5")
        self.assertIn(attrs.get("CloudPubSubDeadLetterSourceSubscription"), ("sub", sub_name(p, "sub")))
        self.assertEqual(attrs.get("CloudPubSubDeadLetterSourceSubscriptionProject"), p)
        tpt = attrs.get("CloudPubSubDeadLetterSourceTopicPublishTime")
        self.assertIsNotNone(tpt, attrs)
        self.assertEqual(abs((parse_time(tpt) - parse_time(publish_time)).total_seconds()) < 0.002,
                         True, "source publish time %s vs %s" % (tpt, publish_time))
        self.ack(p, "dlq-sub", [dl[0]["ackId"]])
        time.sleep(0.3)
        self.assertNothingToPull(p, "sub", "gone from the source")
        self.assertNothingToPull(p, "dlq-sub")

    def test_dead_letter_only_the_poison_message(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        self.create_sub(p, "dlq-sub", "dlq")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600,
                        deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq"),
                                          "maxDeliveryAttempts": 5})
        good, bad = self.publish(p, "top", ["good", "bad"])
        for _ in range(5):
            rms = self.pull_until(p, "sub", 1)
            for rm in rms:
                if rm["message"]["messageId"] == good:
                    self.ack(p, "sub", [rm["ackId"]])
                else:
                    self.modack(p, "sub", [rm["ackId"]], 0)
        self.assertNothingToPull(p, "sub")
        dl = self.pull_until(p, "dlq-sub", 1, timeout=5)
        self.assertEqual([unb64(r["message"]["data"]) for r in dl], [b"bad"])


class RetentionTest(harness.BrokerTestCase):
    BROKER_ARGS = ("--retention-interval", "1s")

    def test_retention_trims_old_entries(self):
        p = self.project()
        self.create_topic(p, "mytopic", {"messageRetentionDuration": "600s"})
        self.create_sub(p, "sub", "mytopic", messageRetentionDuration="600s")
        key = "rn:v1:{%s/%s}:log" % (p, "mytopic")
        old_ms = int(time.time() * 1000) - 3600 * 1000
        # before anything is published through the API (stream ids increase)
        self.redis.cmd("XADD", key, "%d-0" % old_ms, "d", "hello")
        self.assertGreaterEqual(self.redis.cmd("XLEN", key), 1)
        ids = self.publish(p, "mytopic", ["fresh"])
        old_id = ("%d-0" % old_ms).encode()

        def trimmed():
            if self.redis.cmd("XLEN", key) != 1:
                return False
            return [e[0] for e in self.redis.cmd("XRANGE", key, "-", "+")] != [old_id]
        harness.wait_until(trimmed, 8, 0.1,
                           "XLEN %s == 1 with the 1 h old entry trimmed" % key)
        rms = self.pull_until(p, "sub", 1)
        time.sleep(0.3)
        rms += self.pull(p, "sub")
        self.assertEqual([r["message"]["messageId"] for r in rms], ids)
        self.assertEqual(unb64(rms[0]["message"]["data"]), b"fresh")


    def test_leased_entry_trimmed_by_retention(self):
        # an entry that is leased (pending) when retention trims it must not
        # break later pulls once its lease expires
        p = self.project()
        self.create_topic(p, "top", {"messageRetentionDuration": "600s"})
        self.create_sub(p, "sub", "top", messageRetentionDuration="600s",
                        ackDeadlineSeconds=600)
        key = "rn:v1:{%s/%s}:log" % (p, "top")
        self.redis.cmd("XADD", key, "%d-0" % (int(time.time() * 1000) - 3600 * 1000), "d", "old")
        fresh = self.publish(p, "top", ["fresh"])
        first = self.pull(p, "sub")            # races with the trimmer on purpose
        if first:
            self.modack(p, "sub", [r["ackId"] for r in first], 1)
        harness.wait_until(lambda: self.redis.cmd("XLEN", key) == 1, 8, 0.1, "the old entry trimmed")
        time.sleep(1.2)                        # and the 1 s leases expired
        got = self.pull_until(p, "sub", 1, timeout=5)
        time.sleep(0.2)
        got += self.pull(p, "sub")
        self.assertIn(fresh[0], [r["message"]["messageId"] for r in got + first])
        for r in got:
            self.assertIn("data", r["message"], "a message without data: %r" % r)
            self.assertEqual(unb64(r["message"]["data"]), b"fresh", "trimmed entry redelivered")
        self.assertTrue(self.broker.alive())
        if got:
            self.ack(p, "sub", [r["ackId"] for r in got])

    def test_retention_keeps_fresh_messages(self):
        # trimming runs every second: an unacked message well inside every
        # retention window must survive several rounds
        p = self.project()
        self.create_topic(p, "top", {"messageRetentionDuration": "600s"})
        self.create_sub(p, "sub", "top")                     # default 7 d
        self.create_sub(p, "short", "top", messageRetentionDuration="600s")
        ids = self.publish(p, "top", ["keep me"])
        time.sleep(3.5)
        for s in ("sub", "short"):
            rms = self.pull_until(p, s, 1)
            self.assertEqual([r["message"]["messageId"] for r in rms], ids, s)


if __name__ == "__main__":
    harness.main()
