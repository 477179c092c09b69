#!/usr/bin/env python3
"""Embedded Redis: with no --redis, regnotifyd starts its own redis-server
child with its data under --data-dir, stops it on SIGTERM, and the data
survives a restart (AOF).
Run: python3 tests/integration/test_embedded.py"""

import glob
import os
import time

import harness
from harness import Client, unb64


def find_embedded_redis(broker_pid, data_dir):
    """PID of the redis-server the broker started: a descendant named
    redis-server, else one named in a pid file under DATA_DIR."""
    for pid, comm in harness.descendants(broker_pid).items():
        if comm.startswith("redis-server"):
            return pid
    for pf in glob.glob(os.path.join(data_dir, "**", "*.pid"), recursive=True):
        try:
            with open(pf) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        st = harness.proc_stat(pid)
        if st and st[0].startswith("redis-server") and harness.pid_alive(pid):
            return pid
    return None


class EmbeddedTest(harness.BrokerTestCase):
    START_REDIS = False
    START_BROKER = False

    def start_embedded(self, port, data_dir):
        args = ["--listen", "127.0.0.1:%d" % port, "--data-dir", data_dir, "--log-level", "debug"]
        b = self.env.start_broker(port=port, args=args)
        rpid = harness.wait_until(lambda: find_embedded_redis(b.pid, data_dir), 5, 0.1,
                                  "the embedded redis-server process")
        self.env.adopt_pid(rpid)      # SIGKILLed by cleanup if the broker leaves it behind
        return b, rpid

    def test_embedded_redis_lifecycle(self):
        data_dir = self.env.path("data")
        os.makedirs(data_dir)
        port = harness.free_port()
        b, rpid = self.start_embedded(port, data_dir)
        self.client = Client(port)
        self.assertEqual(harness.proc_stat(rpid)[0][:12], "redis-server")

        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        first, second = self.publish(p, "top", ["acked", "kept"])
        rms = self.pull_until(p, "sub", 1, max_messages=1)
        self.assertEqual(len(rms), 1)
        self.assertEqual(rms[0]["message"]["messageId"], first)
        self.ack(p, "sub", [rms[0]["ackId"]])
        self.client.close()

        self.assertTrue(os.listdir(data_dir), "nothing written under --data-dir")
        rc = b.stop()
        self.assertEqual(rc, 0, "SIGTERM must exit 0")
        harness.wait_until(lambda: not harness.pid_alive(rpid), 10, 0.05,
                           "the embedded redis-server (pid %d) to exit with the broker" % rpid)
        aofs = [f for f in glob.glob(os.path.join(data_dir, "**", "*"), recursive=True)
                if "aof" in os.path.basename(f).lower()]
        self.assertTrue(aofs, "no AOF under the data dir: %r" % os.listdir(data_dir))

        # same data dir again: the unacked message is still there
        b2, rpid2 = self.start_embedded(port, data_dir)
        self.client = Client(port)
        self.assertOk(self.req("GET", "/v1/projects/%s/topics/top" % p))
        rms = self.pull_until(p, "sub", 1)
        time.sleep(0.2)
        rms += self.pull(p, "sub")
        self.assertEqual([r["message"]["messageId"] for r in rms], [second])
        self.assertEqual(unb64(rms[0]["message"]["data"]), b"kept")
        self.ack(p, "sub", [rms[0]["ackId"]])
        self.client.close()
        self.assertEqual(b2.stop(), 0)
        harness.wait_until(lambda: not harness.pid_alive(rpid2), 10, 0.05,
                           "the second embedded redis-server to exit")

    def test_restart_after_sigkill(self):
        # a crashed broker must not leave a redis-server behind that blocks
        # the next start on the same data dir, and nothing accepted is lost
        data_dir = self.env.path("data3")
        os.makedirs(data_dir)
        port = harness.free_port()
        b, rpid = self.start_embedded(port, data_dir)
        self.client = Client(port)
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        ids = self.publish(p, "top", ["survives a crash"])
        self.client.close()
        b.kill9()
        harness.wait_until(lambda: not harness.pid_alive(rpid), 10, 0.05,
                           "the embedded redis-server to exit after its broker was SIGKILLed")
        b2, _ = self.start_embedded(port, data_dir)
        self.client = Client(port)
        rms = self.pull_until(p, "sub", 1)
        self.assertEqual([r["message"]["messageId"] for r in rms], ids)
        self.client.close()
        self.assertEqual(b2.stop(), 0)

    def test_embedded_redis_not_listening_publicly(self):
        # the embedded redis must not bind beyond loopback / a unix socket
        data_dir = self.env.path("data2")
        os.makedirs(data_dir)
        port = harness.free_port()
        b, rpid = self.start_embedded(port, data_dir)
        inodes = set()
        for fd in glob.glob("/proc/%d/fd/*" % rpid):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for ln in lines:
                f = ln.split()
                local, state, inode = f[1], f[3], f[9]
                if state == "0A" and inode in inodes:   # LISTEN
                    addr = local.split(":")[0]
                    self.assertIn(addr, ("0100007F", "00000000000000000000000001000000"),
                                  "embedded redis listens on %s" % local)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
