#!/usr/bin/env python3
"""Crash safety: SIGKILL regnotifyd in the middle of a publish/pull loop,
restart it on the same port, and check that every message whose publish
got a 200 is delivered (at least once). A 2xx is a promise.
Run: python3 tests/integration/test_crash.py"""

import http.client
import sys
import threading
import time

import harness
from harness import Client, b64, unb64

TOTAL = 10000
BATCH = 50
KILL_AFTER = 3000          # SIGKILL once this many messages were acknowledged by a 200


class CrashTest(harness.BrokerTestCase):

    def test_sigkill_during_publish_and_pull(self):
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top", ackDeadlineSeconds=10)
        port = self.broker.port
        tpath = "/v1/projects/%s/topics/top:publish" % p
        spath = "/v1/projects/%s/subscriptions/sub" % p

        lock = threading.Lock()
        accepted = {}              # messageId -> data sent
        received = {}              # messageId -> data received (last)
        errors = []
        stop = threading.Event()
        publisher_done = threading.Event()
        kill_now = threading.Event()
        conn_errors = [0]

        transient = (OSError, http.client.HTTPException)

        def publisher():
            c = Client(port, timeout=10)
            try:
                seq = 0
                while seq < TOTAL and not stop.is_set():
                    batch = [b"msg-%06d" % i for i in range(seq, min(seq + BATCH, TOTAL))]
                    try:
                        st, js, rawb = c.req("POST", tpath,
                                             {"messages": [{"data": b64(d)} for d in batch]})
                    except transient:
                        with lock:
                            conn_errors[0] += 1
                        c.close()
                        time.sleep(0.05)
                        continue            # retry the same batch
                    if st == 503:
                        time.sleep(0.05)
                        continue
                    if st != 200:
                        errors.append("publish: %d %r" % (st, rawb[:200]))
                        return
                    ids = js["messageIds"]
                    if len(ids) != len(batch):
                        errors.append("publish returned %d ids for %d messages" % (len(ids), len(batch)))
                        return
                    with lock:
                        for mid, d in zip(ids, batch):
                            accepted[mid] = d
                        if len(accepted) >= KILL_AFTER:
                            kill_now.set()
                    seq += len(batch)
            except Exception as e:
                errors.append("publisher: %r" % e)
            finally:
                c.close()
                publisher_done.set()

        def puller():
            c = Client(port, timeout=10)
            try:
                while not stop.is_set():
                    try:
                        st, js, rawb = c.req("POST", spath + ":pull",
                                             {"maxMessages": 100, "returnImmediately": True})
                        if st != 200:
                            if st != 503:
                                errors.append("pull: %d %r" % (st, rawb[:200]))
                                return
                            time.sleep(0.05)
                            continue
                        rms = (js or {}).get("receivedMessages", [])
                        if not rms:
                            time.sleep(0.02)
                            continue
                        with lock:
                            for r in rms:
                                received[r["message"]["messageId"]] = unb64(r["message"]["data"])
                        st, js, rawb = c.req("POST", spath + ":acknowledge",
                                             {"ackIds": [r["ackId"] for r in rms]})
                        if st not in (200, 503):
                            errors.append("ack: %d %r" % (st, rawb[:200]))
                            return
                    except transient:
                        with lock:
                            conn_errors[0] += 1
                        c.close()
                        time.sleep(0.05)
            except Exception as e:
                errors.append("puller: %r" % e)
            finally:
                c.close()

        threads = [threading.Thread(target=publisher), threading.Thread(target=puller)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(kill_now.wait(60) or publisher_done.is_set(),
                            "publisher made no progress: %r" % errors)
            self.assertFalse(publisher_done.is_set() and len(accepted) < KILL_AFTER,
                             "publisher stopped early: %r" % errors)
            before_kill = len(accepted)
            self.broker.kill9()
            killed_at = time.monotonic()
            time.sleep(0.3)
            restarted = self.cenv.start_broker(self.redis.port, port=port)
            type(self).broker = restarted
            self.assertLess(time.monotonic() - killed_at, 15)
            self.assertTrue(publisher_done.wait(60), "publisher did not finish after the restart")
            self.assertEqual(errors, [])
            with lock:
                self.assertEqual(len(set(accepted.values())), TOTAL,
                                 "every message was eventually accepted")
            # keep pulling until every accepted id has been received (bounded)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with lock:
                    missing = [m for m in accepted if m not in received]
                if not missing:
                    break
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(20)
        self.assertEqual(errors, [])
        self.assertLess(before_kill, TOTAL, "the kill did not happen mid-loop")
        sys.stderr.write("\n  [crash] killed after %d of %d accepted; %d connection errors; "
                         "%d accepted ids (incl. re-published batches), %d received\n"
                         % (before_kill, TOTAL, conn_errors[0], len(accepted), len(received)))
        with lock:
            missing = sorted(m for m in accepted if m not in received)
            wrong = [m for m in accepted if m in received and received[m] != accepted[m]]
        self.assertEqual(missing[:20], [], "%d of %d acknowledged messages never delivered "
                         "(killed after %d accepted; %d connection errors)"
                         % (len(missing), len(accepted), before_kill, conn_errors[0]))
        self.assertEqual(wrong[:20], [], "delivered data differs from what was published")


if __name__ == "__main__":
    harness.main()
