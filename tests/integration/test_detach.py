#!/usr/bin/env python3
"""subscriptions.detach (Pub/Sub's DetachSubscription): the subscription keeps
its name and topic, shows "detached": true, drops its backlog and leases,
receives nothing more; pull, acknowledge, modifyAckDeadline and seek answer
400 FAILED_PRECONDITION; a push subscription stops pushing; detaching twice
is a no-op; the subscription can still be deleted. (Who may detach:
test_auth.py, test_detach_needs_the_permission_on_the_topic.)
Run: python3 tests/integration/test_detach.py"""

import time

import harness
from harness import b64
from push_sink import Sink


class DetachTest(harness.BrokerTestCase):

    def detach(self, p, s):
        return self.req("POST", "/v1/projects/%s/subscriptions/%s:detach" % (p, s), None)

    def test_detach_a_pull_subscription(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "gone", "top")
        self.create_sub(p, "stays", "top")
        self.publish(p, "top", ["a", "b", "c"])
        rms = self.pull_until(p, "gone", 1, max_messages=1)
        self.assertEqual(len(rms), 1)
        self.assertEqual(self.assertOk(self.detach(p, "gone")), {})
        js = self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/gone" % p))
        self.assertIs(js["detached"], True)
        self.assertEqual(js["topic"], "projects/%s/topics/top" % p)
        self.assertNotIn("detached",
                         self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/stays" % p)))
        for what, resp in (
                ("pull", self.pull_raw(p, "gone")),
                ("acknowledge", self.req("POST", "/v1/projects/%s/subscriptions/gone:acknowledge"
                                         % p, {"ackIds": [rms[0]["ackId"]]})),
                ("modifyAckDeadline",
                 self.req("POST", "/v1/projects/%s/subscriptions/gone:modifyAckDeadline" % p,
                          {"ackIds": [rms[0]["ackId"]], "ackDeadlineSeconds": 30})),
                ("seek", self.req("POST", "/v1/projects/%s/subscriptions/gone:seek" % p,
                                  {"time": "2020-01-01T00:00:00Z"}))):
            st, js, raw = resp
            self.assertError(resp, 400, "FAILED_PRECONDITION", what)
            self.assertIn("is detached", js["error"]["message"], what)
        # Nothing of it is left in Redis: no group on the topic's log, no leases.
        groups = harness.redis_cmd(self.redis.port, "XINFO", "GROUPS", "rn:v1:{%s/top}:log" % p)
        names = [dict(zip(g[::2], g[1::2]))[b"name"] for g in groups]
        self.assertEqual(names, [("%s/stays" % p).encode()])
        self.assertEqual(harness.redis_cmd(self.redis.port, "EXISTS",
                                           "rn:v1:sub:{%s/gone}:lease" % p), 0)
        # The topic's other subscription is unaffected; the topic no longer lists it.
        self.publish(p, "top", ["d"])
        self.assertEqual(len(self.pull_until(p, "stays", 4)), 4)
        js = self.assertOk(self.req("GET", "/v1/projects/%s/topics/top/subscriptions" % p))
        self.assertEqual(js.get("subscriptions"), ["projects/%s/subscriptions/stays" % p])
        # Twice: no-op. Updates cannot attach it again. Delete still works.
        self.assertEqual(self.assertOk(self.detach(p, "gone")), {})
        st, js, raw = self.req("PUT", "/v1/projects/%s/subscriptions/new" % p,
                               {"topic": "projects/%s/topics/top" % p, "detached": True})
        self.assertError((st, js, raw), 400, "INVALID_ARGUMENT")
        js = self.assertOk(self.req("PATCH", "/v1/projects/%s/subscriptions/gone" % p,
                                    {"subscription": {"ackDeadlineSeconds": 20},
                                     "updateMask": "ackDeadlineSeconds"}))
        self.assertIs(js["detached"], True)
        self.assertIs(self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/gone" % p))
                      ["detached"], True)
        self.assertError(self.pull_raw(p, "gone"), 400, "FAILED_PRECONDITION")
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/gone" % p))
        self.assertError(self.detach(p, "gone"), 404, "NOT_FOUND")

    def test_detach_a_filtered_subscription(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "flt", "top", filter="attributes:x")
        self.publish(p, "top", [{"data": b64("x"), "attributes": {"x": "1"}}])
        self.assertOk(self.detach(p, "flt"))
        self.assertEqual(harness.redis_cmd(self.redis.port, "EXISTS",
                                           "rn:v1:{%s/top}:flog:%s/flt" % (p, p),
                                           "rn:v1:{%s/top}:filters" % p), 0)
        self.publish(p, "top", [{"data": b64("x"), "attributes": {"x": "2"}}])
        self.assertError(self.pull_raw(p, "flt"), 400, "FAILED_PRECONDITION")

    def test_detach_stops_pushes(self):
        p = self.project()
        sink = Sink().start()
        self.addCleanup(sink.stop)
        self.create_topic(p, "top")
        self.create_sub(p, "hook", "top", pushConfig={"pushEndpoint": sink.url("/hook")})
        self.publish(p, "top", ["one"])
        sink.wait_for(lambda rs: [r for r in rs if r.path == "/hook"], 15, "the first push")
        self.assertOk(self.detach(p, "hook"))
        n = len(sink.requests)
        self.publish(p, "top", ["two", "three"])
        time.sleep(2)
        self.assertEqual(len(sink.requests), n, "no push after the detach")


if __name__ == "__main__":
    harness.main()
