#!/usr/bin/env python3
"""subscriptions.seek to a time (Pub/Sub semantics): retained messages
published at or after the time become unacked, earlier ones acked - acked
messages are retained only with retainAckedMessages or topic retention; a
future time purges the backlog; pending leases are dropped so nothing is
delivered twice by the seek itself.
Run: python3 tests/integration/test_seek.py"""

import datetime
import time

import harness
from harness import unb64


def rfc3339(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SeekTest(harness.BrokerTestCase):

    def seek(self, p, s, body):
        return self.req("POST", "/v1/projects/%s/subscriptions/%s:seek" % (p, s), body)

    def data(self, rms):
        return sorted(unb64(rm["message"]["data"]).decode() for rm in rms)

    def setup_three(self, topic_body=None, **sub_fields):
        p = self.project()
        self.create_topic(p, "top", topic_body)
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=600, **sub_fields)
        self.publish(p, "top", ["a"])
        time.sleep(0.05)
        t_b = time.time()
        time.sleep(0.05)
        self.publish(p, "top", ["b"])
        self.publish(p, "top", ["c"])
        return p, t_b

    def ack_all_then_seek_back(self, p, t_b):
        rms = self.pull_until(p, "sub", 3)
        self.assertEqual(self.data(rms), ["a", "b", "c"])
        self.ack(p, "sub", [rm["ackId"] for rm in rms])
        self.assertNothingToPull(p, "sub", "after acking everything")
        self.assertEqual(self.assertOk(self.seek(p, "sub", {"time": rfc3339(t_b)})), {})

    def test_seek_back_replays_acked_messages_when_the_subscription_retains_them(self):
        p, t_b = self.setup_three(retainAckedMessages=True)
        self.assertIs(self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/sub" % p))
                      ["retainAckedMessages"], True)
        self.ack_all_then_seek_back(p, t_b)
        again = self.pull_until(p, "sub", 2)
        self.assertEqual(self.data(again), ["b", "c"])
        self.assertNothingToPull(p, "sub", "a was published before the seek time")

    def test_seek_back_replays_acked_messages_when_the_topic_retains_them(self):
        p, t_b = self.setup_three({"messageRetentionDuration": "3600s"})
        self.ack_all_then_seek_back(p, t_b)
        again = self.pull_until(p, "sub", 2)
        self.assertEqual(self.data(again), ["b", "c"])
        self.assertNothingToPull(p, "sub", "a was published before the seek time")

    def test_seek_back_does_not_replay_acked_messages_that_are_not_retained(self):
        # Pub/Sub: without retainAckedMessages or topic retention, acked messages are gone -
        # a seek back cannot bring them back.
        p, t_b = self.setup_three()
        self.ack_all_then_seek_back(p, t_b)
        self.assertNothingToPull(p, "sub", "acked and not retained")
        # Only what was unacked at the seek comes back: b leased, c acked.
        self.publish(p, "top", ["d", "e"])
        rms = self.pull_until(p, "sub", 2)
        self.ack(p, "sub", [rm["ackId"] for rm in rms if unb64(rm["message"]["data"]) == b"e"])
        self.assertOk(self.seek(p, "sub", {"time": rfc3339(t_b)}))
        again = self.pull_until(p, "sub", 1)
        self.assertEqual(self.data(again), ["d"], "d was unacked, e acked and not retained")
        self.ack(p, "sub", [rm["ackId"] for rm in again])
        self.assertNothingToPull(p, "sub", "nothing else")

    def test_seek_acks_pending_messages_before_the_time_and_drops_leases(self):
        p, t_b = self.setup_three()
        rms = self.pull_until(p, "sub", 3)   # all three leased for 600 s, none acked
        self.assertEqual(len(rms), 3)
        self.assertOk(self.seek(p, "sub", {"time": rfc3339(t_b)}))
        again = self.pull_until(p, "sub", 2)
        self.assertEqual(self.data(again), ["b", "c"], "b and c unacked again, a acked")
        self.ack(p, "sub", [rm["ackId"] for rm in again])
        self.assertNothingToPull(p, "sub", "nothing delivered twice by the seek")

    def test_seek_to_the_future_purges_the_backlog(self):
        p, _ = self.setup_three()
        self.assertOk(self.seek(p, "sub", {"time": rfc3339(time.time() + 3600)}))
        self.assertNothingToPull(p, "sub", "backlog purged")
        self.publish(p, "top", ["d"])
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual(self.data(rms), ["d"], "messages published after the seek still arrive")

    def test_seek_errors(self):
        p, _ = self.setup_three()
        self.assertError(self.seek(p, "nosuchsub", {"time": rfc3339(time.time())}), 404,
                         "NOT_FOUND")
        self.assertError(self.seek(p, "sub", {"time": "yesterday"}), 400, "INVALID_ARGUMENT")
        self.assertError(self.seek(p, "sub", {}), 400, "INVALID_ARGUMENT")
        self.assertError(self.seek(p, "sub", {"snapshot": "projects/%s/snapshots/snap" % p}),
                         404, "NOT_FOUND")     # snapshots: test_snapshots.py
        self.assertError(self.seek(p, "sub", {"snapshot": "snap"}), 400, "INVALID_ARGUMENT")
        self.assertError(self.seek(p, "sub", {"snapshot": "projects/%s/snapshots/snap" % p,
                                              "time": rfc3339(time.time())}),
                         400, "INVALID_ARGUMENT")
        # A rejected seek changed nothing: the three messages are still there.
        self.assertEqual(self.data(self.pull_until(p, "sub", 3)), ["a", "b", "c"])


if __name__ == "__main__":
    harness.main()
