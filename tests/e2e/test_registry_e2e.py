#!/usr/bin/env python3
"""End to end: a real docker-registry notifies regnotifyd; skopeo pushes
images built by hand as an OCI layout; the gcr topic must then hold exactly
the GCR messages of what happened in the registry.

Needs redis-server, docker-registry and skopeo (tests/e2e/deps.sh).
"""

import datetime
import time

import e2e_harness as E
from e2e_harness import expected

REPO = "team/app"
PROJECT = "team"


class RegistryE2ETest(E.StackTestCase):

    def subscribe(self, topic, sub):
        st, _, raw = self.req("PUT", "/v1/projects/%s/topics/%s" % (PROJECT, topic))
        self.assertIn(st, (200, 409), raw)
        self.create_sub(PROJECT, sub, topic)

    def test_push_retag_delete_pull(self):
        s = self.stack
        img1 = s.layout.add_image("img1")
        img2 = s.layout.add_image("img2", [("app/VERSION", b"2.0\n")])
        self.assertNotEqual(img1.digest, img2.digest)
        # A subscription only sees messages published after it exists.
        self.subscribe("gcr", "gcr-e2e")
        self.subscribe("registry-rejects", "rejects-e2e")

        s.push(img1, REPO, "1.0")
        s.push(img1, REPO, "latest")
        s.push(img2, REPO, "2.0")
        self.assertEqual(s.registry.delete_manifest(REPO, img1.digest), 202)
        m = s.registry.wait_drained()
        self.assertEqual(m.get("Failures"), 0, "broker answered non-2xx to the registry: %r" % m)
        # blob pushes (3), HEAD pulls of existing blobs, 3 manifest pushes, 3 deletes
        self.assertGreaterEqual(m["Events"], 12, m)

        h = s.registry.host
        rms = self.pull_all(PROJECT, "gcr-e2e", 6)
        want = sorted([
            expected("INSERT", h, REPO, img1.digest, "1.0"),
            expected("INSERT", h, REPO, img1.digest, "latest"),
            expected("INSERT", h, REPO, img2.digest, "2.0"),
            expected("DELETE", h, REPO, digest=img1.digest),
            expected("DELETE", h, REPO, tag="latest"),
            expected("DELETE", h, REPO, tag="1.0"),
        ])
        self.assertEqual(E.as_multiset(rms), want,
                         "gcr messages (data, attributes) differ from the registry's history")
        # All INSERTs were published before the DELETEs.
        ordered = sorted((E.decode(rm) for rm in rms), key=lambda t: t[2])
        actions = [d["action"] for d, _, _ in ordered]
        self.assertEqual(actions, ["INSERT"] * 3 + ["DELETE"] * 3, ordered)
        # publishTime is the time the event was stored: within this test
        now = datetime.datetime.now(datetime.timezone.utc)
        for rm in rms:
            pt = E.harness.parse_time(rm["message"]["publishTime"])
            self.assertLess(abs((now - pt).total_seconds()), 120, rm)
        self.assertNothingToPull(PROJECT, "rejects-e2e", "registry events must not be rejected")

        # The topics of the project exist now (created on first use).
        for t in ("gcr", "registry-rejects", "container-analysis-notes-v1",
                  "container-analysis-occurrences-v1"):
            st, js, raw = self.req("GET", "/v1/projects/%s/topics/%s" % (PROJECT, t))
            self.assertEqual(st, 200, "topic %s: %r" % (t, raw))

        # Nothing was pulled yet (skopeo's HEADs during the pushes were blob pulls).
        path = "/v1/projects/%s/images:recentlyPulled?within=2592000s" % PROJECT
        js = self.assertOk(self.req("GET", path), "recentlyPulled before any manifest pull")
        self.assertEqual(js.get("images", []), [], js)

        # A pull (skopeo inspect GETs the manifest by tag and the config blob)
        t0 = datetime.datetime.now(datetime.timezone.utc)
        info = s.skopeo.inspect(s.registry, REPO, "2.0")
        self.assertEqual(info.get("Digest"), img2.digest)
        s.registry.wait_drained()
        js = self.assertOk(self.req("GET", path), "recentlyPulled")
        images = js.get("images")
        self.assertIsInstance(images, list, js)
        refs = [i.get("image") for i in images]
        self.assertEqual(refs, ["%s/%s@%s" % (h, REPO, img2.digest)], js)
        lp = E.harness.parse_time(images[0]["lastPulled"])
        self.assertRegex(images[0]["lastPulled"], E.harness.RFC3339_Z)
        self.assertLess(abs((lp - t0).total_seconds()), 30, js)
        # ... and it published nothing.
        time.sleep(0.3)
        self.assertNothingToPull(PROJECT, "gcr-e2e", "after a pull")
        self.assertNothingToPull(PROJECT, "rejects-e2e", "after a pull")

    def test_push_by_digest_and_second_repository(self):
        """A push by digest is an INSERT without a tag; another repository of
        the same namespace goes to the same project, another namespace to
        its own project."""
        s = self.stack
        img = s.layout.add_image("img3", [("app/x", b"x\n")])
        self.subscribe("gcr", "gcr-digest")
        st, _, raw = self.req("PUT", "/v1/projects/ops/topics/gcr")
        self.assertEqual(st, 200, raw)
        self.create_sub("ops", "gcr-ops", "gcr")

        s.skopeo.run("copy", "--quiet", "--dest-tls-verify=false",
                     "oci:%s:%s" % (s.layout.dir, img.name),
                     "docker://%s/team/other@%s" % (s.registry.host, img.digest))
        s.push(img, "ops/tools/img", "v1")
        s.registry.wait_drained()
        h = s.registry.host
        self.assertEqual(E.as_multiset(self.pull_all(PROJECT, "gcr-digest", 1)),
                         [expected("INSERT", h, "team/other", img.digest)])
        self.assertEqual(E.as_multiset(self.pull_all("ops", "gcr-ops", 1)),
                         [expected("INSERT", h, "ops/tools/img", img.digest, "v1")])


if __name__ == "__main__":
    E.harness.main()
