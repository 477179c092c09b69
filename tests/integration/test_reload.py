#!/usr/bin/env python3
"""SIGHUP reloads the configuration (core/reload.c, docs/config.md
"Reloading with SIGHUP"): log level and ingest tokens from an edited config
file take effect while the broker keeps serving (a long-poll pull parked
across the signal still gets its message); pull_wait and push_max_window
reload; a broken file or an invalid value changes nothing; a changed listen address is logged as needing a restart; tokens
are never logged.
Run: python3 tests/integration/test_reload.py"""

import json
import os
import signal
import threading
import time

import harness
from harness import Client

INGEST = "/v1/registry/distribution"


class ReloadTest(harness.BrokerTestCase):
    START_BROKER = False

    def start(self, conf, extra=()):
        """A broker whose log level and tokens come from the config file only."""
        self.conf = self.env.path("regnotifyd.json")
        port = harness.free_port()
        self.listen = "127.0.0.1:%d" % port
        self.write(conf)
        args = ["--redis", "redis://127.0.0.1:%d/0" % self.redis.port,
                "--config", self.conf] + list(extra)
        self.b = self.env.start_broker(port=port, args=args)
        self.client = Client(self.b.port)
        self.addCleanup(self.client.close)
        return self.b

    def write(self, conf):
        """The config file: CONF (a str as it is; a dict with this broker's
        listen address unless it names one)."""
        if not isinstance(conf, str):
            conf = json.dumps(dict({"listen": self.listen}, **conf))
        with open(self.conf, "w") as f:
            f.write(conf)

    def log(self):
        with open(self.b.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def hup_and_wait(self, line):
        """SIGHUP, then wait for the reload's last log line (LINE)."""
        n = self.log().count(line)
        os.kill(self.b.pid, signal.SIGHUP)
        harness.wait_until(lambda: self.log().count(line) > n, 10, what=repr(line))
        self.assertTrue(self.b.alive(), "the broker died on SIGHUP:\n" + self.b.log_tail())

    def ingest_status(self, token):
        """401 when TOKEN is refused; a token that passes reaches the body
        check (400 for a body that is no envelope)."""
        hdrs = {"Authorization": "Bearer " + token}
        st, _, _ = self.req("POST", INGEST, raw="{not json", headers=hdrs)
        return st

    def test_log_level_and_ingest_token(self):
        self.start({"log_level": "info", "ingest_tokens": "old-token-1"})
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        self.assertEqual(self.ingest_status("old-token-1"), 400)
        self.assertEqual(self.ingest_status("new-token-2"), 401)
        self.req("GET", "/v1/projects/%s/topics" % p)
        self.assertNotIn("debug topics.list", self.log(), "info level logs no request lines")

        # A pull parked across the reload is answered when a message comes.
        out = {}

        def waiter():
            w = Client(self.b.port, timeout=30)
            try:
                out["resp"] = w.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 1, "returnImmediately": False})
            finally:
                w.close()

        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.3)   # let it park; the assertions do not depend on it

        self.write({"log_level": "debug", "ingest_tokens": "new-token-2, new-token-3"})
        self.hup_and_wait("SIGHUP: configuration reloaded from %s: 2 changes applied, "
                          "0 need a restart" % self.conf)
        log = self.log()
        self.assertIn("config: log_level changed from info to debug", log)
        self.assertIn("config: ingest_tokens changed from 1 token to 2 tokens", log)
        for secret in ("old-token-1", "new-token-2", "new-token-3"):
            self.assertNotIn(secret, log, "a token reached the log")

        self.publish(p, "top", ["after the reload"])
        th.join(30)
        self.assertFalse(th.is_alive(), "the parked pull was not answered")
        js = self.assertOk(out["resp"], "parked pull")
        self.assertEqual(len(js.get("receivedMessages", [])), 1, js)

        self.assertEqual(self.ingest_status("old-token-1"), 401, "the old token still works")
        self.assertEqual(self.ingest_status("new-token-2"), 400)
        self.assertEqual(self.ingest_status("new-token-3"), 400)
        self.req("GET", "/v1/projects/%s/topics" % p)
        harness.wait_until(lambda: "debug topics.list /v1/projects/%s/topics" % p in self.log(),
                           10, what="a debug request line after the reload")

        # The same file again: nothing changes.
        self.hup_and_wait("SIGHUP: configuration reloaded from %s: no change" % self.conf)

    def test_invalid_file_keeps_the_running_configuration(self):
        self.start({"log_level": "info", "ingest_tokens": "keep-me-1"})
        self.write('{"log_level": "debug", ')
        self.hup_and_wait("SIGHUP: configuration not reloaded, the running one stays")
        self.assertIn("config file %s" % self.conf, self.log())
        self.write({"log_level": "loud"})
        self.hup_and_wait("invalid log_level 'loud': expected one of debug|info|warn|error")
        self.assertEqual(self.ingest_status("keep-me-1"), 400)
        self.assertEqual(self.ingest_status("other"), 401)
        self.assertNotIn("config: log_level changed", self.log())
        self.assertOk(self.req("PUT", "/v1/projects/%s/topics/top" % self.project()))

    def test_tokens_removed_on_loopback(self):
        # On loopback a broker may run without tokens (off loopback config_load
        # refuses that, and so does a reload: tests/unit/test_config.c).
        self.start({"ingest_tokens": "tok-a"})
        self.write({})   # the listen address only
        self.hup_and_wait("SIGHUP: configuration reloaded")
        self.assertIn("config: ingest_tokens changed from 1 token to 0 tokens", self.log())
        self.assertEqual(self.ingest_status("anything"), 400, "no tokens: ingest is open")

    def test_restart_needed_and_reloadable_limits(self):
        b = self.start({"pull_wait": "10s", "push_max_window": "1000"})
        other = harness.free_port()
        self.write({"listen": "127.0.0.1:%d" % other, "pull_wait": "1s",
                    "push_max_window": "7", "durability": "always"})
        self.hup_and_wait("2 changes applied, 2 need a restart")
        log = self.log()
        self.assertIn("config: listen changed to 127.0.0.1:%d, which needs a restart; the "
                      "running value 127.0.0.1:%d stays" % (other, b.port), log)
        self.assertIn("config: durability changed to always, which needs a restart", log)
        self.assertIn("config: pull_wait changed from 10s to 1s", log)
        self.assertIn("config: push_max_window changed from 1000 to 7", log)
        self.assertEqual(harness.http_status(other, "/healthz"), None, "listen was applied")
        # pull_wait 1s: a pull on an empty subscription ends well before the
        # client's 8 s timeout (it would wait 10 s before the reload).
        p = self.project()
        self.create_topic(p, "top")
        self.create_sub(p, "sub", "top")
        js = self.assertOk(self.req("POST", "/v1/projects/%s/subscriptions/sub:pull" % p,
                                    {"maxMessages": 1, "returnImmediately": False},
                                    timeout=8))
        self.assertEqual(js, {})

    def test_flag_wins_over_the_file(self):
        self.start({"log_level": "warn"}, extra=["--log-level", "info"])
        self.write({"log_level": "debug"})
        self.hup_and_wait("SIGHUP: configuration reloaded from %s: no change" % self.conf)
        self.assertNotIn("config: log_level changed", self.log())


if __name__ == "__main__":
    harness.main()
