#!/usr/bin/env python3
"""Snapshots (Pub/Sub semantics): create captures a subscription's unacked
set and position; seek to it restores exactly that (the snapshot's unacked
messages and everything published after it, nothing acked before it);
get, list, topics/T/snapshots, patch (labels, expireTime), delete; the
7-day expiry after the oldest message held; errors. Also through a second
subscription of the same topic, a filtered one, and over gRPC (test_grpc.py).
Run: python3 tests/integration/test_snapshots.py"""

import datetime
import time

import harness
from harness import b64, unb64


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class SnapshotTest(harness.BrokerTestCase):

    def snap_path(self, p, n):
        return "/v1/projects/%s/snapshots/%s" % (p, n)

    def create_snap(self, p, n, s, **extra):
        body = {"subscription": "projects/%s/subscriptions/%s" % (p, s)}
        body.update(extra)
        return self.req("PUT", self.snap_path(p, n), body)

    def seek_snap(self, p, s, n):
        return self.req("POST", "/v1/projects/%s/subscriptions/%s:seek" % (p, s),
                        {"snapshot": "projects/%s/snapshots/%s" % (p, n)})

    def drain(self, p, s, n, timeout=10.0):
        return self.drain_data(p, s, n, timeout)

    def test_seek_to_a_snapshot_restores_exactly_its_unacked_set(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600)
        self.publish(p, "top", ["a", "b", "c", "d"])
        rms = self.pull_until(p, "sub", 4)
        self.ack(p, "sub", [rm["ackId"] for rm in rms
                            if unb64(rm["message"]["data"]) in (b"a", b"c")])
        self.publish(p, "top", ["e"])            # published, not yet delivered
        t0 = time.time()
        js = self.assertOk(self.create_snap(p, "snap", "sub", labels={"why": "upgrade"}))
        self.assertEqual(js["name"], "projects/%s/snapshots/snap" % p)
        self.assertEqual(js["topic"], "projects/%s/topics/top" % p)
        self.assertEqual(js["labels"], {"why": "upgrade"})
        # expireTime: 7 days after the oldest unacked message it holds (b).
        exp = parse_time(js["expireTime"])
        self.assertAlmostEqual(exp, t0 + 7 * 86400, delta=30)
        # Publish more, then ack everything.
        self.publish(p, "top", ["f"])
        self.ack(p, "sub", [rm["ackId"] for rm in rms
                            if unb64(rm["message"]["data"]) in (b"b", b"d")])
        self.assertEqual(self.drain(p, "sub", 2), ["e", "f"])
        self.assertNothingToPull(p, "sub", "all acked")
        self.assertEqual(self.assertOk(self.seek_snap(p, "sub", "snap")), {})
        # Back: b and d (unacked at the snapshot), e (after its position) and f (published
        # after the snapshot); never a or c.
        self.assertEqual(self.drain(p, "sub", 4), ["b", "d", "e", "f"])
        self.assertNothingToPull(p, "sub", "exactly the snapshot's unacked set")
        # Another subscription of the same topic can seek to it too.
        self.create_sub(p, "other", "top")
        self.assertOk(self.seek_snap(p, "other", "snap"))
        self.assertEqual(self.drain(p, "other", 4), ["b", "d", "e", "f"])
        # A subscription of another topic cannot.
        self.create_topic(p, "elsewhere")
        self.create_sub(p, "far", "elsewhere")
        self.assertError(self.seek_snap(p, "far", "snap"), 400, "INVALID_ARGUMENT")
        self.assertError(self.seek_snap(p, "sub", "nope"), 404, "NOT_FOUND")

    def test_crud_and_listing(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.assertOk(self.create_snap(p, "snap-b", "sub"))
        self.assertOk(self.create_snap(p, "snap-a", "sub", labels={"k": "v"}))
        self.assertError(self.create_snap(p, "snap-a", "sub"), 409, "ALREADY_EXISTS")
        self.assertError(self.create_snap(p, "snap-c", "nope"), 404, "NOT_FOUND")
        self.assertError(self.req("PUT", self.snap_path(p, "snap-d"), {}), 400,
                         "INVALID_ARGUMENT")
        self.assertError(self.req("PUT", self.snap_path(p, "snap-d"),
                                  {"subscription": "projects/%s/subscriptions/sub" % p,
                                   "nope": 1}), 400, "INVALID_ARGUMENT")
        js = self.assertOk(self.req("GET", self.snap_path(p, "snap-a")))
        self.assertEqual(js["labels"], {"k": "v"})
        self.assertNotIn("labels", self.assertOk(self.req("GET", self.snap_path(p, "snap-b"))))
        self.assertError(self.req("GET", self.snap_path(p, "nope")), 404, "NOT_FOUND")
        js = self.assertOk(self.req("GET", "/v1/projects/%s/snapshots?pageSize=1" % p))
        self.assertEqual([s["name"] for s in js["snapshots"]],
                         ["projects/%s/snapshots/snap-a" % p])
        js2 = self.assertOk(self.req("GET", "/v1/projects/%s/snapshots?pageSize=1&pageToken=%s"
                                     % (p, js["nextPageToken"])))
        self.assertEqual([s["name"] for s in js2["snapshots"]],
                         ["projects/%s/snapshots/snap-b" % p])
        self.assertNotIn("nextPageToken", js2)
        js = self.assertOk(self.req("GET", "/v1/projects/%s/topics/top/snapshots" % p))
        self.assertEqual(js["snapshots"], ["projects/%s/snapshots/snap-a" % p,
                                           "projects/%s/snapshots/snap-b" % p])
        # Patch: labels and expireTime (earlier than the natural expiry; not later, not past).
        soon = time.time() + 3600
        js = self.assertOk(self.req("PATCH", self.snap_path(p, "snap-a"),
                                    {"snapshot": {"labels": {"k": "w"},
                                                  "expireTime": rfc3339(soon)},
                                     "updateMask": "labels,expireTime"}))
        self.assertEqual(js["labels"], {"k": "w"})
        self.assertAlmostEqual(parse_time(js["expireTime"]), soon, delta=2)
        for when in (time.time() + 8 * 86400, time.time() - 60):
            self.assertError(self.req("PATCH", self.snap_path(p, "snap-a"),
                                      {"snapshot": {"expireTime": rfc3339(when)},
                                       "updateMask": "expireTime"}),
                             400, "INVALID_ARGUMENT")
        self.assertError(self.req("PATCH", self.snap_path(p, "snap-a"),
                                  {"snapshot": {"topic": "x"}, "updateMask": "topic"}),
                         400, "INVALID_ARGUMENT")
        # An expired snapshot is gone.
        self.assertOk(self.req("PATCH", self.snap_path(p, "snap-b"),
                               {"snapshot": {"expireTime": rfc3339(time.time() + 1.5)},
                                "updateMask": "expireTime"}))
        time.sleep(2)
        self.assertError(self.req("GET", self.snap_path(p, "snap-b")), 404, "NOT_FOUND")
        self.assertError(self.seek_snap(p, "sub", "snap-b"), 404, "NOT_FOUND")
        js = self.assertOk(self.req("GET", "/v1/projects/%s/topics/top/snapshots" % p))
        self.assertEqual(js["snapshots"], ["projects/%s/snapshots/snap-a" % p])
        self.assertOk(self.req("DELETE", self.snap_path(p, "snap-a")))
        self.assertError(self.req("DELETE", self.snap_path(p, "snap-a")), 404, "NOT_FOUND")
        self.assertEqual(self.assertOk(self.req("GET", "/v1/projects/%s/snapshots" % p)), {})

    def test_filtered_subscription_and_deleted_topic(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "flt", "top", filter="attributes:x", ackDeadlineSeconds=600)
        self.publish(p, "top", [{"data": b64("x1"), "attributes": {"x": "1"}},
                                {"data": b64("y1"), "attributes": {"y": "1"}}])
        held = self.pull_until(p, "flt", 1)       # x1 leased
        self.assertEqual(len(held), 1)
        self.assertOk(self.create_snap(p, "fsnap", "flt"))
        self.publish(p, "top", [{"data": b64("x2"), "attributes": {"x": "2"}},
                                {"data": b64("y2"), "attributes": {"y": "2"}}])
        self.ack(p, "flt", [held[0]["ackId"]])
        self.assertEqual(self.drain(p, "flt", 1), ["x2"])
        self.assertOk(self.seek_snap(p, "flt", "fsnap"))
        self.assertEqual(self.drain(p, "flt", 2), ["x1", "x2"])
        self.assertNothingToPull(p, "flt")
        # The topic goes: the snapshot stays (topic "_deleted-topic_") until it expires.
        self.assertOk(self.req("DELETE", "/v1/projects/%s/topics/top" % p))
        js = self.assertOk(self.req("GET", self.snap_path(p, "fsnap")))
        self.assertEqual(js["topic"], "_deleted-topic_")
        self.assertError(self.create_snap(p, "gone", "flt"), 400, "FAILED_PRECONDITION")


if __name__ == "__main__":
    harness.main()
