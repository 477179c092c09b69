#!/usr/bin/env python3
"""Subscriptions: create (defaults and every field), get, list (pagination),
patch, delete, and what a topic delete does to its subscriptions.
Run: python3 tests/integration/test_subscriptions.py"""

import harness
from harness import topic_name, sub_name, uniq


def default_sub(p, s, t):
    return {"name": sub_name(p, s), "topic": topic_name(p, t), "pushConfig": {},
            "ackDeadlineSeconds": 10, "messageRetentionDuration": "604800s",
            "expirationPolicy": {"ttl": "2678400s"}, "state": "ACTIVE"}


class SubscriptionTest(harness.BrokerTestCase):

    def url(self, p, s=None):
        if s is None:
            return "/v1/projects/%s/subscriptions" % p
        return "/v1/projects/%s/subscriptions/%s" % (p, s)

    def test_create_default_pull_subscription(self):
        p = self.project()
        self.create_topic(p, "top")
        js = self.assertOk(self.req("PUT", self.url(p, "sub"), {"topic": topic_name(p, "top")}))
        self.assertEqual(js, default_sub(p, "sub", "top"))
        got = self.assertOk(self.req("GET", self.url(p, "sub")))
        self.assertEqual(got, default_sub(p, "sub", "top"))
        self.assertIn("application/json", self.client.last_headers.get("Content-Type", ""))

    def test_ack_deadline_zero_means_default(self):
        # pubsub.md: ackDeadlineSeconds 0 means 10
        p = self.project()
        self.create_topic(p, "top")
        js = self.create_sub(p, "sub", "top", ackDeadlineSeconds=0)
        self.assertEqual(js["ackDeadlineSeconds"], 10)

    def test_create_with_all_fields(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        body = {"topic": topic_name(p, "top"), "ackDeadlineSeconds": 42,
                "messageRetentionDuration": "600s",
                "labels": {"team": "scan", "tier": "1"},
                "deadLetterPolicy": {"deadLetterTopic": topic_name(p, "dlq"),
                                     "maxDeliveryAttempts": 7},
                "retryPolicy": {"minimumBackoff": "1s", "maximumBackoff": "30s"},
                "expirationPolicy": {"ttl": "86400s"}}
        js = self.assertOk(self.req("PUT", self.url(p, "full"), body))
        want = {"name": sub_name(p, "full"), "topic": topic_name(p, "top"), "pushConfig": {},
                "ackDeadlineSeconds": 42, "messageRetentionDuration": "600s",
                "labels": {"team": "scan", "tier": "1"},
                "deadLetterPolicy": {"deadLetterTopic": topic_name(p, "dlq"),
                                     "maxDeliveryAttempts": 7},
                "retryPolicy": {"minimumBackoff": "1s", "maximumBackoff": "30s"},
                "expirationPolicy": {"ttl": "86400s"}, "state": "ACTIVE"}
        self.assertEqual(js, want)
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "full"))), want)

    def test_boundary_ack_deadlines_accepted(self):
        p = self.project()
        self.create_topic(p, "top")
        self.assertEqual(self.create_sub(p, "low", "top", ackDeadlineSeconds=10)["ackDeadlineSeconds"], 10)
        self.assertEqual(self.create_sub(p, "high", "top", ackDeadlineSeconds=600)["ackDeadlineSeconds"], 600)

    def test_dead_letter_default_attempts(self):
        # maxDeliveryAttempts 0 (or unset) means 5
        p = self.project()
        self.create_topic(p, "top")
        self.create_topic(p, "dlq")
        js = self.create_sub(p, "sub", "top", deadLetterPolicy={"deadLetterTopic": topic_name(p, "dlq")})
        self.assertEqual(js["deadLetterPolicy"], {"deadLetterTopic": topic_name(p, "dlq"),
                                                  "maxDeliveryAttempts": 5})

    def test_list_pagination_full_objects(self):
        p = self.project()
        self.create_topic(p, "top")
        subs = ["s%d-%s" % (i, uniq("z")) for i in range(7)]
        for s in reversed(subs):
            self.create_sub(p, s, "top")
        other = self.project()
        self.create_topic(other, "top")
        self.create_sub(other, "foreign", "top")
        seen, token, pages = [], None, 0
        while True:
            path = self.url(p) + "?pageSize=3" + ("&pageToken=" + harness.qs(token) if token else "")
            js = self.assertOk(self.req("GET", path))
            pages += 1
            self.assertLessEqual(pages, 3, "too many pages")
            page = js.get("subscriptions", [])
            self.assertLessEqual(len(page), 3)
            for sub in page:
                sid = sub["name"].rsplit("/", 1)[1]
                self.assertEqual(sub, default_sub(p, sid, "top"), "list returns full objects")
                seen.append(sub["name"])
            token = js.get("nextPageToken")
            if not token:
                self.assertNotIn("nextPageToken", js)
                break
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(sub_name(p, s) for s in subs))

    def test_list_empty_project(self):
        js = self.assertOk(self.req("GET", self.url(self.project())))
        self.assertEqual(js, {})

    def test_patch(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", labels={"a": "1"})
        js = self.assertOk(self.req("PATCH", self.url(p, "sub"),
                                    {"subscription": {"ackDeadlineSeconds": 99,
                                                      "labels": {"b": "2"},
                                                      "messageRetentionDuration": "1200s"},
                                     "updateMask": "ackDeadlineSeconds,labels"}))
        want = default_sub(p, "sub", "top")
        want.update({"ackDeadlineSeconds": 99, "labels": {"b": "2"}})
        self.assertEqual(js, want, "only masked fields change")
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "sub"))), want)
        js = self.assertOk(self.req("PATCH", self.url(p, "sub"),
                                    {"subscription": {"messageRetentionDuration": "1200s"},
                                     "updateMask": "messageRetentionDuration"}))
        want["messageRetentionDuration"] = "1200s"
        self.assertEqual(js, want)
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "sub"))), want)

    def test_patch_ack_deadline_affects_new_leases(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.assertOk(self.req("PATCH", self.url(p, "sub"),
                               {"subscription": {"ackDeadlineSeconds": 600},
                                "updateMask": "ackDeadlineSeconds"}))
        self.publish(p, "top", ["x"])
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual(len(rms), 1)
        harness.time.sleep(11)  # past the old 10 s default: must not come back
        self.assertNothingToPull(p, "sub", "lease uses the patched 600 s deadline")

    def test_delete(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.create_sub(p, "keep", "top")
        js = self.assertOk(self.req("DELETE", self.url(p, "sub")))
        self.assertEqual(js, {})
        self.assertError(self.req("GET", self.url(p, "sub")), 404, "NOT_FOUND")
        self.assertError(self.pull_raw(p, "sub"), 404, "NOT_FOUND")
        self.assertError(self.req("DELETE", self.url(p, "sub")), 404, "NOT_FOUND")
        lst = self.assertOk(self.req("GET", self.url(p)))
        self.assertEqual([x["name"] for x in lst["subscriptions"]], [sub_name(p, "keep")])
        # the other subscription still works
        self.publish(p, "top", ["after delete"])
        self.assertEqual(len(self.pull_until(p, "keep", 1)), 1)

    def test_recreate_after_delete_starts_empty(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.publish(p, "top", ["old-1", "old-2"])
        self.assertOk(self.req("DELETE", self.url(p, "sub")))
        self.create_sub(p, "sub", "top")
        self.assertNothingToPull(p, "sub", "a re-created subscription has no old backlog")
        ids = self.publish(p, "top", ["new"])
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual([r["message"]["messageId"] for r in rms], ids)

    def test_topic_delete_leaves_subscriptions(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.assertOk(self.req("DELETE", "/v1/projects/%s/topics/top" % p))
        js = self.assertOk(self.req("GET", self.url(p, "sub")))
        want = default_sub(p, "sub", "top")
        want["topic"] = "_deleted-topic_"
        self.assertEqual(js, want)
        lst = self.assertOk(self.req("GET", self.url(p)))
        self.assertEqual(lst["subscriptions"], [want])
        # a new topic with the same name does not revive the old subscription
        self.create_topic(p, "top")
        js = self.assertOk(self.req("GET", "/v1/projects/%s/topics/top/subscriptions" % p))
        self.assertEqual(js, {})
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "sub")))["topic"], "_deleted-topic_")
        self.publish(p, "top", ["to the new topic"])
        self.assertNothingToPull(p, "sub", "detached from the deleted topic")
        self.assertEqual(self.assertOk(self.req("DELETE", self.url(p, "sub"))), {})
        self.assertError(self.req("GET", self.url(p, "sub")), 404, "NOT_FOUND")


if __name__ == "__main__":
    harness.main()
