#!/usr/bin/env python3
"""The examples of libregnotify against a real regnotifyd (over nng) and
Redis: examples/cd-trigger.c runs its command for matching INSERTs only and
retries a failed run; examples/scanner.c publishes one occurrence
{"name","kind","notificationTime"} per INSERT to
container-analysis-occurrences-v1 and acks what it handled.

Environment: RN_EXAMPLES (directory with the cd-trigger and scanner
binaries), plus what harness.py reads."""

import base64
import json
import os
import signal
import subprocess
import time
import unittest

import harness

EXAMPLES = os.environ.get("RN_EXAMPLES", "/work/main/build/examples")
DIG = "sha256:" + "cd" * 32


def gcr(action, repo, tag):
    d = {"action": action, "digest": "reg.example/%s@%s" % (repo, DIG)}
    if tag:
        d["tag"] = "reg.example/%s:%s" % (repo, tag)
    return json.dumps(d)


class ExamplesTest(harness.BrokerTestCase):

    def setUp(self):
        super().setUp()
        for b in ("cd-trigger", "scanner"):
            self.assertTrue(os.access(os.path.join(EXAMPLES, b), os.X_OK),
                            "example binary %s missing in %s" % (b, EXAMPLES))

    def run_env(self, p):
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGNOTIFY")}
        env["REGNOTIFY_BROKER"] = self.broker.nng_url
        env["REGNOTIFY_PROJECT"] = p
        return env

    def wait_for(self, cond, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.05)
        self.fail("timed out waiting for %s" % what)

    def test_cd_trigger_runs_command_for_matching_inserts(self):
        p = self.project()
        self.create_topic(p, "gcr")
        out = os.path.join(self.env.tmp, "deploys.txt")
        fail_flag = os.path.join(self.env.tmp, "fail-once")
        open(fail_flag, "w").close()
        # The command fails the first time (flag file present): the event must
        # come back and run again, then succeed.
        script = ('if [ -e %s ]; then rm %s; exit 3; fi; '
                  'echo "$IMAGE_ACTION $IMAGE_TAG $IMAGE_DIGEST" >> %s') % (fail_flag, fail_flag, out)
        proc = subprocess.Popen(
            [os.path.join(EXAMPLES, "cd-trigger"), "-s", "deployer",
             "reg.example/team/*:v*", "--", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.run_env(p))
        harness._track(proc)
        try:
            # it creates its subscription on gcr before receiving
            self.wait_for(lambda: self.req("GET", "/v1/projects/%s/subscriptions/deployer" % p)[0]
                          == 200, what="cd-trigger's subscription")
            self.publish(p, "gcr", [gcr("INSERT", "team/app", "v1.2"),
                                    gcr("INSERT", "team/app", "latest"),
                                    gcr("DELETE", "team/app", "v1.3"),
                                    gcr("INSERT", "other/app", "v9"),
                                    gcr("INSERT", "team/api", "v2")])
            want = ["INSERT reg.example/team/app:v1.2 reg.example/team/app@" + DIG,
                    "INSERT reg.example/team/api:v2 reg.example/team/api@" + DIG]

            def lines():
                if not os.path.exists(out):
                    return None
                with open(out) as f:
                    got = f.read().splitlines()
                return got if len(got) >= 2 else None
            got = self.wait_for(lines, what="two deploys")
            self.assertEqual(sorted(got), sorted(want))
            self.assertFalse(os.path.exists(fail_flag), "the failing run happened")
            # everything was acked: nothing comes back
            time.sleep(1.0)
            with open(out) as f:
                self.assertEqual(len(f.read().splitlines()), 2)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err.decode("utf-8", "replace"))
        self.assertIn("will be retried", err.decode())
        self.assertNothingToPull(p, "deployer")

    def test_scanner_publishes_occurrences(self):
        p = self.project()
        self.create_topic(p, "gcr")
        self.create_topic(p, "container-analysis-occurrences-v1")
        self.create_sub(p, "occ", "container-analysis-occurrences-v1")
        self.create_sub(p, "scanner", "gcr")
        ids = self.publish(p, "gcr", [gcr("INSERT", "team/app", "v1"),
                                      gcr("DELETE", "team/app", None),
                                      gcr("INSERT", "team/web", "v2")])
        r = subprocess.run([os.path.join(EXAMPLES, "scanner"), "-n", "2"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                           env=self.run_env(p))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout.decode().splitlines(),
                         ["scanned reg.example/team/app@" + DIG,
                          "scanned reg.example/team/web@" + DIG])
        rms = self.pull_until(p, "occ", 2, timeout=10)
        self.assertEqual(len(rms), 2)
        names = set()
        for rm in rms:
            occ = json.loads(base64.b64decode(rm["message"]["data"]))
            self.assertEqual(sorted(occ), ["kind", "name", "notificationTime"])
            self.assertEqual(occ["kind"], "DISCOVERY")
            self.assertRegex(occ["notificationTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            names.add(occ["name"])
        self.assertEqual(names, {"projects/%s/occurrences/%s" % (p, ids[0]),
                                 "projects/%s/occurrences/%s" % (p, ids[2])})
        # the DELETE and both INSERTs were acked by the scanner
        self.assertNothingToPull(p, "scanner")

    def test_usage_errors(self):
        for b, args in (("cd-trigger", ["only-a-pattern"]), ("scanner", ["-n", "zero"]),
                        ("cd-trigger", ["-x"])):
            r = subprocess.run([os.path.join(EXAMPLES, b)] + args, capture_output=True,
                               timeout=10, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 2, (b, args))
            self.assertIn(b"usage:", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
