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
