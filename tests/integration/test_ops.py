#!/usr/bin/env python3
"""Operating regnotifyd: /healthz, /readyz, losing and regaining Redis,
SIGTERM, configuration (flags, env, file, precedence), bad configuration
(exit 2), --help.
Run: python3 tests/integration/test_ops.py"""

import json
import threading
import time

import harness
from harness import Client, b64, unb64


class HealthTest(harness.BrokerTestCase):

    def test_healthz_and_readyz(self):
        st, _, rawb = self.req("GET", "/healthz")
        self.assertEqual(st, 200, rawb)
        st, _, rawb = self.req("GET", "/readyz")
        self.assertEqual(st, 200, rawb)

    def test_redis_down_and_back(self):
        # own redis + broker: this test kills Redis
        r = self.env.start_redis()
        b = self.env.start_broker(r.port)
        self.client = Client(b.port, timeout=15)
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.create_topic(p, "idle")
        self.create_sub(p, "idle-sub", "idle")
        before = self.publish(p, "top", ["before the outage"])

        # a pull waiting for messages when Redis dies still gets an answer
        out = {}

        def waiter():
            w = Client(b.port, timeout=30)
            try:
                out["resp"] = w.req("POST", "/v1/projects/%s/subscriptions/idle-sub:pull" % p,
                                    {"maxMessages": 1, "returnImmediately": False})
            except Exception as e:
                out["err"] = e
            finally:
                w.close()

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.5)
        r.kill9()
        harness.wait_until(lambda: harness.http_status(b.port, "/readyz") == 503, 10, 0.1,
                           "/readyz == 503 after Redis died")
        th.join(25)
        self.assertFalse(th.is_alive(), "a waiting pull hangs after Redis died")
        self.assertNotIn("err", out, "the waiting pull got no HTTP answer")
        self.assertIn(out["resp"][0], (200, 503), out["resp"][2])
        if out["resp"][0] == 200:
            self.assertEqual(out["resp"][1], {})
        t0 = time.monotonic()
        resp = self.req("POST", "/v1/projects/%s/topics/top:publish" % p,
                        {"messages": [{"data": b64("during the outage")}]})
        self.assertError(resp, 503, "UNAVAILABLE", "publish while Redis is down")
        self.assertLess(time.monotonic() - t0, 12, "the 503 must come without a long hang")
        self.assertError(self.pull_raw(p, "sub"), 503, "UNAVAILABLE", "pull while Redis is down")
        self.assertError(self.req("GET", "/v1/projects/%s/topics/top" % p), 503, "UNAVAILABLE",
                         "get topic while Redis is down")
        self.assertError(self.req("PUT", "/v1/projects/%s/topics/new-topic" % p), 503,
                         "UNAVAILABLE", "create topic while Redis is down")
        st, _, _ = self.req("GET", "/healthz")
        self.assertEqual(st, 200, "/healthz is liveness: still 200 without Redis")
        time.sleep(0.5)
        self.assertTrue(b.alive(), "the broker must survive losing Redis")

        # same port and dir: AOF brings the data back
        r.start()
        harness.wait_until(lambda: harness.http_status(b.port, "/readyz") == 200, 10, 0.1,
                           "/readyz == 200 after Redis came back")
        deadline = time.monotonic() + 10
        while True:
            resp = self.req("POST", "/v1/projects/%s/topics/top:publish" % p,
                            {"messages": [{"data": b64("after the outage")}]})
            if resp[0] == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        after = self.assertOk(resp, "publish after Redis came back")["messageIds"]
        got = self.pull_until(p, "sub", 2)
        time.sleep(0.2)
        got += self.pull(p, "sub")
        self.assertEqual(sorted(r_["message"]["messageId"] for r_ in got), sorted(before + after))
        self.assertNotIn(b"during the outage", [unb64(r_["message"]["data"]) for r_ in got])
        self.assertTrue(b.alive())

    def test_sigterm_exits_zero(self):
        b = self.env.start_broker(self.redis.port)
        c = Client(b.port)
        st, _, _ = c.req("GET", "/healthz")
        c.close()
        self.assertEqual(st, 200)
        t0 = time.monotonic()
        self.assertEqual(b.stop(), 0)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIsNone(harness.http_status(b.port, "/healthz", timeout=1),
                          "port still answering after exit")

    def test_sigterm_with_a_waiting_pull(self):
        # graceful shutdown finishes in-flight requests: a parked
        # returnImmediately=false pull gets an answer and the exit code is 0
        b = self.env.start_broker(self.redis.port)
        c = Client(b.port)
        p = self.project()
        self.assertEqual(c.req("PUT", "/v1/projects/%s/topics/top" % p)[0], 200)
        self.assertEqual(c.req("PUT", "/v1/projects/%s/subscriptions/sub" % p,
                               {"topic": "projects/%s/topics/top" % p})[0], 200)
        c.close()
        out = {}

        def waiter():
            w = Client(b.port)     # fresh connection: no silent retry
            try:
                out["resp"] = w.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 1, "returnImmediately": False}, timeout=20)
            except Exception as e:
                out["err"] = e
            finally:
                w.close()

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        rc = b.stop()
        th.join(20)
        c.close()
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 11)
        self.assertNotIn("err", out, "the waiting pull got no HTTP answer")
        self.assertIn(out["resp"][0], (200, 503), out["resp"][2])
        if out["resp"][0] == 200:
            self.assertEqual(out["resp"][1], {})
        else:
            self.assertError(out["resp"], 503, "UNAVAILABLE")

    def test_sigterm_with_open_keepalive_connection(self):
        b = self.env.start_broker(self.redis.port)
        c = Client(b.port)
        st, _, _ = c.req("GET", "/healthz")        # leaves an idle keep-alive connection
        self.assertEqual(st, 200)
        try:
            self.assertEqual(b.stop(), 0, "an idle client must not block shutdown or crash it")
        finally:
            c.close()


class ConfigTest(harness.BrokerTestCase):

    def rurl(self, port=None):
        return "redis://127.0.0.1:%d/0" % (port or self.redis.port)

    def write(self, name, text):
        path = self.env.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assertBadConfig(self, args, what, env=None):
        rc, out, err = harness.run_broker_once(args, timeout=10, env=env, cwd=self.env.tmp)
        self.assertIsNotNone(rc, "%s: broker did not exit within 10 s (killed)" % what)
        self.assertEqual(rc, 2, "%s: exit code %r, stderr %r" % (what, rc, err))
        lines = [ln for ln in err.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, "%s: expected one error line on stderr, got %r" % (what, err))

    def test_bad_config_exits_2(self):
        ok_listen = "127.0.0.1:%d" % harness.free_port()
        cases = [
            ("--listen nonsense", ["--listen", "nonsense", "--redis", self.rurl()]),
            ("--listen without port", ["--listen", "127.0.0.1", "--redis", self.rurl()]),
            ("--listen port out of range", ["--listen", "127.0.0.1:70000", "--redis", self.rurl()]),
            ("--durability sometimes", ["--listen", ok_listen, "--redis", self.rurl(),
                                        "--durability", "sometimes"]),
            ("--redis ftp://x", ["--listen", ok_listen, "--redis", "ftp://x"]),
            ("--log-level loud", ["--listen", ok_listen, "--redis", self.rurl(),
                                  "--log-level", "loud"]),
            ("unknown flag", ["--listen", ok_listen, "--redis", self.rurl(), "--bogus"]),
            ("unknown flag with value", ["--bogus", "1", "--listen", ok_listen,
                                         "--redis", self.rurl()]),
            ("flag without value", ["--redis", self.rurl(), "--listen"]),
            ("--retention-interval bad", ["--listen", ok_listen, "--redis", self.rurl(),
                                          "--retention-interval", "soon"]),
            ("--nng-listen http://x", ["--listen", ok_listen, "--redis", self.rurl(),
                                       "--nng-listen", "http://x"]),
            ("--nng-listen tls+tcp:// without a certificate",
             ["--listen", ok_listen, "--redis", self.rurl(),
              "--nng-listen", "tls+tcp://127.0.0.1:%d" % harness.free_port()]),
            ("--nng-max-requests 0", ["--listen", ok_listen, "--redis", self.rurl(),
                                      "--nng-max-requests", "0"]),
            ("--push-max-window 100001", ["--listen", ok_listen, "--redis", self.rurl(),
                                          "--push-max-window", "100001"]),
            ("missing config file", ["--config", self.env.path("does-not-exist.json")]),
            ("config invalid JSON", ["--config", self.write("bad.json", '{"listen": ')]),
            ("config unknown key", ["--config", self.write(
                "unknown.json", json.dumps({"listen": ok_listen, "redis": self.rurl(),
                                            "bogusKey": 1}))]),
            ("config bad value", ["--config", self.write(
                "badval.json", json.dumps({"listen": ok_listen, "redis": self.rurl(),
                                           "durability": "sometimes"}))]),
        ]
        for what, args in cases:
            with self.subTest(what):
                self.assertBadConfig(args, what)
        self.assertBadConfig(["--redis", self.rurl()], "env REGNOTIFYD_LISTEN nonsense",
                             env={"REGNOTIFYD_LISTEN": "nonsense"})
        self.assertBadConfig(["--listen", ok_listen], "env REGNOTIFYD_REDIS ftp://x",
                             env={"REGNOTIFYD_REDIS": "ftp://x"})

    def test_help(self):
        rc, out, err = harness.run_broker_once(["--help"], timeout=10, cwd=self.env.tmp)
        self.assertEqual(rc, 0, err)
        text = out + err
        for flag in ("--listen", "--redis", "--data-dir", "--config", "--durability",
                     "--log-level", "--retention-interval", "--help"):
            self.assertIn(flag, text, "--help does not mention %s" % flag)

    def start_and_check(self, port, args, env=None, what=""):
        b = self.env.start_broker(port=port, args=args, env=env)
        c = Client(port)
        try:
            self.assertEqual(c.req("GET", "/readyz")[0], 200, what)
            p = self.project()
            st, js, rawb = c.req("PUT", "/v1/projects/%s/topics/top" % p)
            self.assertEqual(st, 200, "%s: %r" % (what, rawb))
            # it really uses the Redis we gave it: the class's own broker
            # (started with plain flags on that Redis) sees the topic
            self.assertOk(self.req("GET", "/v1/projects/%s/topics/top" % p),
                          "%s: topic not in the test's Redis" % what)
        finally:
            c.close()
        return b

    def test_config_file(self):
        port = harness.free_port()
        path = self.write("regnotifyd.json", json.dumps({
            "listen": "127.0.0.1:%d" % port, "redis": self.rurl(), "log_level": "debug"}))
        b = self.start_and_check(port, ["--config", path], what="config file")
        self.assertEqual(b.stop(), 0)

    def test_env(self):
        port = harness.free_port()
        b = self.start_and_check(port, [], env={"REGNOTIFYD_LISTEN": "127.0.0.1:%d" % port,
                                                "REGNOTIFYD_REDIS": self.rurl(),
                                                "REGNOTIFYD_LOG_LEVEL": "debug"}, what="env")
        self.assertEqual(b.stop(), 0)

    def test_precedence_flag_over_env_over_file(self):
        p_file, p_env, p_flag = harness.free_port(), harness.free_port(), harness.free_port()
        dead_redis = "redis://127.0.0.1:%d/0" % harness.free_port()   # nothing listens there
        path = self.write("prec.json", json.dumps({"listen": "127.0.0.1:%d" % p_file,
                                                   "redis": dead_redis}))
        # env beats file (listen and redis)
        b = self.start_and_check(p_env, ["--config", path],
                                 env={"REGNOTIFYD_LISTEN": "127.0.0.1:%d" % p_env,
                                      "REGNOTIFYD_REDIS": self.rurl()}, what="env over file")
        self.assertIsNone(harness.http_status(p_file, "/healthz", timeout=1), "listening on the file's port")
        self.assertEqual(b.stop(), 0)
        # flag beats env and file
        b = self.start_and_check(p_flag, ["--config", path, "--listen", "127.0.0.1:%d" % p_flag,
                                          "--redis", self.rurl()],
                                 env={"REGNOTIFYD_LISTEN": "127.0.0.1:%d" % p_env,
                                      "REGNOTIFYD_REDIS": dead_redis}, what="flag over env")
        self.assertIsNone(harness.http_status(p_env, "/healthz", timeout=1), "listening on the env port")
        self.assertIsNone(harness.http_status(p_file, "/healthz", timeout=1), "listening on the file's port")
        self.assertEqual(b.stop(), 0)

    def test_flag_equals_form(self):
        port = harness.free_port()
        b = self.start_and_check(port, ["--listen=127.0.0.1:%d" % port, "--redis=" + self.rurl()],
                                 what="--flag=value")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
