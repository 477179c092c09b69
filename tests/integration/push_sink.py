"""A scriptable HTTP/1.1 push endpoint for the push-subscription tests.

Python 3 standard library only. A Sink listens on 127.0.0.1 (a free port,
or a given one), serves every connection in its own thread (keep-alive
HTTP/1.1), records every request it receives (method, path, headers, raw
body, arrival time) and answers as its SCRIPT says.

SCRIPT(req, n) is called for every request: REQ is the recorded Request and
N how many requests for the same message (req.key) on the same path (one
path per subscription) the sink has seen so far, this one included (1 on
the first attempt). It returns either a status
code, or a Reply(status, headers, body, delay). The default script answers
200 to everything.
"""

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    def __init__(self, status=200, headers=None, body=b"", delay=0.0):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body if isinstance(body, bytes) else body.encode()
        self.delay = delay


class Request:
    """One request as the sink received it."""

    def __init__(self, method, path, header_items, body, conn_id):
        self.method = method
        self.path = path
        self.header_items = header_items            # [(name, value)] as sent
        self.body = body
        self.conn_id = conn_id
        self.t = time.monotonic()
        self.wall = time.time()
        self.n = 0                                  # attempt number seen by the sink
        self.answered = None                        # status the script chose
        self._json = None

    def header(self, name, default=None):
        """Value of header NAME (case-insensitive); the last one if repeated."""
        name = name.lower()
        val = default
        for k, v in self.header_items:
            if k.lower() == name:
                val = v
        return val

    def headers_named(self, name):
        name = name.lower()
        return [v for k, v in self.header_items if k.lower() == name]

    def header_names(self):
        return [k.lower() for k, _ in self.header_items]

    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = False
        return self._json or None

    def is_wrapped(self):
        js = self.json()
        return isinstance(js, dict) and isinstance(js.get("message"), dict)

    @property
    def key(self):
        """Identity of the message this request carries: the messageId of a
        wrapped body, else a metadata / CloudEvents / webhook id header, else
        the raw body."""
        if self.is_wrapped():
            mid = self.json()["message"].get("messageId")
            if mid:
                return mid
        for h in ("x-goog-pubsub-message-id", "ce-id", "webhook-id"):
            v = self.header(h)
            if v:
                return v
        return self.body

    @property
    def data(self):
        """The message data: decoded from a wrapped body, else the raw body."""
        if self.is_wrapped():
            d = self.json()["message"].get("data", "")
            return base64.b64decode(d, validate=True)
        return self.body

    def __repr__(self):
        return "<%s %s n=%d key=%r answered=%r t=%.3f>" % (
            self.method, self.path, self.n, self.key, self.answered, self.t)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default listen backlog is 5. Two brokers opening up to
    # 64 push connections each at once overflow it; the dropped SYNs are
    # retried by the kernel after 1, 3, 7 s..., which once left 3 of 600
    # deliveries unanswered past a test's 30 s wait (a sink artefact, not a
    # broker one).
    request_queue_size = 512

    def handle_error(self, request, client_address):
        # A peer that drops its connection (a broker timing out, or being
        # SIGKILLed) is expected here: no traceback on stderr.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60                   # an idle keep-alive connection ends eventually
    server_version = "push-sink/1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.sink = self.server.sink
        self.conn_id = self.sink._conn_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.sink._conn_closed(self.connection)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(16)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _handle(self):
        body = self._read_body()
        req = Request(self.command, self.path, list(self.headers.items()), body, self.conn_id)
        reply = self.sink._decide(req)
        if reply.delay:
            self.sink._stopping.wait(reply.delay)
            if self.sink._stopping.is_set():
                self.close_connection = True
                return
        try:
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.body:
                self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _handle


class Sink:
    def __init__(self, script=None, port=0):
        self.script = script or (lambda req, n: 200)
        self.requested_port = port
        self.port = None
        self.requests = []
        self._cond = threading.Condition()
        self._counts = {}
        self._conns = {}
        self._conn_seq = 0
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self.script_errors = []

    # lifecycle ------------------------------------------------------------

    def start(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                self._server = _Server(("127.0.0.1", self.requested_port), _Handler)
                break
            except OSError:
                # a given port may still be held for a moment: retry briefly
                if not self.requested_port or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and cut every open connection (idempotent)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._cond:
            conns = list(self._conns.values())
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._server = None

    def url(self, path="/push"):
        return "http://127.0.0.1:%d%s" % (self.port or self.requested_port, path)

    # internals --------------------------------------------------------------

    def _conn_opened(self, sock):
        with self._cond:
            self._conn_seq += 1
            self._conns[self._conn_seq] = sock
            return self._conn_seq

    def _conn_closed(self, sock):
        with self._cond:
            for k, v in list(self._conns.items()):
                if v is sock:
                    del self._conns[k]

    def _decide(self, req):
        with self._cond:
            k = (req.path, req.key)
            n = self._counts.get(k, 0) + 1
            self._counts[k] = n
            req.n = n
        try:
            r = self.script(req, n)
        except Exception as e:          # a script bug must not hang the broker's request
            self.script_errors.append(repr(e))
            r = 599
        if not isinstance(r, Reply):
            r = Reply(r)
        req.answered = r.status
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()
        return r

    # queries --------------------------------------------------------------

    @property
    def connections_opened(self):
        with self._cond:
            return self._conn_seq

    def snapshot(self):
        with self._cond:
            return list(self.requests)

    def for_key(self, key):
        return [r for r in self.snapshot() if r.key == key]

    def keys(self):
        return {r.key for r in self.snapshot()}

    def wait_for(self, pred, timeout, what="condition"):
        """Wait until PRED(list of requests) is truthy; return its value.
        Raises AssertionError after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = pred(list(self.requests))
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("push sink: timed out after %.1fs waiting for %s; "
                                         "saw %d requests: %r"
                                         % (timeout, what, len(self.requests),
                                            self.requests[-10:]))
                self._cond.wait(min(left, 0.2))

    def wait_keys(self, keys, timeout, what="messages"):
        keys = set(keys)
        return self.wait_for(lambda reqs: keys <= {r.key for r in reqs}, timeout,
                             "%s (%d keys)" % (what, len(keys)))

    def wait_count(self, key, n, timeout, what=None):
        return self.wait_for(lambda reqs: len([r for r in reqs if r.key == key]) >= n, timeout,
                             what or "%d requests for %r" % (n, key))
