#!/usr/bin/env python3
"""Topics: create/get/list (pagination)/patch/delete, publish ids, the
topic's subscription list. Run: python3 tests/integration/test_topics.py"""

import harness
from harness import topic_name, sub_name, uniq, b64


class TopicTest(harness.BrokerTestCase):

    def url(self, p, t=None):
        if t is None:
            return "/v1/projects/%s/topics" % p
        return "/v1/projects/%s/topics/%s" % (p, t)

    def test_create_minimal_and_get(self):
        p = self.project()
        js = self.assertOk(self.req("PUT", self.url(p, "orders")))
        self.assertEqual(js, {"name": topic_name(p, "orders"), "state": "ACTIVE"})
        self.assertIn("application/json", self.client.last_headers.get("Content-Type", ""))
        got = self.assertOk(self.req("GET", self.url(p, "orders")))
        self.assertEqual(got, js)

    def test_create_with_empty_json_body(self):
        p = self.project()
        js = self.assertOk(self.req("PUT", self.url(p, "empty-body"), {}))
        self.assertEqual(js, {"name": topic_name(p, "empty-body"), "state": "ACTIVE"})

    def test_create_with_labels_and_retention(self):
        p = self.project()
        body = {"labels": {"team": "infra", "env": "dev"}, "messageRetentionDuration": "600s"}
        js = self.assertOk(self.req("PUT", self.url(p, "labelled"), body))
        want = {"name": topic_name(p, "labelled"), "labels": {"team": "infra", "env": "dev"},
                "messageRetentionDuration": "600s", "state": "ACTIVE"}
        self.assertEqual(js, want)
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "labelled"))), want)

    def test_name_in_body_is_taken_from_url(self):
        # REST create takes the name from the URL.
        p = self.project()
        js = self.assertOk(self.req("PUT", self.url(p, "from-url"),
                                    {"name": topic_name(p, "from-url")}))
        self.assertEqual(js["name"], topic_name(p, "from-url"))

    def test_id_boundaries_valid(self):
        p = self.project()
        for t in ("abc", "a" * 255, "A-b_c.d~e+f", "Zz9", "goox"):
            js = self.assertOk(self.req("PUT", self.url(p, t)), "create %r" % t)
            self.assertEqual(js["name"], topic_name(p, t))
            self.assertOk(self.req("GET", self.url(p, t)), "get %r" % t)

    def test_percent_encoded_id_is_valid(self):
        # pubsub.md: "mi-tópico is invalid, mi-t%C3%B3pico is valid"
        p = self.project()
        js = self.assertOk(self.req("PUT", self.url(p, "mi-t%C3%B3pico")))
        self.assertEqual(js["name"], topic_name(p, "mi-t%C3%B3pico"))
        self.assertOk(self.req("GET", self.url(p, "mi-t%C3%B3pico")))

    def test_list_empty_project(self):
        p = self.project()
        js = self.assertOk(self.req("GET", self.url(p)))
        self.assertEqual(js, {})

    def test_list_pagination(self):
        p = self.project()
        names = ["t%d-%s" % (i, uniq("x")) for i in range(7)]
        for n in reversed(names):       # creation order must not matter
            self.create_topic(p, n)
        # another project's topics must not show up
        other = self.project()
        self.create_topic(other, "foreign")
        seen = []
        token = None
        pages = 0
        while True:
            path = self.url(p) + "?pageSize=3" + ("&pageToken=" + harness.qs(token) if token else "")
            js = self.assertOk(self.req("GET", path))
            pages += 1
            self.assertLessEqual(pages, 3, "too many pages")
            topics = js.get("topics", [])
            self.assertLessEqual(len(topics), 3)
            for t in topics:
                self.assertEqual(t.get("state"), "ACTIVE")
                seen.append(t["name"])
            token = js.get("nextPageToken")
            if not token:
                self.assertNotIn("nextPageToken", js, "nextPageToken omitted on the last page")
                break
            self.assertIsInstance(token, str)
        self.assertEqual(pages, 3)
        want = sorted(topic_name(p, n) for n in names)
        self.assertEqual(seen, want, "all names exactly once, sorted")

    def test_list_pagination_byte_order(self):
        p = self.project()
        names = ["Zeta", "alpha", "top10", "top9", "a~b", "a+b", "a.b", "a-b", "a_b", "A.b"]
        for n in names:
            self.create_topic(p, n)
        seen, token, pages = [], None, 0
        while pages < 10:
            js = self.assertOk(self.req("GET", self.url(p) + "?pageSize=3" +
                                        ("&pageToken=" + harness.qs(token) if token else "")))
            pages += 1
            seen += [t["name"] for t in js.get("topics", [])]
            token = js.get("nextPageToken")
            if not token:
                break
        self.assertEqual(pages, 4)
        self.assertEqual(seen, sorted(topic_name(p, n) for n in names))

    def test_list_prefix_projects_do_not_leak(self):
        # project "X" must not list the topics of project "X0" or "X-x"
        p = self.project()
        for q in (p, p + "0", p + "-x", p[:-1]):
            self.create_topic(q, "top-of-" + q[-3:].replace("-", "x"))
        for q in (p, p + "0", p + "-x", p[:-1]):
            js = self.assertOk(self.req("GET", self.url(q)))
            self.assertEqual([t["name"] for t in js["topics"]],
                             [topic_name(q, "top-of-" + q[-3:].replace("-", "x"))], q)

    def test_topic_subscriptions_prefix_topics_do_not_leak(self):
        p = self.project()
        for t in ("top", "top2", "top-x", "topx"):
            self.create_topic(p, t)
            self.create_sub(p, "sub-of-" + t, t)
        for t in ("top", "top2", "top-x", "topx"):
            js = self.assertOk(self.req("GET", self.url(p, t) + "/subscriptions"))
            self.assertEqual(js["subscriptions"], [sub_name(p, "sub-of-" + t)], t)
        # and the message flow follows the same boundaries
        ids = self.publish(p, "top", ["only top"])
        for t in ("top2", "top-x", "topx"):
            self.assertNothingToPull(p, "sub-of-" + t, "message of 'top' leaked to " + t)
        got = self.pull_until(p, "sub-of-top", 1)
        self.assertEqual([r["message"]["messageId"] for r in got], ids)

    def test_list_without_page_size_returns_all(self):
        p = self.project()
        names = sorted(uniq("top") for _ in range(4))
        for n in names:
            self.create_topic(p, n)
        js = self.assertOk(self.req("GET", self.url(p)))
        self.assertNotIn("nextPageToken", js)
        self.assertEqual([t["name"] for t in js["topics"]], [topic_name(p, n) for n in names])

    def test_list_returns_full_topic_objects(self):
        p = self.project()
        self.create_topic(p, "full", {"labels": {"a": "b"}, "messageRetentionDuration": "700s"})
        js = self.assertOk(self.req("GET", self.url(p)))
        self.assertEqual(js, {"topics": [{"name": topic_name(p, "full"), "labels": {"a": "b"},
                                          "messageRetentionDuration": "700s",
                                          "state": "ACTIVE"}]})

    def test_patch_labels_and_retention(self):
        p = self.project()
        self.create_topic(p, "patchme", {"labels": {"a": "1"}, "messageRetentionDuration": "600s"})
        # only labels in the mask: retention stays
        js = self.assertOk(self.req("PATCH", self.url(p, "patchme"),
                                    {"topic": {"labels": {"b": "2"},
                                               "messageRetentionDuration": "900s"},
                                     "updateMask": "labels"}))
        want = {"name": topic_name(p, "patchme"), "labels": {"b": "2"},
                "messageRetentionDuration": "600s", "state": "ACTIVE"}
        self.assertEqual(js, want)
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "patchme"))), want)
        js = self.assertOk(self.req("PATCH", self.url(p, "patchme"),
                                    {"topic": {"labels": {"c": "3"},
                                               "messageRetentionDuration": "1200s"},
                                     "updateMask": "labels,messageRetentionDuration"}))
        want = {"name": topic_name(p, "patchme"), "labels": {"c": "3"},
                "messageRetentionDuration": "1200s", "state": "ACTIVE"}
        self.assertEqual(js, want)
        self.assertEqual(self.assertOk(self.req("GET", self.url(p, "patchme"))), want)

    def test_delete(self):
        p = self.project()
        self.create_topic(p, "gone")
        self.create_topic(p, "stays")
        js = self.assertOk(self.req("DELETE", self.url(p, "gone")))
        self.assertEqual(js, {})
        self.assertError(self.req("GET", self.url(p, "gone")), 404, "NOT_FOUND")
        lst = self.assertOk(self.req("GET", self.url(p)))
        self.assertEqual([t["name"] for t in lst["topics"]], [topic_name(p, "stays")])
        self.assertError(self.req("DELETE", self.url(p, "gone")), 404, "NOT_FOUND")
        self.assertError(self.req("POST", self.url(p, "gone") + ":publish",
                                  {"messages": [{"data": b64("x")}]}), 404, "NOT_FOUND")
        # the name can be used again
        js = self.assertOk(self.req("PUT", self.url(p, "gone")))
        self.assertEqual(js, {"name": topic_name(p, "gone"), "state": "ACTIVE"})

    def test_publish_returns_ids_in_order(self):
        p = self.project()
        self.create_topic(p, "pub")
        self.create_sub(p, "pub-sub", "pub")
        msgs = [{"data": b64("m%d" % i), "attributes": {"i": str(i)}} for i in range(20)]
        ids = self.publish(p, "pub", msgs)
        self.assertEqual(len(set(ids)), 20, "messageIds must be unique")
        ids2 = self.publish(p, "pub", [{"attributes": {"only": "attrs"}}])
        self.assertNotIn(ids2[0], ids)
        # request order: message i got ids[i]
        got = {}
        for rm in self.pull_until(p, "pub-sub", 21, timeout=10):
            got[rm["message"]["messageId"]] = rm["message"]
        self.assertEqual(len(got), 21)
        for i, mid in enumerate(ids):
            self.assertEqual(harness.unb64(got[mid]["data"]), b"m%d" % i)
            self.assertEqual(got[mid]["attributes"], {"i": str(i)})
        self.assertEqual(got[ids2[0]]["attributes"], {"only": "attrs"})
        self.assertNotIn("data", got[ids2[0]], "empty data is omitted")

    def test_client_query_parameters_ignored(self):
        # Google client libraries add e.g. ?alt=json or $alt=json;enum-encoding=int
        p = self.project()
        js = self.assertOk(self.req("PUT", self.url(p, "qpx") + "?alt=json"))
        self.assertEqual(js["name"], topic_name(p, "qpx"))
        self.assertOk(self.req("GET", self.url(p, "qpx") + "?%24alt=json%3Benum-encoding%3Dint"))
        self.create_sub(p, "qp-sub", "qpx")
        ids = self.assertOk(self.req("POST", self.url(p, "qpx") + ":publish?alt=json",
                                     {"messages": [{"data": b64("q")}]}))["messageIds"]
        js = self.assertOk(self.req("POST", "/v1/projects/%s/subscriptions/qp-sub:pull?alt=json" % p,
                                    {"maxMessages": 1, "returnImmediately": True}))
        self.assertEqual([r["message"]["messageId"] for r in js["receivedMessages"]], ids)

    def test_publish_without_subscriptions_is_ok(self):
        p = self.project()
        self.create_topic(p, "lonely")
        self.publish(p, "lonely", ["nobody listens"])

    def test_topic_subscriptions_list(self):
        p = self.project()
        self.create_topic(p, "parent")
        self.create_topic(p, "other")
        js = self.assertOk(self.req("GET", self.url(p, "parent") + "/subscriptions"))
        self.assertEqual(js, {})
        for s in ("sub-b", "sub-a", "sub-c"):
            self.create_sub(p, s, "parent")
        self.create_sub(p, "sub-other", "other")
        js = self.assertOk(self.req("GET", self.url(p, "parent") + "/subscriptions"))
        self.assertEqual(set(js.keys()), {"subscriptions"})
        self.assertEqual(sorted(js["subscriptions"]),
                         [sub_name(p, s) for s in ("sub-a", "sub-b", "sub-c")])
        for s in js["subscriptions"]:
            self.assertIsInstance(s, str, "names only")
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/sub-b" % p))
        js = self.assertOk(self.req("GET", self.url(p, "parent") + "/subscriptions"))
        self.assertEqual(sorted(js["subscriptions"]), [sub_name(p, "sub-a"), sub_name(p, "sub-c")])

    def test_topic_subscriptions_list_pagination(self):
        p = self.project()
        self.create_topic(p, "many")
        subs = ["s%d-%s" % (i, uniq("y")) for i in range(5)]
        for s in subs:
            self.create_sub(p, s, "many")
        seen, token, pages = [], None, 0
        while True:
            path = self.url(p, "many") + "/subscriptions?pageSize=2" + \
                ("&pageToken=" + harness.qs(token) if token else "")
            js = self.assertOk(self.req("GET", path))
            pages += 1
            self.assertLessEqual(pages, 3)
            self.assertLessEqual(len(js.get("subscriptions", [])), 2)
            seen += js.get("subscriptions", [])
            token = js.get("nextPageToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(seen), sorted(sub_name(p, s) for s in subs))
        self.assertEqual(len(seen), len(set(seen)))


if __name__ == "__main__":
    harness.main()
