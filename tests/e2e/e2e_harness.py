"""Helpers for the regnotifyd end-to-end tests (registry ingest).

On top of the integration harness (tests/integration/harness.py, imported
as it is), this adds:

  * an OCI image layout written by hand (deterministic blobs, no network),
  * a real ``docker-registry`` (CNCF Distribution 2.8.2, Debian package)
    on free 127.0.0.1 ports, notifying the broker, stopped by its PID,
  * ``skopeo`` runs with a private policy / registries.conf / auth file,
  * the registry's notification queue (``/debug/vars`` Pending),
  * raw ingest POSTs, GCR message decoding and ``/metrics`` parsing.

Python 3 standard library only.
"""

import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402  (tests/integration/harness.py, unchanged)
from harness import (ApiMixin, BrokerTestCase, Client, Env, free_port,  # noqa: E402,F401
                     raw_request, run_broker_once, tail, unb64, uniq, wait_until,
                     check_sanitizers, http_status, topic_name, sub_name)

DISTRIBUTION_CT = "application/vnd.docker.distribution.events.v1+json"
DISTRIBUTION_CT_V2 = "application/vnd.docker.distribution.events.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

REGISTRY_BIN = os.environ.get("RN_DOCKER_REGISTRY", "/usr/bin/docker-registry")
SKOPEO_BIN = os.environ.get("RN_SKOPEO", "skopeo")
TOOL_TIMEOUT = 60.0       # one skopeo / registry request
REGISTRY_READY = 15.0
DRAIN_TIMEOUT = 30.0      # registry queue -> broker


def require_tools(test):
    """Fail (not skip: a missing tool is a broken test machine) with the fix."""
    missing = [t for t in (REGISTRY_BIN, SKOPEO_BIN, "redis-server") if shutil.which(t) is None]
    if missing:
        test.fail("missing %s: run tests/e2e/deps.sh (apt-get install docker-registry skopeo)"
                  % ", ".join(missing))


def fixtures_dir():
    """Directory of the captured Distribution requests (tests/fixtures/distribution,
    or RN_FIXTURES_DIR when set)."""
    cands = [os.environ.get("RN_FIXTURES_DIR", ""),
             os.path.join(HERE, "..", "fixtures", "distribution")]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "README.md")):
            return os.path.abspath(c)
    raise RuntimeError("fixtures not found (set RN_FIXTURES_DIR); tried %r" % cands)


# --------------------------------------------------------------------------
# GCR messages
# --------------------------------------------------------------------------

def gcr_data(action, host, repo, digest=None, tag=None):
    """The exact message data object for an image event."""
    d = {"action": action}
    if digest:
        d["digest"] = "%s/%s@%s" % (host, repo, digest)
    if tag:
        d["tag"] = "%s/%s:%s" % (host, repo, tag)
    return d


def gcr_attrs(action, host, repo, digest=None, tag=None):
    a = {"action": action, "repository": repo, "registry": host}
    if digest:
        a["digest"] = digest
    if tag:
        a["tag"] = tag
    return a


def expected(action, host, repo, digest=None, tag=None):
    """(data, attributes) as canonical JSON strings: hashable, for multisets."""
    return (canon(gcr_data(action, host, repo, digest, tag)),
            canon(gcr_attrs(action, host, repo, digest, tag)))


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def decode(rm):
    """A receivedMessage -> (data object, attributes dict, messageId int)."""
    m = rm["message"]
    raw = unb64(m.get("data", ""))
    try:
        data = json.loads(raw)
    except ValueError:
        raise AssertionError("message data is not JSON: %r" % raw[:300])
    return data, m.get("attributes", {}), int(m["messageId"])


def as_multiset(rms):
    """receivedMessages -> sorted list of (data, attributes) canonical pairs."""
    out = []
    for rm in rms:
        data, attrs, _ = decode(rm)
        out.append((canon(data), canon(attrs)))
    return sorted(out)


# --------------------------------------------------------------------------
# HTTP to the broker's ingest endpoints
# --------------------------------------------------------------------------

def post(port, path, body, content_type=DISTRIBUTION_CT, token=None, headers=None,
         timeout=harness.HTTP_TIMEOUT):
    """One POST on a fresh connection, as the registry sends it (it closes
    its connection after every request). BODY: bytes/str, or an object that
    is JSON-encoded. Returns (status, parsed JSON or None, raw, headers)."""
    if isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body, indent=3).encode()
    h = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}
    if content_type is not None:
        h["Content-Type"] = content_type
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        try:
            js = json.loads(raw) if raw else None
        except ValueError:
            js = None
        return r.status, js, raw, r.headers
    finally:
        c.close()


def redis_pause(port, ms):
    """CLIENT PAUSE MS WRITE on the Redis at PORT: scripts that write wait."""
    return harness.redis_cmd(port, "CLIENT", "PAUSE", str(ms), "WRITE")


def redis_postponed_scripts(port):
    """Clients of the Redis at PORT whose EVAL/EVALSHA waits on a CLIENT PAUSE."""
    out = []
    for ln in harness.redis_cmd(port, "CLIENT", "LIST").decode().splitlines():
        f = dict(kv.split("=", 1) for kv in ln.split(" ") if "=" in kv)
        if "b" in f.get("flags", "") and f.get("cmd", "").startswith("eval"):
            out.append(f)
    return out


def metrics(port):
    """GET /metrics -> {'name{labels}': float}."""
    c = Client(port)
    try:
        st, _, raw = c.req("GET", "/metrics")
    finally:
        c.close()
    if st != 200:
        raise AssertionError("/metrics answered %d: %r" % (st, raw[:300]))
    out = {}
    for ln in raw.decode().splitlines():
        if not ln or ln.startswith("#"):
            continue
        k, _, v = ln.rpartition(" ")
        out[k.strip()] = float(v)
    return out


def ingest_metric(source, result):
    return 'regnotify_ingest_events_total{source="%s",result="%s"}' % (source, result)


# --------------------------------------------------------------------------
# OCI image layout, by hand
# --------------------------------------------------------------------------

def _sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_gz(files):
    """A deterministic gzip'ed tar of FILES [(name, bytes)] -> (tar, tar.gz)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            ti.mode = 0o644
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, compresslevel=9, mtime=0)


class Image:
    def __init__(self, name, digest, size, config, layers):
        self.name = name          # ref name inside the layout (oci:DIR:NAME)
        self.digest = digest      # manifest digest
        self.size = size
        self.config = config      # config descriptor
        self.layers = layers      # layer descriptors

    def __repr__(self):
        return "Image(%s %s)" % (self.name, self.digest)


class OciLayout:
    """An OCI image layout directory (oci-layout, index.json, blobs/sha256)."""

    BASE = [("etc/regnotify-e2e", b"base layer shared by every test image\n")]

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(os.path.join(dir, "blobs", "sha256"), exist_ok=True)
        self.images = []
        with open(os.path.join(dir, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data, media_type):
        d = _sha(data)
        p = os.path.join(self.dir, "blobs", "sha256", d[7:])
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
        return {"mediaType": media_type, "digest": d, "size": len(data)}

    def add_image(self, name, extra_files=()):
        """An image of the shared base layer plus, when EXTRA_FILES is given,
        one more layer holding them. Returns an Image."""
        layers, diff_ids = [], []
        for files in [self.BASE] + ([list(extra_files)] if extra_files else []):
            raw, gz = tar_gz(files)
            layers.append(self.blob(gz, OCI_LAYER))
            diff_ids.append(_sha(raw))
        cfg = {"architecture": "amd64", "os": "linux",
               "created": "2026-01-01T00:00:00Z",
               "config": {"Cmd": ["/bin/true"], "Labels": {"regnotify.e2e": name}},
               "rootfs": {"type": "layers", "diff_ids": diff_ids},
               "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "e2e layer %d" % i}
                           for i in range(len(layers))]}
        config = self.blob(json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode(),
                           OCI_CONFIG)
        man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
               "layers": layers}
        mb = json.dumps(man, sort_keys=True, separators=(",", ":")).encode()
        md = self.blob(mb, OCI_MANIFEST)
        img = Image(name, md["digest"], md["size"], config, layers)
        self.images.append(img)
        self._write_index()
        return img

    def read_blob(self, digest):
        with open(os.path.join(self.dir, "blobs", "sha256", digest[7:]), "rb") as f:
            return f.read()

    def _write_index(self):
        idx = {"schemaVersion": 2, "mediaType": OCI_INDEX,
               "manifests": [{"mediaType": OCI_MANIFEST, "digest": i.digest, "size": i.size,
                              "annotations": {"org.opencontainers.image.ref.name": i.name}}
                             for i in self.images]}
        with open(os.path.join(self.dir, "index.json"), "w") as f:
            json.dump(idx, f, sort_keys=True)


# --------------------------------------------------------------------------
# docker-registry
# --------------------------------------------------------------------------

class Registry:
    """A real docker-registry on 127.0.0.1 with filesystem storage in DIR,
    deletes enabled and one notification endpoint (the broker)."""

    def __init__(self, dir, notify_url, token, timeout="1s", threshold=3, backoff="1s"):
        self.dir = dir
        self.notify_url = notify_url
        self.token = token
        self.timeout, self.threshold, self.backoff = timeout, threshold, backoff
        self.proc = None
        self.port = self.debug_port = None
        self.log = os.path.join(dir, "registry.log")

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def _config(self):
        # JSON-style flow mappings inside YAML: no quoting surprises.
        return "\n".join([
            "version: 0.1",
            "log: {level: info, accesslog: {disabled: true}}",
            "storage:",
            "  filesystem: {rootdirectory: %s}" % json.dumps(os.path.join(self.dir, "data")),
            "  delete: {enabled: true}",
            "  maintenance: {uploadpurging: {enabled: false}}",
            "http:",
            "  addr: 127.0.0.1:%d" % self.port,
            "  secret: regnotify-e2e",
            "  debug: {addr: 127.0.0.1:%d}" % self.debug_port,
            "notifications:",
            "  events: {includereferences: true}",
            "  endpoints:",
            "    - name: regnotify",
            "      url: %s" % json.dumps(self.notify_url),
            "      headers: {Authorization: [%s]}" % json.dumps("Bearer " + self.token),
            "      timeout: %s" % self.timeout,
            "      threshold: %d" % self.threshold,
            "      backoff: %s" % self.backoff,
            ""])

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        last = None
        for _ in range(3):
            self.port, self.debug_port = free_port(), free_port()
            if self.port == self.debug_port:
                continue
            cfg = os.path.join(self.dir, "config.yml")
            with open(cfg, "w") as f:
                f.write(self._config())
            with open(self.log, "ab") as logf:
                self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdin=subprocess.DEVNULL,
                                             stdout=logf, stderr=logf, env=env, cwd=self.dir)
            harness._track(self.proc)
            deadline = time.monotonic() + REGISTRY_READY
            while time.monotonic() < deadline and self.proc.poll() is None:
                if http_status(self.port, "/v2/", 1.0) == 200 and self.pending() is not None:
                    return self
                time.sleep(0.05)
            last = "docker-registry did not start on %d (debug %d):\n%s" % (
                self.port, self.debug_port, tail(self.log, 30))
            self.stop()
        raise RuntimeError(last)

    def stop(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
        harness._untrack(p)

    def endpoint_metrics(self):
        """The broker endpoint's Metrics from /debug/vars, or None."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/debug/vars" % self.debug_port,
                                        timeout=2) as r:
                js = json.loads(r.read())
        except (OSError, ValueError):
            return None
        for ep in js.get("registry", {}).get("notifications", {}).get("endpoints", []):
            if ep.get("name") == "regnotify":
                return ep.get("Metrics")
        return None

    def pending(self):
        m = self.endpoint_metrics()
        return None if m is None else m.get("Pending")

    def wait_drained(self, timeout=DRAIN_TIMEOUT, quiet=0.5):
        """Wait until the notification queue is empty and stays so (with
        no new event) for QUIET seconds: every event delivered with a 2xx.
        Returns the endpoint metrics."""
        deadline = time.monotonic() + timeout
        since, events = None, None
        m = None
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise AssertionError("docker-registry exited:\n%s" % tail(self.log, 30))
            m = self.endpoint_metrics()
            if m is not None and m.get("Pending") == 0:
                if since is None or m.get("Events") != events:
                    since, events = time.monotonic(), m.get("Events")
                elif time.monotonic() - since >= quiet:
                    return m
            else:
                since = None
            time.sleep(0.05)
        raise AssertionError("registry notification queue not drained within %.0fs: %r\n%s"
                             % (timeout, m, tail(self.log, 30)))

    def delete_manifest(self, repo, digest):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v2/%s/manifests/%s" % (self.port, repo, digest),
            method="DELETE", headers={"Accept": OCI_MANIFEST})
        try:
            with urllib.request.urlopen(req, timeout=TOOL_TIMEOUT) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def put_manifest(self, repo, ref, body, media_type=OCI_MANIFEST):
        """PUT /v2/REPO/manifests/REF (its blobs must be in REPO): exactly
        one push event. Returns the HTTP status."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v2/%s/manifests/%s" % (self.port, repo, ref), data=body,
            method="PUT", headers={"Content-Type": media_type})
        try:
            with urllib.request.urlopen(req, timeout=TOOL_TIMEOUT) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def manifest_digest(self, repo, ref):
        """Docker-Content-Digest of HEAD /v2/REPO/manifests/REF (a pull event)."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v2/%s/manifests/%s" % (self.port, repo, ref),
            method="HEAD", headers={"Accept": OCI_MANIFEST})
        with urllib.request.urlopen(req, timeout=TOOL_TIMEOUT) as r:
            return r.headers.get("Docker-Content-Digest")


# --------------------------------------------------------------------------
# skopeo
# --------------------------------------------------------------------------

class Skopeo:
    """Runs skopeo with its own policy, registries.conf, auth file and tmp dir
    (nothing read from or written to the machine's configuration)."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.policy = os.path.join(dir, "policy.json")
        with open(self.policy, "w") as f:
            json.dump({"default": [{"type": "insecureAcceptAnything"}]}, f)
        self.regconf = os.path.join(dir, "registries.conf")
        with open(self.regconf, "w") as f:
            f.write("unqualified-search-registries = []\n")
        self.auth = os.path.join(dir, "auth.json")
        with open(self.auth, "w") as f:
            f.write('{"auths":{}}')
        self.tmp = os.path.join(dir, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.env = dict(os.environ, HOME=dir, TMPDIR=self.tmp, CONTAINERS_REGISTRIES_CONF=self.regconf,
                        REGISTRY_AUTH_FILE=self.auth, XDG_RUNTIME_DIR=dir,
                        XDG_CONFIG_HOME=os.path.join(dir, "config"))

    def run(self, *args, timeout=TOOL_TIMEOUT):
        cmd = [SKOPEO_BIN, "--policy", self.policy, "--tmpdir", self.tmp] + list(args)
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=self.env, cwd=self.dir,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            # subprocess.run kills the child (by its PID) before raising
            raise AssertionError("skopeo timed out after %.0fs: %s" % (timeout, " ".join(cmd)))
        if p.returncode != 0:
            raise AssertionError("skopeo failed (%d): %s\n%s" % (
                p.returncode, " ".join(cmd), p.stderr.decode("utf-8", "replace")[-2000:]))
        return p.stdout.decode("utf-8", "replace")

    def push(self, layout, image, registry, repo, tag):
        self.run("copy", "--quiet", "--dest-tls-verify=false",
                 "oci:%s:%s" % (layout.dir, image.name),
                 "docker://%s/%s:%s" % (registry.host, repo, tag))

    def inspect(self, registry, repo, tag):
        return json.loads(self.run("inspect", "--tls-verify=false",
                                   "docker://%s/%s:%s" % (registry.host, repo, tag)))


# --------------------------------------------------------------------------
# A broker + registry setup for the tests that use a real registry
# --------------------------------------------------------------------------

class RegistryStack:
    """redis-server + regnotifyd (ingest tokens) + docker-registry notifying
    it, in one temp dir. cleanup() stops everything by PID."""

    TOKEN = "e2e-tok-1"
    TOKENS = "e2e-tok-1,e2e-tok-2"

    def __init__(self, name, broker_extra=()):
        self.env = Env(name)
        self.broker_extra = ["--ingest-tokens", self.TOKENS] + list(broker_extra)
        self.redis = self.broker = self.registry = None
        self.skopeo = Skopeo(self.env.path("skopeo"))
        self.layout = OciLayout(self.env.path("layout"))

    def start(self):
        self.redis = self.env.start_redis()
        self.broker = self.env.start_broker(self.redis.port, extra=self.broker_extra)
        self.registry = Registry(self.env.path("registry"),
                                 "http://127.0.0.1:%d/v1/registry/distribution" % self.broker.port,
                                 self.TOKEN)
        self.registry.start()
        return self

    def restart_broker(self, timeout=10.0):
        """Start a new broker on the old one's port (retried while the port
        is still being released)."""
        port = self.broker.port
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.broker = self.env.start_broker(self.redis.port, extra=self.broker_extra,
                                                    port=port)
                return self.broker
            except harness.BrokerStartError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def push(self, image, repo, tag):
        self.skopeo.push(self.layout, image, self.registry, repo, tag)

    def cleanup(self):
        if self.registry is not None:
            try:
                self.registry.stop()
            except Exception as e:  # keep going: everything must be stopped
                print("cleanup: stopping docker-registry failed: %s" % e, file=sys.stderr)
        reg_log = tail(self.registry.log, 40) if self.registry else ""
        self.env.cleanup()
        self.registry_log_tail = reg_log


class StackTestCase(ApiMixin, unittest.TestCase):
    """One RegistryStack per test; on failure the broker and registry log
    tails are printed."""

    def setUp(self):
        require_tools(self)
        self.stack = RegistryStack(type(self).__name__ + "-" + self._testMethodName[:30])
        self.addCleanup(check_sanitizers, self.stack.env)
        self.addCleanup(self.stack.cleanup)
        self.addCleanup(self._close_client)
        self.stack.start()
        self.client = Client(self.stack.broker.port)

    def _close_client(self):
        if self.client:
            self.client.close()

    def reconnect(self):
        self.client.close()
        self.client = Client(self.stack.broker.port)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        ret = super().run(result)
        res = result if result is not None else ret
        if res is not None and len(res.failures) + len(res.errors) > before:
            st = getattr(self, "stack", None)
            if st is not None:
                sys.stderr.write("\n===== logs for failed %s =====\n%s\n"
                                 "----- tail of docker-registry log -----\n%s\n"
                                 % (self.id(), st.env.log_tails(),
                                    getattr(st, "registry_log_tail", "")))
        return ret

    def pull_all(self, p, s, n, timeout=15.0, settle=1.0):
        """Pull until N messages came (or TIMEOUT), then keep pulling for
        SETTLE seconds to catch extra ones; ack everything. Returns them."""
        got = self.pull_until(p, s, n, timeout=timeout)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            got += self.pull(p, s)
            time.sleep(0.1)
        if got:
            self.ack(p, s, [rm["ackId"] for rm in got])
        return got
