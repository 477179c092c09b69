#!/usr/bin/env python3
"""Ordered delivery (enableMessageOrdering, Pub/Sub semantics): messages with
the same orderingKey come in publish order, one batch of a key outstanding
at a time; a nack or an expired lease redelivers the key's outstanding batch
in order, before anything newer of that key; keys are independent; messages
without a key are not held; two brokers on one Redis keep the guarantee,
also when one is SIGKILLed holding a key's batch.
Run: python3 tests/integration/test_ordering.py"""

import os
import signal
import threading
import time

import harness
from harness import b64, unb64


class OrderingTest(harness.BrokerTestCase):

    def pub(self, p, key, datas, client=None):
        body = {"messages": [{"data": b64(d), "orderingKey": key} if key else {"data": b64(d)}
                             for d in datas]}
        st, js, raw = (client or self.client).req(
            "POST", "/v1/projects/%s/topics/top:publish" % p, body)
        self.assertEqual(st, 200, raw)

    def pull_all(self, p, s, client=None, n=1000):
        st, js, raw = (client or self.client).req(
            "POST", "/v1/projects/%s/subscriptions/%s:pull" % (p, s),
            {"maxMessages": n, "returnImmediately": True})
        self.assertEqual(st, 200, raw)
        return js.get("receivedMessages", [])

    def data(self, rms):
        return [unb64(rm["message"]["data"]).decode() for rm in rms]

    def ids(self, rms, prefix):
        return [rm["ackId"] for rm in rms if unb64(rm["message"]["data"]).decode()
                .startswith(prefix)]

    def setup_sub(self, **extra):
        p = self.project()
        self.create_topic(p, "top")
        js = self.create_sub(p, "ord", "top", enableMessageOrdering=True,
                             ackDeadlineSeconds=600, **extra)
        self.assertIs(js["enableMessageOrdering"], True)
        return p

    def test_one_batch_per_key_in_order_and_keys_are_independent(self):
        p = self.setup_sub()
        for i in range(20):
            for k in ("A", "B", "C"):
                self.pub(p, k, ["%s%02d" % (k, i)])
        self.pub(p, "", ["free1", "free2"])
        rms = self.pull_all(p, "ord")
        got = self.data(rms)
        for k in ("A", "B", "C"):
            self.assertEqual([d for d in got if d[0] == k], ["%s%02d" % (k, i) for i in range(20)])
        self.assertEqual(sorted(d for d in got if d.startswith("free")), ["free1", "free2"])
        # While A's batch is outstanding, A's new messages wait; B goes on once acked.
        self.pub(p, "A", ["A20", "A21"])
        self.pub(p, "B", ["B20"])
        self.pub(p, "", ["free3"])
        self.assertEqual(self.data(self.pull_all(p, "ord")), ["free3"])
        self.ack(p, "ord", self.ids(rms, "B"))
        self.assertEqual(self.data(self.pull_all(p, "ord")), ["B20"])
        self.ack(p, "ord", self.ids(rms, "A"))
        self.assertEqual(self.data(self.pull_all(p, "ord")), ["A20", "A21"])
        # Messages published later are never delivered before earlier ones of their key.
        self.assertEqual(self.pull_all(p, "ord"), [])

    def test_nack_redelivers_the_outstanding_batch_in_order_before_newer(self):
        p = self.setup_sub()
        self.pub(p, "A", ["A1", "A2", "A3", "A4"])
        rms = self.pull_all(p, "ord")
        self.assertEqual(self.data(rms), ["A1", "A2", "A3", "A4"])
        self.ack(p, "ord", [rms[0]["ackId"]])                   # A1 done
        self.pub(p, "A", ["A5"])                                 # newer: must wait
        self.modack(p, "ord", [rms[2]["ackId"]], 0)             # nack A3
        again = self.pull_all(p, "ord")
        self.assertEqual(self.data(again), ["A2", "A3", "A4"], "the rest of the batch, in order")
        self.ack(p, "ord", [rm["ackId"] for rm in again])
        self.assertEqual(self.data(self.pull_all(p, "ord")), ["A5"])

    def test_an_expired_lease_redelivers_in_order(self):
        p = self.setup_sub()
        self.pub(p, "K", ["K1", "K2", "K3"])
        rms = self.pull_all(p, "ord")
        self.assertEqual(self.data(rms), ["K1", "K2", "K3"])
        self.modack(p, "ord", [rms[1]["ackId"]], 1)            # K2's lease: 1 s
        self.pub(p, "K", ["K4"])
        time.sleep(1.5)
        again = self.pull_all(p, "ord")
        self.assertEqual(self.data(again), ["K1", "K2", "K3"])
        self.ack(p, "ord", [rm["ackId"] for rm in again])
        self.assertEqual(self.data(self.pull_all(p, "ord")), ["K4"])

    def test_push_delivers_a_key_in_order(self):
        from push_sink import Sink
        import json
        sink = Sink().start()
        self.addCleanup(sink.stop)
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "ordpush", "top", enableMessageOrdering=True,
                        pushConfig={"pushEndpoint": sink.url("/ord")})
        for i in range(15):
            for k in ("A", "B"):
                self.pub(p, k, ["%s%02d" % (k, i)])
        reqs = sink.wait_for(lambda rs: rs if len([r for r in rs if r.path == "/ord"]) >= 30
                             else None, 30, "30 pushes")
        got = [unb64(json.loads(r.body)["message"]["data"]).decode() for r in reqs
               if r.path == "/ord"]
        for k in ("A", "B"):
            self.assertEqual([d for d in got if d[0] == k], ["%s%02d" % (k, i) for i in range(15)])

    def test_unordered_subscriptions_ignore_keys(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "plain", "top")
        self.pub(p, "A", ["A1", "A2"])
        rms = self.pull_all(p, "plain")
        self.assertEqual(sorted(self.data(rms)), ["A1", "A2"])
        self.pub(p, "A", ["A3"])
        self.assertEqual(self.data(self.pull_all(p, "plain")), ["A3"], "no batch held")
        js = self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/plain" % p))
        self.assertNotIn("enableMessageOrdering", js)
        # Immutable.
        self.assertError(self.req("PATCH", "/v1/projects/%s/subscriptions/plain" % p,
                                  {"subscription": {"enableMessageOrdering": True},
                                   "updateMask": "enableMessageOrdering"}),
                         400, "INVALID_ARGUMENT")

    def test_two_brokers_keep_the_order(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "ord", "top", enableMessageOrdering=True, ackDeadlineSeconds=60)
        b2 = self.env.start_broker(self.redis.port)
        c2 = harness.Client(b2.port)
        self.addCleanup(c2.close)
        keys = ["k%d" % i for i in range(10)]
        for i in range(30):
            for k in keys:
                self.pub(p, k, ["%s-%03d" % (k, i)], client=c2 if i % 2 else None)
        seen = {k: [] for k in keys}
        errors = []
        lock = threading.Lock()

        def worker(port):
            c = harness.Client(port)
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    with lock:
                        if sum(len(v) for v in seen.values()) >= 300:
                            return
                    st, js, raw = c.req("POST", "/v1/projects/%s/subscriptions/ord:pull" % p,
                                        {"maxMessages": 7, "returnImmediately": True})
                    rms = js.get("receivedMessages", []) if st == 200 else []
                    with lock:
                        for rm in rms:
                            d = unb64(rm["message"]["data"]).decode()
                            k, n = d.split("-")
                            if int(n) != len(seen[k]):
                                errors.append("%s after %r" % (d, seen[k][-3:]))
                            seen[k].append(d)
                    if rms:
                        st, _, raw = c.req(
                            "POST", "/v1/projects/%s/subscriptions/ord:acknowledge" % p,
                            {"ackIds": [rm["ackId"] for rm in rms]})
                        if st != 200:
                            errors.append("ack %d %r" % (st, raw))
                    else:
                        time.sleep(0.01)
            finally:
                c.close()

        ts = [threading.Thread(target=worker, args=(port,))
              for port in (self.broker.port, b2.port, self.broker.port, b2.port)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        for k in keys:
            self.assertEqual(seen[k], ["%s-%03d" % (k, i) for i in range(30)])

    def test_a_broker_killed_holding_a_batch(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "ord", "top", enableMessageOrdering=True, ackDeadlineSeconds=10)
        b1 = self.env.start_broker(self.redis.port)
        b2 = self.env.start_broker(self.redis.port)
        c1, c2 = harness.Client(b1.port), harness.Client(b2.port)
        self.addCleanup(c2.close)
        self.pub(p, "A", ["A1", "A2", "A3"], client=c1)
        held = self.pull_all(p, "ord", client=c1)
        self.assertEqual(self.data(held), ["A1", "A2", "A3"])
        os.kill(b1.proc.pid, signal.SIGKILL)
        b1.proc.wait(10)
        c1.close()
        self.pub(p, "A", ["A4"], client=c2)
        self.assertEqual(self.pull_all(p, "ord", client=c2), [], "A is held by the dead broker")
        deadline = time.monotonic() + 20
        again = []
        while not again and time.monotonic() < deadline:
            again = self.pull_all(p, "ord", client=c2)
            time.sleep(0.2)
        self.assertEqual(self.data(again), ["A1", "A2", "A3"], "redelivered in order after the"
                         " deadline, and A4 does not overtake them")
        self.assertEqual([rm.get("deliveryAttempt", 2) for rm in again], [2, 2, 2])
        st, _, raw = c2.req("POST", "/v1/projects/%s/subscriptions/ord:acknowledge" % p,
                            {"ackIds": [rm["ackId"] for rm in again]})
        self.assertEqual(st, 200, raw)
        self.assertEqual(self.data(self.pull_all(p, "ord", client=c2)), ["A4"])


if __name__ == "__main__":
    harness.main()
