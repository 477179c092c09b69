#!/usr/bin/env python3
"""Exactly-once delivery (enableExactlyOnceDelivery, Pub/Sub semantics): while a
lease is held the message is not redelivered (on any broker); an ack or
modack whose lease expired, was nacked or was superseded by a later delivery
fails with Pub/Sub's error (400 INVALID_ARGUMENT, an ErrorInfo whose metadata
names each refused ackId PERMANENT_FAILURE_INVALID_ACK_ID); a successful ack
is final; of concurrent acks of one ackId through two brokers exactly one
succeeds. (The official client over gRPC: test_grpc.py.)
Run: python3 tests/integration/test_exactly_once.py"""

import threading
import time

import harness
from harness import b64, unb64


class ExactlyOnceTest(harness.BrokerTestCase):

    def setup_sub(self, **extra):
        p = self.project()
        self.create_topic(p, "top")
        js = self.create_sub(p, "eod", "top", enableExactlyOnceDelivery=True, **extra)
        self.assertIs(js["enableExactlyOnceDelivery"], True)
        return p

    def ack_raw(self, p, ids, client=None, modack=None):
        if modack is None:
            return (client or self.client).req(
                "POST", "/v1/projects/%s/subscriptions/eod:acknowledge" % p, {"ackIds": ids})
        return (client or self.client).req(
            "POST", "/v1/projects/%s/subscriptions/eod:modifyAckDeadline" % p,
            {"ackIds": ids, "ackDeadlineSeconds": modack})

    def assertRefused(self, resp, ack_ids):
        st, js, raw = resp
        self.assertError(resp, 400, "INVALID_ARGUMENT")
        details = js["error"].get("details")
        self.assertEqual(len(details), 1, raw)
        d = details[0]
        self.assertEqual(d["@type"], "type.googleapis.com/google.rpc.ErrorInfo")
        self.assertEqual(d["reason"], "EXACTLY_ONCE_ACKID_FAILURE")
        self.assertEqual(d["domain"], "pubsub.googleapis.com")
        self.assertEqual(d["metadata"], {a: "PERMANENT_FAILURE_INVALID_ACK_ID" for a in ack_ids})

    def test_a_successful_ack_is_final_and_a_second_one_fails(self):
        p = self.setup_sub()
        self.publish(p, "top", ["a"])
        rms = self.pull_until(p, "eod", 1)
        self.assertEqual(self.assertOk(self.ack_raw(p, [rms[0]["ackId"]])), {})
        self.assertRefused(self.ack_raw(p, [rms[0]["ackId"]]), [rms[0]["ackId"]])
        self.assertRefused(self.ack_raw(p, [rms[0]["ackId"]], modack=30), [rms[0]["ackId"]])

    def test_an_ack_after_the_deadline_fails_and_the_message_comes_once_more(self):
        p = self.setup_sub()
        self.publish(p, "top", ["late", "in-time"])
        rms = self.pull_until(p, "eod", 2)
        late = [rm for rm in rms if unb64(rm["message"]["data"]) == b"late"][0]
        ok = [rm for rm in rms if unb64(rm["message"]["data"]) == b"in-time"][0]
        self.assertEqual(self.assertOk(self.ack_raw(p, [late["ackId"]], modack=1)), {})
        time.sleep(1.5)
        # One request: the valid ack is done, the late one refused.
        self.assertRefused(self.ack_raw(p, [ok["ackId"], late["ackId"]]), [late["ackId"]])
        again = self.pull_until(p, "eod", 1)
        self.assertEqual([unb64(rm["message"]["data"]) for rm in again], [b"late"])
        self.assertEqual(again[0]["message"]["messageId"], late["message"]["messageId"])
        self.assertNotEqual(again[0]["ackId"], late["ackId"])
        # The earlier delivery's ackId stays invalid; the latest one works.
        self.assertRefused(self.ack_raw(p, [late["ackId"]]), [late["ackId"]])
        self.assertEqual(self.assertOk(self.ack_raw(p, [again[0]["ackId"]])), {})
        self.assertNothingToPull(p, "eod", "both acked: nothing comes back")

    def test_a_nack_gives_the_lease_up(self):
        p = self.setup_sub()
        self.publish(p, "top", ["n"])
        rms = self.pull_until(p, "eod", 1)
        self.assertEqual(self.assertOk(self.ack_raw(p, [rms[0]["ackId"]], modack=0)), {})
        self.assertRefused(self.ack_raw(p, [rms[0]["ackId"]]), [rms[0]["ackId"]])
        again = self.pull_until(p, "eod", 1)
        self.assertEqual(self.assertOk(self.ack_raw(p, [again[0]["ackId"]])), {})

    def test_concurrent_acks_of_one_ack_id_through_two_brokers(self):
        p = self.setup_sub(ackDeadlineSeconds=60)
        b2 = self.env.start_broker(self.redis.port)
        self.publish(p, "top", ["x%d" % i for i in range(5)])
        rms = self.pull_until(p, "eod", 5)
        self.assertEqual(len(rms), 5)
        # Held: the other broker does not deliver them again.
        c2 = harness.Client(b2.port)
        self.addCleanup(c2.close)
        st, js, raw = c2.req("POST", "/v1/projects/%s/subscriptions/eod:pull" % p,
                             {"maxMessages": 10, "returnImmediately": True})
        self.assertEqual((st, js), (200, {}), raw)
        for rm in rms:
            results = []
            lock = threading.Lock()

            def one(port):
                c = harness.Client(port)
                try:
                    st, _, _ = self.ack_raw(p, [rm["ackId"]], client=c)
                    with lock:
                        results.append(st)
                finally:
                    c.close()

            ts = [threading.Thread(target=one, args=(port,))
                  for port in (self.broker.port, b2.port) * 4]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
            self.assertEqual(sorted(results), [200] + [400] * 7, rm["ackId"])

    def test_create_rules_and_turning_it_off(self):
        p = self.project()
        self.create_topic(p, "top")
        st, js, raw = self.req("PUT", "/v1/projects/%s/subscriptions/pushed" % p,
                               {"topic": "projects/%s/topics/top" % p,
                                "enableExactlyOnceDelivery": True,
                                "pushConfig": {"pushEndpoint": "http://127.0.0.1:9/x"}})
        self.assertError((st, js, raw), 400, "INVALID_ARGUMENT")
        self.assertIn("pull subscriptions only", js["error"]["message"])
        p = self.setup_sub()
        self.publish(p, "top", ["a"])
        rms = self.pull_until(p, "eod", 1)
        self.assertOk(self.ack_raw(p, [rms[0]["ackId"]]))
        js = self.assertOk(self.req("PATCH", "/v1/projects/%s/subscriptions/eod" % p,
                                    {"subscription": {"enableExactlyOnceDelivery": False},
                                     "updateMask": "enableExactlyOnceDelivery"}))
        self.assertNotIn("enableExactlyOnceDelivery", js)
        # At-least-once again: a stale ack is silently accepted, as Pub/Sub.
        self.assertEqual(self.assertOk(self.ack_raw(p, [rms[0]["ackId"]])), {})


if __name__ == "__main__":
    harness.main()
