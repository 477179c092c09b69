#!/usr/bin/env python3
"""The clients with access control (issue 10): the regnotify CLI (nng, like
gcloud: iam service-accounts create / keys create, auth
activate-service-account, print-access-token, every command sending the
active credential; a viewer's key can tail but not publish), and the C
library with a key file against an auth-required broker, its tokens
renewed past their expiry (a 3 s lifetime, 1 s clock skew on the broker).
Run: python3 tests/integration/test_auth_clients.py"""

import base64
import json
import os
import signal
import subprocess
import time

import harness
import jwtutil
from harness import Client

CLI = os.environ.get("REGNOTIFY", "/work/main/build/client/cli/regnotify")
IT_CLIENT = os.environ.get("RN_IT_CLIENT", "/work/main/build/tests/client/it_client")


def read(path):
    with open(path) as f:
        return f.read()


class AuthClientsTest(harness.BrokerTestCase):
    START_BROKER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keyfile_path = cls.cenv.path("admin.json")
        cls.broker = cls.cenv.start_broker(cls.redis.port, extra=[
            "--auth", "required", "--admin-key-file", cls.keyfile_path,
            "--token-clock-skew", "1s"])
        harness.wait_until(lambda: os.path.exists(cls.keyfile_path), 10,
                           what="the bootstrap key file")
        time.sleep(0.2)
        cls.admin = json.loads(read(cls.keyfile_path))
        cls.client = Client(cls.broker.port)
        cls.addClassCleanup(cls.client.close)

    def setUp(self):
        super().setUp()
        self.home = self.env.path("home")
        os.makedirs(self.home)

    def cli(self, *args, timeout=30, env=None):
        e = dict(os.environ, HOME=self.home, REGNOTIFY_BROKER=self.broker.nng_url,
                 REGNOTIFY_PROJECT=self.p)
        e.pop("XDG_CONFIG_HOME", None)
        e.pop("REGNOTIFY_TOKEN", None)
        e.pop("REGNOTIFY_KEY_FILE", None)
        e.update(env or {})
        p = subprocess.run([CLI] + list(args), capture_output=True, text=True, env=e,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def admin_req(self, method, path, body=None):
        return self.client.req(method, path, body=body, headers={
            "Authorization": "Bearer " + jwtutil.self_signed(self.admin)})

    def test_cli_accounts_keys_and_roles(self):
        self.p = self.project()
        # No credential: refused, exit 1, the broker's message.
        rc, out, err = self.cli("topics", "list")
        self.assertEqual(rc, 1, err)
        self.assertIn("missing required authentication credential", err)
        # Activate the admin's key file: every command sends its tokens.
        rc, out, err = self.cli("auth", "activate-service-account", "--key-file",
                                self.keyfile_path)
        self.assertEqual(rc, 0, err)
        self.assertIn("Activated service account credentials for: [admin@regnotify.iam]", err)
        creds = os.path.join(self.home, ".config", "regnotify", "credentials.json")
        self.assertEqual(os.stat(creds).st_mode & 0o777, 0o600)
        rc, out, _ = self.cli("auth", "list")
        self.assertIn("admin@regnotify.iam", out)
        rc, out, err = self.cli("topics", "create", "gcr")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cli("iam", "service-accounts", "create", "ci-viewer",
                                "--display-name", "CI viewer")
        self.assertEqual(rc, 0, err)
        email = "ci-viewer@%s.iam.regnotify" % self.p
        self.assertIn("Created service account [%s]" % email, err)
        rc, out, _ = self.cli("iam", "service-accounts", "list")
        self.assertEqual(out.split(), [email])
        key = self.env.path("viewer.json")
        rc, out, err = self.cli("iam", "service-accounts", "keys", "create", key,
                                "--iam-account", email)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        kf = json.loads(read(key))
        self.assertEqual(kf["client_email"], email)
        # Never overwrites a file.
        rc, _, err = self.cli("iam", "service-accounts", "keys", "create", key,
                              "--iam-account", email)
        self.assertEqual(rc, 1, err)
        self.assertIn("File exists", err)
        # print-access-token: a broker token, valid on the REST API too.
        rc, out, err = self.cli("auth", "print-access-token")
        self.assertEqual(rc, 0, err)
        tok = out.strip()
        self.assertEqual(jwtutil.claims(tok)["sub"], "admin@regnotify.iam")
        st, _, _ = self.client.req("GET", "/v1/projects/%s/topics" % self.p,
                                   headers={"Authorization": "Bearer " + tok})
        self.assertEqual(st, 200)
        rc, out, err = self.cli("auth", "print-access-token", "--key-file", key)
        self.assertEqual(rc, 0, err)
        self.assertEqual(jwtutil.claims(out.strip())["sub"], email)

        # The viewer's key: no role yet, then roles/viewer on the project.
        vk = ["--key-file", key]
        rc, _, err = self.cli(*vk, "topics", "list")
        self.assertEqual(rc, 1, err)
        self.assertIn("User not authorized to perform this action.", err)
        pol = self.assertOk(self.admin_req("POST", "/v1/projects/%s:getIamPolicy" % self.p, {}))
        self.assertOk(self.admin_req("POST", "/v1/projects/%s:setIamPolicy" % self.p, {
            "policy": {"etag": pol["etag"], "bindings": [
                {"role": "roles/viewer", "members": ["serviceAccount:" + email]}]}}))
        rc, out, err = self.cli(*vk, "topics", "list")
        self.assertEqual((rc, out.strip()), (0, "projects/%s/topics/gcr" % self.p), err)
        rc, _, err = self.cli(*vk, "publish", "gcr", "from the viewer")
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot publish", err)
        self.assertIn("User not authorized to perform this action.", err)
        rc, _, err = self.cli(*vk, "subscriptions", "create", "durable", "--topic", "gcr")
        self.assertEqual(rc, 1, err)

        # ... but can tail: its ephemeral subscription is its own.
        e = dict(os.environ, HOME=self.home, REGNOTIFY_BROKER=self.broker.nng_url,
                 REGNOTIFY_PROJECT=self.p, REGNOTIFY_KEY_FILE=key)
        tail = subprocess.Popen([CLI, "tail", "gcr", "-n", "2", "--format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=e)
        harness._track(tail)
        try:
            def tail_sub():
                st, js, _ = self.admin_req("GET", "/v1/projects/%s/subscriptions" % self.p)
                return [s for s in (js or {}).get("subscriptions", [])
                        if s["name"].split("/")[-1].startswith("tail-")]
            subs = harness.wait_until(tail_sub, 15, what="tail's subscription")
            rc, _, err = self.cli("publish", "gcr", "one")      # as the admin
            self.assertEqual(rc, 0, err)
            rc, _, err = self.cli("publish", "gcr", "two")
            self.assertEqual(rc, 0, err)
            out, err = tail.communicate(timeout=30)
        finally:
            if tail.poll() is None:
                os.kill(tail.pid, signal.SIGKILL)
                tail.communicate(timeout=5)
            harness._untrack(tail)
        self.assertEqual(tail.returncode, 0, err)
        got = [json.loads(line)["data"] for line in out.splitlines()]
        self.assertEqual(got, ["one", "two"])
        # It deleted its subscription at exit (its creator's editor role).
        name = subs[0]["name"].split("/")[-1]
        self.assertError(self.admin_req("GET", "/v1/projects/%s/subscriptions/%s"
                                        % (self.p, name)), 404, "NOT_FOUND")

        # Delete the key: the viewer is refused at once.
        rc, _, err = self.cli("iam", "service-accounts", "keys", "delete",
                              kf["private_key_id"], "--iam-account", email)
        self.assertEqual(rc, 0, err)
        rc, _, err = self.cli(*vk, "topics", "list")
        self.assertEqual(rc, 1, err)
        self.assertIn("unknown or was deleted", err)
        # A broken key file is a clear error before any request.
        bad = self.env.path("bad.json")
        with open(bad, "w") as f:
            f.write('{"type": "authorized_user"}')
        rc, _, err = self.cli("--key-file", bad, "topics", "list")
        self.assertEqual(rc, 1, err)
        self.assertIn("service_account", err)
        rc, _, err = self.cli("iam", "service-accounts", "delete", email)
        self.assertEqual(rc, 0, err)

    def test_library_key_file_refreshes_tokens(self):
        self.p = self.project()
        self.assertOk(self.admin_req("PUT", "/v1/projects/%s/topics/lib" % self.p, {}))
        self.assertOk(self.admin_req("PUT", "/v1/projects/%s/subscriptions/lib-sub" % self.p,
                                     {"topic": "projects/%s/topics/lib" % self.p}))
        js = self.assertOk(self.admin_req("POST", "/v1/projects/%s/serviceAccounts" % self.p,
                                          {"accountId": "lib-user"}))
        email = js["email"]
        key = self.assertOk(self.admin_req(
            "POST", "/v1/projects/%s/serviceAccounts/%s/keys" % (self.p, email), {}))
        path = self.env.path("lib.json")
        with open(path, "wb") as f:
            f.write(base64.b64decode(key["privateKeyData"]))
        pol = self.assertOk(self.admin_req("POST", "/v1/projects/%s:getIamPolicy" % self.p, {}))
        self.assertOk(self.admin_req("POST", "/v1/projects/%s:setIamPolicy" % self.p, {
            "policy": {"etag": pol["etag"], "bindings": [
                {"role": "roles/pubsub.editor", "members": ["serviceAccount:" + email]}]}}))

        def it(*args, env=None, timeout=120):
            e = dict(os.environ, RN_IT_KEY_FILE=path, RN_IT_TOKEN_LIFETIME="3")
            e.update(env or {})
            p = subprocess.run([IT_CLIENT, self.broker.nng_url, self.p] + [str(a) for a in args],
                               capture_output=True, text=True, env=e, timeout=timeout)
            return p.returncode, p.stdout, p.stderr

        rc, out, err = it("publish", "lib", 12)
        self.assertEqual(rc, 0, out + err)
        # 12 messages, each callback sleeping 700 ms, one at a time: about
        # 8 s, past two token lifetimes (3 s) and the broker's skew (1 s).
        rc, out, err = it("stream", "lib-sub", 12, 1, 700)
        self.assertEqual(rc, 0, out + err)
        # Without the key file the same library is refused.
        rc, out, err = it("publish", "lib", 1, env={"RN_IT_KEY_FILE": ""})
        self.assertNotEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
