#!/usr/bin/env python3
"""Registry ingest over HTTP, without a registry: the requests that
docker-registry 2.8.2 really sent (tests/fixtures/distribution) and
variants of them are POSTed to a real regnotifyd on a real redis-server.

The expected messages are written out by hand from the fixtures README:
  03 push manifest 1.0      -> INSERT digest img1 + tag 1.0
  06 push manifest latest   -> INSERT digest img1 + tag latest
  10 push manifest 2.0      -> INSERT digest img2 + tag 2.0
  11 delete manifest img1   -> DELETE digest img1
  12 delete tag latest      -> DELETE tag latest
  13 delete tag 1.0         -> DELETE tag 1.0
  everything else (blob pushes, blob/manifest pulls incl. HEAD, mount,
  20 = blob delete in team/e2e-app-mirror) -> no message.
"""

import copy
import glob
import json
import os
import time
import uuid

import e2e_harness as E
from e2e_harness import expected, post

TOKENS = "tok1,tok2"
DIST = "/v1/registry/distribution"
NATIVE = "/v1/registry/events"

# From the fixtures README / steps.jsonl (the images were built by hand).
IMG1 = "sha256:06b93fed4f7a2acfb4626f6c33a0026133d8f519cc2d99114302dc743f5e52db"
IMG2 = "sha256:255e07ef067ca2a4ea4b0bd03022082fa9f505eb550bbcc26166d78580478957"
LAYER = "sha256:6b68c2359de4ea6c989a6ffcdc60729ca95f9cfcebb6e688ce346f50c5c8c63f"
FHOST = "127.0.0.1:43211"          # request.host of every fixture
FREPO = "team/e2e-app"

# fixture number -> the one message it must publish
FIXTURE_MESSAGES = {
    "03": expected("INSERT", FHOST, FREPO, IMG1, "1.0"),
    "06": expected("INSERT", FHOST, FREPO, IMG1, "latest"),
    "10": expected("INSERT", FHOST, FREPO, IMG2, "2.0"),
    "11": expected("DELETE", FHOST, FREPO, digest=IMG1),
    "12": expected("DELETE", FHOST, FREPO, tag="latest"),
    "13": expected("DELETE", FHOST, FREPO, tag="1.0"),
}
N_FIXTURES = 20
COUNT_KEYS = {"published", "duplicates", "ignored", "rejected"}
FOUR_MIB = 4 * 1024 * 1024


def fixture_files():
    d = E.fixtures_dir()
    files = sorted(f for f in glob.glob(os.path.join(d, "*.json"))
                   if os.path.basename(f) != "index.json")
    return files


def fixture_content_types():
    """file name -> the Content-Type the registry sent (index.json)."""
    with open(os.path.join(E.fixtures_dir(), "index.json")) as f:
        return {e["file"]: e["http"]["content_type"] for e in json.load(f)}


def fixture_event(num, repo=None, fresh_id=True):
    """The event of fixture NUM ("03"), with a new id and REPO if given."""
    path = [f for f in fixture_files() if os.path.basename(f).startswith(num + "-")][0]
    with open(path) as f:
        ev = copy.deepcopy(json.load(f)["events"][0])
    if fresh_id:
        ev["id"] = str(uuid.uuid4())
    if repo:
        ev["target"]["repository"] = repo
        if "url" in ev["target"]:
            ev["target"]["url"] = ev["target"]["url"].replace(FREPO, repo)
    return ev


def envelope(*events):
    return {"events": list(events)}


def counts(published=0, duplicates=0, ignored=0, rejected=0):
    return {"published": published, "duplicates": duplicates, "ignored": ignored,
            "rejected": rejected}


class IngestCase(E.BrokerTestCase):
    BROKER_ARGS = ("--ingest-tokens", TOKENS)

    def ingest(self, body, path=DIST, ct=E.DISTRIBUTION_CT, token="tok1", want=200):
        st, js, raw, _ = post(self.broker.port, path, body, content_type=ct, token=token)
        self.assertEqual(st, want, "POST %s: %d %r" % (path, st, raw[:500]))
        if want == 200:
            self.assertIsInstance(js, dict, raw)
            self.assertEqual(set(js), COUNT_KEYS, "ingest reply %r" % js)
            for k in COUNT_KEYS:
                self.assertIsInstance(js[k], int, js)
        return js

    def assertIngestError(self, resp, code, status, what):
        st, js, raw, _ = resp
        return self.assertError((st, js, raw), code, status, what)

    def topic(self, p, t):
        st, _, raw = self.req("PUT", "/v1/projects/%s/topics/%s" % (p, t))
        self.assertIn(st, (200, 409), raw)

    def subscribe(self, p, t="gcr", sub=None):
        self.topic(p, t)
        sub = sub or E.uniq("sub")
        self.create_sub(p, sub, t)
        return sub

    def take(self, p, sub, n, timeout=5.0, settle=0.3):
        """Pull until N messages (or TIMEOUT), then SETTLE more seconds for
        extra ones; ack them all; return them."""
        got = self.pull_until(p, sub, n, timeout=timeout)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            got += self.pull(p, sub)
            time.sleep(0.05)
        if got:
            self.ack(p, sub, [rm["ackId"] for rm in got])
        return got

    def assertMessages(self, p, sub, want, what=""):
        got = E.as_multiset(self.take(p, sub, len(want)))
        self.assertEqual(got, sorted(want), what)


# --------------------------------------------------------------------------

class FixtureReplayTest(IngestCase):
    """All 20 captured requests, in order, exactly as the registry sent them."""

    replay = None

    def setUp(self):
        super().setUp()
        cls = type(self)
        if cls.replay is not None:
            return
        sub = self.subscribe("team", sub="fixture-gcr")
        rsub = self.subscribe("team", "registry-rejects", "fixture-rejects")
        cts = fixture_content_types()
        m0 = E.metrics(self.broker.port)
        replies = []
        files = fixture_files()
        self.assertEqual(len(files), N_FIXTURES, files)
        for f in files:
            with open(f, "rb") as fh:
                body = fh.read()
            ct = cts[os.path.basename(f)]
            st, js, raw, _ = post(self.broker.port, DIST, body, content_type=ct, token="tok1")
            replies.append((os.path.basename(f), st, js, raw))
        m1 = E.metrics(self.broker.port)
        msgs = self.take("team", sub, 6, settle=0.5)
        rejects = self.take("team", rsub, 0, settle=0.1)
        cls.replay = {"replies": replies, "m0": m0, "m1": m1, "msgs": msgs,
                      "rejects": rejects}

    def test_every_fixture_answered_200_with_counts(self):
        for name, st, js, raw in self.replay["replies"]:
            with self.subTest(fixture=name):
                self.assertEqual(st, 200, raw)
                self.assertIsInstance(js, dict, raw)
                self.assertEqual(set(js), COUNT_KEYS, js)
                pub = 1 if name[:2] in FIXTURE_MESSAGES else 0
                self.assertEqual(js["published"], pub, js)
                self.assertEqual(js["duplicates"], 0, js)
                self.assertEqual(js["rejected"], 0, js)
                self.assertEqual(js["ignored"], 1 - pub, js)

    def test_gcr_messages_exact(self):
        msgs = self.replay["msgs"]
        self.assertEqual(E.as_multiset(msgs), sorted(FIXTURE_MESSAGES.values()))
        ordered = [d["action"] for d, _, _ in sorted((E.decode(m) for m in msgs),
                                                     key=lambda t: t[2])]
        self.assertEqual(ordered, ["INSERT"] * 3 + ["DELETE"] * 3)
        for rm in msgs:
            # data is compact JSON with exactly these keys, in GCR's order
            raw = E.unb64(rm["message"]["data"]).decode()
            keys = list(json.loads(raw))
            self.assertEqual(keys[0], "action", raw)
            self.assertEqual(keys, [k for k in ("action", "digest", "tag") if k in keys], raw)

    def test_nothing_rejected(self):
        self.assertEqual(self.replay["rejects"], [])

    def test_recently_pulled(self):
        ref = "%s/%s@%s" % (FHOST, FREPO, IMG2)
        js = self.assertOk(self.req("GET", "/v1/projects/team/images:recentlyPulled"
                                    "?within=2592000s"), "recentlyPulled")
        self.assertEqual([i.get("image") for i in js.get("images", [])], [ref], js)
        lp = js["images"][0]["lastPulled"]
        self.assertRegex(lp, E.harness.RFC3339_Z)
        age = time.time() - E.harness.parse_time(lp).timestamp()
        self.assertTrue(-5 < age < 120, "lastPulled %s is %.1fs old" % (lp, age))
        # nothing for a project without pulls
        js = self.assertOk(self.req("GET", "/v1/projects/other/images:recentlyPulled"
                                    "?within=2592000s"), "recentlyPulled other")
        self.assertEqual(js.get("images", []), [], js)
        time.sleep(1.2)
        js = self.assertOk(self.req("GET", "/v1/projects/team/images:recentlyPulled?within=1s"),
                           "recentlyPulled within=1s")
        self.assertEqual(js.get("images", []), [], "pulled more than 1s ago: %r" % js)

    def test_metrics_after_replay(self):
        m0, m1 = self.replay["m0"], self.replay["m1"]

        def d(k):
            return m1.get(k, 0) - m0.get(k, 0)
        self.assertEqual(d(E.ingest_metric("distribution", "published")), 6)
        self.assertEqual(d(E.ingest_metric("distribution", "ignored")), 14)
        self.assertEqual(d(E.ingest_metric("distribution", "duplicate")), 0)
        self.assertEqual(d(E.ingest_metric("distribution", "rejected")), 0)
        self.assertEqual(d('regnotify_ingest_requests_total{source="distribution"}'), 20)

    def test_repost_is_duplicate(self):
        sub = self.subscribe("team")
        rsub = self.subscribe("team", "registry-rejects")
        cts = fixture_content_types()
        dup0 = E.metrics(self.broker.port)[E.ingest_metric("distribution", "duplicate")]
        for f in fixture_files():
            with open(f, "rb") as fh:
                body = fh.read()
            with self.subTest(fixture=os.path.basename(f)):
                js = self.ingest(body, ct=cts[os.path.basename(f)])
                self.assertEqual(js, counts(duplicates=1))
        self.assertEqual(self.take("team", sub, 0, settle=0.5), [])
        self.assertEqual(self.take("team", rsub, 0, settle=0), [])
        dup1 = E.metrics(self.broker.port)[E.ingest_metric("distribution", "duplicate")]
        self.assertEqual(dup1 - dup0, N_FIXTURES)


# --------------------------------------------------------------------------

class IngestHttpTest(IngestCase):
    """Auth, media types, bad bodies, rejects, native format, limits, metrics."""

    def repo(self):
        return "team/" + E.uniq("app")

    def push_event(self, repo, tag="1.0"):
        ev = fixture_event("03", repo)
        if tag is None:
            del ev["target"]["tag"]
        else:
            ev["target"]["tag"] = tag
        return ev

    def assertNothingStored(self, body, sub, path=DIST, ct=E.DISTRIBUTION_CT, publish=1):
        """SUB got nothing, and BODY (refused before) is still new: its event
        ids were not recorded, so posting it properly publishes."""
        self.assertEqual(self.take("team", sub, 0, settle=0.2), [], "a refused request stored")
        js = self.ingest(body, path=path, ct=ct)
        self.assertEqual(js["published"], publish, js)
        self.assertEqual(js["duplicates"], 0, js)
        self.assertEqual(len(self.take("team", sub, publish)), publish)

    # auth -----------------------------------------------------------------

    def test_missing_token_401(self):
        sub = self.subscribe("team")
        body = envelope(self.push_event(self.repo()))
        for path, b, ct in ((DIST, body, E.DISTRIBUTION_CT),
                            (NATIVE, {"action": "push", "repository": "team/x",
                                      "digest": IMG1, "registry": "r.example"},
                             "application/json")):
            with self.subTest(path=path):
                resp = post(self.broker.port, path, b, content_type=ct, token=None)
                self.assertIngestError(resp, 401, "UNAUTHENTICATED", "no Authorization")
        self.assertNothingStored(body, sub)

    def test_wrong_token_401(self):
        sub = self.subscribe("team")
        body = envelope(self.push_event(self.repo()))
        auths = ["Bearer nope", "Bearer tok1x", "Bearer tok", "Bearer tok1,tok2",
                 "Bearer ", "Basic dG9rMTp0b2sx", "tok1"]
        for a in auths:
            with self.subTest(authorization=a):
                resp = post(self.broker.port, DIST, body, token=None,
                            headers={"Authorization": a})
                self.assertIngestError(resp, 401, "UNAUTHENTICATED", "Authorization: %s" % a)
        resp = post(self.broker.port, NATIVE, {"action": "push", "repository": "team/x",
                                               "digest": IMG1, "registry": "r.example"},
                    content_type="application/json", token="wrong")
        self.assertIngestError(resp, 401, "UNAUTHENTICATED", "native, wrong token")
        self.assertNothingStored(body, sub)

    def test_each_configured_token_accepted(self):
        sub = self.subscribe("team")
        repo = self.repo()
        for i, tok in enumerate(("tok1", "tok2")):
            js = self.ingest(envelope(self.push_event(repo, "t%d" % i)), token=tok)
            self.assertEqual(js, counts(published=1))
        self.assertEqual(len(self.take("team", sub, 2)), 2)

    # media types and bodies ---------------------------------------------------

    def test_accepted_content_types(self):
        sub = self.subscribe("team")
        repo = self.repo()
        want = []
        for i, ct in enumerate((E.DISTRIBUTION_CT, E.DISTRIBUTION_CT_V2, "application/json",
                                "application/json; charset=utf-8")):
            tag = "ct%d" % i
            with self.subTest(content_type=ct):
                js = self.ingest(envelope(self.push_event(repo, tag)), ct=ct)
                self.assertEqual(js, counts(published=1))
            want.append(expected("INSERT", FHOST, repo, IMG1, tag))
        self.assertMessages("team", sub, want)

    def test_wrong_content_type_400(self):
        sub = self.subscribe("team")
        body = envelope(self.push_event(self.repo()))
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml",
                   "application/cloudevents+json", "application/vnd.docker.distribution"
                   ".events.v3+json", None):
            with self.subTest(content_type=ct):
                resp = post(self.broker.port, DIST, body, content_type=ct, token="tok1")
                self.assertIngestError(resp, 400, "INVALID_ARGUMENT", "Content-Type %r" % ct)
        self.assertNothingStored(body, sub)

    def test_not_json_400(self):
        sub = self.subscribe("team")
        body = envelope(self.push_event(self.repo()))
        good = json.dumps(body, indent=3).encode()
        bads = [b"not json", good[:len(good) // 2], b"{", b"\xff\xfe{}", b"[]", b'"events"',
                b"null", b'{"events":{}}', b'{"events":"x"}', b'{"event":[]}',
                good + b"garbage"]
        for raw in bads:
            with self.subTest(body=raw[:40]):
                resp = post(self.broker.port, DIST, raw, token="tok1")
                self.assertIngestError(resp, 400, "INVALID_ARGUMENT", "body %r" % raw[:60])
        self.assertNothingStored(body, sub)

    def test_empty_envelope(self):
        js = self.ingest(envelope())
        self.assertEqual(js, counts())

    def test_body_over_4mib_413(self):
        sub = self.subscribe("team")
        ev = self.push_event(self.repo())
        core = json.dumps(envelope(ev)).encode()

        def padded(size):
            return core[:-1] + b" " * (size - len(core)) + b"}"
        big = padded(FOUR_MIB + 1)
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
                "Authorization: Bearer tok1\r\nContent-Length: %d\r\n\r\n"
                % (DIST, E.DISTRIBUTION_CT, len(big))).encode()
        st, js, raw = E.raw_request(self.broker.port, head, big)
        self.assertEqual(st, 413, raw[:300])
        self.assertIsInstance(js, dict, "413 body is not JSON: %r" % raw[:300])
        self.assertEqual(js.get("error", {}).get("code"), 413, js)
        self.assertEqual(self.take("team", sub, 0, settle=0.2), [])
        # exactly 4 MiB is within the limit (and the id was not recorded)
        js = self.ingest(padded(FOUR_MIB))
        self.assertEqual(js, counts(published=1))
        self.assertEqual(len(self.take("team", sub, 1)), 1)

    # rejects ----------------------------------------------------------------

    def test_untranslatable_events_go_to_registry_rejects(self):
        repo = self.repo()
        sub = self.subscribe("team")
        rsub = self.subscribe("team", "registry-rejects")
        # an event without a repository has no namespace: the default project
        dsub = self.subscribe("registry", "registry-rejects")
        good = self.push_event(repo, "ok")
        unknown = self.push_event(repo, "x")
        unknown["action"] = "frobnicate"
        norepo = self.push_event(repo, "y")
        del norepo["target"]["repository"]
        baddigest = self.push_event(repo, "z")
        baddigest["target"]["digest"] = "sha256:1234"
        tagdel = fixture_event("12", repo)
        body = envelope(good, unknown, norepo, baddigest, tagdel)
        js = self.ingest(body)
        self.assertEqual(js, counts(published=2, rejected=3))
        self.assertMessages("team", sub, [expected("INSERT", FHOST, repo, IMG1, "ok"),
                                          expected("DELETE", FHOST, repo, tag="latest")],
                            "valid siblings of rejected events")
        team = self.take("team", rsub, 2)
        dflt = self.take("registry", dsub, 1)
        got = {}
        for rm in team + dflt:
            data = json.loads(E.unb64(rm["message"]["data"]))
            attrs = rm["message"].get("attributes", {})
            self.assertIsInstance(attrs.get("reason"), str, rm)
            self.assertTrue(attrs["reason"].strip(), rm)
            got[data.get("id")] = (data, attrs["reason"].lower(), rm in team)
        self.assertEqual(len(team) + len(dflt), 3, (team, dflt))
        for ev, word, in_team in ((unknown, "action", True), (norepo, "repository", False),
                                  (baddigest, "digest", True)):
            with self.subTest(reject=word):
                self.assertIn(ev["id"], got, "no reject message for the %s event" % word)
                data, reason, where = got[ev["id"]]
                self.assertEqual(data, ev, "reject data must be the raw event")
                self.assertIn(word, reason)
                self.assertEqual(where, in_team, "project of the %s reject" % word)
        # the registry re-sends the envelope: nothing new anywhere
        js = self.ingest(body)
        self.assertEqual(js, counts(duplicates=5))
        self.assertEqual(self.take("team", sub, 0, settle=0.2), [])
        self.assertEqual(self.take("team", rsub, 0, settle=0), [])
        self.assertEqual(self.take("registry", dsub, 0, settle=0), [])

    # translation details ----------------------------------------------------

    def test_delete_of_unknown_digest_or_blob_publishes_nothing(self):
        sub = self.subscribe("team")
        repo = self.repo()
        blobdel = fixture_event("20", repo)        # same shape as a manifest delete
        self.assertEqual(blobdel["target"]["digest"], LAYER)
        js = self.ingest(envelope(blobdel))
        self.assertEqual(js, counts(ignored=1))
        # the layer was pushed as a blob first: still not a manifest
        js = self.ingest(envelope(fixture_event("01", repo), dict(blobdel, id=str(uuid.uuid4()))))
        self.assertEqual(js, counts(ignored=2))
        # a manifest deleted twice: one DELETE
        js = self.ingest(envelope(self.push_event(repo), fixture_event("11", repo),
                                  fixture_event("11", repo)))
        self.assertEqual(js, counts(published=2, ignored=1))
        self.assertMessages("team", sub, [expected("INSERT", FHOST, repo, IMG1, "1.0"),
                                          expected("DELETE", FHOST, repo, digest=IMG1)])

    def test_push_by_digest_mount_and_pulls(self):
        sub = self.subscribe("team")
        repo = self.repo()
        bydigest = self.push_event(repo, tag=None)
        js = self.ingest(envelope(bydigest, fixture_event("19", repo), fixture_event("14", repo),
                                  fixture_event("18", repo), fixture_event("15", repo)))
        self.assertEqual(js, counts(published=1, ignored=4))
        self.assertMessages("team", sub, [expected("INSERT", FHOST, repo, IMG1)])
        js = self.assertOk(self.req("GET", "/v1/projects/team/images:recentlyPulled"),
                           "recentlyPulled (default window)")
        self.assertIn("%s/%s@%s" % (FHOST, repo, IMG2),
                      [i["image"] for i in js.get("images", [])], js)

    def test_repository_without_namespace_goes_to_default_project(self):
        sub = self.subscribe("registry")
        repo = E.uniq("solo")
        js = self.ingest(envelope(self.push_event(repo)))
        self.assertEqual(js, counts(published=1))
        self.assertMessages("registry", sub, [expected("INSERT", FHOST, repo, IMG1, "1.0")])

    def test_topics_created_on_first_use(self):
        p = E.uniq("proj")
        names = ("gcr", "registry-rejects", "container-analysis-notes-v1",
                 "container-analysis-occurrences-v1")
        for t in names:
            st, _, _ = self.req("GET", "/v1/projects/%s/topics/%s" % (p, t))
            self.assertEqual(st, 404, t)
        js = self.ingest(envelope(self.push_event("%s/app" % p)))
        self.assertEqual(js, counts(published=1))
        for t in names:
            with self.subTest(topic=t):
                st, js, raw = self.req("GET", "/v1/projects/%s/topics/%s" % (p, t))
                self.assertEqual(st, 200, "topic %s not created with the first message: %r"
                                 % (t, raw))
                self.assertEqual(js.get("name"), E.topic_name(p, t))

    # native format ---------------------------------------------------------

    def test_native_single_object(self):
        sub = self.subscribe("team")
        repo = self.repo()
        ev = {"action": "push", "repository": repo, "digest": IMG2, "tag": "1.0",
              "registry": "reg.example:5000"}
        js = self.ingest(ev, path=NATIVE, ct="application/json")
        self.assertEqual(js, counts(published=1))
        self.assertMessages("team", sub, [expected("INSERT", "reg.example:5000", repo, IMG2,
                                                   "1.0")])

    def test_native_events_array(self):
        sub = self.subscribe("team")
        repo = self.repo()
        h = "reg.example"
        evs = [{"action": "push", "repository": repo, "digest": IMG1, "registry": h},
               {"action": "tag", "repository": repo, "digest": IMG1, "tag": "stable",
                "registry": h},
               {"action": "delete", "repository": repo, "digest": IMG1, "tag": "stable",
                "registry": h},
               {"action": "delete", "repository": repo, "tag": "old", "registry": h}]
        js = self.ingest({"events": evs}, path=NATIVE, ct="application/json")
        self.assertEqual(js, counts(published=5))
        self.assertMessages("team", sub, [
            expected("INSERT", h, repo, IMG1),
            expected("INSERT", h, repo, IMG1, "stable"),
            expected("DELETE", h, repo, digest=IMG1),
            expected("DELETE", h, repo, tag="stable"),
            expected("DELETE", h, repo, tag="old")])

    def test_native_event_id_dedup(self):
        """A native event may carry an "id": a re-sent one publishes nothing,
        also for a delete that became two messages."""
        sub = self.subscribe("team")
        repo = self.repo()
        evs = [{"id": str(uuid.uuid4()), "action": "push", "repository": repo, "digest": IMG1,
                "tag": "a", "registry": "r"},
               {"id": str(uuid.uuid4()), "action": "delete", "repository": repo,
                "digest": IMG1, "tag": "a", "registry": "r"}]
        self.assertEqual(self.ingest({"events": evs}, path=NATIVE, ct="application/json"),
                         counts(published=3))
        # duplicates counts events or messages (the delete is one event, two messages)
        js = self.ingest({"events": evs}, path=NATIVE, ct="application/json")
        self.assertEqual((js["published"], js["rejected"]), (0, 0), js)
        self.assertIn(js["duplicates"], (2, 3), js)
        js = self.ingest(evs[1], path=NATIVE, ct="application/json")
        self.assertEqual((js["published"], js["rejected"]), (0, 0), js)
        self.assertIn(js["duplicates"], (1, 2), js)
        self.assertMessages("team", sub, [expected("INSERT", "r", repo, IMG1, "a"),
                                          expected("DELETE", "r", repo, digest=IMG1),
                                          expected("DELETE", "r", repo, tag="a")])

    def test_native_rejects_and_bad_bodies(self):
        sub = self.subscribe("team")
        rsub = self.subscribe("team", "registry-rejects")
        repo = self.repo()
        evs = [{"action": "explode", "repository": repo, "digest": IMG1, "registry": "r"},
               {"action": "push", "repository": repo, "digest": "md5:abc", "registry": "r"},
               {"action": "push", "repository": repo, "digest": IMG1, "registry": "r"}]
        js = self.ingest({"events": evs}, path=NATIVE, ct="application/json")
        self.assertEqual(js, counts(published=1, rejected=2))
        self.assertMessages("team", sub, [expected("INSERT", "r", repo, IMG1)])
        rej = self.take("team", rsub, 2)
        self.assertEqual(sorted(json.loads(E.unb64(m["message"]["data"]))["action"] for m in rej),
                         ["explode", "push"])
        for m in rej:
            self.assertTrue(m["message"].get("attributes", {}).get("reason"), m)
        for raw in (b"nope", b"[1]", b'{"events":5}'):
            with self.subTest(body=raw):
                resp = post(self.broker.port, NATIVE, raw, content_type="application/json",
                            token="tok1")
                self.assertIngestError(resp, 400, "INVALID_ARGUMENT", "native body %r" % raw)
        resp = post(self.broker.port, NATIVE, evs[2], content_type="text/plain", token="tok1")
        self.assertIngestError(resp, 400, "INVALID_ARGUMENT", "native text/plain")

    # metrics ---------------------------------------------------------------

    def test_metrics_counters_move(self):
        repo = self.repo()
        m0 = E.metrics(self.broker.port)
        push = self.push_event(repo)
        unknown = self.push_event(repo, "u")
        unknown["action"] = "frobnicate"
        self.ingest(envelope(push, fixture_event("01", repo), unknown))
        self.ingest(envelope(push))
        self.ingest({"action": "push", "repository": repo, "digest": IMG2, "registry": "r"},
                    path=NATIVE, ct="application/json")
        m1 = E.metrics(self.broker.port)

        def d(k):
            return m1.get(k, 0) - m0.get(k, 0)
        want = {("distribution", "published"): 1, ("distribution", "ignored"): 1,
                ("distribution", "rejected"): 1, ("distribution", "duplicate"): 1,
                ("distribution", "dropped"): 0, ("native", "published"): 1,
                ("native", "ignored"): 0, ("native", "rejected"): 0}
        for (src, res), n in want.items():
            k = E.ingest_metric(src, res)
            self.assertIn(k, m1, "metric line %s missing" % k)
            self.assertEqual(d(k), n, k)
        self.assertEqual(d('regnotify_ingest_requests_total{source="distribution"}'), 2)
        self.assertEqual(d('regnotify_ingest_requests_total{source="native"}'), 1)


# --------------------------------------------------------------------------

class FixedProjectTest(IngestCase):
    BROKER_ARGS = ("--ingest-tokens", TOKENS, "--ingest-project-mode", "fixed",
                   "--ingest-project", "fleet")

    def test_every_repository_goes_to_the_fixed_project(self):
        fsub = self.subscribe("fleet")
        tsub = self.subscribe("team")
        osub = self.subscribe("other")
        js = self.ingest(envelope(fixture_event("03", "team/app"), fixture_event("06", "other/x/y"),
                                  fixture_event("10", "solo")))
        self.assertEqual(js, counts(published=3))
        self.ingest({"action": "tag", "repository": "other/svc", "digest": IMG2, "tag": "v9",
                     "registry": "r.example"}, path=NATIVE, ct="application/json")
        self.assertMessages("fleet", fsub, [
            expected("INSERT", FHOST, "team/app", IMG1, "1.0"),
            expected("INSERT", FHOST, "other/x/y", IMG1, "latest"),
            expected("INSERT", FHOST, "solo", IMG2, "2.0"),
            expected("INSERT", "r.example", "other/svc", IMG2, "v9")])
        self.assertEqual(self.take("team", tsub, 0, settle=0), [])
        self.assertEqual(self.take("other", osub, 0, settle=0), [])


class RegistryHostTest(IngestCase):
    BROKER_ARGS = ("--ingest-tokens", TOKENS, "--registry-host", "registry.example.com")

    def test_registry_host_overrides_request_host(self):
        sub = self.subscribe("team")
        repo = "team/hosted"
        evs = [fixture_event(n, repo) for n in ("03", "10", "11", "12")]
        js = self.ingest(envelope(*evs))
        self.assertEqual(js, counts(published=4))
        h = "registry.example.com"
        self.assertMessages("team", sub, [
            expected("INSERT", h, repo, IMG1, "1.0"),
            expected("INSERT", h, repo, IMG2, "2.0"),
            expected("DELETE", h, repo, digest=IMG1),
            expected("DELETE", h, repo, tag="latest")])
        # pulls are recorded under the configured host too
        self.ingest(envelope(fixture_event("14", repo)))
        js = self.assertOk(self.req("GET", "/v1/projects/team/images:recentlyPulled"
                                    "?within=2592000s"), "recentlyPulled")
        self.assertEqual([i["image"] for i in js.get("images", [])],
                         ["%s/%s@%s" % (h, repo, IMG2)], js)


class NoCreateTopicsTest(IngestCase):
    BROKER_ARGS = ("--ingest-tokens", TOKENS, "--ingest-create-topics", "false")

    def test_missing_topic_drops_and_counts(self):
        p = E.uniq("proj")
        key = E.ingest_metric("distribution", "dropped")
        m0 = E.metrics(self.broker.port)
        js = self.ingest(envelope(fixture_event("03", "%s/app" % p)))
        self.assertEqual(js["published"], 0, js)
        self.assertEqual(E.metrics(self.broker.port)[key] - m0.get(key, 0), 1)
        for t in ("gcr", "registry-rejects", "container-analysis-notes-v1",
                  "container-analysis-occurrences-v1"):
            st, _, raw = self.req("GET", "/v1/projects/%s/topics/%s" % (p, t))
            self.assertEqual(st, 404, "topic %s created with ingest_create_topics=false: %r"
                             % (t, raw))
        # once the topic exists, events are published to it
        sub = self.subscribe(p)
        js = self.ingest(envelope(fixture_event("06", "%s/app" % p)))
        self.assertEqual(js, counts(published=1))
        self.assertMessages(p, sub, [expected("INSERT", FHOST, "%s/app" % p, IMG1, "latest")])
        st, _, _ = self.req("GET", "/v1/projects/%s/topics/container-analysis-notes-v1" % p)
        self.assertEqual(st, 404)


class DedupWindowTest(IngestCase):
    BROKER_ARGS = ("--ingest-tokens", TOKENS, "--ingest-dedup-window", "1s")

    def test_event_id_forgotten_after_the_window(self):
        sub = self.subscribe("team")
        repo = "team/window"
        body = envelope(fixture_event("03", repo))
        self.assertEqual(self.ingest(body), counts(published=1))
        self.assertEqual(self.ingest(body), counts(duplicates=1))
        time.sleep(2.2)
        self.assertEqual(self.ingest(body), counts(published=1))
        want = expected("INSERT", FHOST, repo, IMG1, "1.0")
        self.assertMessages("team", sub, [want, want])


class PublicListenTest(E.BrokerTestCase):
    START_BROKER = False

    def test_public_listen_without_tokens_exits_2(self):
        for listen in ("0.0.0.0:%d" % E.free_port(), "[::]:%d" % E.free_port()):
            with self.subTest(listen=listen):
                rc, out, err = E.run_broker_once(
                    ["--listen", listen, "--redis", "redis://127.0.0.1:%d/0" % self.redis.port],
                    cwd=self.env.tmp)
                self.assertEqual(rc, 2, "exit code; stderr: %r" % err)
                self.assertIn("ingest", err.lower(), err)


if __name__ == "__main__":
    E.harness.main()
