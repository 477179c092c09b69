#!/usr/bin/env python3
"""Google's own client library against an auth-required broker (issue 10):
googleapis + google-auth-library from npm (pinned in tests/google/
package-lock.json; scripts/test.sh runs npm ci there) with
GoogleAuth({keyFile}) on a key file the broker made, rootUrl pointed at the
broker: create a topic and a subscription, publish, pull, ack. With the
key deleted, the same client gets 401. The bootstrap admin's key file works
the same way. METADATA_SERVER_DETECTION=none: no metadata-server probe.
Run: python3 tests/integration/test_google_client.py"""

import base64
import json
import os
import subprocess
import time

import harness
import jwtutil

GOOGLE_DIR = os.environ.get("RN_GOOGLE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "google"))


class GoogleClientTest(harness.BrokerTestCase):
    START_BROKER = False

    def node(self, keyfile, mode, port, project):
        env = dict(os.environ, METADATA_SERVER_DETECTION="none",
                   GOOGLE_CLOUD_UNIVERSE_DOMAIN="regnotify", NO_PROXY="127.0.0.1")
        for k in ("GOOGLE_APPLICATION_CREDENTIALS", "HTTPS_PROXY", "HTTP_PROXY"):
            env.pop(k, None)
        p = subprocess.run(["node", os.path.join(GOOGLE_DIR, "pubsub_client.js"), keyfile,
                            "http://127.0.0.1:%d/" % port, project, mode],
                           capture_output=True, text=True, env=env, timeout=120)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        return p.returncode, json.loads(lines[-1]) if lines else None, p.stdout + p.stderr

    def test_google_client_with_a_regnotify_key_file(self):
        if not os.path.isdir(os.path.join(GOOGLE_DIR, "node_modules", "googleapis")):
            self.fail("googleapis is not installed: run 'npm ci' in %s "
                      "(scripts/test.sh does)" % GOOGLE_DIR)
        admin_path = self.env.path("admin.json")
        b = self.env.start_broker(self.redis.port, extra=[
            "--auth", "required", "--admin-key-file", admin_path])
        harness.wait_until(lambda: os.path.exists(admin_path), 10, what="the key file")
        time.sleep(0.2)
        with open(admin_path) as f:
            admin = json.load(f)
        self.assertEqual(admin["universe_domain"], "regnotify")
        c = harness.Client(b.port)
        self.addCleanup(c.close)
        tok = {"Authorization": "Bearer " + jwtutil.self_signed(admin)}
        p = self.project()
        st, sa, raw = c.req("POST", "/v1/projects/%s/serviceAccounts" % p,
                            {"accountId": "google-user"}, headers=tok)
        self.assertEqual(st, 200, raw)
        st, key, raw = c.req("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                             % (p, sa["email"]), {}, headers=tok)
        self.assertEqual(st, 200, raw)
        kpath = self.env.path("google-user.json")
        with open(kpath, "wb") as f:
            f.write(base64.b64decode(key["privateKeyData"]))
        st, pol, _ = c.req("POST", "/v1/projects/%s:getIamPolicy" % p, {}, headers=tok)
        st, _, raw = c.req("POST", "/v1/projects/%s:setIamPolicy" % p, {"policy": {
            "etag": pol["etag"], "bindings": [{"role": "roles/pubsub.editor",
                                               "members": ["serviceAccount:" + sa["email"]]}]}},
            headers=tok)
        self.assertEqual(st, 200, raw)

        rc, out, log = self.node(kpath, "roundtrip", b.port, p)
        self.assertEqual(rc, 0, log)
        self.assertEqual(out, {"published": 3, "received": ["one", "three", "two"]}, log)
        rc, out, log = self.node(admin_path, "list", b.port, p)
        self.assertEqual(rc, 0, log)
        self.assertIn("projects/%s/topics/g-topic" % p, out["topics"])

        # The key deleted: the same client is refused.
        st, _, raw = c.req("DELETE", "/v1/projects/%s/serviceAccounts/%s/keys/%s"
                           % (p, sa["email"], key["name"].rsplit("/", 1)[1]), headers=tok)
        self.assertEqual(st, 200, raw)
        rc, out, log = self.node(kpath, "list", b.port, p)
        self.assertEqual(rc, 3, log)
        self.assertEqual(out["error"], 401, log)
        self.assertIn("unknown or was deleted", out["message"])


if __name__ == "__main__":
    harness.main()
