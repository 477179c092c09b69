#!/usr/bin/env python3
"""The gRPC endpoint (issue 12, unary methods) driven by Google's official
client library, @google-cloud/pubsub 5.3.1 from npm (tests/google, pinned in
package-lock.json), with PUBSUB_EMULATOR_HOST pointing at --grpc-listen:
topics and subscriptions created, read, listed, deleted; 1,000 messages
published through the library's batching and every one pulled and acked
with the generated SubscriberClient; the codes the library's retry logic
depends on (ALREADY_EXISTS, NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED);
an unknown method gets UNIMPLEMENTED at once. StreamingPull:
test_grpc_stream.py. Every run
sets METADATA_SERVER_DETECTION=none: nothing leaves 127.0.0.1.
Run: python3 tests/integration/test_grpc.py"""

import base64
import json
import os
import subprocess
import time

import harness
import jwtutil

GOOGLE_DIR = os.environ.get("RN_GOOGLE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "google"))


class GrpcTest(harness.BrokerTestCase):
    START_BROKER = False

    def node(self, port, project, mode, **extra_env):
        if not os.path.isdir(os.path.join(GOOGLE_DIR, "node_modules", "@google-cloud",
                                          "pubsub")):
            self.fail("@google-cloud/pubsub is not installed: run 'npm ci' in %s "
                      "(scripts/test.sh does)" % GOOGLE_DIR)
        env = dict(os.environ, METADATA_SERVER_DETECTION="none", NO_PROXY="127.0.0.1",
                   PUBSUB_EMULATOR_HOST="127.0.0.1:%d" % port, HOST="127.0.0.1",
                   PORT=str(port), **extra_env)
        for k in ("GOOGLE_APPLICATION_CREDENTIALS", "HTTPS_PROXY", "HTTP_PROXY"):
            env.pop(k, None)
        if mode in ("tls", "perm"):  # the emulator setting would force plaintext
            env.pop("PUBSUB_EMULATOR_HOST")
        p = subprocess.run(["node", os.path.join(GOOGLE_DIR, "grpc_client.js"), project, mode],
                           capture_output=True, text=True, env=env, timeout=180,
                           cwd=GOOGLE_DIR)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, p.stdout + p.stderr)
        return p.returncode, json.loads(lines[-1]), p.stdout + p.stderr

    def test_official_client_unary_methods(self):
        gport = harness.free_port()
        b = self.env.start_broker(self.redis.port, extra=[
            "--grpc-listen", "127.0.0.1:%d" % gport])
        p = self.project()
        rc, out, log = self.node(gport, p, "full")
        self.assertEqual(rc, 0, log)
        t, s = "projects/%s/topics/grpc-topic" % p, "projects/%s/subscriptions/grpc-sub" % p
        self.assertEqual(out["topic"], t)
        self.assertEqual(out["meta_name"], t)
        self.assertEqual(out["topics"], [t])
        self.assertEqual(out["sub_topic"], t)
        self.assertEqual(out["sub_deadline"], 30)
        self.assertEqual((out["duplicate"], out["missing"], out["invalid"]), (6, 5, 3))
        self.assertEqual(out["bad_name"], 3, out)
        self.assertEqual(out["published"], 1000)
        self.assertEqual(out["received"], 1000)
        self.assertTrue(out["attr_ok"])
        self.assertEqual(out["after_ack"], 0, "acked messages are not delivered again")
        self.assertEqual(out["filter"], 'attributes.i = "7"')
        self.assertEqual(out["bad_filter"], 3)                     # INVALID_ARGUMENT
        self.assertEqual(out["filtered"], ["f7"])
        self.assertIs(out["detached"], True)
        self.assertEqual(out["pull_detached"], 9)                  # FAILED_PRECONDITION
        self.assertIs(out["eod"], True)
        self.assertEqual(out["eod_first"], 0)
        self.assertEqual(out["eod_second"], 3, out)                # INVALID_ARGUMENT
        self.assertEqual(out["eod_reason"], "EXACTLY_ONCE_ACKID_FAILURE")
        self.assertEqual(list(out["eod_metadata"].values()), ["PERMANENT_FAILURE_INVALID_ACK_ID"])
        self.assertEqual(out["snapshot"], "projects/%s/snapshots/grpc-snap" % p)
        self.assertEqual(out["snapshots"], [out["snapshot"]])
        self.assertEqual(out["snapshot_deleted"], 5)               # NOT_FOUND
        self.assertEqual(out["unknown"], 12)
        self.assertEqual((out["delete_sub"], out["delete_topic"], out["deleted_get"]),
                         (0, 0, 5))
        # The same resources through REST: one gate, one store.
        c = harness.Client(b.port)
        self.addCleanup(c.close)
        st, _, _ = c.req("GET", "/v1/" + t)
        self.assertEqual(st, 404)
        st, js, raw = c.req("GET", "/v1/projects/%s/subscriptions" % p)
        self.assertEqual(st, 200, raw)
        self.assertNotIn(s, [x["name"] for x in js.get("subscriptions", [])])

    def cert(self, name):
        """A self-signed P-256 certificate for 127.0.0.1: (key, crt, pem with both)."""
        tmp = self.env.tmp
        key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".crt")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", crt], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        pem = os.path.join(tmp, name + ".pem")
        with open(pem, "w") as f, open(crt) as c, open(key) as k:
            f.write(c.read() + k.read())
        return key, crt, pem

    def test_tls_listener(self):
        tmp = self.env.tmp
        _, crt, pem = self.cert("server")
        _, other, _ = self.cert("other")
        gport = harness.free_port()
        b = self.env.start_broker(self.redis.port, extra=[
            "--grpc-listen", "127.0.0.1:%d" % gport, "--grpc-tls-cert-key", pem])
        self.assertIn("(TLS, h2)", b.log_tail())
        rc, out, log = self.node(gport, self.project(), "tls", CA_FILE=crt, OTHER_CA=other)
        self.assertEqual(rc, 0, log)
        self.assertEqual(out["received"], "over tls", out)
        self.assertEqual((out["plaintext"], out["wrong_ca"]), (14, 14), out)
        # A key file that does not parse: the broker refuses to start.
        bad = os.path.join(tmp, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a pem\n")
        rc, _, err = harness.run_broker_once(
            ["--redis", "redis://127.0.0.1:%d" % self.redis.port, "--listen",
             "127.0.0.1:%d" % harness.free_port(), "--nng-listen", "",
             "--grpc-listen", "127.0.0.1:%d" % harness.free_port(), "--grpc-tls-cert-key", bad],
            cwd=tmp)
        self.assertNotEqual(rc, 0)
        self.assertIn("TLS certificate/key", err)
        # TLS without --grpc-listen: a configuration error, said so.
        rc, _, err = harness.run_broker_once(["--grpc-tls-cert-key", pem], cwd=tmp)
        self.assertNotEqual(rc, 0)
        self.assertIn("grpc_listen is not", err)

    def test_permissions_over_tls_with_a_service_account_token(self):
        # The library over TLS with an access token in its call credentials
        # (an insecure channel cannot carry them): a viewer reads, and is
        # refused a create with PERMISSION_DENIED (7), which the library
        # does not retry.
        _, crt, pem = self.cert("perm")
        gport = harness.free_port()
        admin_file = self.env.path("admin.json")
        b = self.env.start_broker(self.redis.port, extra=[
            "--grpc-listen", "127.0.0.1:%d" % gport, "--grpc-tls-cert-key", pem,
            "--auth", "required", "--admin-key-file", admin_file])
        harness.wait_until(lambda: os.path.exists(admin_file), 10, what="the admin key file")
        time.sleep(0.2)
        with open(admin_file) as f:
            admin = json.load(f)
        p = self.project()
        c = harness.Client(b.port)
        self.addCleanup(c.close)
        def call(method, path, body=None):
            st, js, raw = c.req(method, path, body, headers={
                "Authorization": "Bearer " + jwtutil.self_signed(admin)})
            self.assertEqual(st, 200, raw)
            return js
        call("PUT", "/v1/projects/%s/topics/perm-topic" % p)
        call("POST", "/v1/projects/%s/serviceAccounts" % p, {"accountId": "grpc-viewer"})
        email = "grpc-viewer@%s.iam.regnotify" % p
        kf = json.loads(base64.b64decode(call(
            "POST", "/v1/projects/%s/serviceAccounts/%s/keys" % (p, email), {})["privateKeyData"]))
        pol = call("POST", "/v1/projects/%s:getIamPolicy" % p, {})
        call("POST", "/v1/projects/%s:setIamPolicy" % p, {"policy": {
            "bindings": pol.get("bindings", []) + [
                {"role": "roles/pubsub.viewer", "members": ["serviceAccount:" + email]}],
            "etag": pol["etag"]}})
        rc, out, log = self.node(gport, p, "perm", CA_FILE=crt,
                                 TOKEN=jwtutil.self_signed(kf))
        self.assertEqual(rc, 0, log)
        self.assertEqual(out["get"], 0, out)
        self.assertEqual(out["create"], 7, out)
        self.assertEqual(out["publish"], 7, out)

    def test_credentials_are_checked_like_rest(self):
        gport = harness.free_port()
        self.env.start_broker(self.redis.port, extra=[
            "--grpc-listen", "127.0.0.1:%d" % gport, "--auth", "required"])
        rc, out, log = self.node(gport, self.project(), "auth")
        self.assertEqual(rc, 0, log)
        self.assertEqual(out["unauthenticated"], 16, log)


if __name__ == "__main__":
    harness.main()
