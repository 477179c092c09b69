#!/usr/bin/env python3
"""End to end for people at a terminal: `regnotify tail gcr` (over nng)
prints the image events of real skopeo pushes to a real docker-registry, in
text and json, and removes its subscription on SIGINT.

Needs redis-server, docker-registry and skopeo (tests/e2e/deps.sh), and the
CLI (REGNOTIFY)."""

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

import e2e_harness as E

CLI = os.environ.get("REGNOTIFY", "/work/main/build/client/cli/regnotify")
REPO = "team/app"
PROJECT = "team"
WAIT = 20.0


class Tail:
    """`regnotify tail ...` with its output lines on queues."""

    def __init__(self, nng_url, args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGNOTIFY")}
        env["NO_COLOR"] = "1"
        self.proc = subprocess.Popen([CLI, "--broker", nng_url, "--project", PROJECT, "tail"]
                                     + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        E.harness._track(self.proc)
        self.out, self.err = queue.Queue(), queue.Queue()
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in iter(stream.readline, b""):
            q.put(line.decode("utf-8", "replace").rstrip("\n"))
        q.put(None)

    def line(self, q, timeout=WAIT):
        try:
            ln = q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line from regnotify tail within %.0f s" % timeout)
        if ln is None:
            raise AssertionError("regnotify tail ended (exit %s)" % self.proc.poll())
        return ln

    def listening(self):
        while True:
            ln = self.line(self.err)
            m = re.search(r"listening on (projects/\S+)", ln)
            if m:
                return m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("regnotify tail did not exit after SIGINT")


class TailRegistryTest(E.StackTestCase):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(CLI, os.X_OK), "CLI missing at %s" % CLI)

    def test_tail_shows_pushes_and_deletes(self):
        s = self.stack
        img = s.layout.add_image("img1")
        # the gcr topic exists once the registry sent anything for the project;
        # create it so tail can start before the first push
        st, _, raw = self.req("PUT", "/v1/projects/%s/topics/gcr" % PROJECT)
        self.assertIn(st, (200, 409), raw)
        text = Tail(s.broker.nng_url, ["gcr"])
        js = Tail(s.broker.nng_url, ["gcr", "--format", "json", "-n", "3"])
        try:
            text_sub = text.listening()
            js.listening()
            s.push(img, REPO, "1.0")
            s.push(img, REPO, "latest")
            self.assertEqual(s.registry.delete_manifest(REPO, img.digest), 202)
            h = s.registry.host
            # json: exactly -n 3 objects, data decoded, then exit 0
            got = [json.loads(js.line(js.out)) for _ in range(3)]
            self.assertEqual(js.proc.wait(timeout=WAIT), 0)
            ins = sorted(json.dumps(g["data"], sort_keys=True) for g in got[:2])
            self.assertEqual(ins, sorted(json.dumps(d, sort_keys=True) for d in [
                {"action": "INSERT", "digest": "%s/%s@%s" % (h, REPO, img.digest),
                 "tag": "%s/%s:1.0" % (h, REPO)},
                {"action": "INSERT", "digest": "%s/%s@%s" % (h, REPO, img.digest),
                 "tag": "%s/%s:latest" % (h, REPO)}]))
            # the manifest delete comes after both pushes (as DELETEs of the
            # digest and of each tag that pointed at it; the first is shown)
            self.assertEqual(got[2]["data"]["action"], "DELETE", got[2])
            ref = got[2]["data"].get("digest") or got[2]["data"].get("tag")
            self.assertTrue(ref.startswith("%s/%s" % (h, REPO)), got[2])
            for g in got:
                self.assertRegex(g["messageId"], r"^[0-9]+$")
                self.assertRegex(g["publishTime"], E.harness.RFC3339_Z)
            # text: time, action, image reference
            lines = [text.line(text.out) for _ in range(3)]
            for ln in lines:
                self.assertRegex(ln, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\s+(INSERT|DELETE)\s+"
                                 + re.escape(h) + "/team/app")
            self.assertEqual([ln.split()[1] for ln in lines], ["INSERT", "INSERT", "DELETE"])
        finally:
            rc = text.stop()
            js.stop()
        self.assertEqual(rc, 0)
        st, _, _ = self.req("GET", "/v1/%s" % text_sub)
        self.assertEqual(st, 404, "tail's subscription must be gone after SIGINT")


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
