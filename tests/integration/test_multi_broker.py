#!/usr/bin/env python3
"""Two regnotifyd processes on one Redis cooperate: admin changes made
through one are seen by the other, and concurrent pullers on different
brokers never lease the same message twice.
Run: python3 tests/integration/test_multi_broker.py"""

import collections
import sys
import threading
import time

import harness
from harness import Client, b64

TOTAL = 2000


class MultiBrokerTest(harness.BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker2 = cls.cenv.start_broker(cls.redis.port)
        cls.client2 = Client(cls.broker2.port)
        cls.addClassCleanup(cls.client2.close)

    def on2(self, method, path, body=None):
        return self.client2.req(method, path, body)

    def test_admin_visible_across_brokers(self):
        p = self.project()
        self.create_topic(p, "top", {"labels": {"a": "1"}})
        js = self.assertOk(self.on2("GET", "/v1/projects/%s/topics/top" % p))
        self.assertEqual(js["labels"], {"a": "1"})
        self.assertOk(self.on2("PUT", "/v1/projects/%s/subscriptions/sub" % p,
                               {"topic": "projects/%s/topics/top" % p}))
        self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/sub" % p))
        self.assertError(self.on2("PUT", "/v1/projects/%s/topics/top" % p), 409, "ALREADY_EXISTS")
        # publish on 1, pull on 2, ack on 1
        ids = self.publish(p, "top", ["cross"])
        js = self.assertOk(self.on2("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 10, "returnImmediately": True}))
        rms = js.get("receivedMessages", [])
        deadline = time.monotonic() + 5
        while not rms and time.monotonic() < deadline:
            time.sleep(0.05)
            js = self.assertOk(self.on2("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                        {"maxMessages": 10, "returnImmediately": True}))
            rms = js.get("receivedMessages", [])
        self.assertEqual([r["message"]["messageId"] for r in rms], ids)
        self.ack(p, "sub", [rms[0]["ackId"]])            # ackId from broker 2, acked on 1
        self.modack(p, "sub", [rms[0]["ackId"]], 0)       # no revival after the ack
        self.assertNothingToPull(p, "sub")
        self.assertOk(self.on2("DELETE", "/v1/projects/%s/subscriptions/sub" % p))
        self.assertError(self.req("GET", "/v1/projects/%s/subscriptions/sub" % p), 404, "NOT_FOUND")

    def test_nack_on_one_broker_redelivers_on_other(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600)
        ids = self.publish(p, "top", ["x"])
        rm = self.pull_until(p, "sub", 1)[0]
        js = self.assertOk(self.on2("POST", "/v1/projects/%s/subscriptions/sub:modifyAckDeadline" % p,
                                    {"ackIds": [rm["ackId"]], "ackDeadlineSeconds": 0}))
        self.assertEqual(js, {})
        js = self.assertOk(self.on2("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 10, "returnImmediately": True}))
        self.assertEqual([r["message"]["messageId"] for r in js.get("receivedMessages", [])], ids)

    def test_leases_of_killed_broker_are_redelivered_by_the_other(self):
        # stateless brokers: a SIGKILLed broker's leases live in Redis, expire
        # after the ack deadline and the other broker redelivers them
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")            # default 10 s deadline
        extra = self.env.start_broker(self.redis.port)
        c = Client(extra.port)
        ids = self.publish(p, "top", ["m%d" % i for i in range(5)])
        leased = []
        deadline = time.monotonic() + 5
        while len(leased) < 5 and time.monotonic() < deadline:
            st, js, rawb = c.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                 {"maxMessages": 10, "returnImmediately": True})
            self.assertEqual(st, 200, rawb)
            leased += [r["message"]["messageId"] for r in (js or {}).get("receivedMessages", [])]
        c.close()
        self.assertEqual(sorted(leased), sorted(ids))
        t0 = time.monotonic()
        extra.kill9()
        self.assertNothingToPull(p, "sub", "leases held by the dead broker are still valid")
        got = self.pull_until(p, "sub", 5, timeout=16)
        self.assertGreaterEqual(time.monotonic() - t0, 8)
        self.assertEqual(sorted(r["message"]["messageId"] for r in got), sorted(ids))
        self.ack(p, "sub", [r["ackId"] for r in got])

    def test_concurrent_publish_through_both(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600)
        ids = {}
        errors = []

        def pub(port, tag):
            c = Client(port)
            try:
                for i in range(20):
                    st, js, rawb = c.req("POST", "/v1/projects/%s/topics/top:publish" % p,
                                         {"messages": [{"data": b64("%s-%d-%d" % (tag, i, j))}
                                                       for j in range(25)]})
                    if st != 200:
                        errors.append(rawb)
                        return
                    for j, mid in enumerate(js["messageIds"]):
                        ids[mid] = "%s-%d-%d" % (tag, i, j)
            except Exception as e:
                errors.append(repr(e))
            finally:
                c.close()

        ts = [threading.Thread(target=pub, args=(self.broker.port, "b1")),
              threading.Thread(target=pub, args=(self.broker2.port, "b2"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(ids), 1000, "messageIds unique across brokers")
        got = self.pull_until(p, "sub", 1000, timeout=20)
        self.assertEqual({r["message"]["messageId"]: harness.unb64(r["message"]["data"]).decode()
                          for r in got}, ids)

    def test_concurrent_create_exactly_one_wins(self):
        p = self.project()
        results = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def create(port, kind):
            c = Client(port)
            try:
                barrier.wait(10)
                if kind == "topic":
                    st = c.req("PUT", "/v1/projects/%s/topics/race" % p)[0]
                else:
                    st = c.req("PUT", "/v1/projects/%s/subscriptions/race-sub" % p,
                               {"topic": "projects/%s/topics/base" % p})[0]
                with lock:
                    results.append((kind, st))
            finally:
                c.close()

        self.create_topic(p, "base")
        ports = [self.broker.port, self.broker2.port] * 2
        ts = [threading.Thread(target=create, args=(port, kind))
              for kind in ("topic", "sub") for port in ports]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        for kind in ("topic", "sub"):
            codes = sorted(st for k, st in results if k == kind)
            self.assertEqual(codes, [200, 409, 409, 409], kind)
        js = self.assertOk(self.req("GET", "/v1/projects/%s/topics/base/subscriptions" % p))
        self.assertEqual(js["subscriptions"], ["projects/%s/subscriptions/race-sub" % p])

    def test_concurrent_pull_no_double_lease(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600)
        published = []
        for b in range(TOTAL // 100):
            published += self.publish(p, "top", [{"data": b64("m%d" % (b * 100 + i))}
                                               for i in range(100)])
        self.assertEqual(len(set(published)), TOTAL)

        lock = threading.Lock()
        received = []             # (broker, messageId)
        errors = []
        stop = threading.Event()
        path = "/v1/projects/%s/subscriptions/sub" % p

        def puller(port, tag):
            c = Client(port)
            try:
                deadline = time.monotonic() + 60
                while not stop.is_set() and time.monotonic() < deadline:
                    st, js, rawb = c.req("POST", path + ":pull",
                                         {"maxMessages": 100, "returnImmediately": True})
                    if st != 200:
                        errors.append("%s pull: %d %r" % (tag, st, rawb[:200]))
                        return
                    rms = (js or {}).get("receivedMessages", [])
                    if not rms:
                        with lock:
                            if len(received) >= TOTAL:
                                return
                        time.sleep(0.02)
                        continue
                    with lock:
                        received.extend((tag, r["message"]["messageId"]) for r in rms)
                    st, js, rawb = c.req("POST", path + ":acknowledge",
                                         {"ackIds": [r["ackId"] for r in rms]})
                    if st != 200 or js != {}:
                        errors.append("%s ack: %d %r" % (tag, st, rawb[:200]))
                        return
            except Exception as e:   # reported by the main thread
                errors.append("%s: %r" % (tag, e))
            finally:
                c.close()

        threads = [threading.Thread(target=puller, args=(self.broker.port, "b1")),
                   threading.Thread(target=puller, args=(self.broker2.port, "b2"))]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 70
            for t in threads:
                t.join(max(0.1, deadline - time.monotonic()))
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertEqual(errors, [])
        ids = [m for _, m in received]
        dups = sorted(m for m, n in collections.Counter(ids).items() if n > 1)
        self.assertEqual(dups, [], "messages leased twice (double lease)")
        self.assertEqual(set(ids), set(published), "union of both pullers is every message")
        per = {tag: sum(1 for t, _ in received if t == tag) for tag in ("b1", "b2")}
        sys.stderr.write("\n  [multi] received through broker 1: %d, broker 2: %d\n"
                         % (per["b1"], per["b2"]))
        self.assertNothingToPull(p, "sub")
        js = self.assertOk(self.on2("POST", path + ":pull", {"maxMessages": 10,
                                                             "returnImmediately": True}))
        self.assertEqual(js, {})


if __name__ == "__main__":
    harness.main()
