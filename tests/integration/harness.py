"""Shared helpers for the regnotifyd integration tests.

Everything here uses the Python 3 standard library only. The tests start a
real ``redis-server`` (from PATH) and a real ``regnotifyd`` on free
127.0.0.1 ports inside temporary directories, talk to them over real HTTP
(and RESP for the few tests that look at Redis directly), and stop every
process they started by its PID, also when a test fails.

Environment:
  REGNOTIFYD   path of the broker binary
               (default /work/main/build/broker/regnotifyd)
  RN_IT_KEEP   if set, temp dirs are kept (their paths are printed)
"""

import atexit
import base64
import datetime
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

DEFAULT_BROKER = "/work/main/build/broker/regnotifyd"
READY_TIMEOUT = 10.0      # seconds to wait for GET /readyz == 200
STOP_TIMEOUT = 10.0       # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 15.0       # every HTTP call has a timeout
LOG_TAIL_LINES = 80


def broker_path():
    return os.environ.get("REGNOTIFYD", DEFAULT_BROKER)


# --------------------------------------------------------------------------
# processes: every process a test starts is registered here by PID so that
# it can be stopped even if the test (or setUpClass) blows up half-way.
# --------------------------------------------------------------------------

_live = {}               # pid -> subprocess.Popen
_live_lock = threading.Lock()


def _track(proc):
    with _live_lock:
        _live[proc.pid] = proc


def _untrack(proc):
    with _live_lock:
        _live.pop(proc.pid, None)


@atexit.register
def _kill_leftovers():
    with _live_lock:
        procs = list(_live.values())
        _live.clear()
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass


def pid_alive(pid):
    """True if PID exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    # state is the first field after the ")" that closes comm
    state = stat[stat.rfind(")") + 2:].split()[0]
    return state not in ("Z", "X")


def proc_stat(pid):
    """(comm, ppid) of PID from /proc/PID/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.find("(") + 1:stat.rfind(")")]
    rest = stat[stat.rfind(")") + 2:].split()
    return comm, int(rest[1])


def descendants(pid):
    """All live descendant PIDs of PID, as {pid: comm} (walks /proc)."""
    children = {}
    comms = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = proc_stat(int(d))
        if st is None:
            continue
        comms[int(d)] = st[0]
        children.setdefault(st[1], []).append(int(d))
    out = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            if c not in out:
                out[c] = comms.get(c, "")
                todo.append(c)
    return out


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll PRED until it returns a truthy value; return it. Fails after TIMEOUT."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<cannot read %s: %s>" % (path, e)
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------
# Redis: server process + a tiny RESP client
# --------------------------------------------------------------------------

class RedisError(Exception):
    pass


def _resp_encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        else:
            b = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def _resp_read(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        if n < 0:
            return None
        return [_resp_read(f) for _ in range(n)]
    raise ConnectionError("bad RESP reply %r" % line)


def redis_cmd(port, *args, timeout=5.0):
    """Send one command to the Redis on 127.0.0.1:PORT and return the parsed
    reply (str for simple strings, int, bytes for bulk strings, list, None).
    A Redis error reply raises RedisError."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(_resp_encode(args))
        with s.makefile("rb") as f:
            r = _resp_read(f)
    if isinstance(r, RedisError):
        raise r
    return r


class RedisServer:
    """A redis-server child on 127.0.0.1:port with AOF in DIR."""

    def __init__(self, dir, port=None):
        self.dir = dir
        self.port = port
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        fixed = self.port is not None
        last_err = None
        for _ in range(3):
            port = self.port if fixed else free_port()
            log = os.path.join(self.dir, "redis.log")
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "yes", "--dir", self.dir,
                    "--daemonize", "no", "--logfile", log]
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            _track(proc)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    if redis_cmd(port, "PING", timeout=1) == "PONG":
                        # AOF loading answers PING with an error (raised), so
                        # PONG here means the data set is ready.
                        self.proc, self.port = proc, port
                        return self
                except (OSError, ConnectionError, RedisError):
                    pass
                time.sleep(0.05)
            last_err = "redis-server on port %d did not start:\n%s" % (port, tail(log, 20))
            self._stop_proc(proc, signal.SIGKILL)
        raise RuntimeError(last_err)

    @staticmethod
    def _stop_proc(proc, sig):
        if proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except OSError:
                pass
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
        _untrack(proc)

    def stop(self):
        if self.proc:
            self._stop_proc(self.proc, signal.SIGTERM)
            self.proc = None

    def kill9(self):
        if self.proc:
            self._stop_proc(self.proc, signal.SIGKILL)
            self.proc = None

    def cmd(self, *args):
        return redis_cmd(self.port, *args)


# --------------------------------------------------------------------------
# regnotifyd
# --------------------------------------------------------------------------

class BrokerStartError(RuntimeError):
    pass


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGNOTIFYD_")}
    if extra:
        env.update(extra)
    return env


def http_status(port, path, timeout=2.0):
    """Status of GET PATH on a fresh connection, or None if it failed."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()
    except (OSError, http.client.HTTPException):
        return None


class Broker:
    """One regnotifyd process.

    args: the full argument list after the binary (built by Env.start_broker).
    """

    _seq = 0

    def __init__(self, dir, args, port, env=None):
        Broker._seq += 1
        self.dir = dir
        self.args = list(args)
        self.port = port
        self.env = env
        # Every broker listens for nng too (default tcp://127.0.0.1:8086):
        # give it a free port of its own unless the args choose.
        if "--nng-listen" in self.args:
            self.nng_url = self.args[self.args.index("--nng-listen") + 1]
        else:
            self.nng_url = "tcp://127.0.0.1:%d" % free_port()
            self.args += ["--nng-listen", self.nng_url]
        self.log = os.path.join(dir, "broker-%d-%d.log" % (port, Broker._seq))
        self.proc = None
        self.returncode = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, wait_ready=True, ready_timeout=READY_TIMEOUT):
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([broker_path()] + self.args,
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, env=_clean_env(self.env),
                                         cwd=self.dir)
        _track(self.proc)
        if wait_ready:
            self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                _untrack(self.proc)
                self.returncode = rc
                raise BrokerStartError("regnotifyd exited with %d during startup; log:\n%s"
                                       % (rc, tail(self.log)))
            if http_status(self.port, "/readyz", timeout=1.0) == 200:
                return
            time.sleep(0.05)
        raise BrokerStartError("regnotifyd on port %d not ready (GET /readyz != 200) within %.0fs;"
                               " log:\n%s" % (self.port, timeout, tail(self.log)))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after TIMEOUT. Returns the exit code
        (negative signal number if it was killed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        _untrack(self.proc)
        self.proc = None
        return self.returncode

    def kill9(self):
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait(5)
        self.returncode = self.proc.returncode
        _untrack(self.proc)
        self.proc = None
        return self.returncode

    def log_tail(self, lines=LOG_TAIL_LINES):
        return tail(self.log, lines)


def run_broker_once(args, timeout=10.0, env=None, cwd=None):
    """Run regnotifyd ARGS expecting it to exit by itself (bad config, --help).
    Returns (exit_code, stdout, stderr). If it is still running after TIMEOUT
    it is killed and exit_code is None. CWD should be a temp dir (a broker
    that wrongly starts could write relative paths there)."""
    proc = subprocess.Popen([broker_path()] + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_clean_env(env), cwd=cwd)
    _track(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=5)
        rc = None
    _untrack(proc)
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


class Env:
    """A temp dir plus the redis-servers and brokers started in it.
    cleanup() stops them all (by PID) and removes the dir."""

    def __init__(self, name="rn-it"):
        self.tmp = tempfile.mkdtemp(prefix=name + "-")
        self.redises = []
        self.brokers = []
        self.extra_pids = []    # processes found (not started) by a test, e.g. an embedded redis

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def start_redis(self, port=None, dir=None):
        r = RedisServer(dir or self.path("redis-%d" % len(self.redises)), port)
        self.redises.append(r)
        return r.start()

    def broker_args(self, listen_port, redis_port=None, extra=(), log_level="debug"):
        args = ["--listen", "127.0.0.1:%d" % listen_port]
        if redis_port is not None:
            args += ["--redis", "redis://127.0.0.1:%d/0" % redis_port]
        if log_level:
            args += ["--log-level", log_level]
        return args + list(extra)

    def start_broker(self, redis_port=None, extra=(), port=None, wait_ready=True,
                     env=None, args=None):
        """Start regnotifyd. With ARGS given they are used as they are
        (PORT must then be given too); otherwise --listen/--redis/--log-level
        are built from PORT/REDIS_PORT plus EXTRA."""
        fixed = port is not None
        last = None
        for _ in range(3):
            p = port if fixed else free_port()
            a = args if args is not None else self.broker_args(p, redis_port, extra)
            b = Broker(self.tmp, a, p, env)
            self.brokers.append(b)
            try:
                return b.start(wait_ready=wait_ready)
            except BrokerStartError as e:
                last = e
                b.kill9()
                # a lost race for a "free" port: try another one
                if fixed or "in use" not in b.log_tail().lower():
                    raise
        raise last

    def adopt_pid(self, pid):
        """Make cleanup() SIGKILL PID (if it is still alive), e.g. a redis-server
        started by the broker itself."""
        self.extra_pids.append(pid)

    def cleanup(self):
        for b in self.brokers:
            try:
                b.stop()
            except Exception as e:  # keep going: everything must be stopped
                print("cleanup: stopping broker failed: %s" % e, file=sys.stderr)
        for r in self.redises:
            try:
                r.kill9()
            except Exception as e:
                print("cleanup: stopping redis failed: %s" % e, file=sys.stderr)
        for pid in self.extra_pids:
            st = proc_stat(pid)
            if st and pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self._tails = self.log_tails()   # the logs go with the dir
        self.sanitizer_reports = self.find_sanitizer_reports()
        if os.environ.get("RN_IT_KEEP"):
            print("kept temp dir %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def find_sanitizer_reports(self):
        """Lines of ASan/UBSan/LSan/TSan reports in the broker logs (a broker
        built with -DRN_SANITIZE=ON or -DRN_TSAN=ON writes them to stderr,
        i.e. its log)."""
        found = []
        for b in self.brokers:
            try:
                with open(b.log, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            for ln in text.splitlines():
                if ("ERROR: AddressSanitizer" in ln or "ERROR: LeakSanitizer" in ln
                        or "WARNING: ThreadSanitizer" in ln
                        or "runtime error:" in ln or "SUMMARY: UndefinedBehaviorSanitizer" in ln):
                    found.append("%s: %s" % (os.path.basename(b.log), ln.strip()))
        return found

    def log_tails(self):
        if getattr(self, "_tails", None) is not None:
            return self._tails
        out = []
        for b in self.brokers:
            out.append("----- tail of %s (port %d) -----\n%s" % (b.log, b.port, b.log_tail()))
        return "\n".join(out)


# --------------------------------------------------------------------------
# HTTP JSON client
# --------------------------------------------------------------------------

_RETRYABLE_STALE = (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.BadStatusLine)


class Client:
    """A keep-alive HTTP/1.1 JSON client for one broker. Not thread-safe: one
    per thread."""

    def __init__(self, port, timeout=HTTP_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.last_headers = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def req(self, method, path, body=None, headers=None, raw=None, timeout=None):
        """Send one request. BODY is JSON-encoded; RAW (bytes or str) is sent
        as it is. Returns (status, parsed JSON or None, raw bytes).
        A request on a reused keep-alive connection that the server had
        closed is retried once on a fresh connection (as HTTP clients do)."""
        if raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
        elif body is not None:
            data = json.dumps(body).encode()
        else:
            data = None
        hdrs = {}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=timeout or self.timeout)
            conn = self.conn
            if timeout:
                conn.timeout = timeout
                if conn.sock:
                    conn.sock.settimeout(timeout)
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                rawb = resp.read()
            except _RETRYABLE_STALE:
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            finally:
                if timeout and self.conn:
                    self.conn.timeout = self.timeout
                    if self.conn.sock:
                        self.conn.sock.settimeout(self.timeout)
            self.last_headers = resp.headers
            if resp.will_close:
                self.close()
            try:
                parsed = json.loads(rawb) if rawb else None
            except ValueError:
                parsed = None
            return resp.status, parsed, rawb
        raise AssertionError("unreachable")


def raw_request(port, head, body=b"", timeout=HTTP_TIMEOUT, chunk=256 * 1024):
    """Send HEAD (bytes, the request line and headers incl. the blank line)
    and BODY on a fresh socket, stop sending as soon as the server starts to
    answer (it may reject a huge body early and close), and return
    (status, parsed JSON or None, raw body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        off = 0
        while off < len(body):
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
            try:
                off += s.send(body[off:off + chunk])
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR) if off >= len(body) else None
        except OSError:
            pass
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline:
                raise AssertionError("no response headers within %.0fs" % timeout)
            d = s.recv(65536)
            if not d:
                break
            buf += d
        if b"\r\n\r\n" not in buf:
            raise ConnectionError("connection closed before a full response: %r" % buf[:200])
        hdr, rest = buf.split(b"\r\n\r\n", 1)
        lines = hdr.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        clen = None
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                clen = int(v.strip())
        while clen is None or len(rest) < clen:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            rest += d
        if clen is not None:
            rest = rest[:clen]
        try:
            parsed = json.loads(rest) if rest else None
        except ValueError:
            parsed = None
        return status, parsed, rest
    finally:
        s.close()


# --------------------------------------------------------------------------
# Pub/Sub helpers and the base TestCase
# --------------------------------------------------------------------------

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?Z$")


def parse_time(s):
    """RFC 3339 'Z' timestamp -> aware datetime (fraction truncated to µs)."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$", s)
    if not m:
        raise ValueError("not an RFC 3339 Z timestamp: %r" % s)
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return dt.replace(microsecond=int(frac), tzinfo=datetime.timezone.utc)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(s):
    return base64.b64decode(s, validate=True)


def uniq(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def qs(value):
    """Percent-encode VALUE for a query string (page tokens may hold + / =)."""
    return urllib.parse.quote(value, safe="")


def topic_name(p, t):
    return "projects/%s/topics/%s" % (p, t)


def sub_name(p, s):
    return "projects/%s/subscriptions/%s" % (p, s)


class ApiMixin:
    """Request helpers; need self.client (a Client)."""

    client = None

    def req(self, method, path, body=None, headers=None, raw=None, timeout=None):
        return self.client.req(method, path, body=body, headers=headers, raw=raw,
                               timeout=timeout)

    # assertions -----------------------------------------------------------

    def assertOk(self, resp, what=""):
        status, js, rawb = resp
        self.assertEqual(status, 200, "%s: expected 200, got %d %r" % (what, status, rawb[:500]))
        self.assertIsInstance(js, dict, "%s: 200 body is not a JSON object: %r" % (what, rawb[:500]))
        return js

    def assertError(self, resp, http_code, grpc_status, what=""):
        """The Pub/Sub error shape {"error":{"code","message","status"}}."""
        status, js, rawb = resp
        self.assertEqual(status, http_code,
                         "%s: expected HTTP %d %s, got %d %r"
                         % (what, http_code, grpc_status, status, rawb[:500]))
        self.assertIsInstance(js, dict, "%s: error body is not JSON: %r" % (what, rawb[:500]))
        self.assertIn("error", js, "%s: no 'error' in %r" % (what, js))
        err = js["error"]
        self.assertEqual(err.get("code"), http_code, "%s: error.code in %r" % (what, js))
        if grpc_status is not None:
            self.assertEqual(err.get("status"), grpc_status, "%s: error.status in %r" % (what, js))
        else:
            self.assertIsInstance(err.get("status"), str, "%s: error.status in %r" % (what, js))
        self.assertIsInstance(err.get("message"), str, "%s: error.message in %r" % (what, js))
        self.assertTrue(err["message"], "%s: empty error.message" % what)
        return err

    # resources ------------------------------------------------------------

    def project(self):
        return uniq("proj")

    def create_topic(self, p, t, body=None):
        js = self.assertOk(self.req("PUT", "/v1/projects/%s/topics/%s" % (p, t), body),
                           "create topic %s/%s" % (p, t))
        self.assertEqual(js.get("name"), topic_name(p, t))
        return js

    def create_sub(self, p, s, t, **fields):
        body = {"topic": topic_name(p, t)}
        body.update(fields)
        js = self.assertOk(self.req("PUT", "/v1/projects/%s/subscriptions/%s" % (p, s), body),
                           "create subscription %s/%s" % (p, s))
        self.assertEqual(js.get("name"), sub_name(p, s))
        return js

    def publish(self, p, t, messages):
        """messages: list of dicts (already in API form) or of str/bytes data."""
        msgs = []
        for m in messages:
            if isinstance(m, (str, bytes)):
                msgs.append({"data": b64(m)})
            else:
                msgs.append(m)
        js = self.assertOk(self.req("POST", "/v1/projects/%s/topics/%s:publish" % (p, t),
                                    {"messages": msgs}), "publish to %s/%s" % (p, t))
        ids = js.get("messageIds")
        self.assertIsInstance(ids, list, "publish response %r" % js)
        self.assertEqual(len(ids), len(msgs), "publish response %r" % js)
        for i in ids:
            self.assertIsInstance(i, str)
            self.assertRegex(i, r"^[0-9]+$", "messageId must be a decimal string")
        return ids

    def pull_raw(self, p, s, max_messages=100):
        return self.req("POST", "/v1/projects/%s/subscriptions/%s:pull" % (p, s),
                        {"maxMessages": max_messages, "returnImmediately": True})

    def pull(self, p, s, max_messages=100):
        """One pull; returns the receivedMessages list (asserting the empty
        answer is exactly {})."""
        js = self.assertOk(self.pull_raw(p, s, max_messages), "pull %s/%s" % (p, s))
        if not js:
            return []
        self.assertIn("receivedMessages", js, "pull response %r" % js)
        rms = js["receivedMessages"]
        self.assertTrue(rms, "an empty pull must be exactly {}, got %r" % js)
        self.assertLessEqual(len(rms), max_messages)
        for rm in rms:
            self.assertIsInstance(rm.get("ackId"), str)
            self.assertTrue(rm["ackId"])
            m = rm.get("message")
            self.assertIsInstance(m, dict)
            self.assertRegex(m.get("messageId", ""), r"^[0-9]+$")
            self.assertRegex(m.get("publishTime", ""), RFC3339_Z)
        return rms

    def pull_until(self, p, s, n, timeout=10.0, max_messages=100):
        """Pull (without acking) until N messages arrived in total or TIMEOUT."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            rms = self.pull(p, s, max_messages)
            got += rms
            if not rms:
                time.sleep(0.05)
        return got

    def drain_data(self, p, s, n, timeout=10.0, max_messages=1000):
        """Pull and ack until N messages came (or TIMEOUT); their data as
        text, sorted."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            rms = self.pull(p, s, max_messages)
            if rms:
                self.ack(p, s, [rm["ackId"] for rm in rms])
                got += [unb64(rm["message"]["data"]).decode() for rm in rms]
            else:
                time.sleep(0.05)
        return sorted(got)

    def ack(self, p, s, ack_ids):
        js = self.assertOk(self.req("POST", "/v1/projects/%s/subscriptions/%s:acknowledge" % (p, s),
                                    {"ackIds": list(ack_ids)}), "acknowledge")
        self.assertEqual(js, {})

    def modack(self, p, s, ack_ids, seconds):
        js = self.assertOk(self.req("POST",
                                    "/v1/projects/%s/subscriptions/%s:modifyAckDeadline" % (p, s),
                                    {"ackIds": list(ack_ids), "ackDeadlineSeconds": seconds}),
                           "modifyAckDeadline")
        self.assertEqual(js, {})

    def assertNothingToPull(self, p, s, what=""):
        status, js, rawb = self.pull_raw(p, s)
        self.assertEqual(status, 200, rawb)
        self.assertEqual(js, {}, "%s: expected nothing to pull, got %r" % (what, js))


def check_sanitizers(env):
    """Fail if a sanitizer reported anything in ENV's broker logs (call after
    env.cleanup(), which stops the brokers so leak reports are written)."""
    reports = getattr(env, "sanitizer_reports", None) or []
    if reports:
        raise AssertionError("sanitizer reports in the broker log:\n" + "\n".join(reports[:20]))


class BrokerTestCase(ApiMixin, unittest.TestCase):
    """Starts one redis-server and one regnotifyd for the class.

    Subclasses set BROKER_ARGS (extra flags) or START_BROKER = False.
    self.env (per test) can start more processes; it is cleaned up after
    each test. On failure the tail of every broker log is printed."""

    BROKER_ARGS = ()
    START_BROKER = True
    START_REDIS = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cenv = Env(cls.__name__)
        cls.addClassCleanup(check_sanitizers, cls.cenv)   # runs after cleanup (LIFO)
        cls.addClassCleanup(cls.cenv.cleanup)
        cls.redis = cls.cenv.start_redis() if cls.START_REDIS else None
        cls.broker = None
        if cls.START_BROKER:
            cls.broker = cls.cenv.start_broker(cls.redis.port, extra=cls.BROKER_ARGS)
            cls.client = Client(cls.broker.port)
            cls.addClassCleanup(cls.client.close)

    def setUp(self):
        self.env = Env(type(self).__name__ + "-" + self._testMethodName[:40])
        self.addCleanup(check_sanitizers, self.env)
        self.addCleanup(self.env.cleanup)

    def run(self, result=None):
        # Print the broker log tails when this test fails or errors.
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        ret = super().run(result)
        res = result if result is not None else ret
        if res is not None and len(res.failures) + len(res.errors) > before:
            tails = []
            env = getattr(self, "env", None)
            for e in (env, getattr(type(self), "cenv", None)):
                if e is not None:
                    t = e.log_tails()
                    if t:
                        tails.append(t)
            if tails:
                sys.stderr.write("\n===== broker log for failed %s =====\n%s\n"
                                 % (self.id(), "\n".join(tails)))
        return ret


def main():
    unittest.main(verbosity=2)
