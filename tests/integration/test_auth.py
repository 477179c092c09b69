#!/usr/bin/env python3
"""Access control (issue 10; docs/security.md), against real brokers sharing
one real redis-server: the --admin-key-file bootstrap; service accounts and
keys through the IAM API (Google's shapes); self-signed RS256 tokens made
from the key files with the openssl tool (jwtutil.py, independent of the
broker) and every way a token is refused; POST /token and the broker's
ES256 tokens checked against /.well-known/jwks.json; IAM policies (roles,
resource bindings, the etag compare-and-set, testIamPermissions); a denied
call changes nothing; a key deleted or an account disabled on one broker
is refused at once by the other; --auth off refuses a non-loopback listener.
Run: python3 tests/integration/test_auth.py"""

import base64
import json
import os
import stat
import time

import harness
import jwtutil
from harness import Client
from push_sink import Sink

INGEST_TOKEN = "ingest-secret-1"


def read(path):
    with open(path) as f:
        return f.read()


class AuthTest(harness.BrokerTestCase):
    START_BROKER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keyfile_path = cls.cenv.path("admin.json")
        cls.b1 = cls.cenv.start_broker(cls.redis.port, extra=[
            "--auth", "required", "--admin-key-file", cls.keyfile_path,
            "--ingest-tokens", INGEST_TOKEN])
        cls.b2 = cls.cenv.start_broker(cls.redis.port, extra=["--auth", "required"])
        harness.wait_until(lambda: os.path.exists(cls.keyfile_path), 10,
                           what="the bootstrap key file")
        time.sleep(0.2)   # written in one call; let it close
        with open(cls.keyfile_path) as f:
            cls.admin = json.load(f)
        cls.client = Client(cls.b1.port)
        cls.client2 = Client(cls.b2.port)
        cls.addClassCleanup(cls.client.close)
        cls.addClassCleanup(cls.client2.close)

    # helpers -------------------------------------------------------------

    def call(self, method, path, body=None, token=None, client=None, raw=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return (client or self.client).req(method, path, body=body, headers=h, raw=raw)

    def admin_token(self):
        return jwtutil.self_signed(self.admin)

    def new_account(self, project, account_id, role=None):
        """An account with a key (its key file dict), granted ROLE on the project."""
        t = self.admin_token()
        self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts" % project,
                                {"accountId": account_id}, t), "create account")
        email = "%s@%s.iam.regnotify" % (account_id, project)
        js = self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                     % (project, email), {}, t), "create key")
        kf = json.loads(base64.b64decode(js["privateKeyData"]))
        if role:
            self.grant("projects/%s" % project, role, "serviceAccount:" + email)
        return kf

    def grant(self, resource, role, member):
        t = self.admin_token()
        pol = self.assertOk(self.call("POST", "/v1/%s:getIamPolicy" % resource, {}, t))
        bindings = pol.get("bindings", [])
        bindings.append({"role": role, "members": [member]})
        self.assertOk(self.call("POST", "/v1/%s:setIamPolicy" % resource,
                                {"policy": {"bindings": bindings, "etag": pol["etag"]}}, t))

    def assert401(self, resp, why=None, what=""):
        err = self.assertError(resp, 401, "UNAUTHENTICATED", what)
        if why:
            self.assertIn(why, err["message"], what)
        return err

    def topic(self, p, t):
        self.assertOk(self.call("PUT", "/v1/projects/%s/topics/%s" % (p, t), {},
                                self.admin_token()))

    # bootstrap -----------------------------------------------------------

    def test_bootstrap_key_file(self):
        st = os.stat(self.keyfile_path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "the key file is private")
        self.assertEqual(self.admin["type"], "service_account")
        self.assertEqual(self.admin["client_email"], "admin@regnotify.iam")
        self.assertTrue(self.admin["private_key"].startswith("-----BEGIN PRIVATE KEY-----"))
        self.assertEqual(self.admin["token_uri"], "http://127.0.0.1:%d/token" % self.b1.port)
        self.assertRegex(self.admin["private_key_id"], "^[0-9a-f]{40}$")
        # The private key never reaches the log; neither do tokens.
        log = read(self.b1.log)
        self.assertNotIn(self.admin["private_key"].splitlines()[1], log)
        self.assertIn("bootstrap: created admin@regnotify.iam", log)
        # A third broker with the same file: not overwritten, no second admin.
        before = read(self.keyfile_path)
        b3 = self.env.start_broker(self.redis.port, extra=[
            "--auth", "required", "--admin-key-file", self.keyfile_path])
        harness.wait_until(lambda: "never overwritten" in read(b3.log), 10,
                           what="the no-bootstrap line")
        self.assertEqual(read(self.keyfile_path), before)
        # Another path, accounts exist: nothing is written.
        other = self.env.path("other-admin.json")
        b4 = self.env.start_broker(self.redis.port, extra=[
            "--auth", "required", "--admin-key-file", other])
        harness.wait_until(lambda: "service accounts exist" in read(b4.log), 10,
                           what="the accounts-exist line")
        self.assertFalse(os.path.exists(other))

    # authentication ------------------------------------------------------

    def test_anonymous_and_garbage_are_refused(self):
        p = self.project()
        self.assert401(self.call("GET", "/v1/projects/%s/topics" % p),
                       "missing required authentication credential")
        self.assert401(self.call("GET", "/v1/projects/%s/topics" % p, token="garbage"),
                       "malformed token")
        self.assertOk(self.call("GET", "/v1/projects/%s/topics" % p, token=self.admin_token()))
        # Open routes stay open.
        self.assertEqual(self.call("GET", "/healthz")[0], 200)
        self.assertEqual(self.call("GET", "/readyz")[0], 200)
        self.assertEqual(self.call("GET", "/.well-known/jwks.json")[0], 200)

    def test_hostile_tokens(self):
        p = self.project()
        path = "/v1/projects/%s/topics" % p
        kf = self.admin
        now = int(time.time())
        good = jwtutil.self_signed(kf)
        h, c, s = good.split(".")
        pub_pem = None
        cases = [
            ("alg none", jwtutil.b64u('{"alg":"none","typ":"JWT"}') + "." + c + ".",
             "unsupported token algorithm"),
            ("HS256", jwtutil.b64u('{"alg":"HS256","kid":"%s"}' % kf["private_key_id"]) +
             "." + c + "." + s[:43], "unsupported token algorithm"),
            ("tampered claims", h + "." + jwtutil.b64u(json.dumps({
                "iss": kf["client_email"], "sub": kf["client_email"], "iat": now,
                "exp": now + 3600, "aud": "https://pubsub.googleapis.com/", "x": 1})) + "." + s,
             "signature does not verify"),
            ("unknown kid", jwtutil.make(kf, {"iss": kf["client_email"],
                                              "sub": kf["client_email"], "iat": now,
                                              "exp": now + 60,
                                              "aud": "https://pubsub.googleapis.com/"},
                                         {"alg": "RS256", "kid": "0" * 40}),
             "unknown or was deleted"),
            ("expired", jwtutil.self_signed(kf, iat=now - 4000, life=3600), "expired"),
            ("not yet valid", jwtutil.self_signed(kf, iat=now + 900, life=600),
             "not valid yet"),
            ("over 1 hour", jwtutil.self_signed(kf, life=7200), "within 1 hour"),
            ("wrong audience", jwtutil.self_signed(kf, aud="https://evil.example/"),
             "audience"),
            ("no audience, no scope", jwtutil.self_signed(kf, aud=None), "audience"),
            ("no exp", jwtutil.make(kf, {"iss": kf["client_email"], "iat": now,
                                         "aud": "https://pubsub.googleapis.com/"}),
             "no exp or iat"),
            ("iss is not sub", jwtutil.make(kf, {"iss": kf["client_email"],
                                                 "sub": "other@x.iam.regnotify", "iat": now,
                                                 "exp": now + 60,
                                                 "aud": "https://pubsub.googleapis.com/"}),
             "sub differs"),
            ("10 kB", "a" * 5000 + "." + "b" * 5000 + "." + "c" * 240, "too long"),
            ("not base64url", h + ".\u00e9\u00e9\u00e9." + s, "malformed token"),
            ("standard base64", h.replace("J", "+") + "." + c + "." + s, "malformed token"),
            ("two parts", h + "." + c, "three dot-separated parts"),
        ]
        del pub_pem
        for what, tok, why in cases:
            with self.subTest(what):
                self.assert401(self.call("GET", path, token=tok), why, what)
        # A scope claim instead of aud (a key file of another universe).
        self.assertOk(self.call("GET", path, token=jwtutil.self_signed(
            kf, aud=None, scope="https://www.googleapis.com/auth/pubsub")))
        # The broker's own URL as the audience.
        self.assertOk(self.call("GET", path, token=jwtutil.self_signed(
            kf, aud="http://127.0.0.1:%d/" % self.b1.port)))
        log = read(self.b1.log)
        self.assertNotIn(good, log, "a token reached the log")

    def test_key_delete_and_disable_reach_every_broker(self):
        p = self.project()
        kf = self.new_account(p, "short-lived", role="roles/viewer")
        tok = jwtutil.self_signed(kf)
        path = "/v1/projects/%s/topics" % p
        # Both brokers accept it (and cache its key).
        self.assertOk(self.call("GET", path, token=tok))
        self.assertOk(self.call("GET", path, token=tok, client=self.client2))
        email = kf["client_email"]
        admin = self.admin_token()
        self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s:disable"
                                % (p, email), {}, admin))
        harness.wait_until(lambda: self.call("GET", path, token=tok,
                                             client=self.client2)[0] == 401, 5,
                           what="the disable on broker 2")
        self.assert401(self.call("GET", path, token=tok), "disabled")
        self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s:enable"
                                % (p, email), {}, admin))
        harness.wait_until(lambda: self.call("GET", path, token=tok,
                                             client=self.client2)[0] == 200, 5,
                           what="the enable on broker 2")
        self.assertOk(self.call("DELETE", "/v1/projects/%s/serviceAccounts/%s/keys/%s"
                                % (p, email, kf["private_key_id"]), None, admin))
        harness.wait_until(lambda: self.call("GET", path, token=tok,
                                             client=self.client2)[0] == 401, 5,
                           what="the key delete on broker 2")
        self.assert401(self.call("GET", path, token=tok), "unknown or was deleted")
        self.assert401(self.call("GET", path, token=tok, client=self.client2),
                       "unknown or was deleted")

    # the token endpoint --------------------------------------------------

    def token_request(self, form, client=None):
        return (client or self.client).req(
            "POST", "/token", raw=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def test_token_endpoint_and_jwks(self):
        grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
        st, js, raw = self.token_request(grant + jwtutil.assertion(self.admin))
        self.assertEqual(st, 200, raw)
        self.assertEqual(js["token_type"], "Bearer")
        self.assertTrue(0 < js["expires_in"] <= 3600)
        at = js["access_token"]
        claims = jwtutil.claims(at)
        self.assertEqual(claims["sub"], "admin@regnotify.iam")
        self.assertLessEqual(claims["exp"] - claims["iat"], 3600)
        # Independently verified against the JWKS of either broker.
        for cl in (self.client, self.client2):
            st, jwks, _ = cl.req("GET", "/.well-known/jwks.json")
            self.assertEqual(st, 200)
            self.assertTrue(jwtutil.es256_verify(jwks, at), "ES256 against the JWKS")
        # Accepted by both brokers.
        p = self.project()
        self.assertOk(self.call("GET", "/v1/projects/%s/topics" % p, token=at))
        self.assertOk(self.call("GET", "/v1/projects/%s/topics" % p, token=at,
                                client=self.client2))
        # A forged broker token (claims changed) is refused.
        h, c, s = at.split(".")
        forged = h + "." + jwtutil.b64u(json.dumps(dict(claims, sub="x@y.iam.regnotify"))) + \
            "." + s
        self.assert401(self.call("GET", "/v1/projects/%s/topics" % p, token=forged),
                       "signature does not verify")
        # Bad requests, in OAuth's error shape.
        st, js, _ = self.token_request("grant_type=password&username=a")
        self.assertEqual((st, js["error"]), (400, "unsupported_grant_type"))
        st, js, _ = self.token_request(grant + "not.a.jwt")
        self.assertEqual((st, js["error"]), (400, "invalid_grant"))
        wrong_aud = jwtutil.self_signed(self.admin)   # aud Pub/Sub, not token_uri
        st, js, _ = self.token_request(grant + wrong_aud)
        self.assertEqual((st, js["error"]), (400, "invalid_grant"))
        self.assertIn("token endpoint", js["error_description"])

    # authorization -------------------------------------------------------

    def test_roles(self):
        p = self.project()
        self.topic(p, "events")
        admin = self.admin_token()
        self.assertOk(self.call("PUT", "/v1/projects/%s/subscriptions/sub1" % p,
                                {"topic": "projects/%s/topics/events" % p}, admin))
        viewer = jwtutil.self_signed(self.new_account(p, "viewer-a", "roles/viewer"))
        publisher = jwtutil.self_signed(self.new_account(p, "publisher-a", "roles/pubsub.publisher"))
        editor = jwtutil.self_signed(self.new_account(p, "editor-a", "roles/editor"))
        nobody = jwtutil.self_signed(self.new_account(p, "nobody-a"))
        pub = ("POST", "/v1/projects/%s/topics/events:publish" % p,
               {"messages": [{"data": "eA=="}]})
        pull = ("POST", "/v1/projects/%s/subscriptions/sub1:pull" % p,
                {"maxMessages": 10, "returnImmediately": True})
        lst = ("GET", "/v1/projects/%s/topics" % p, None)
        create = ("PUT", "/v1/projects/%s/topics/made-by-x" % p, {})
        setpol = ("POST", "/v1/projects/%s:setIamPolicy" % p, {"policy": {"bindings": []}})
        expect = {
            "viewer": (viewer, {"pub": 403, "pull": 200, "list": 200, "create": 403,
                                "setpol": 403}),
            "publisher": (publisher, {"pub": 200, "pull": 403, "list": 403, "create": 403,
                                      "setpol": 403}),
            "editor": (editor, {"pub": 200, "pull": 200, "list": 200, "create": 200,
                                "setpol": 403}),
            "nobody": (nobody, {"pub": 403, "pull": 403, "list": 403, "create": 403,
                                "setpol": 403}),
        }
        ops = {"pub": pub, "pull": pull, "list": lst, "create": create, "setpol": setpol}
        for who, (tok, want) in expect.items():
            for op, code in want.items():
                with self.subTest(who=who, op=op):
                    m, path, body = ops[op]
                    st, _, raw = self.call(m, path, body, tok)
                    self.assertEqual(st, code, "%s %s: %r" % (who, op, raw[:200]))
                    if st == 200 and op == "create":
                        self.assertOk(self.call("DELETE", path, None, admin))
        # The message the editor published is still there for the viewer to pull.
        st, js, _ = self.call(*pull, token=viewer)
        self.assertEqual(st, 200)

    def test_resource_binding_and_denied_changes_nothing(self):
        p = self.project()
        self.topic(p, "one")
        self.topic(p, "two")
        kf = self.new_account(p, "scoped-a")
        tok = jwtutil.self_signed(kf)
        self.grant("projects/%s/topics/one" % p, "roles/pubsub.publisher",
                   "serviceAccount:" + kf["client_email"])
        body = {"messages": [{"data": "eA=="}]}
        self.assertOk(self.call("POST", "/v1/projects/%s/topics/one:publish" % p, body, tok))
        self.assertError(self.call("POST", "/v1/projects/%s/topics/two:publish" % p, body, tok),
                         403, "PERMISSION_DENIED")
        # A denied delete leaves the topic; a denied get of a missing topic
        # says 403, not 404 (existence is not revealed).
        self.assertError(self.call("DELETE", "/v1/projects/%s/topics/one" % p, None, tok),
                         403, "PERMISSION_DENIED")
        self.assertOk(self.call("GET", "/v1/projects/%s/topics/one" % p, None,
                                self.admin_token()))
        self.assertError(self.call("GET", "/v1/projects/%s/topics/nope" % p, None, tok),
                         403, "PERMISSION_DENIED")
        self.assertError(self.call("GET", "/v1/projects/%s/topics/nope" % p, None,
                                   self.admin_token()), 404, "NOT_FOUND")
        # testIamPermissions answers the subset held, per resource.
        test = {"permissions": ["pubsub.topics.publish", "pubsub.topics.delete",
                                "pubsub.bogus"]}
        js = self.assertOk(self.call("POST", "/v1/projects/%s/topics/one:testIamPermissions"
                                     % p, test, tok))
        self.assertEqual(js, {"permissions": ["pubsub.topics.publish"]})
        js = self.assertOk(self.call("POST", "/v1/projects/%s/topics/two:testIamPermissions"
                                     % p, test, tok))
        self.assertEqual(js, {})
        # Deleting the topic deletes its policy: a new "one" grants nothing.
        self.assertOk(self.call("DELETE", "/v1/projects/%s/topics/one" % p, None,
                                self.admin_token()))
        self.topic(p, "one")
        harness.wait_until(lambda: self.call("POST", "/v1/projects/%s/topics/one:publish" % p,
                                             body, tok)[0] == 403, 5,
                           what="the policy gone with its topic")

    def test_subscription_create_needs_attach_on_the_topic(self):
        pa, pb = self.project(), self.project()
        self.topic(pb, "shared")
        kf = self.new_account(pa, "attacher-a", "roles/pubsub.editor")
        tok = jwtutil.self_signed(kf)
        body = {"topic": "projects/%s/topics/shared" % pb}
        path = "/v1/projects/%s/subscriptions/from-b" % pa
        # May create subscriptions in its project, but not attach to B's topic.
        self.assertError(self.call("PUT", path, body, tok), 403, "PERMISSION_DENIED")
        self.assertError(self.call("GET", path, None, self.admin_token()), 404, "NOT_FOUND")
        self.grant("projects/%s/topics/shared" % pb, "roles/pubsub.subscriber",
                   "serviceAccount:" + kf["client_email"])
        js = self.assertOk(self.call("PUT", path, body, tok))
        self.assertEqual(js["topic"], body["topic"])

    def test_deleted_account_bindings_do_not_carry_over(self):
        p = self.project()
        self.topic(p, "kept")
        kf = self.new_account(p, "reborn-a", "roles/pubsub.editor")
        email = kf["client_email"]
        self.grant("projects/%s/topics/kept" % p, "roles/pubsub.publisher",
                   "serviceAccount:" + email)
        uid = self.assertOk(self.call("GET", "/v1/projects/%s/serviceAccounts/%s" % (p, email),
                                      None, self.admin_token()))["uniqueId"]
        self.assertOk(self.call("DELETE", "/v1/projects/%s/serviceAccounts/%s" % (p, email),
                                None, self.admin_token()))
        for res in ("projects/%s" % p, "projects/%s/topics/kept" % p):
            pol = self.assertOk(self.call("POST", "/v1/%s:getIamPolicy" % res, {},
                                          self.admin_token()))
            members = [m for b in pol["bindings"] for m in b["members"]]
            self.assertIn("deleted:serviceAccount:%s?uid=%s" % (email, uid), members, res)
            self.assertNotIn("serviceAccount:" + email, members, res)
            # A read-modify-write sends the deleted member back: accepted.
            self.assertOk(self.call("POST", "/v1/%s:setIamPolicy" % res, {"policy": pol},
                                    self.admin_token()))
        # A new account with the same email starts with no role.
        kf2 = self.new_account(p, "reborn-a")
        tok = jwtutil.self_signed(kf2)
        self.assertError(self.call("GET", "/v1/projects/%s/topics" % p, None, tok), 403,
                         "PERMISSION_DENIED")
        self.assertError(self.call("POST", "/v1/projects/%s/topics/kept:publish" % p,
                                   {"messages": [{"data": "eA=="}]}, tok), 403,
                         "PERMISSION_DENIED")

    def test_set_policy_etag_and_validation(self):
        p = self.project()
        self.topic(p, "cas")
        t = self.admin_token()
        path = "/v1/projects/%s/topics/cas" % p
        pol = self.assertOk(self.call("POST", path + ":getIamPolicy", {}, t))
        self.assertEqual(pol, {"version": 1, "etag": "ACAB"})
        b = [{"role": "roles/pubsub.subscriber", "members": ["allAuthenticatedUsers"]}]
        new = self.assertOk(self.call("POST", path + ":setIamPolicy",
                                      {"policy": {"bindings": b, "etag": "ACAB"}}, t))
        self.assertNotEqual(new["etag"], "ACAB")
        self.assertEqual(new["bindings"], b)
        # The first etag is stale now.
        self.assertError(self.call("POST", path + ":setIamPolicy",
                                   {"policy": {"bindings": [], "etag": "ACAB"}}, t),
                         409, "ABORTED")
        got = self.assertOk(self.call("POST", path + ":getIamPolicy", {}, t))
        self.assertEqual(got, new)
        for bad in ([{"role": "roles/nope", "members": ["allUsers"]}],
                    [{"role": "roles/viewer", "members": ["user:a@b.c"]}],
                    [{"role": "roles/viewer", "members": []}],
                    [{"role": "roles/viewer", "members": ["allUsers"],
                      "condition": {"expression": "true"}}]):
            with self.subTest(bad=bad):
                self.assertError(self.call("POST", path + ":setIamPolicy",
                                           {"policy": {"bindings": bad}}, t),
                                 400, "INVALID_ARGUMENT")
        self.assertError(self.call("POST", "/v1/projects/%s/topics/missing:getIamPolicy" % p,
                                   {}, t), 404, "NOT_FOUND")

    def test_push_oidc_token(self):
        p = self.project()
        self.topic(p, "pushed")
        pusher = self.new_account(p, "pusher-sa")["client_email"]
        sink = Sink().start()
        self.addCleanup(sink.stop)
        pc = {"pushEndpoint": sink.url("/oidc"),
              "oidcToken": {"serviceAccountEmail": pusher,
                            "audience": "https://receiver.example/"}}
        body = {"topic": "projects/%s/topics/pushed" % p, "pushConfig": pc}
        # An editor may create subscriptions, but not act as the account.
        editor = jwtutil.self_signed(self.new_account(p, "editor-o", "roles/pubsub.editor"))
        self.assertError(self.call("PUT", "/v1/projects/%s/subscriptions/oidc-sub" % p, body, editor),
                         403, "PERMISSION_DENIED")
        user = self.new_account(p, "actas-o", "roles/pubsub.editor")
        self.grant("projects/%s" % p, "roles/iam.serviceAccountUser",
                   "serviceAccount:" + user["client_email"])
        self.assertOk(self.call("PUT", "/v1/projects/%s/subscriptions/oidc-sub" % p, body,
                                jwtutil.self_signed(user)))
        self.assertOk(self.call("POST", "/v1/projects/%s/topics/pushed:publish" % p,
                                {"messages": [{"data": "eA=="}]}, self.admin_token()))
        reqs = sink.wait_for(lambda rs: [r for r in rs if r.path == "/oidc"], 15,
                             "the push request")
        auth = reqs[0].header("Authorization")
        self.assertTrue(auth and auth.startswith("Bearer "), auth)
        tok = auth[7:]
        claims = jwtutil.claims(tok)
        # Either broker may deliver the push (both serve this Redis); the issuer is the one that
        # signed, and both publish the same JWKS (the signing keys are shared through Redis).
        issuers = {"http://127.0.0.1:%d" % b.port: c for b, c in
                   ((self.b1, self.client), (self.b2, self.client2))}
        self.assertIn(claims["iss"], issuers)
        for c in issuers.values():
            st, jwks, _ = c.req("GET", "/.well-known/jwks.json")
            self.assertTrue(jwtutil.es256_verify(jwks, tok), "the OIDC token against the JWKS")
        self.assertEqual(claims["aud"], "https://receiver.example/")
        self.assertEqual(claims["email"], pusher)
        self.assertIs(claims["email_verified"], True)
        self.assertLessEqual(claims["exp"] - claims["iat"], 3600)
        # It is no access token: the broker refuses it as one.
        self.assert401(self.call("GET", "/v1/projects/%s/topics" % p, token=tok),
                       "not an access token")

    def test_detach_needs_the_permission_on_the_topic(self):
        # Pub/Sub: subscriptions.detach needs pubsub.topics.detachSubscription on the
        # subscription's topic - a role on the subscription is not enough.
        p = self.project()
        self.topic(p, "detach-top")
        admin = self.admin_token()
        self.assertOk(self.call("PUT", "/v1/projects/%s/subscriptions/detach-sub" % p,
                                {"topic": "projects/%s/topics/detach-top" % p}, admin))
        sub_editor = self.new_account(p, "sub-owner")
        self.grant("projects/%s/subscriptions/detach-sub" % p, "roles/pubsub.admin",
                   "serviceAccount:" + sub_editor["client_email"])
        topic_admin = self.new_account(p, "topic-admin")
        self.grant("projects/%s/topics/detach-top" % p, "roles/pubsub.admin",
                   "serviceAccount:" + topic_admin["client_email"])
        path = "/v1/projects/%s/subscriptions/detach-sub:detach" % p
        self.assertError(self.call("POST", path, None, jwtutil.self_signed(sub_editor)),
                         403, "PERMISSION_DENIED")
        self.assertOk(self.call("POST", path, None, jwtutil.self_signed(topic_admin)))
        js = self.assertOk(self.call("GET", "/v1/projects/%s/subscriptions/detach-sub" % p,
                                     None, admin))
        self.assertIs(js["detached"], True)
        # A subscription that does not exist: denied without the project-level permission.
        self.assertError(self.call("POST", "/v1/projects/%s/subscriptions/nope-sub:detach" % p,
                                   None, jwtutil.self_signed(topic_admin)),
                         403, "PERMISSION_DENIED")
        self.assertError(self.call("POST", "/v1/projects/%s/subscriptions/nope-sub:detach" % p,
                                   None, admin), 404, "NOT_FOUND")

    def test_seek_to_a_snapshot_needs_snapshots_seek(self):
        p = self.project()
        self.topic(p, "snap-top")
        admin = self.admin_token()
        self.assertOk(self.call("PUT", "/v1/projects/%s/subscriptions/snap-sub" % p,
                                {"topic": "projects/%s/topics/snap-top" % p}, admin))
        self.assertOk(self.call("PUT", "/v1/projects/%s/snapshots/snap-one" % p,
                                {"subscription": "projects/%s/subscriptions/snap-sub" % p},
                                admin))
        seek = ("POST", "/v1/projects/%s/subscriptions/snap-sub:seek" % p,
                {"snapshot": "projects/%s/snapshots/snap-one" % p})
        viewer = jwtutil.self_signed(self.new_account(p, "snap-viewer", "roles/viewer"))
        self.assertError(self.call(*seek, viewer), 403, "PERMISSION_DENIED")   # no .seek
        self.assertOk(self.call("POST", seek[1], {"time": "2020-01-01T00:00:00Z"}, viewer))
        subscriber = jwtutil.self_signed(self.new_account(p, "snap-subscriber",
                                                          "roles/pubsub.subscriber"))
        self.assertOk(self.call(*seek, subscriber))
        # Creating one needs pubsub.snapshots.create (the subscriber has none).
        self.assertError(self.call("PUT", "/v1/projects/%s/snapshots/snap-two" % p,
                                   {"subscription": "projects/%s/subscriptions/snap-sub" % p},
                                   subscriber), 403, "PERMISSION_DENIED")

    def test_metrics_permission_and_metrics_listen(self):
        mport = harness.free_port()
        b = self.env.start_broker(self.redis.port, extra=[
            "--auth", "required", "--metrics-listen", "127.0.0.1:%d" % mport])
        c = Client(b.port)
        m = Client(mport)
        self.addCleanup(c.close)
        self.addCleanup(m.close)
        # On the API port /metrics needs regnotify.metrics.get (global policy).
        self.assertEqual(c.req("GET", "/metrics")[0], 401)
        st, _, raw = c.req("GET", "/metrics",
                           headers={"Authorization": "Bearer " + self.admin_token()})
        self.assertEqual(st, 200)
        self.assertIn(b"regnotify_", raw)
        viewer = jwtutil.self_signed(self.new_account(self.project(), "metrics-v",
                                                      "roles/viewer"))
        self.assertEqual(c.req("GET", "/metrics",
                               headers={"Authorization": "Bearer " + viewer})[0], 403)
        # The loopback metrics port serves /metrics alone, without a token.
        st, _, raw = m.req("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"regnotify_", raw)
        self.assertEqual(m.req("GET", "/v1/projects/%s/topics" % self.project())[0], 404)
        self.assertEqual(m.req("GET", "/healthz")[0], 404)
        rc, _, err = harness.run_broker_once(
            ["--metrics-listen", "0.0.0.0:%d" % harness.free_port(),
             "--redis", "redis://127.0.0.1:%d/0" % self.redis.port], cwd=self.env.tmp)
        self.assertEqual(rc, 2, err)
        self.assertIn("loopback only", err)

    def test_ingest_token_principal(self):
        hdrs = {"Content-Type": "application/json"}
        st, _, raw = self.call("POST", "/v1/registry/events", None, INGEST_TOKEN,
                               raw="{not json", headers=hdrs)
        self.assertEqual(st, 400, raw)   # authenticated and allowed; the body is bad
        st, _, _ = self.call("POST", "/v1/registry/events", None, "wrong-token",
                             raw="{}", headers=hdrs)
        self.assertEqual(st, 401)
        self.assertError(self.call("GET", "/v1/projects/%s/topics" % self.project(), None,
                                   INGEST_TOKEN), 403, "PERMISSION_DENIED")

    def test_service_account_api(self):
        p = self.project()
        t = self.admin_token()
        sa = self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts" % p,
                                     {"accountId": "ci-runner",
                                      "serviceAccount": {"displayName": "CI"}}, t))
        email = "ci-runner@%s.iam.regnotify" % p
        self.assertEqual(sa["email"], email)
        self.assertEqual(sa["name"], "projects/%s/serviceAccounts/%s" % (p, email))
        self.assertEqual(sa["displayName"], "CI")
        self.assertIs(sa["disabled"], False)
        self.assertRegex(sa["uniqueId"], r"^[1-9][0-9]{20}$")
        self.assertError(self.call("POST", "/v1/projects/%s/serviceAccounts" % p,
                                   {"accountId": "ci-runner"}, t), 409, "ALREADY_EXISTS")
        for bad in ("ab", "Upper-case", "ends-with-", "x" * 31, "9starts"):
            self.assertError(self.call("POST", "/v1/projects/%s/serviceAccounts" % p,
                                       {"accountId": bad}, t), 400, "INVALID_ARGUMENT")
        got = self.assertOk(self.call("GET", "/v1/projects/-/serviceAccounts/%s" % email,
                                      None, t))
        self.assertEqual(got, sa)
        lst = self.assertOk(self.call("GET", "/v1/projects/%s/serviceAccounts" % p, None, t))
        self.assertEqual([a["email"] for a in lst["accounts"]], [email])
        key = self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                      % (p, email), {}, t))
        self.assertEqual(key["privateKeyType"], "TYPE_GOOGLE_CREDENTIALS_FILE")
        kf = json.loads(base64.b64decode(key["privateKeyData"]))
        self.assertEqual(kf["client_email"], email)
        kid = kf["private_key_id"]
        keys = self.assertOk(self.call("GET", "/v1/projects/%s/serviceAccounts/%s/keys"
                                       % (p, email), None, t))
        self.assertEqual([k["name"].rsplit("/", 1)[1] for k in keys["keys"]], [kid])
        for k in keys["keys"]:
            self.assertNotIn("privateKeyData", k)
        one = self.assertOk(self.call("GET", "/v1/projects/%s/serviceAccounts/%s/keys/%s"
                                      % (p, email, kid), None, t))
        pem = base64.b64decode(one["publicKeyData"]).decode()
        self.assertTrue(pem.startswith("-----BEGIN PUBLIC KEY-----"))
        # Ten keys at most.
        for _ in range(9):
            self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                    % (p, email), {}, t))
        self.assertError(self.call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                   % (p, email), {}, t), 400, "FAILED_PRECONDITION")
        # Another project's path does not find it; delete removes it and its keys.
        self.assertError(self.call("GET", "/v1/projects/other-proj/serviceAccounts/%s" % email,
                                   None, t), 404, "NOT_FOUND")
        self.assertOk(self.call("DELETE", "/v1/projects/%s/serviceAccounts/%s" % (p, email),
                                None, t))
        self.assertError(self.call("GET", "/v1/projects/%s/serviceAccounts/%s" % (p, email),
                                   None, t), 404, "NOT_FOUND")
        self.assert401(self.call("GET", "/v1/projects/%s/topics" % p,
                                 token=jwtutil.self_signed(kf)))


class AuthOffTest(harness.BrokerTestCase):
    START_BROKER = False

    def test_auth_off_needs_loopback(self):
        rc, _, err = harness.run_broker_once(
            ["--listen", "0.0.0.0:%d" % harness.free_port(), "--ingest-tokens", "t",
             "--redis", "redis://127.0.0.1:%d/0" % self.redis.port], cwd=self.env.tmp)
        self.assertEqual(rc, 2, err)
        self.assertIn("--auth off", err)
        rc, _, err = harness.run_broker_once(
            ["--nng-listen", "tcp://0.0.0.0:%d" % harness.free_port(),
             "--redis", "redis://127.0.0.1:%d/0" % self.redis.port], cwd=self.env.tmp)
        self.assertEqual(rc, 2, err)
        self.assertIn("every listener is on loopback", err)

    def test_auth_off_still_checks_a_sent_token(self):
        b = self.env.start_broker(self.redis.port)
        c = Client(b.port)
        self.addCleanup(c.close)
        p = self.project()
        self.assertEqual(c.req("GET", "/v1/projects/%s/topics" % p)[0], 200)
        st, _, raw = c.req("GET", "/v1/projects/%s/topics" % p,
                           headers={"Authorization": "Bearer garbage"})
        self.assertEqual(st, 401, raw)


if __name__ == "__main__":
    harness.main()
