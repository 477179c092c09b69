#!/usr/bin/env python3
"""regnotify logs tail (like gcloud logging tail): follows the project's
Admin Activity entries through POST /v2/entries:list and prints each new one
once, as it is written - not those written before it started - in text or as
a JSON line; --limit N ends it with 0 after N entries, SIGINT/SIGTERM with 0;
a filter the broker refuses, or a refused credential, ends it at once with
the broker's message; a broker that goes away is waited for (a message on
stderr) and nothing is lost or printed twice when it is back.
Run: python3 tests/integration/test_logs_tail.py"""

import json
import os
import signal
import subprocess
import threading
import time

import harness
import jwtutil
from harness import Client

CREATE = "google.pubsub.v1.Publisher.CreateTopic"
DELETE = "google.pubsub.v1.Publisher.DeleteTopic"
WAIT = 20  # seconds: the longest any single wait of these tests may take


def read(path):
    with open(path) as f:
        return f.read()


class Tail:
    """One `regnotify logs tail` process, its stdout and stderr read line by
    line on threads so that every wait below can be bounded."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        harness._track(self.proc)  # SIGKILLed at exit if a test forgets it
        self.out, self.err = [], []
        self.cv = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(f, lines), daemon=True)
                        for f, lines in ((self.proc.stdout, self.out),
                                         (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _read(self, f, lines):
        for line in f:
            with self.cv:
                lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_for(self, pred, timeout=WAIT, what="output"):
        with self.cv:
            if not self.cv.wait_for(lambda: pred() or self.proc.poll() is not None, timeout):
                raise AssertionError("timed out after %ds waiting for %s; stdout %r stderr %r"
                                     % (timeout, what, self.out, self.err))
            if not pred():
                raise AssertionError("logs tail exited (%s) before %s; stdout %r stderr %r"
                                     % (self.proc.poll(), what, self.out, self.err))

    def wait_following(self):
        self.wait_for(lambda: any("following the audit log" in l for l in self.err),
                      what="the 'following' line on stderr")

    def wait_exit(self, timeout=WAIT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("logs tail still running after %ds; stdout %r stderr %r"
                                 % (timeout, self.out, self.err))
        for t in self.readers:
            t.join(5)
        harness._untrack(self.proc)
        return rc

    def stop(self):
        """Ends the process (by its PID) if it still runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        harness._untrack(self.proc)


class LogsTailTest(harness.BrokerTestCase):
    START_BROKER = False
    START_REDIS = False

    def start(self, extra=()):
        """A broker with access control on a Redis of its own, as in test_audit."""
        self.rport = self.env.start_redis().port
        self.keyfile = self.env.path("admin.json")
        self.bargs = ["--auth", "required", "--admin-key-file", self.keyfile] + list(extra)
        self.b = self.env.start_broker(self.rport, extra=self.bargs)
        harness.wait_until(lambda: os.path.exists(self.keyfile), 10, what="the key file")
        time.sleep(0.2)
        self.tok = jwtutil.self_signed(json.loads(read(self.keyfile)))
        self.client = Client(self.b.port)
        self.addCleanup(lambda: self.client.close())
        self.p = self.project()

    def call(self, method, path, body=None):
        return self.client.req(method, path, body=body,
                               headers={"Authorization": "Bearer " + self.tok})

    def topic(self, method, t):
        path = "/v1/projects/%s/topics/%s" % (self.p, t)
        self.assertOk(self.call(method, path, {} if method == "PUT" else None), method + " " + t)

    def tail(self, *args):
        cli = os.environ.get("REGNOTIFY", "/work/main/build/client/cli/regnotify")
        env = dict(os.environ, REGNOTIFY_BROKER=self.b.nng_url, REGNOTIFY_PROJECT=self.p,
                   REGNOTIFY_KEY_FILE=self.keyfile, HOME=self.env.tmp)
        env.pop("REGNOTIFY_TOKEN", None)
        t = Tail([cli, "logs", "tail"] + list(args), env)
        self.addCleanup(t.stop)
        return t

    def test_prints_each_new_entry_once_then_exits_at_limit(self):
        self.start()
        self.topic("PUT", "before-start")  # an entry the tail must not print
        t = self.tail("--limit", "3", "--format", "json", "--interval", "100ms")
        t.wait_following()
        names = ["tail-a", "tail-b", "tail-c"]
        for n in names:
            self.topic("PUT", n)
            time.sleep(0.4)  # several polls between two entries: each printed once
        self.assertEqual(t.wait_exit(), 0, t.err)
        self.assertEqual(len(t.out), 3, t.out)
        entries = [json.loads(line) for line in t.out]  # one JSON object per line
        self.assertEqual([e["protoPayload"]["methodName"] for e in entries], [CREATE] * 3)
        self.assertEqual([e["protoPayload"]["resourceName"] for e in entries],
                         ["projects/%s/topics/%s" % (self.p, n) for n in names])
        self.assertEqual(len({e["insertId"] for e in entries}), 3)
        for e in entries:
            self.assertEqual(e["logName"],
                             "projects/%s/logs/cloudaudit.googleapis.com%%2Factivity" % self.p)
            self.assertEqual(e["protoPayload"]["authenticationInfo"]["principalEmail"],
                             "admin@regnotify.iam")

    def test_filter_and_nothing_from_before_the_start(self):
        self.start()
        for n in ("old-1", "old-2"):
            self.topic("PUT", n)
            self.topic("DELETE", n)  # DeleteTopic entries from before the start
        t = self.tail('protoPayload.methodName="%s"' % DELETE, "--limit", "2",
                      "--interval", "100ms")
        t.wait_following()
        for n in ("new-1", "new-2", "new-3"):
            self.topic("PUT", n)
        self.topic("DELETE", "new-2")
        t.wait_for(lambda: len(t.out) >= 1, what="the first DeleteTopic line")
        time.sleep(0.5)  # polls go on: nothing else may come
        self.assertEqual(len(t.out), 1, t.out)
        self.topic("DELETE", "new-3")
        self.assertEqual(t.wait_exit(), 0, t.err)
        self.assertEqual(len(t.out), 2, t.out)
        for line, n in zip(t.out, ("new-2", "new-3")):
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT[0-9:.]+Z NOTICE DeleteTopic "
                             r"projects/%s/topics/%s by admin@regnotify.iam from 127.0.0.1$"
                             % (self.p, n))
        self.assertFalse(any("old-" in line for line in t.out))

    def test_refused_filter_and_credential_exit_with_the_brokers_message(self):
        self.start()
        self.topic("PUT", "before-start")
        t = self.tail("severity>=")
        self.assertEqual(t.wait_exit(), 1, t.err)
        self.assertEqual(t.out, [])
        err = "\n".join(t.err)
        self.assertIn("cannot read the audit log", err)
        self.assertIn("Invalid filter", err)  # the broker's message (400 INVALID_ARGUMENT)
        self.assertNotIn("following", err)
        self.assertNotIn("retrying", err)
        t = self.tail("--token", "not-a-token")  # 401: not retried either
        self.assertEqual(t.wait_exit(), 1, t.err)
        self.assertIn("cannot read the audit log", "\n".join(t.err))
        self.assertNotIn("retrying", "\n".join(t.err))
        t = self.tail("--limit", "0")
        self.assertEqual(t.wait_exit(), 2, t.err)

    def test_sigint_ends_it_and_a_broker_restart_loses_nothing(self):
        self.start()
        # --timeout 1s: requests while the broker is down fail fast, and are retried.
        t = self.tail("--format", "json", "--interval", "100ms", "--timeout", "1s")
        t.wait_following()
        self.topic("PUT", "r-1")
        t.wait_for(lambda: len(t.out) >= 1, what="the entry of r-1")
        port = self.b.port
        self.client.close()
        self.b.stop()
        t.wait_for(lambda: any("retrying in" in l for l in t.err), what="a retry message")
        self.assertIsNone(t.proc.poll(), "an unreachable broker is no reason to exit")
        self.b = self.env.start_broker(self.rport, port=port,
                                       extra=self.bargs + ["--nng-listen", self.b.nng_url])
        self.client = Client(self.b.port)
        self.topic("PUT", "r-2")
        t.wait_for(lambda: len(t.out) >= 2, timeout=45, what="the entry of r-2")
        time.sleep(0.5)
        t.proc.send_signal(signal.SIGINT)
        self.assertEqual(t.wait_exit(), 0, t.err)
        self.assertEqual([json.loads(l)["protoPayload"]["resourceName"] for l in t.out],
                         ["projects/%s/topics/r-1" % self.p, "projects/%s/topics/r-2" % self.p])
        self.assertTrue(any("reading the audit log again" in l for l in t.err), t.err)


if __name__ == "__main__":
    harness.main()
