#!/usr/bin/env python3
"""Subscription filters (Pub/Sub's filter language, docs/api.md "Filters"):
the shared table tests/data/filter_cases.json through the broker (each valid
filter gets exactly its messages, each invalid one a 400 with its column),
the 256-byte limit, immutability, 10k mixed messages (the filtered
subscription gets exactly the matching ones and holds nothing else), and
every publish path: topics.publish, registry ingest, dead-letter forwarding,
a second broker; seek of a filtered subscription; cleanup on delete.
Run: python3 tests/integration/test_filter.py"""

import json
import os
import time

import harness
from harness import b64, unb64, topic_name

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "data", "filter_cases.json"), encoding="utf-8") as f:
    CASES = json.load(f)


class FilterTest(harness.BrokerTestCase):

    def put_sub(self, p, s, t, **fields):
        body = {"topic": "projects/%s/topics/%s" % (p, t)}
        body.update(fields)
        return self.req("PUT", "/v1/projects/%s/subscriptions/%s" % (p, s), body)

    def drain(self, p, s, n, timeout=20.0):
        return self.drain_data(p, s, n, timeout)

    def test_the_shared_table(self):
        p = self.project()
        self.create_topic(p, "top")
        valid = CASES["valid"]
        self.assertGreaterEqual(len(valid) + len(CASES["invalid"]), 60)
        for i, c in enumerate(valid):
            js = self.assertOk(self.put_sub(p, "flt-%d" % i, "top", filter=c["filter"]), c["filter"])
            self.assertEqual(js["filter"], c["filter"])
        self.create_sub(p, "all", "top")
        msgs = CASES["messages"]
        self.publish(p, "top", [dict({"data": b64(mid)}, **({"attributes": a} if a else {}))
                              for mid, a in sorted(msgs.items())])
        self.assertEqual(self.drain(p, "all", len(msgs)), sorted(msgs))
        for i, c in enumerate(valid):
            want = sorted(c["matches"])
            got = self.drain(p, "flt-%d" % i, len(want), timeout=5.0 if want else 0.0)
            self.assertEqual(got, want, c["filter"])
            self.assertNothingToPull(p, "flt-%d" % i, c["filter"])
        for i, c in enumerate(CASES["invalid"]):
            st, js, raw = self.put_sub(p, "bad%d" % i, "top", filter=c["filter"])
            self.assertError((st, js, raw), 400, "INVALID_ARGUMENT", c["filter"])
            msg = js["error"]["message"]
            self.assertIn(c["error"], msg, c["filter"])
            self.assertIn("(at column %d)" % c["column"], msg, c["filter"])
            self.assertEqual(self.req("GET", "/v1/projects/%s/subscriptions/bad%d" % (p, i))[0],
                             404)

    def test_limit_immutability_and_empty(self):
        p = self.project()
        self.create_topic(p, "top")
        f256 = "attributes:x" + " " * 244
        self.assertEqual(len(f256), 256)
        self.assertOk(self.put_sub(p, "s256", "top", filter=f256))
        st, js, raw = self.put_sub(p, "s257", "top", filter=f256 + " ")
        self.assertError((st, js, raw), 400, "INVALID_ARGUMENT")
        self.assertIn("257 bytes", js["error"]["message"])
        # An empty filter is no filter.
        js = self.assertOk(self.put_sub(p, "none", "top", filter=""))
        self.assertNotIn("filter", js)
        # Immutable, as Pub/Sub: an update naming it is refused, others keep it.
        st, js, raw = self.req("PATCH", "/v1/projects/%s/subscriptions/s256" % p,
                               {"subscription": {"filter": "attributes:y"},
                                "updateMask": "filter"})
        self.assertError((st, js, raw), 400, "INVALID_ARGUMENT")
        js = self.assertOk(self.req("PATCH", "/v1/projects/%s/subscriptions/s256" % p,
                                    {"subscription": {"ackDeadlineSeconds": 30},
                                     "updateMask": "ackDeadlineSeconds"}))
        self.assertEqual(js["filter"], f256)
        self.publish(p, "top", [{"data": b64("y"), "attributes": {"y": "1"}},
                              {"data": b64("x"), "attributes": {"x": "1"}}])
        self.assertEqual(self.drain(p, "s256", 1), ["x"])
        self.assertNothingToPull(p, "s256")

    def test_ten_thousand_mixed_messages(self):
        p = self.project()
        self.create_topic(p, "gcr")
        self.create_sub(p, "cd-app", "gcr",
                        filter='attributes.action = "INSERT" AND '
                               'hasPrefix(attributes.repository, "team/app")')
        self.create_sub(p, "all", "gcr")
        want = []
        for batch in range(10):
            msgs = []
            for j in range(1000):
                n = batch * 1000 + j
                if n % 10 == 3:
                    a = {"action": "INSERT", "repository": "team/app-%d" % (n % 7)}
                    want.append(str(n))
                elif n % 10 == 4:
                    a = {"action": "DELETE", "repository": "team/app"}
                elif n % 10 == 5:
                    a = {"action": "INSERT", "repository": "team/web"}
                else:
                    a = {"other": str(n)}
                msgs.append({"data": b64(str(n)), "attributes": a})
            self.publish(p, "gcr", msgs)
        # The filtered subscription holds the matching messages only: its stream has exactly
        # those, nothing else is backlog.
        self.assertEqual(harness.redis_cmd(self.redis.port, "XLEN",
                                           "rn:v1:{%s/gcr}:flog:%s/cd-app" % (p, p)), 1000)
        self.assertEqual(self.drain(p, "cd-app", 1000), sorted(want))
        self.assertNothingToPull(p, "cd-app", "non-matching messages are never delivered")
        self.assertEqual(len(self.drain(p, "all", 10000, timeout=60)), 10000)

    def test_registry_ingest_dead_letters_and_a_second_broker(self):
        p = self.project()
        self.create_topic(p, "gcr")
        # Created on a second broker, published on the first at once: no broker caches filters.
        b2 = self.env.start_broker(self.redis.port)
        c2 = harness.Client(b2.port)
        self.addCleanup(c2.close)
        st, _, raw = c2.req("PUT", "/v1/projects/%s/subscriptions/cd-app" % p,
                            {"topic": "projects/%s/topics/gcr" % p,
                             "filter": 'attributes.action = "INSERT" AND '
                                       'attributes.repository = "%s/app"' % p})
        self.assertEqual(st, 200, raw)
        self.create_sub(p, "all", "gcr")
        hdr = {"Content-Type": "application/vnd.docker.distribution.events.v1+json"}
        digest = {}
        for n, (action, repo) in enumerate((("push", "app"), ("push", "web"), ("push", "app"),
                                            ("delete", "app"))):
            digest.setdefault(repo, "sha256:" + ("%x" % n) * 64)
            target = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "digest": digest[repo], "repository": "%s/%s" % (p, repo)}
            if action == "push":
                target["tag"] = "v%d" % n
            ev = {"id": "evt-%s-%d" % (p, n), "timestamp": "2026-12-04T10:00:00Z",
                  "action": action, "target": target,
                  "request": {"host": "registry.example:5000", "method": "PUT"}}
            js = self.assertOk(self.req("POST", "/v1/registry/distribution",
                                        raw=json.dumps({"events": [ev]}), headers=hdr))
            self.assertEqual(js["published"], 1, js)
        everything = self.pull_until(p, "all", 4)
        self.assertEqual(len(everything), 4, everything)
        rms = self.pull_until(p, "cd-app", 2)
        self.assertEqual(len(rms), 2, [rm["message"]["attributes"] for rm in everything])
        self.assertEqual(sorted(rm["message"]["attributes"]["tag"] for rm in rms), ["v0", "v2"])
        self.assertTrue(all(rm["message"]["attributes"]["action"] == "INSERT" for rm in rms))
        self.ack(p, "cd-app", [rm["ackId"] for rm in rms])
        self.assertNothingToPull(p, "cd-app")

        # Dead-letter forwarding publishes through the same step: a filtered subscription of
        # the dead-letter topic sees only what its filter matches.
        self.create_topic(p, "src")
        self.create_topic(p, "dlq")
        self.create_sub(p, "src-sub", "src", ackDeadlineSeconds=10,
                        deadLetterPolicy={"deadLetterTopic": "projects/%s/topics/dlq" % p,
                                          "maxDeliveryAttempts": 5})
        self.create_sub(p, "dlq-a", "dlq",
                        filter='attributes.kind = "a" AND '
                               'attributes.CloudPubSubDeadLetterSourceSubscription = "src-sub"')
        self.publish(p, "src", [{"data": b64("a"), "attributes": {"kind": "a"}},
                                {"data": b64("b"), "attributes": {"kind": "b"}}])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rms = self.pull(p, "src-sub")
            if rms:
                self.modack(p, "src-sub", [rm["ackId"] for rm in rms], 0)   # nack
            st, js, _ = self.pull_raw(p, "dlq-a")
            if js:
                break
            time.sleep(0.05)
        rms = js.get("receivedMessages", [])
        self.assertEqual([unb64(rm["message"]["data"]) for rm in rms], [b"a"])
        self.assertEqual(rms[0]["message"]["attributes"]["CloudPubSubDeadLetterSourceDeliveryCount"],
                         "5")

    def test_seek_replays_matching_retained_messages_only(self):
        p = self.project()
        self.create_topic(p, "top", {"messageRetentionDuration": "3600s"})
        # Published before the subscription exists: topic retention lets a seek reach it.
        self.publish(p, "top", [{"data": b64("early-x"), "attributes": {"x": "1"}},
                              {"data": b64("early-y"), "attributes": {"y": "1"}}])
        t0 = time.time() - 5
        self.create_sub(p, "sub", "top", filter="attributes:x")
        self.publish(p, "top", [{"data": b64("x"), "attributes": {"x": "2"}},
                              {"data": b64("y"), "attributes": {"y": "2"}}])
        self.assertEqual(self.drain(p, "sub", 1), ["x"])
        self.assertNothingToPull(p, "sub")
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
        self.assertOk(self.req("POST", "/v1/projects/%s/subscriptions/sub:seek" % p, {"time": ts}))
        self.assertEqual(self.drain(p, "sub", 2), ["early-x", "x"])
        self.assertNothingToPull(p, "sub")
        # New messages still reach it after the rebuild.
        self.publish(p, "top", [{"data": b64("late-x"), "attributes": {"x": "3"}}])
        self.assertEqual(self.drain(p, "sub", 1), ["late-x"])

    def test_a_filter_added_while_a_broker_publishes_without_lua(self):
        """Publishes to a topic without filtered subscriptions skip Lua
        (store/publish.c: WATCH, pubguard, MULTI, XADD..., EXEC). A filtered
        subscription made meanwhile through another broker makes the next
        publish of the first abort its EXEC and go through publish.lua:
        the filtered subscription gets what matches, from the first
        message after its creation."""
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "all", "top")
        calls = lambda name: int(next((l.split("calls=")[1].split(",")[0] for l in
                                       self.redis.cmd("INFO", "commandstats").decode().splitlines()
                                       if l.startswith("cmdstat_%s:" % name)), 0))
        exec0 = calls("exec")
        self.publish(p, "top", [{"data": b64(b"before"), "attributes": {"k": "v"}}])
        self.assertGreater(calls("exec"), exec0, "the first publish went without Lua")
        other = self.env.start_broker(self.redis.port)
        c2 = harness.Client(other.port)
        self.addCleanup(c2.close)
        self.assertOk(c2.req("PUT", "/v1/projects/%s/subscriptions/flt" % p,
                             {"topic": topic_name(p, "top"), "filter": 'attributes.k = "v"'}))
        self.publish(p, "top", [{"data": b64(b"match"), "attributes": {"k": "v"}},
                                {"data": b64(b"other"), "attributes": {"k": "w"}}])
        self.publish(p, "top", [{"data": b64(b"match2"), "attributes": {"k": "v"}}])
        self.assertEqual(self.drain_data(p, "flt", 2), ["match", "match2"])
        self.assertEqual(self.drain_data(p, "all", 4), ["before", "match", "match2", "other"])

    def test_delete_removes_the_filtered_stream(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", filter="attributes:x")
        self.create_sub(p, "sub2", "top", filter="attributes:y")
        self.publish(p, "top", [{"data": b64("x"), "attributes": {"x": "1"}}])
        flog = "rn:v1:{%s/top}:flog:%s/sub" % (p, p)
        filters = "rn:v1:{%s/top}:filters" % p
        self.assertEqual(harness.redis_cmd(self.redis.port, "XLEN", flog), 1)
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/sub" % p))
        self.assertEqual(harness.redis_cmd(self.redis.port, "EXISTS", flog), 0)
        self.assertEqual(harness.redis_cmd(self.redis.port, "HKEYS", filters),
                         [("%s/sub2" % p).encode()])
        # A new subscription of that name starts empty, unfiltered.
        self.create_sub(p, "sub", "top")
        self.assertNothingToPull(p, "sub")
        self.assertOk(self.req("DELETE", "/v1/projects/%s/topics/top" % p))
        self.assertEqual(harness.redis_cmd(self.redis.port, "EXISTS", filters,
                                           "rn:v1:{%s/top}:flog:%s/sub2" % (p, p)), 0)
        js = self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/sub2" % p))
        self.assertEqual(js["topic"], "_deleted-topic_")
        self.assertEqual(js["filter"], "attributes:y")


if __name__ == "__main__":
    harness.main()
