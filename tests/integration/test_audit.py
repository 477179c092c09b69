#!/usr/bin/env python3
"""Admin Activity audit entries (issue 11, first step): every route whose
audit column (regnotifyd --print-routes) is ADMIN_WRITE writes exactly one
LogEntry in the same Redis step as its change - methodName, resourceName,
principal, permission, caller IP - and none when the change does not happen;
no secret (push signing secrets, authorization headers, private keys) is
ever in an entry; a broker SIGKILLed in a loop of admin changes leaves no
change without its entry and no entry without its change. The entries are
read from Redis directly (the read API comes with the rest of the issue).
Run: python3 tests/integration/test_audit.py"""

import base64
import json
import os
import subprocess
import threading
import time

import harness
import jwtutil
from harness import Client

SECRETS = ["whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "hub-s3cr3t-value", "Bearer t0ps3cr3t"]


def read(path):
    with open(path) as f:
        return f.read()


class AuditCase(harness.BrokerTestCase):
    """A broker with access control on a Redis of its own (the bootstrap
    needs no accounts yet), called as its admin; test_audit_logs.py too."""
    START_BROKER = False
    START_REDIS = False

    def start(self, extra=()):
        self.rport = self.env.start_redis().port
        self.keyfile = self.env.path("admin.json")
        self.b = self.env.start_broker(self.rport, extra=[
            "--auth", "required", "--admin-key-file", self.keyfile] + list(extra))
        harness.wait_until(lambda: os.path.exists(self.keyfile), 10, what="the key file")
        time.sleep(0.2)
        self.admin = json.loads(read(self.keyfile))
        self.tok = jwtutil.self_signed(self.admin)
        self.client = Client(self.b.port)
        self.addCleanup(self.client.close)

    def call(self, method, path, body=None):
        return self.client.req(method, path, body=body, headers={
            "Authorization": "Bearer " + self.tok, "User-Agent": "audit-test/1.0"})

    def req(self, method, path, body=None, headers=None, raw=None, timeout=None):
        """The harness helpers (create_topic, pull...) as the admin."""
        h = {"Authorization": "Bearer " + self.tok}
        h.update(headers or {})
        return self.client.req(method, path, body=body, headers=h, raw=raw, timeout=timeout)

    def account(self, project, aid, role=None):
        """A service account (with ROLE on PROJECT) and a token for it."""
        self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts" % project,
                                {"accountId": aid}))
        em = "%s@%s.iam.regnotify" % (aid, project)
        k = self.assertOk(self.call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                    % (project, em), {}))
        if role:
            pol = self.assertOk(self.call("POST", "/v1/projects/%s:getIamPolicy" % project, {}))
            b = pol.get("bindings", []) + [{"role": role, "members": ["serviceAccount:" + em]}]
            self.assertOk(self.call("POST", "/v1/projects/%s:setIamPolicy" % project,
                                    {"policy": {"bindings": b, "etag": pol["etag"]}}))
        return em, jwtutil.self_signed(json.loads(base64.b64decode(k["privateKeyData"])))

    def entries(self, project, log="activity"):
        """The entries of PROJECT's LOG as Redis holds them: the stored form
        (without what entries:list derives: logName, resource, ...)."""
        rows = harness.redis_cmd(self.rport, "XRANGE",
                                 "rn:v1:audit:%s:%s" % (project, log), "-", "+")
        return [json.loads(dict(zip(f[::2], f[1::2]))[b"e"]) for _, f in rows or []]

    def listed(self, project, log="activity"):
        """The same entries as entries:list gives them (whole LogEntries),
        oldest first. (A read that Data Access logs may log itself.)"""
        out, tok = [], None
        for _ in range(100):
            body = {"resourceNames": ["projects/" + project], "pageSize": 1000,
                    "filter": 'logName="projects/%s/logs/cloudaudit.googleapis.com%%2F%s"'
                    % (project, log)}
            if tok:
                body["pageToken"] = tok
            js = self.assertOk(self.call("POST", "/v2/entries:list", body))
            out += js.get("entries", [])
            tok = js.get("nextPageToken")
            if not tok:
                return out
        self.fail("entries:list did not end")


class AuditTest(AuditCase):

    def test_every_admin_write_route_logs_one_entry(self):
        self.start()
        p = self.project()
        routes = json.loads(subprocess.run([harness.broker_path(), "--print-routes"],
                                           capture_output=True, text=True, check=True,
                                           timeout=30).stdout)
        admin_writes = {r["name"]: r for r in routes if r["audit"] == "ADMIN_WRITE"}
        for r in routes:
            self.assertIn(r["audit"], ("none", "ADMIN_WRITE", "ADMIN_READ", "DATA_READ",
                                       "DATA_WRITE"), r["name"])
            self.assertTrue(r["method_name"], r["name"])
        email = "audited-sa@%s.iam.regnotify" % p
        push = {"pushEndpoint": "http://127.0.0.1:9/push",
                "standardWebhooks": {"secret": SECRETS[0]},
                "hubSignature": {"secret": SECRETS[1]}}
        # (route, method, path, body, resourceName) in an order that works.
        calls = [
            ("topics.create", "PUT", "/v1/projects/%s/topics/aud-topic" % p, {},
             "projects/%s/topics/aud-topic" % p),
            ("topics.patch", "PATCH", "/v1/projects/%s/topics/aud-topic" % p,
             {"topic": {"labels": {"a": "b"}}, "updateMask": "labels"},
             "projects/%s/topics/aud-topic" % p),
            # Every entry from here on is exported too (greped below).
            ("sinks.create", "POST", "/v2/projects/%s/sinks" % p,
             {"name": "aud-sink", "filter": "severity>=NOTICE",
              "destination": "pubsub.googleapis.com/projects/%s/topics/aud-export" % p},
             "projects/%s/sinks/aud-sink" % p),
            ("subscriptions.create", "PUT", "/v1/projects/%s/subscriptions/aud-sub" % p,
             {"topic": "projects/%s/topics/aud-topic" % p, "pushConfig": push},
             "projects/%s/subscriptions/aud-sub" % p),
            ("subscriptions.patch", "PATCH", "/v1/projects/%s/subscriptions/aud-sub" % p,
             {"subscription": {"pushConfig": dict(push, authorization=SECRETS[2])},
              "updateMask": "pushConfig"}, "projects/%s/subscriptions/aud-sub" % p),
            ("subscriptions.modifyPushConfig", "POST",
             "/v1/projects/%s/subscriptions/aud-sub:modifyPushConfig" % p, {"pushConfig": {}},
             "projects/%s/subscriptions/aud-sub" % p),
            ("snapshots.create", "PUT", "/v1/projects/%s/snapshots/aud-snap" % p,
             {"subscription": "projects/%s/subscriptions/aud-sub" % p},
             "projects/%s/snapshots/aud-snap" % p),
            ("snapshots.patch", "PATCH", "/v1/projects/%s/snapshots/aud-snap" % p,
             {"snapshot": {"labels": {"k": "v"}}, "updateMask": "labels"},
             "projects/%s/snapshots/aud-snap" % p),
            ("snapshots.delete", "DELETE", "/v1/projects/%s/snapshots/aud-snap" % p, None,
             "projects/%s/snapshots/aud-snap" % p),
            ("projects.setIamPolicy", "POST", "/v1/projects/%s:setIamPolicy" % p,
             {"policy": {"bindings": []}}, "projects/%s" % p),
            ("topics.setIamPolicy", "POST", "/v1/projects/%s/topics/aud-topic:setIamPolicy" % p,
             {"policy": {"bindings": []}}, "projects/%s/topics/aud-topic" % p),
            ("subscriptions.setIamPolicy", "POST",
             "/v1/projects/%s/subscriptions/aud-sub:setIamPolicy" % p,
             {"policy": {"bindings": []}}, "projects/%s/subscriptions/aud-sub" % p),
            ("serviceAccounts.create", "POST", "/v1/projects/%s/serviceAccounts" % p,
             {"accountId": "audited-sa"}, "projects/%s/serviceAccounts/%s" % (p, email)),
            ("serviceAccounts.disable", "POST",
             "/v1/projects/%s/serviceAccounts/%s:disable" % (p, email), {},
             "projects/%s/serviceAccounts/%s" % (p, email)),
            ("serviceAccounts.enable", "POST",
             "/v1/projects/%s/serviceAccounts/%s:enable" % (p, email), {},
             "projects/%s/serviceAccounts/%s" % (p, email)),
            ("serviceAccounts.keys.create", "POST",
             "/v1/projects/%s/serviceAccounts/%s/keys" % (p, email), {},
             "projects/%s/serviceAccounts/%s" % (p, email)),
            ("serviceAccounts.keys.delete", "DELETE", None, None,
             "projects/%s/serviceAccounts/%s" % (p, email)),
            ("sinks.update", "PATCH",
             "/v2/projects/%s/sinks/aud-sink?updateMask=description" % p,
             {"description": "to the SIEM"}, "projects/%s/sinks/aud-sink" % p),
            ("sinks.delete", "DELETE", "/v2/projects/%s/sinks/aud-sink" % p, None,
             "projects/%s/sinks/aud-sink" % p),
            ("subscriptions.detach", "POST",
             "/v1/projects/%s/subscriptions/aud-sub:detach" % p, None,
             "projects/%s/subscriptions/aud-sub" % p),
            ("subscriptions.delete", "DELETE", "/v1/projects/%s/subscriptions/aud-sub" % p, None,
             "projects/%s/subscriptions/aud-sub" % p),
            ("topics.delete", "DELETE", "/v1/projects/%s/topics/aud-topic" % p, None,
             "projects/%s/topics/aud-topic" % p),
            ("serviceAccounts.delete", "DELETE",
             "/v1/projects/%s/serviceAccounts/%s" % (p, email), None,
             "projects/%s/serviceAccounts/%s" % (p, email)),
        ]
        self.assertEqual(sorted(c[0] for c in calls), sorted(admin_writes),
                         "every ADMIN_WRITE route is exercised (and only those)")
        key_data = None
        self.assertOk(self.call("PUT", "/v1/projects/%s/topics/aud-export" % p, {}))
        for name, method, path, body, res in calls:
            if name == "serviceAccounts.keys.delete":
                path = "/v1/projects/%s/serviceAccounts/%s/keys/%s" % (p, email, kid)
            before = len(self.entries(p))
            js = self.assertOk(self.call(method, path, body), name)
            if name == "serviceAccounts.keys.create":
                key_data = js["privateKeyData"]
                kid = json.loads(base64.b64decode(key_data))["private_key_id"]
            got = self.entries(p)
            self.assertEqual(len(got), before + 1, "%s: exactly one entry" % name)
            e = got[-1]
            pp = e["protoPayload"]
            route = admin_writes[name]
            self.assertEqual(pp["methodName"], route["method_name"], name)
            self.assertEqual(pp["resourceName"], res, name)
            self.assertEqual(pp["authenticationInfo"]["principalEmail"], "admin@regnotify.iam")
            self.assertEqual(pp["authorizationInfo"][0]["permission"], route["permission"], name)
            self.assertIs(pp["authorizationInfo"][0]["granted"], True)
            self.assertEqual(pp["requestMetadata"]["callerIp"], "127.0.0.1", name)
            self.assertEqual(pp["requestMetadata"]["callerSuppliedUserAgent"], "audit-test/1.0")
            self.assertNotIn("logName", e, "stored without what entries:list derives")
            self.assertEqual(e["severity"], "NOTICE")
            self.assertRegex(e["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        # entries:list gives each whole: what the stored form leaves out is
        # derived again from the log, the project and the entry.
        stored = {e["insertId"]: e for e in self.entries(p)}
        kinds = {"topics": "pubsub_topic", "subscriptions": "pubsub_subscription",
                 "serviceAccounts": "service_account"}
        listed = self.listed(p)
        self.assertEqual([e["insertId"] for e in listed], list(stored))
        for e in listed:
            pp, st = e["protoPayload"], stored[e["insertId"]]
            self.assertEqual(e["logName"],
                             "projects/%s/logs/cloudaudit.googleapis.com%%2Factivity" % p)
            self.assertEqual(e["receiveTimestamp"], e["timestamp"])
            self.assertEqual(pp["requestMetadata"]["requestAttributes"]["time"], e["timestamp"])
            self.assertEqual(pp["@type"], "type.googleapis.com/google.cloud.audit.AuditLog")
            self.assertIn(pp["serviceName"], ("pubsub.googleapis.com", "iam.googleapis.com",
                                              "logging.googleapis.com",
                                              "cloudresourcemanager.googleapis.com"))
            rn = pp["resourceName"].split("/")
            kind = kinds.get(rn[2], "project") if len(rn) > 3 else "project"
            self.assertEqual(e["resource"]["type"], kind, pp["resourceName"])
            self.assertEqual(e["resource"]["labels"]["project_id"], p)
            self.assertEqual(pp["authorizationInfo"][0]["resource"],
                             st["protoPayload"]["authorizationInfo"][0].get(
                                 "resource", pp["resourceName"]))
            for k in ("methodName", "resourceName", "authenticationInfo"):
                self.assertEqual(pp[k], st["protoPayload"][k])
        # A change that does not happen has an entry that says so: ERROR,
        # with the status of the answer, and no response.
        before = len(self.entries(p))
        self.assertError(self.call("DELETE", "/v1/projects/%s/topics/aud-topic" % p), 404,
                         "NOT_FOUND")
        self.assertOk(self.call("PUT", "/v1/projects/%s/topics/twice" % p, {}))
        self.assertError(self.call("PUT", "/v1/projects/%s/topics/twice" % p, {}), 409,
                         "ALREADY_EXISTS")
        got = self.entries(p)[before:]
        self.assertEqual([(e["severity"], e["protoPayload"].get("status", {}).get("code"),
                           e["protoPayload"]["methodName"].rsplit(".", 1)[1],
                           e["protoPayload"]["resourceName"]) for e in got],
                         [("ERROR", 5, "DeleteTopic", "projects/%s/topics/aud-topic" % p),
                          ("NOTICE", None, "CreateTopic", "projects/%s/topics/twice" % p),
                          ("ERROR", 6, "CreateTopic", "projects/%s/topics/twice" % p)])
        self.assertNotIn("response", got[2]["protoPayload"])
        self.assertTrue(got[2]["protoPayload"]["status"]["message"])
        # No secret, anywhere in the log or in what the sink exported.
        raw = json.dumps(self.entries(p))
        exported = harness.redis_cmd(self.rport, "XRANGE", "rn:v1:{%s/aud-export}:log" % p,
                                     "-", "+")
        self.assertGreaterEqual(len(exported), 10)
        raw_export = repr(exported)
        for s in SECRETS + [key_data[:40], "PRIVATE KEY"]:
            self.assertNotIn(s, raw)
            self.assertNotIn(s, raw_export)
        self.assertIn("REDACTED", raw)
        self.assertIn("REDACTED", raw_export)
        # Reads and data-plane calls are not Admin Activity.
        before = len(self.entries(p))
        self.assertOk(self.call("GET", "/v1/projects/%s/topics/twice" % p))
        self.assertOk(self.call("POST", "/v1/projects/%s/topics/twice:publish" % p,
                                {"messages": [{"data": "eA=="}]}))
        self.assertEqual(len(self.entries(p)), before)

    def test_entries_list(self):
        self.start()
        p = self.project()
        for t in ("la", "lb", "lc"):
            self.assertOk(self.call("PUT", "/v1/projects/%s/topics/log-%s" % (p, t), {}))
        self.assertOk(self.call("DELETE", "/v1/projects/%s/topics/log-lb" % p))

        def listing(body):
            body = dict({"resourceNames": ["projects/%s" % p]}, **body)
            return self.assertOk(self.call("POST", "/v2/entries:list", body))

        def methods(js):
            return [e["protoPayload"]["methodName"].rsplit(".", 1)[1] +
                    ":" + e["protoPayload"]["resourceName"].rsplit("/", 1)[1]
                    for e in js.get("entries", [])]

        self.assertEqual(methods(listing({})), ["CreateTopic:log-la", "CreateTopic:log-lb",
                                                "CreateTopic:log-lc", "DeleteTopic:log-lb"])
        self.assertEqual(methods(listing({"orderBy": "timestamp desc"}))[0],
                         "DeleteTopic:log-lb")
        # Paging: two by two, no entry twice or lost.
        page1 = listing({"pageSize": 2})
        page2 = listing({"pageSize": 2, "pageToken": page1["nextPageToken"]})
        self.assertEqual(methods(page1) + methods(page2), methods(listing({})))
        self.assertNotIn("nextPageToken", page2)
        # Filters.
        f = 'protoPayload.methodName="google.pubsub.v1.Publisher.DeleteTopic"'
        self.assertEqual(methods(listing({"filter": f})), ["DeleteTopic:log-lb"])
        self.assertEqual(methods(listing({"filter": "NOT " + f})),
                         ["CreateTopic:log-la", "CreateTopic:log-lb", "CreateTopic:log-lc"])
        f = ('protoPayload.resourceName:"log-la" OR protoPayload.resourceName:"log-lc"')
        self.assertEqual(methods(listing({"filter": f})),
                         ["CreateTopic:log-la", "CreateTopic:log-lc"])
        f = ('protoPayload.authenticationInfo.principalEmail="admin@regnotify.iam" AND '
             'resource.type="pubsub_topic" AND severity>=NOTICE')
        self.assertEqual(len(listing({"filter": f})["entries"]), 4)
        self.assertEqual(listing({"filter": 'timestamp>="2099-01-01T00:00:00Z"'}), {})
        self.assertEqual(len(listing({"filter": 'timestamp>="2000-01-01T00:00:00Z" '
                                                'logName:"activity"'})["entries"]), 4)
        for bad in ({"filter": "protoPayload.methodName="}, {"filter": "(a=b"},
                    {"orderBy": "severity"}, {"pageSize": 0}, {"resourceNames": []},
                    {"pageToken": "!!"}):
            with self.subTest(bad=bad):
                body = dict({"resourceNames": ["projects/%s" % p]}, **bad)
                self.assertError(self.call("POST", "/v2/entries:list", body), 400,
                                 "INVALID_ARGUMENT")
        # Who may read: a viewer yes, a publisher no, an owner of another project no.
        body = {"resourceNames": ["projects/%s" % p]}
        for aid, role, proj, want in (("log-viewer", "roles/viewer", p, 200),
                                      ("log-reader", "roles/logging.viewer", p, 200),
                                      ("log-pub", "roles/pubsub.publisher", p, 403),
                                      ("log-other", "roles/owner", self.project(), 403)):
            _, tok = self.account(proj, aid, role)
            st, _, raw = self.client.req("POST", "/v2/entries:list", body,
                                         headers={"Authorization": "Bearer " + tok})
            self.assertEqual(st, want, "%s: %r" % (role, raw[:200]))

    def test_cli_logs_read(self):
        self.start()
        p = self.project()
        self.assertOk(self.call("PUT", "/v1/projects/%s/topics/cli-topic" % p, {}))
        self.assertOk(self.call("PUT", "/v1/projects/%s/subscriptions/cd-trigger" % p,
                                {"topic": "projects/%s/topics/cli-topic" % p}))
        self.assertOk(self.call("DELETE", "/v1/projects/%s/subscriptions/cd-trigger" % p))
        cli = os.environ.get("REGNOTIFY", "/work/main/build/client/cli/regnotify")
        env = dict(os.environ, REGNOTIFY_BROKER=self.b.nng_url, REGNOTIFY_PROJECT=p,
                   REGNOTIFY_KEY_FILE=self.keyfile, HOME=self.env.tmp)
        env.pop("REGNOTIFY_TOKEN", None)

        def run(*args):
            r = subprocess.run([cli, "logs", "read"] + list(args), capture_output=True,
                               text=True, env=env, timeout=30)
            return r.returncode, r.stdout, r.stderr

        # "Who deleted this subscription, from where, when": one line.
        rc, out, err = run('protoPayload.methodName:DeleteSubscription '
                           'protoPayload.resourceName:"subscriptions/cd-trigger"')
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT[0-9:.]+Z NOTICE DeleteSubscription "
                         r"projects/%s/subscriptions/cd-trigger by admin@regnotify.iam from 127.0.0.1$"
                         % p)
        rc, out, err = run("--limit", "2", "--format", "json")
        self.assertEqual(rc, 0, err)
        js = json.loads(out)
        self.assertEqual([e["protoPayload"]["methodName"].rsplit(".", 1)[1] for e in js],
                         ["DeleteSubscription", "CreateSubscription"])
        rc, out, err = run("--freshness", "1ms")
        self.assertEqual((rc, out), (0, ""), err)
        rc, _, err = run("severity>=")
        self.assertEqual(rc, 1, err)
        self.assertIn("Invalid filter", err)
        rc, _, err = run("--limit", "0")
        self.assertEqual(rc, 2, err)

    def test_sigkill_during_admin_changes(self):
        self.start()
        p = self.project()
        acked = []
        stop = threading.Event()

        def writer():
            c = Client(self.b.port, timeout=5)
            try:
                for i in range(1000):
                    if stop.is_set():
                        return
                    st, _, _ = c.req("PUT", "/v1/projects/%s/topics/k-%04d" % (p, i), {},
                                     headers={"Authorization": "Bearer " + self.tok})
                    if st == 200:
                        acked.append("projects/%s/topics/k-%04d" % (p, i))
            except OSError:
                return
            finally:
                c.close()

        th = threading.Thread(target=writer)
        th.start()
        harness.wait_until(lambda: len(acked) >= 100, 30, what="100 acknowledged creates")
        self.b.kill9()
        stop.set()
        th.join(30)
        existing = {"projects/%s/topics/%s" % (p, m.decode()) for m in harness.redis_cmd(
            self.rport, "ZRANGE", "rn:v1:project:%s:topics" % p, 0, -1)}
        logged = {e["protoPayload"]["resourceName"] for e in self.entries(p)
                  if e["protoPayload"]["methodName"].endswith("CreateTopic") and
                  "status" not in e["protoPayload"]}
        self.assertGreaterEqual(len(acked), 100)
        self.assertTrue(set(acked) <= existing, "an acknowledged create is missing")
        self.assertEqual(existing, logged, "a change without its entry, or the reverse")


if __name__ == "__main__":
    harness.main()
