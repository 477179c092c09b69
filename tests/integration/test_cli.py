#!/usr/bin/env python3
"""The regnotify CLI against a real regnotifyd (over nng) and Redis: tail
(ephemeral subscription, -n, --since, --from-beginning, --filter, SIGINT,
SIGKILL), topics/subscriptions/publish/pull/ack/seek round trips, --help
everywhere, usage errors (exit 2), unreachable broker (exit 3), not found
(exit 4). Every process is started with a bounded timeout and stopped by PID.

Environment: REGNOTIFY (the CLI binary; default build/client/cli/regnotify),
plus what harness.py reads.
Run: python3 tests/integration/test_cli.py"""

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

import harness

CLI = os.environ.get("REGNOTIFY", "/work/main/build/client/cli/regnotify")
RUN_TIMEOUT = 30.0      # one CLI command
TAIL_READY = 15.0       # tail prints "listening on ..." within this
TAIL_EXIT = 15.0        # tail exits this long after -n N / SIGINT at most
LINE_TIMEOUT = 15.0     # one message line

TIME_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
DIG = "sha256:" + "ab" * 32


def cli_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGNOTIFY")}
    env.pop("NO_COLOR", None)
    if extra:
        env.update(extra)
    return env


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizer(text, what):
    """Fail when an ASan/UBSan build of the CLI reported something."""
    for mark in SANITIZER_MARKS:
        if mark in text:
            raise AssertionError("sanitizer report from %s:\n%s" % (what, text[-4000:]))


def gcr(action, repo="team/app", tag=None, digest=True, host="reg.example"):
    d = {"action": action}
    if digest:
        d["digest"] = "%s/%s@%s" % (host, repo, DIG)
    if tag:
        d["tag"] = "%s/%s:%s" % (host, repo, tag)
    return json.dumps(d)


class Tail:
    """A running `regnotify tail`: stdout/stderr lines arrive on queues."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen([CLI, "tail"] + args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        harness._track(self.proc)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.err_lines = []
        self.threads = []
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            th = threading.Thread(target=self._pump, args=(stream, q), daemon=True)
            th.start()
            self.threads.append(th)

    @staticmethod
    def _pump(stream, q):
        for line in iter(stream.readline, b""):
            q.put(line.decode("utf-8", "replace").rstrip("\n"))
        q.put(None)

    def wait_listening(self, timeout=TAIL_READY):
        """Returns the subscription name from 'listening on NAME'."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.err.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("tail exited (%s) before listening; stderr: %r"
                                     % (self.proc.poll(), self.err_lines))
            self.err_lines.append(line)
            m = re.search(r"listening on (\S+)", line)
            if m:
                return m.group(1)
        raise AssertionError("tail not listening within %.0fs; stderr: %r"
                             % (timeout, self.err_lines))

    def line(self, timeout=LINE_TIMEOUT):
        try:
            line = self.out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output line from tail within %.0fs" % timeout)
        if line is None:
            raise AssertionError("tail's stdout closed (exit %s)" % self.proc.poll())
        return line

    def rest_of_stdout(self, timeout=TAIL_EXIT):
        """Lines printed until stdout closes (the process exited)."""
        lines, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.out.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                return lines
            lines.append(line)
        raise AssertionError("tail's stdout still open after %.0fs" % timeout)

    def stderr_text(self):
        while True:
            try:
                line = self.err.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.err_lines.append(line)
        return "\n".join(self.err_lines)

    def wait(self, timeout=TAIL_EXIT):
        """Waits for the exit; returns the exit code. Fails on sanitizer reports."""
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                harness._untrack(self.proc)
        for th in self.threads:
            th.join(5)
        check_sanitizer(self.stderr_text(), "regnotify tail")
        return rc

    def kill(self):
        """SIGKILL if still running; then close the pipes."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        harness._untrack(self.proc)
        for th in self.threads:
            th.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class CliTestCase(harness.BrokerTestCase):

    def setUp(self):
        super().setUp()
        self.p = self.project()
        self.tails = []
        self.addCleanup(self._kill_tails)

    def _kill_tails(self):
        for t in self.tails:
            t.kill()

    def env_for(self, extra=None):
        e = {"REGNOTIFY_BROKER": self.broker.nng_url, "REGNOTIFY_PROJECT": self.p}
        if extra:
            e.update(extra)
        return cli_env(e)

    def cli(self, *args, input=None, env=None, timeout=RUN_TIMEOUT):
        """Runs regnotify ARGS; returns (exit code, stdout, stderr)."""
        proc = subprocess.Popen([CLI] + list(args), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env if env is not None else self.env_for())
        harness._track(proc)
        try:
            out, err = proc.communicate(input=input.encode() if isinstance(input, str)
                                        else input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=5)
            harness._untrack(proc)
            raise AssertionError("regnotify %s did not finish within %.0fs" % (args, timeout))
        harness._untrack(proc)
        err = err.decode("utf-8", "replace")
        check_sanitizer(err, "regnotify %s" % " ".join(args))
        return proc.returncode, out.decode("utf-8", "replace"), err

    def cli_ok(self, *args, **kw):
        rc, out, err = self.cli(*args, **kw)
        self.assertEqual(rc, 0, "regnotify %s: exit %d, stderr %r" % (" ".join(args), rc, err))
        return out

    def tail(self, *args, env=None):
        t = Tail(list(args), env or self.env_for())
        self.tails.append(t)
        return t

    def assertUsageError(self, rc, err, hint_cmd, what=""):
        self.assertEqual(rc, 2, "%s: expected exit 2, got %d (%r)" % (what, rc, err))
        lines = err.strip("\n").split("\n")
        self.assertEqual(len(lines), 2, "%s: one error line + the hint: %r" % (what, err))
        self.assertTrue(lines[0].startswith("regnotify: "), "%s: %r" % (what, err))
        self.assertEqual(lines[1], "Try 'regnotify %s --help'." % hint_cmd, what)

    def assertOneLineError(self, rc, err, code, what=""):
        self.assertEqual(rc, code, "%s: expected exit %d, got %d (%r)" % (what, code, rc, err))
        lines = err.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, "%s: one line: %r" % (what, err))
        self.assertTrue(lines[0].startswith("regnotify: "), "%s: %r" % (what, err))

    def sub_names(self):
        js = self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions" % self.p))
        return [s["name"] for s in js.get("subscriptions", [])]

    def rest_publish(self, topic, datas, attrs=None):
        msgs = []
        for d in datas:
            m = {"data": harness.b64(d)}
            if attrs:
                m["attributes"] = attrs
            msgs.append(m)
        return self.publish(self.p, topic, msgs)


class TailTest(CliTestCase):

    def test_tail_prints_exactly_n_new_messages_as_json(self):
        self.create_topic(self.p, "gcr")
        self.rest_publish("gcr", [gcr("INSERT", tag="0.9")])      # before tail: never shown
        t = self.tail("gcr", "-n", "3", "--format", "json")
        name = t.wait_listening()
        self.assertRegex(name, r"^projects/%s/subscriptions/tail-[0-9a-f]{16}$" % self.p)
        self.assertIn(name, self.sub_names())
        sent = [gcr("INSERT", tag="1.%d" % i) for i in range(3)] + ["not json \u00e9"]
        for i, d in enumerate(sent):
            self.rest_publish("gcr", [d], attrs={"n": str(i)})
        lines = [t.line() for _ in range(3)] + t.rest_of_stdout()
        self.assertEqual(t.wait(), 0, t.stderr_text())
        self.assertEqual(len(lines), 3, "exactly -n 3 lines: %r" % lines)
        got = [json.loads(l) for l in lines]
        for i, o in enumerate(got):
            self.assertEqual(set(o), {"messageId", "publishTime", "attributes", "data"}, o)
            self.assertRegex(o["messageId"], r"^[0-9]+$")
            self.assertRegex(o["publishTime"], "^" + TIME_RE + "$")
            self.assertEqual(o["attributes"], {"n": str(i)})
            self.assertEqual(o["data"], json.loads(sent[i]), "data decoded to an object")
        harness.wait_until(lambda: name not in self.sub_names(), 10,
                           what="the ephemeral subscription to be deleted after -n")

    def test_tail_text_format(self):
        self.create_topic(self.p, "gcr")
        t = self.tail("gcr", "-n", "4")
        t.wait_listening()
        self.rest_publish("gcr", [gcr("INSERT", tag="1.2")])
        self.rest_publish("gcr", [gcr("DELETE", tag="1.2", digest=False)])
        self.rest_publish("gcr", [gcr("DELETE")])
        self.rest_publish("gcr", ["plain\ntext"], attrs={"k": "v"})
        lines = [t.line() for _ in range(4)]
        self.assertEqual(t.wait(), 0, t.stderr_text())
        self.assertRegex(lines[0], "^%s  INSERT  reg.example/team/app:1.2@%s$" % (TIME_RE, DIG))
        self.assertRegex(lines[1], "^%s  DELETE  reg.example/team/app:1.2$" % TIME_RE)
        self.assertRegex(lines[2], "^%s  DELETE  reg.example/team/app@%s$" % (TIME_RE, DIG))
        self.assertRegex(lines[3], r"^%s  -       plain\\ntext  \[k=v\]$" % TIME_RE)
        self.assertNotIn("\033", "".join(lines), "no colour when stdout is not a TTY")

    def test_since_replays_recent_messages_only(self):
        self.create_topic(self.p, "gcr")
        self.create_sub(self.p, "keeper", "gcr")   # keeps the stream alive
        self.rest_publish("gcr", ["ancient"])
        time.sleep(4)
        self.rest_publish("gcr", ["recent-1", "recent-2"])
        t = self.tail("gcr", "--since", "2s", "-n", "3", "--format", "json")
        t.wait_listening()
        self.rest_publish("gcr", ["new"])
        lines = [json.loads(t.line())["data"] for _ in range(3)]
        self.assertEqual(t.wait(), 0, t.stderr_text())
        self.assertEqual(sorted(lines), ["new", "recent-1", "recent-2"])

    def test_since_long_ago_and_from_beginning_replay_everything(self):
        self.create_topic(self.p, "gcr")
        self.create_sub(self.p, "keeper", "gcr")
        self.rest_publish("gcr", ["a", "b"])
        for flag in (["--since", "1h"], ["--from-beginning"]):
            t = self.tail("gcr", *flag, "-n", "2", "--format", "json")
            t.wait_listening()
            lines = [json.loads(t.line())["data"] for _ in range(2)]
            self.assertEqual(t.wait(), 0, t.stderr_text())
            self.assertEqual(sorted(lines), ["a", "b"], flag)

    def test_without_since_nothing_old_is_replayed(self):
        self.create_topic(self.p, "gcr")
        self.create_sub(self.p, "keeper", "gcr")
        self.rest_publish("gcr", ["old"])
        t = self.tail("gcr", "-n", "1", "--format", "json")
        t.wait_listening()
        self.rest_publish("gcr", ["new"])
        self.assertEqual(json.loads(t.line())["data"], "new")
        self.assertEqual(t.wait(), 0)

    def test_sigint_and_sigterm_remove_the_subscription(self):
        self.create_topic(self.p, "gcr")
        for sig in (signal.SIGINT, signal.SIGTERM):
            t = self.tail("gcr")
            name = t.wait_listening()
            self.assertIn(name, self.sub_names())
            self.rest_publish("gcr", [gcr("INSERT", tag="1")])
            self.assertIn("INSERT", t.line())
            os.kill(t.proc.pid, sig)
            self.assertEqual(t.wait(), 0, "exit 0 after %s; stderr %s" % (sig, t.stderr_text()))
            self.assertNotIn(name, self.sub_names(), "subscription removed on %s" % sig)

    def test_sigint_with_the_broker_gone_exits_soon(self):
        # The broker dies under a running tail: Ctrl-C must not hang for a
        # request timeout; tail says its subscription could not be deleted
        # (it expires) and exits 3 (unreachable).
        b = self.env.start_broker(self.redis.port)
        env = self.env_for({"REGNOTIFY_BROKER": b.nng_url})
        self.assertEqual(self.cli("topics", "create", "gcr", env=env)[0], 0)
        t = self.tail("gcr", env=env)
        name = t.wait_listening()
        b.kill9()
        time.sleep(0.5)
        t0 = time.monotonic()
        os.kill(t.proc.pid, signal.SIGINT)
        rc = t.wait(timeout=15)
        self.assertLess(time.monotonic() - t0, 10, "tail took too long to exit")
        self.assertEqual(rc, 3, t.stderr_text())
        self.assertIn("cannot delete subscription %s (it expires" % name, t.stderr_text())

    def test_sigkill_leaves_a_subscription_that_expires(self):
        self.create_topic(self.p, "gcr")
        t = self.tail("gcr")
        name = t.wait_listening()
        t.kill()
        sid = name.rsplit("/", 1)[1]
        js = self.assertOk(self.req("GET", "/v1/projects/%s/subscriptions/%s" % (self.p, sid)))
        ttl = js.get("expirationPolicy", {}).get("ttl", "")
        self.assertRegex(ttl, r"^[0-9]+(\.[0-9]+)?s$", js)
        self.assertLessEqual(float(ttl[:-1]), 300, js)
        self.assertEqual(js.get("labels", {}).get("regnotify-ephemeral"), "true", js)
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/%s" % (self.p, sid)))

    def test_filter_keeps_only_matching_messages(self):
        self.create_topic(self.p, "gcr")
        t = self.tail("gcr", "--format", "json", "-n", "3", "--filter",
                      'data.action = "DELETE" OR (attributes:keep AND NOT attributes.keep = "no")')
        t.wait_listening()
        self.rest_publish("gcr", [gcr("INSERT", tag="1")])
        self.rest_publish("gcr", [gcr("DELETE", tag="1", digest=False)])
        self.rest_publish("gcr", ["x"], attrs={"keep": "no"})
        self.rest_publish("gcr", ["y"], attrs={"keep": "yes"})
        self.rest_publish("gcr", [gcr("INSERT", tag="2")])
        self.rest_publish("gcr", [gcr("DELETE")])
        lines = [json.loads(t.line()) for _ in range(3)]
        self.assertEqual(t.wait(), 0, t.stderr_text())
        self.assertEqual([l["data"] if isinstance(l["data"], str) else l["data"]["action"]
                          for l in lines], ["DELETE", "y", "DELETE"])

    def test_hasprefix_filter_on_tags(self):
        self.create_topic(self.p, "gcr")
        t = self.tail("gcr", "-n", "1", "--filter", 'hasPrefix(data.tag, "reg.example/team/b")')
        t.wait_listening()
        self.rest_publish("gcr", [gcr("INSERT", repo="team/a", tag="1")])
        self.rest_publish("gcr", [gcr("INSERT", repo="team/b", tag="2")])
        self.assertIn("reg.example/team/b:2@", t.line())
        self.assertEqual(t.wait(), 0)

    def test_existing_subscription_is_kept_and_extras_are_nacked(self):
        self.create_topic(self.p, "gcr")
        # A message that a pull aborted by tail's exit had already leased comes
        # back only after its ack deadline (as with Pub/Sub's streaming pull):
        # keep that short so the check below stays bounded.
        self.create_sub(self.p, "mine", "gcr", ackDeadlineSeconds=10)
        self.rest_publish("gcr", ["m1", "m2", "m3"])
        t = self.tail("--subscription", "mine", "-n", "1", "--format", "json")
        self.assertEqual(t.wait_listening(), harness.sub_name(self.p, "mine"))
        first = json.loads(t.line())["data"]
        self.assertEqual(t.rest_of_stdout(), [])
        self.assertEqual(t.wait(), 0, t.stderr_text())
        self.assertIn(harness.sub_name(self.p, "mine"), self.sub_names(), "not deleted")
        # The one printed was acked; the others come back (nacked or never leased).
        # Each is acked as it arrives: unacked, this pull's own 10 s leases would
        # expire and bring its messages back a second time (a flake once).
        rest = []
        deadline = time.monotonic() + 30
        while len(rest) < 2 and time.monotonic() < deadline:
            rms = self.pull(self.p, "mine")
            rest += [harness.unb64(rm["message"]["data"]).decode() for rm in rms]
            if rms:
                self.ack(self.p, "mine", [rm["ackId"] for rm in rms])
            else:
                time.sleep(0.05)
        self.assertEqual(sorted(rest + [first]), ["m1", "m2", "m3"], t.stderr_text())

    def test_tail_exits_4_when_its_subscription_is_deleted(self):
        self.create_topic(self.p, "gcr")
        t = self.tail("gcr")
        sid = t.wait_listening().rsplit("/", 1)[1]
        self.assertOk(self.req("DELETE", "/v1/projects/%s/subscriptions/%s" % (self.p, sid)))
        self.assertEqual(t.wait(timeout=30), 4, t.stderr_text())
        self.assertIn("was deleted", t.stderr_text())

    def test_tail_of_a_missing_topic_or_subscription_is_not_found(self):
        rc, _, err = self.cli("tail", "nosuchtopic")
        self.assertOneLineError(rc, err, 4, "tail of a missing topic")
        rc, _, err = self.cli("tail", "--subscription", "nosuchsub")
        self.assertOneLineError(rc, err, 4, "tail of a missing subscription")


class CommandsTest(CliTestCase):

    def test_topics_round_trip(self):
        self.assertEqual(self.cli_ok("topics", "create", "top1").strip(),
                         harness.topic_name(self.p, "top1"))
        self.assertEqual(self.cli_ok("topics", "create", "top2", "--retention", "1h").strip(),
                         harness.topic_name(self.p, "top2"))
        self.assertEqual(self.cli_ok("topics", "list").split(),
                         [harness.topic_name(self.p, "top1"), harness.topic_name(self.p, "top2")])
        js = json.loads(self.cli_ok("topics", "list", "--format", "json"))
        self.assertEqual([t["name"] for t in js],
                         [harness.topic_name(self.p, "top1"), harness.topic_name(self.p, "top2")])
        js = json.loads(self.cli_ok("topics", "describe", "top2"))
        self.assertEqual(js["messageRetentionDuration"], "3600s")
        rc, _, err = self.cli("topics", "create", "top1")
        self.assertOneLineError(rc, err, 1, "create an existing topic")
        self.cli_ok("topics", "delete", "top1")
        rc, _, err = self.cli("topics", "describe", "top1")
        self.assertOneLineError(rc, err, 4, "describe a deleted topic")
        rc, _, err = self.cli("topics", "delete", "top1")
        self.assertOneLineError(rc, err, 4, "delete a deleted topic")
        # Full names and --project after the command work too.
        other = self.project()
        self.cli_ok("topics", "create", harness.topic_name(other, "xyz"))
        self.assertEqual(self.cli_ok("topics", "list", "--project", other).split(),
                         [harness.topic_name(other, "xyz")])

    def test_subscriptions_create_with_a_filter(self):
        self.cli_ok("topics", "create", "top")
        self.cli_ok("subscriptions", "create", "deploy", "--topic", "top",
                    "--filter", 'attributes.action = "INSERT"')
        js = json.loads(self.cli_ok("subscriptions", "describe", "deploy"))
        self.assertEqual(js["filter"], 'attributes.action = "INSERT"')
        self.cli_ok("publish", "top", "-a", "action=DELETE", "gone")
        self.cli_ok("publish", "top", "-a", "action=INSERT", "new")
        out = self.cli_ok("subscriptions", "pull", "deploy", "--max", "10", "--wait", "--ack",
                          "--format", "json")
        self.assertEqual([json.loads(l)["data"] for l in out.splitlines()], ["new"])
        rc, out, err = self.cli("subscriptions", "create", "bad", "--topic", "top",
                                "--filter", "attributes.action = INSERT")
        self.assertNotEqual(rc, 0)
        self.assertIn("(at column 21)", err)

    def test_subscriptions_publish_pull_ack_seek_round_trip(self):
        self.cli_ok("topics", "create", "top")
        self.assertEqual(self.cli_ok("subscriptions", "create", "sub", "--topic", "top",
                                     "--ack-deadline", "30", "--retention", "1d",
                                     "--expiration-ttl", "never",
                                     "--retain-acked-messages").strip(),
                         harness.sub_name(self.p, "sub"))
        js = json.loads(self.cli_ok("subscriptions", "describe", "sub"))
        self.assertEqual(js["topic"], harness.topic_name(self.p, "top"))
        self.assertEqual(js["ackDeadlineSeconds"], 30)
        self.assertEqual(js["messageRetentionDuration"], "86400s")
        self.assertEqual(js["expirationPolicy"], {})
        self.assertIs(js["retainAckedMessages"], True)
        self.assertEqual(self.cli_ok("subscriptions", "list").split(),
                         [harness.sub_name(self.p, "sub")])
        self.assertEqual([s["name"] for s in json.loads(
            self.cli_ok("subscriptions", "list", "--format", "json"))],
            [harness.sub_name(self.p, "sub")])

        id1 = self.cli_ok("publish", "top", "-a", "k=v", "--attribute", "x=a=b",
                          '{"action":"INSERT"}').strip()
        id2 = self.cli_ok("publish", "top", input="from\nstdin").strip()
        id3 = self.cli_ok("publish", "top", "-", input=b"\xff\x00bin").strip()
        for i in (id1, id2, id3):
            self.assertRegex(i, r"^[0-9]+$")

        msgs = [json.loads(l) for l in
                self.cli_ok("subscriptions", "pull", "sub", "--max", "10", "--format",
                            "json").splitlines()]
        self.assertEqual([m["messageId"] for m in msgs], [id1, id2, id3])
        self.assertEqual(msgs[0]["attributes"], {"k": "v", "x": "a=b"})
        self.assertEqual(msgs[0]["data"], {"action": "INSERT"})
        self.assertEqual(msgs[1]["data"], "from\nstdin")
        self.assertEqual(msgs[2]["data"], harness.b64(b"\xff\x00bin"))
        self.assertEqual(msgs[2]["dataEncoding"], "base64")
        # deliveryAttempt is shown when the broker reports one (dead-lettering on).
        self.assertGreaterEqual(msgs[0].get("deliveryAttempt", 1), 1)
        self.assertEqual(self.cli_ok("pull", "sub"), "", "leased: nothing more to pull")

        self.cli_ok("subscriptions", "ack", "sub", *[m["ackId"] for m in msgs])
        self.cli_ok("seek", "sub", "--time", "2100-01-01T00:00:00Z")  # a no-op on an empty backlog
        self.cli_ok("subscriptions", "seek", "sub", "--since", "1h")
        out = self.cli_ok("subscriptions", "pull", "sub", "--max", "10", "--wait", "--ack")
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        cols = lines[0].split("  ")
        self.assertEqual(cols[1], id1)
        self.assertRegex(cols[2], "^" + TIME_RE + "$")
        self.assertEqual(cols[3], "k=v,x=a=b")
        self.assertEqual(cols[4], '{"action":"INSERT"}')
        self.assertTrue(lines[1].endswith("  -  from\\nstdin"), lines[1])
        self.assertEqual(self.cli_ok("pull", "sub", "--max", "10"), "", "--ack acked them")

        rc, _, err = self.cli("ack", "sub", "bogus-ack-id")
        self.assertOneLineError(rc, err, 1, "ack with an invalid ack id")
        self.cli_ok("subscriptions", "delete", "sub")
        rc, _, err = self.cli("subscriptions", "describe", "sub")
        self.assertOneLineError(rc, err, 4, "describe a deleted subscription")
        rc, _, err = self.cli("pull", "sub")
        self.assertOneLineError(rc, err, 4, "pull a deleted subscription")
        rc, _, err = self.cli("publish", "nosuch", "x")
        self.assertOneLineError(rc, err, 4, "publish to a missing topic")

    def test_push_subscription(self):
        self.cli_ok("topics", "create", "top")
        self.cli_ok("subscriptions", "create", "push", "--topic", "top", "--push-endpoint",
                    "http://127.0.0.1:9/hook")
        js = json.loads(self.cli_ok("subscriptions", "describe", "push"))
        self.assertEqual(js["pushConfig"].get("pushEndpoint"), "http://127.0.0.1:9/hook")
        self.cli_ok("subscriptions", "delete", "push")

    def test_unreachable_broker_exits_3(self):
        url = "tcp://127.0.0.1:%d" % harness.free_port()
        for args in (["topics", "list"], ["tail", "gcr"], ["publish", "gcr", "x"]):
            start = time.monotonic()
            rc, out, err = self.cli("--broker", url, "--timeout", "2s", *args)
            self.assertOneLineError(rc, err, 3, "unreachable: %s" % args)
            self.assertIn(url, err)
            self.assertEqual(out, "")
            self.assertLess(time.monotonic() - start, 20)
        rc, _, err = self.cli("topics", "list", env=self.env_for({"REGNOTIFY_BROKER": url,
                                                                 "REGNOTIFY_TIMEOUT": "2s"}))
        self.assertOneLineError(rc, err, 3, "unreachable through REGNOTIFY_BROKER")

    def test_usage_errors_exit_2(self):
        cases = [
            (["tail", "gcr", "--bogus"], "tail"),
            (["tail"], "tail"),
            (["tail", "gcr", "-n", "0"], "tail"),
            (["tail", "gcr", "-n"], "tail"),
            (["tail", "gcr", "--since", "yesterday"], "tail"),
            (["tail", "gcr", "--since", "1h", "--from-beginning"], "tail"),
            (["tail", "gcr", "--format", "xml"], "tail"),
            (["tail", "gcr", "--filter", 'attributes.a = "x" AND attributes.b = "y" OR data:tag'],
             "tail"),
            (["tail", "gcr", "--filter", "attributes.a = x"], "tail"),
            (["topics", "create"], "topics create"),
            (["topics", "create", "a", "b"], "topics create"),
            (["topics", "create", "t", "--retention", "forever"], "topics create"),
            (["topics", "frobnicate"], "topics"),
            (["topics"], "topics"),
            (["subscriptions", "create", "s"], "subscriptions create"),
            (["subscriptions", "create", "s", "--topic", "t", "--ack-deadline", "5"],
             "subscriptions create"),
            (["subscriptions", "pull", "s", "--max", "0"], "subscriptions pull"),
            (["subscriptions", "seek", "s"], "subscriptions seek"),
            (["subscriptions", "seek", "s", "--time", "noon"], "subscriptions seek"),
            (["subscriptions", "ack", "s"], "subscriptions ack"),
            (["pull", "s", "--format", "yaml"], "pull"),
            (["publish"], "publish"),
            (["publish", "t", "-a", "novalue"], "publish"),
            (["publish", "t", "--attribute"], "publish"),
            (["--timeout", "soon", "topics", "list"], ""),
            (["--nope"], ""),
            ([], ""),
            (["frobnicate"], ""),
        ]
        for args, hint in cases:
            rc, out, err = self.cli(*args)
            if hint:
                self.assertUsageError(rc, err, hint, "regnotify %s" % args)
            else:
                self.assertGeneralUsage(rc, err, args)
            self.assertEqual(out, "", args)
        rc, _, err = self.cli("tail", "gcr", "--filter", 'attributes.a = "x" AND (')
        self.assertIn("column 25", err.splitlines()[0])

    def assertGeneralUsage(self, rc, err, args):
        self.assertEqual(rc, 2, "%s: %r" % (args, err))
        lines = err.strip("\n").split("\n")
        self.assertEqual(len(lines), 2, "%s: %r" % (args, err))
        self.assertTrue(lines[0].startswith("regnotify: "), err)
        self.assertEqual(lines[1], "Try 'regnotify --help'.")

    def test_help_everywhere(self):
        commands = [[], ["topics"], ["subscriptions"], ["publish"], ["tail"], ["pull"], ["ack"],
                    ["seek"]]
        commands += [["topics", c] for c in ("create", "list", "describe", "delete")]
        commands += [["subscriptions", c] for c in ("create", "list", "describe", "delete",
                                                    "pull", "ack", "seek")]
        # No broker is needed for --help: point at a closed port.
        env = self.env_for({"REGNOTIFY_BROKER": "tcp://127.0.0.1:%d" % harness.free_port()})
        for cmd in commands:
            for flag in ("--help", "-h"):
                rc, out, err = self.cli(*(cmd + [flag]), env=env)
                self.assertEqual(rc, 0, "%s %s: %r" % (cmd, flag, err))
                self.assertEqual(err, "", cmd)
                self.assertTrue(out.startswith("Usage: regnotify"), "%s: %r" % (cmd, out[:80]))
        rc, out, _ = self.cli("--help", env=env)
        for code in ("0 ", "1 ", "2 ", "3 ", "4 "):
            self.assertIn("\n  " + code, out, "exit codes documented in --help")
        rc, out, err = self.cli("--version", env=env)
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^regnotify \d+\.\d+\.\d+")


if __name__ == "__main__":
    harness.main()
