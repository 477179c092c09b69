#!/usr/bin/env python3
"""Continuous analysis, the scanner-facing half: messages published to
container-analysis-occurrences-v1 get the attributes a filter can use
(kind, effectiveSeverity, severity, cvssScore) derived from the Container
Analysis notification they carry, so that a CD system subscribes to exactly
the critical findings; malformed notifications are refused. And the
scheduled reanalysis (--reanalyze-interval): one broker per interval
publishes. (images:reanalyze against a real registry: tests/e2e/test_reanalyze.py.)
Run: python3 tests/integration/test_analysis.py"""

import json
import time

import harness
from harness import b64, unb64

TOPIC = "container-analysis-occurrences-v1"


def occurrence(p, i, kind="VULNERABILITY", **vuln):
    o = {"name": "projects/%s/occurrences/occ-%d" % (p, i), "kind": kind,
         "notificationTime": "2026-12-04T10:00:00Z"}
    if vuln:
        o["vulnerability"] = vuln
    return {"data": b64(json.dumps(o))}


class AnalysisTest(harness.BrokerTestCase):

    def test_occurrence_attributes_and_a_critical_only_subscription(self):
        p = self.project()
        self.create_topic(p, TOPIC)
        self.create_sub(p, "critical", TOPIC, filter='attributes.effectiveSeverity = "CRITICAL"')
        self.create_sub(p, "all", TOPIC)
        msgs = [occurrence(p, 1, effectiveSeverity="CRITICAL", severity="HIGH", cvssScore=9.8),
                occurrence(p, 2, effectiveSeverity="LOW", severity="LOW", cvssScore=2),
                occurrence(p, 3, kind="DISCOVERY"),
                occurrence(p, 4, effectiveSeverity="CRITICAL")]
        # A publisher's own attribute of a derived name is replaced; others stay.
        msgs[0]["attributes"] = {"kind": "FAKE", "scanner": "trivy"}
        self.publish(p, TOPIC, msgs)
        rms = self.pull_until(p, "all", 4)
        attrs = {json.loads(unb64(rm["message"]["data"]))["name"].rsplit("-", 1)[1]:
                 rm["message"]["attributes"] for rm in rms}
        self.assertEqual(attrs["1"], {"kind": "VULNERABILITY", "scanner": "trivy",
                                      "effectiveSeverity": "CRITICAL", "severity": "HIGH",
                                      "cvssScore": "9.8"})
        self.assertEqual(attrs["2"], {"kind": "VULNERABILITY", "effectiveSeverity": "LOW",
                                      "severity": "LOW", "cvssScore": "2.0"})
        self.assertEqual(attrs["3"], {"kind": "DISCOVERY"})
        self.assertEqual(attrs["4"], {"kind": "VULNERABILITY", "effectiveSeverity": "CRITICAL"})
        crit = self.pull_until(p, "critical", 2)
        self.assertEqual(sorted(json.loads(unb64(rm["message"]["data"]))["name"] for rm in crit),
                         ["projects/%s/occurrences/occ-1" % p, "projects/%s/occurrences/occ-4" % p])
        self.ack(p, "critical", [rm["ackId"] for rm in crit])
        self.assertNothingToPull(p, "critical", "only the critical findings")

    def test_malformed_notifications_are_refused(self):
        p = self.project()
        self.create_topic(p, TOPIC)
        bad = [{"data": b64("not json")},
               {"data": b64(json.dumps({"kind": "VULNERABILITY"}))},
               {"data": b64(json.dumps({"name": "projects/%s/occurrences/x" % p, "kind": "lower"}))},
               occurrence(p, 5, effectiveSeverity="SEVERE"),
               occurrence(p, 6, cvssScore="9"),
               {"attributes": {"kind": "VULNERABILITY"}}]
        for m in bad:
            st, js, raw = self.req("POST", "/v1/projects/%s/topics/%s:publish" % (p, TOPIC),
                                   {"messages": [occurrence(p, 0), m]})
            self.assertError((st, js, raw), 400, "INVALID_ARGUMENT", m)
            self.assertIn("messages[1]", js["error"]["message"])
        # Other topics are not touched.
        self.create_topic(p, "plain")
        self.publish(p, "plain", [{"data": b64("not json")}])

    def test_reanalyze_interval_one_broker_per_interval(self):
        p = self.project()
        b1 = self.env.start_broker(self.redis.port, extra=["--reanalyze-interval", "1s"])
        b2 = self.env.start_broker(self.redis.port, extra=["--reanalyze-interval", "1s"])
        c1 = harness.Client(b1.port)
        self.addCleanup(c1.close)
        c2 = harness.Client(b2.port)
        self.addCleanup(c2.close)
        self.assertEqual(c2.req("GET", "/healthz")[0], 200)
        # A manifest pull recorded by the ingest (a Distribution "pull" event).
        ev = {"id": "evt-%s-pull" % p, "timestamp": "2026-12-04T10:00:00Z", "action": "pull",
              "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "digest": "sha256:" + "a" * 64, "repository": "%s/app" % p,
                         "tag": "1.0"},
              "request": {"host": "registry.example:5000", "method": "GET"}}
        st, js, raw = c1.req("POST", "/v1/registry/distribution", raw=json.dumps({"events": [ev]}),
                             headers={"Content-Type":
                                      "application/vnd.docker.distribution.events.v1+json"})
        self.assertEqual(st, 200, raw)
        self.create_topic(p, "container-analysis-reanalyze")
        self.create_sub(p, "scanner", "container-analysis-reanalyze")
        t0 = time.monotonic()
        got = []
        while time.monotonic() - t0 < 4.5:
            got += self.pull(p, "scanner")
            time.sleep(0.1)
        # Two brokers ticking every second for 4.5 s (9 ticks): one publish per interval
        # (the lock lasts 0.9 s), not per broker.
        self.assertGreaterEqual(len(got), 2, got)
        self.assertLessEqual(len(got), 5, got)
        d = json.loads(unb64(got[0]["message"]["data"]))
        self.assertEqual(d, {"action": "REANALYZE",
                             "digest": "registry.example:5000/%s/app@sha256:%s" % (p, "a" * 64)})


if __name__ == "__main__":
    harness.main()
