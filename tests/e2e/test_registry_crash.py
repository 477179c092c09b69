#!/usr/bin/env python3
"""End to end, with failures: regnotifyd is SIGKILLed while a real
docker-registry keeps pushing events at it, and restarted on the same port
(Redis keeps running). The registry retries every event until it gets a 2xx
(timeout 1s, threshold 3, backoff 1s), so every image change must end up on
the gcr topic exactly once: no loss, and no duplicate for events the broker
stored just before it died or stored after the registry gave up waiting.

Needs redis-server, docker-registry and skopeo (tests/e2e/deps.sh).
"""

import os
import signal
import time

import e2e_harness as E
from e2e_harness import expected

PROJECT = "team"
RESTART_AFTER = 1.5   # seconds between the SIGKILL and the restart


class RegistryCrashTest(E.StackTestCase):

    def subscribe(self, sub):
        st, _, raw = self.req("PUT", "/v1/projects/%s/topics/gcr" % PROJECT)
        self.assertIn(st, (200, 409), raw)
        self.create_sub(PROJECT, sub, "gcr")

    def kill_broker(self):
        rc = self.stack.broker.kill9()
        self.assertEqual(rc, -9)
        self.client.close()
        return time.monotonic()

    def restart_broker(self, killed_at):
        time.sleep(max(0.0, killed_at + RESTART_AFTER - time.monotonic()))
        self.stack.restart_broker()
        self.reconnect()

    def assert_exactly(self, sub, want, what):
        rms = self.pull_all(PROJECT, sub, len(want), timeout=20.0, settle=1.5)
        got = E.as_multiset(rms)
        missing = [w for w in want if w not in got]
        extra = list(got)
        for w in want:
            if w in extra:
                extra.remove(w)
        self.assertEqual(got, sorted(want), "%s: %d messages, want %d; missing %r; extra "
                         "(duplicates or unexpected) %r" % (what, len(got), len(want), missing,
                                                             extra))

    def test_sigkill_during_pushes(self):
        s = self.stack
        repo = "team/crash"
        imgs = [s.layout.add_image("c%d" % i, [("app/n", b"%d\n" % i)]) for i in range(4)]
        a, b, c, d = imgs
        self.subscribe("gcr-crash")
        h = s.registry.host
        want = []

        def push(img, tag):
            s.push(img, repo, tag)
            want.append(expected("INSERT", h, repo, img.digest, tag))

        push(a, "1")
        push(b, "2")
        # The registry is delivering b's events right now (blobs, manifest).
        killed = self.kill_broker()
        push(c, "3")                 # while the broker is down
        push(a, "stable")            # re-tag while down
        self.restart_broker(killed)
        push(d, "4")
        push(b, "latest")
        # Delete b by digest: one manifest delete + one tag delete per tag,
        # all queued by one request; kill the broker while they are sent.
        self.assertEqual(s.registry.delete_manifest(repo, b.digest), 202)
        want.append(expected("DELETE", h, repo, digest=b.digest))
        want.append(expected("DELETE", h, repo, tag="2"))
        want.append(expected("DELETE", h, repo, tag="latest"))
        killed = self.kill_broker()
        push(c, "5")
        self.restart_broker(killed)
        push(d, "6")

        m = s.registry.wait_drained(timeout=40)
        self.assertGreater(m["Errors"], 0, "the registry never saw the broker down: %r" % m)
        self.assert_exactly("gcr-crash", want, "after two SIGKILLs")

    def test_sigkill_after_store_before_reply(self):
        """The broker stored an event in Redis but died before its 200 went
        out: the registry re-sends the event to the restarted broker, which
        must recognise the id and publish nothing new.

        Made deterministic: Redis holds writes (CLIENT PAUSE WRITE) until
        the broker's ingest script is waiting in Redis, the broker is frozen
        (SIGSTOP), Redis runs the script, a second broker on the same Redis
        sees the stored message, then the frozen broker gets SIGKILL."""
        s = self.stack
        repo = "team/stored"
        img = s.layout.add_image("stored", [("app/stored", b"stored\n")])
        self.subscribe("gcr-stored")
        self.create_sub(PROJECT, "gcr-observe", "gcr")
        h = s.registry.host
        s.push(img, repo, "first")           # blobs are now in the repository
        want = [expected("INSERT", h, repo, img.digest, "first")]
        s.registry.wait_drained()
        self.pull_all(PROJECT, "gcr-observe", 1, settle=0)
        pid = s.broker.pid
        self.assertEqual(E.redis_pause(s.redis.port, 15000), "OK")
        try:
            self.assertEqual(
                s.registry.put_manifest(repo, "1.0", s.layout.read_blob(img.digest)), 201)
            E.wait_until(lambda: E.redis_postponed_scripts(s.redis.port), 5,
                         what="the broker's ingest script waiting in the paused Redis")
            os.kill(pid, signal.SIGSTOP)
        finally:
            E.harness.redis_cmd(s.redis.port, "CLIENT", "UNPAUSE")
        want.append(expected("INSERT", h, repo, img.digest, "1.0"))
        # Stored: another broker on the same Redis delivers it.
        observer = s.env.start_broker(s.redis.port, extra=s.broker_extra)
        oc = E.Client(observer.port)
        try:
            self.client, main_client = oc, self.client
            seen = self.pull_all(PROJECT, "gcr-observe", 1, timeout=10, settle=0)
            self.assertEqual(E.as_multiset(seen), [want[1]], "stored before the kill")
        finally:
            self.client = main_client
            oc.close()
        observer.stop()
        killed = self.kill_broker()          # SIGKILL works on a stopped process
        self.restart_broker(killed)
        m = s.registry.wait_drained(timeout=30)
        self.assertGreater(m["Errors"], 0, m)
        self.assertGreaterEqual(E.metrics(s.broker.port)[E.ingest_metric("distribution",
                                                                         "duplicate")], 1,
                                "the re-sent event was not counted as a duplicate")
        self.assert_exactly("gcr-stored", want, "after a kill between store and reply")

    def test_sigkill_with_registry_retrying(self):
        """The broker is down before the pushes start: the registry queues
        the events and backs off; once the broker is back on the same port
        the backlog arrives, each event once."""
        s = self.stack
        repo = "team/retry"
        imgs = [s.layout.add_image("r%d" % i, [("app/r", b"r%d\n" % i)]) for i in range(3)]
        self.subscribe("gcr-retry")
        h = s.registry.host
        want = []
        killed = self.kill_broker()
        for i, img in enumerate(imgs):
            s.push(img, repo, "v%d" % i)
            want.append(expected("INSERT", h, repo, img.digest, "v%d" % i))
        self.assertGreater(s.registry.pending(), 0, "events must queue while the broker is down")
        self.restart_broker(killed)
        s.registry.wait_drained(timeout=30)
        self.assert_exactly("gcr-retry", want, "after a restart with a backlog")

    def test_slow_store_resent_event_is_published_once(self):
        """Redis holds writes for 1.8 s (CLIENT PAUSE WRITE) while the
        registry delivers one manifest push: the broker's answer comes after
        the registry's 1 s timeout, so the registry re-sends the same event
        id while the first copy is still being stored (the 'slow' run of the
        fixtures README). Both copies must end as one message."""
        s = self.stack
        repo = "team/slow"
        img = s.layout.add_image("slow", [("app/slow", b"slow\n")])
        self.subscribe("gcr-slow")
        h = s.registry.host
        s.push(img, repo, "first")           # blobs are now in the repository
        want = [expected("INSERT", h, repo, img.digest, "first")]
        s.registry.wait_drained()
        before = s.registry.endpoint_metrics()
        dup = E.ingest_metric("distribution", "duplicate")
        dups_before = E.metrics(s.broker.port)[dup]
        self.assertEqual(E.redis_pause(s.redis.port, 1800), "OK")
        # One registry request, one event: the manifest push of tag 1.0.
        self.assertEqual(s.registry.put_manifest(repo, "1.0", s.layout.read_blob(img.digest)),
                         201)
        want.append(expected("INSERT", h, repo, img.digest, "1.0"))
        after = s.registry.wait_drained(timeout=30)
        self.assertEqual(after["Events"] - before["Events"], 1, (before, after))
        self.assertGreater(after["Errors"], before["Errors"],
                           "the registry did not time out on the slow store: %r" % after)
        self.assertEqual(after["Successes"] - before["Successes"], 1, (before, after))
        self.assertGreaterEqual(E.metrics(s.broker.port)[dup] - dups_before, 1,
                                "the re-sent copy was not counted as a duplicate")
        self.assert_exactly("gcr-slow", want, "after a timed-out, re-sent event")


if __name__ == "__main__":
    E.harness.main()
