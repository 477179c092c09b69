#!/usr/bin/env python3
"""Continuous analysis end to end: images pushed to a real docker-registry,
some of them pulled (skopeo inspect / copy); POST images:reanalyze then
publishes exactly one REANALYZE message per pulled image to
container-analysis-reanalyze - none for images only pushed - and a scanner
filtering that topic by repository gets only its own.

Needs redis-server, docker-registry and skopeo (tests/e2e/deps.sh).
"""

import json

import e2e_harness as E

PROJECT = "team"


class ReanalyzeTest(E.StackTestCase):

    def test_reanalyze_publishes_one_message_per_pulled_image(self):
        s = self.stack
        imgs = [s.layout.add_image("img%d" % i, [("v", b"%d\n" % i)]) for i in range(3)]
        for i, img in enumerate(imgs):
            s.push(img, "team/app%d" % i, "1.0")
        m = s.registry.wait_drained()
        self.assertEqual(m.get("Failures"), 0, m)
        # The ingest created the topic: a scanner subscribes before anything happens.
        self.create_sub(PROJECT, "scanner", "container-analysis-reanalyze")
        self.create_sub(PROJECT, "app1-only", "container-analysis-reanalyze",
                        filter='attributes.repository = "team/app1"')
        h = s.registry.host
        # Pull app0 (inspect: manifest GET) and app1 (copy to a local layout); app2 never.
        s.skopeo.inspect(s.registry, "team/app0", "1.0")
        s.skopeo.run("copy", "--quiet", "--src-tls-verify=false",
                     "docker://%s/team/app1:1.0" % h, "oci:%s:pulled" % s.env.path("pulled"))
        s.registry.wait_drained()
        js = self.assertOk(self.req("POST", "/v1/projects/%s/images:reanalyze" % PROJECT, {}))
        self.assertEqual(js, {"published": 2})
        rms = self.pull_all(PROJECT, "scanner", 2)
        got = sorted(json.loads(E.harness.unb64(rm["message"]["data"]))["digest"] for rm in rms)
        self.assertEqual(got, sorted(["%s/team/app0@%s" % (h, imgs[0].digest),
                                      "%s/team/app1@%s" % (h, imgs[1].digest)]))
        for rm in rms:
            d = json.loads(E.harness.unb64(rm["message"]["data"]))
            self.assertEqual(d["action"], "REANALYZE")
            a = rm["message"]["attributes"]
            self.assertEqual(a["action"], "REANALYZE")
            self.assertEqual(a["registry"], h)
            self.assertEqual("%s/%s@%s" % (h, a["repository"], a["digest"]), d["digest"])
        self.assertNothingToPull(PROJECT, "scanner", "nothing for the image never pulled")
        rms = self.pull_all(PROJECT, "app1-only", 1)
        self.assertEqual([rm["message"]["attributes"]["repository"] for rm in rms], ["team/app1"])
        # A window that excludes the pulls: nothing.
        js = self.assertOk(self.req("POST", "/v1/projects/%s/images:reanalyze" % PROJECT,
                                    {"within": "0.001s"}))
        self.assertEqual(js, {"published": 0})
        self.assertError(self.req("POST", "/v1/projects/%s/images:reanalyze" % PROJECT,
                                  {"within": "soon"}), 400, "INVALID_ARGUMENT")


if __name__ == "__main__":
    E.harness.main()
