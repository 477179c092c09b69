#!/usr/bin/env python3
"""The access-control matrix (issue 10), generated from the broker's own
route table (regnotifyd --print-routes): every route x {no credential,
each basic role, each pubsub role, a principal whose binding is on another
project} -> expected 2xx-or-other / 401 / 403, where the expectation comes
from the roles table of docs/security.md (written out again here, not taken
from the broker). A denied call changes nothing (the state, read as the
admin, is the same before and after every denied call). A route the broker
has and this test does not know how to call fails the test.
Run: python3 tests/integration/test_auth_matrix.py"""

import base64
import json
import os
import subprocess
import time

import harness
import jwtutil
from harness import Client

# docs/security.md, "Roles": permission patterns, '-' takes away.
ROLES = {
    "roles/owner": ["*"],
    "roles/editor": ["*", "-*IamPolicy", "-logging.privateLogEntries.list"],
    "roles/viewer": ["pubsub.*.get", "pubsub.*.list", "resourcemanager.projects.get",
                     "pubsub.subscriptions.consume", "iam.serviceAccounts.get",
                     "iam.serviceAccounts.list", "iam.serviceAccountKeys.get",
                     "iam.serviceAccountKeys.list", "regnotify.images.list",
                     "regnotify.metrics.get", "regnotify.subscriptions.tail",
                     "logging.logEntries.list", "logging.sinks.get", "logging.sinks.list"],
    "roles/pubsub.admin": ["pubsub.*", "resourcemanager.projects.get"],
    "roles/pubsub.editor": ["pubsub.*", "-*IamPolicy", "resourcemanager.projects.get"],
    "roles/pubsub.publisher": ["pubsub.topics.publish"],
    "roles/pubsub.subscriber": ["pubsub.subscriptions.consume", "pubsub.snapshots.seek",
                                "pubsub.topics.attachSubscription"],
    "roles/pubsub.viewer": ["pubsub.*.get", "pubsub.*.list", "resourcemanager.projects.get"],
}


def glob(pat, s):
    if "*" not in pat:
        return pat == s
    pre, post = pat.split("*", 1)
    return len(s) >= len(pre) + len(post) and s.startswith(pre) and s.endswith(post)


def grants(role, perm):
    ok = False
    for p in ROLES[role]:
        if p.startswith("-"):
            if glob(p[1:], perm):
                ok = False
        elif glob(p, perm):
            ok = True
    return ok


def read(path):
    with open(path) as f:
        return f.read()


class MatrixTest(harness.BrokerTestCase):
    START_BROKER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keyfile_path = cls.cenv.path("admin.json")
        cls.b = cls.cenv.start_broker(cls.redis.port, extra=[
            "--auth", "required", "--admin-key-file", cls.keyfile_path])
        harness.wait_until(lambda: os.path.exists(cls.keyfile_path), 10, what="the key file")
        time.sleep(0.2)
        cls.admin = json.loads(read(cls.keyfile_path))
        cls.client = Client(cls.b.port)
        cls.addClassCleanup(cls.client.close)
        out = subprocess.run([harness.broker_path(), "--print-routes"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
        cls.routes = json.loads(out)

    def call(self, method, path, body=None, token=None):
        h = {"Authorization": "Bearer " + token} if token else {}
        return self.client.req(method, path, body=body, headers=h)

    _admin_token = None

    def admin_call(self, method, path, body=None):
        if MatrixTest._admin_token is None:
            MatrixTest._admin_token = jwtutil.self_signed(self.admin)
        return self.call(method, path, body, MatrixTest._admin_token)

    def account(self, p, aid, role=None):
        self.assertOk(self.admin_call("POST", "/v1/projects/%s/serviceAccounts" % p,
                                      {"accountId": aid}))
        email = "%s@%s.iam.regnotify" % (aid, p)
        js = self.assertOk(self.admin_call("POST", "/v1/projects/%s/serviceAccounts/%s/keys"
                                           % (p, email), {}))
        kf = json.loads(base64.b64decode(js["privateKeyData"]))
        if role:
            pol = self.assertOk(self.admin_call("POST", "/v1/projects/%s:getIamPolicy" % p, {}))
            b = pol.get("bindings", []) + [{"role": role, "members": ["serviceAccount:" + email]}]
            self.assertOk(self.admin_call("POST", "/v1/projects/%s:setIamPolicy" % p,
                                          {"policy": {"bindings": b, "etag": pol["etag"]}}))
        return kf

    def snapshot(self, p):
        """The state a denied call must not change, as the admin sees it."""
        paths = ["/v1/projects/%s/topics" % p, "/v1/projects/%s/subscriptions" % p,
                 "/v1/projects/%s/topics/mt-topic" % p, "/v1/projects/%s/subscriptions/mt-sub" % p,
                 "/v1/projects/%s/serviceAccounts" % p,
                 "/v1/projects/%s/serviceAccounts/%s/keys" % (p, self.target),
                 "/v2/projects/%s/sinks" % p]
        state = [self.admin_call("GET", x)[1] for x in paths]
        for res in ("projects/%s" % p, "projects/%s/topics/mt-topic" % p,
                    "projects/%s/subscriptions/mt-sub" % p):
            state.append(self.admin_call("POST", "/v1/%s:getIamPolicy" % res, {})[1])
        return json.dumps(state, sort_keys=True)

    def request_for(self, route, p, who):
        """(method, path, body) that exercises ROUTE; names unique per WHO
        where a call that passes the gate would create or delete."""
        n = route["name"]
        pat = route["pattern"]
        m = route["methods"][0]
        t, s, sa = "mt-topic", "mt-sub", self.target
        topic = "projects/%s/topics/%s" % (p, t)
        vals = {
            "topics.list": (None,), "topics.get": (t,), "topics.patch": (t,),
            "topics.delete": ("gone-" + who,), "topics.create": ("new-" + who,),
            "topics.publish": (t,), "topics.subscriptions.list": (t,),
            "topics.snapshots.list": (t,),
            # A subscription that does not exist: the topic's permission falls back to the
            # project (an allowed call gets 404 and detaches nothing the matrix needs).
            "subscriptions.detach": ("gone-" + who,),
            "snapshots.create": ("snap-" + who.lower(),), "snapshots.get": ("mt-snap",),
            "snapshots.list": (None,), "snapshots.patch": ("mt-snap",),
            "snapshots.delete": ("gone-" + who,),
            "subscriptions.list": (None,), "subscriptions.get": (s,),
            "subscriptions.create": ("new-" + who,), "subscriptions.patch": (s,),
            "subscriptions.delete": ("gone-" + who,), "subscriptions.pull": (s,),
            "subscriptions.acknowledge": (s,), "subscriptions.modifyAckDeadline": (s,),
            "subscriptions.modifyPushConfig": (s,), "subscriptions.seek": (s,),
            "images.recentlyPulled": (None,), "images.reanalyze": (None,),
            "projects.getIamPolicy": (None,), "projects.setIamPolicy": (None,),
            "projects.testIamPermissions": (None,),
            "topics.getIamPolicy": (t,), "topics.setIamPolicy": (t,),
            "topics.testIamPermissions": (t,),
            "subscriptions.getIamPolicy": (s,), "subscriptions.setIamPolicy": (s,),
            "subscriptions.testIamPermissions": (s,),
            "serviceAccounts.create": (None,), "serviceAccounts.list": (None,),
            "serviceAccounts.get": (sa,), "serviceAccounts.delete": ("gone-%s@%s.iam.regnotify"
                                                                     % (who, p),),
            "serviceAccounts.disable": ("gone-%s@%s.iam.regnotify" % (who, p),),
            "serviceAccounts.enable": ("gone-%s@%s.iam.regnotify" % (who, p),),
            "serviceAccounts.keys.create": ("gone-%s@%s.iam.regnotify" % (who, p),),
            "serviceAccounts.keys.list": (sa,),
            "serviceAccounts.keys.get": (sa, "0" * 40),
            "serviceAccounts.keys.delete": (sa, "0" * 40),
            "sinks.create": (None,), "sinks.list": (None,), "sinks.get": ("mt-sink",),
            "sinks.update": ("mt-sink",), "sinks.delete": ("gone-" + who,),
        }
        bodies = {
            "topics.patch": {"topic": {"labels": {"x": who.lower()}}, "updateMask": "labels"},
            "topics.publish": {"messages": [{"data": "eA=="}]},
            "subscriptions.create": {"topic": topic},
            "subscriptions.patch": {"subscription": {"ackDeadlineSeconds": 30},
                                    "updateMask": "ackDeadlineSeconds"},
            "subscriptions.pull": {"maxMessages": 1, "returnImmediately": True},
            "subscriptions.acknowledge": {"ackIds": ["x"]},
            "subscriptions.modifyAckDeadline": {"ackIds": ["x"], "ackDeadlineSeconds": 10},
            "subscriptions.modifyPushConfig": {"pushConfig": {}},
            "subscriptions.seek": {"time": "2020-01-01T00:00:00Z"},
            "snapshots.create": {"subscription": "projects/%s/subscriptions/%s" % (p, s)},
            "snapshots.patch": {"snapshot": {"labels": {"x": "y"}}, "updateMask": "labels"},
            "projects.setIamPolicy": {"policy": {"bindings": [], "etag": "stale"}},
            "topics.setIamPolicy": {"policy": {"bindings": [], "etag": "stale"}},
            "subscriptions.setIamPolicy": {"policy": {"bindings": [], "etag": "stale"}},
            "serviceAccounts.create": {"accountId": ("made-" + who.lower())[:30]},
            "sinks.create": {"name": "made-" + who,
                             "destination": "pubsub.googleapis.com/" + topic},
            "sinks.update": {"description": "by " + who},
        }
        if n == "entries.list":
            return m, pat, {"resourceNames": ["projects/%s" % p]}
        if n in ("healthz", "readyz", "metrics", "registry.distribution", "registry.events",
                 "token", "jwks"):
            body = {"events": []} if n.startswith("registry.") else None
            return m, pat, body
        self.assertIn(n, vals, "route %s is not in the matrix: add how to call it" % n)
        path = pat.replace("{}", p, 1)
        for v in vals[n]:
            if v is not None:
                path = path.replace("{}", v, 1)
        self.assertNotIn("{}", path, n)
        body = bodies.get(n)
        if body is None and m in ("POST", "PUT", "PATCH"):
            body = {}
        return m, path, body

    def expected(self, route, role, body=None):
        """'open', 'unauth' or 'deny' / 'allow' for a principal with ROLE on the
        project (None: anonymous; 'other': a binding on another project)."""
        perm = route.get("permission") or ""
        if perm == "":
            return "open"
        if role is None:
            return "unauth"
        if role == "other" or route.get("resource") == "global":
            return "deny"
        ok = grants(role, perm)
        # The second permission applies when the body names its resource ("body.snapshot":
        # only a seek to a snapshot needs pubsub.snapshots.seek).
        field = (route.get("also_resource") or "").split(".", 1)[-1]
        if ok and route.get("also_permission") and field in (body or {}):
            ok = grants(role, route["also_permission"])
        return "allow" if ok else "deny"

    def test_matrix(self):
        p = self.project()
        other = self.project()
        self.assertOk(self.admin_call("PUT", "/v1/projects/%s/topics/mt-topic" % p, {}))
        self.assertOk(self.admin_call("PUT", "/v1/projects/%s/subscriptions/mt-sub" % p,
                                      {"topic": "projects/%s/topics/mt-topic" % p}))
        self.target = "mt-target@%s.iam.regnotify" % p
        self.account(p, "mt-target")
        principals = {"anonymous": None, "other": "other"}
        tokens = {"anonymous": None}
        for i, role in enumerate(sorted(ROLES)):
            who = "p%d" % i
            principals[who] = role
            tokens[who] = jwtutil.self_signed(self.account(p, "principal-%d" % i, role))
        tokens["other"] = jwtutil.self_signed(self.account(other, "outsider", "roles/owner"))
        http_routes = [r for r in self.routes if r["http"]]
        self.assertGreater(len(http_routes), 40)
        for r in self.routes:
            self.assertIn("permission", r, "route %s has no permission" % r["name"])
        failures = []
        for r in http_routes:
            for who, role in principals.items():
                m, path, body = self.request_for(r, p, who)
                exp = self.expected(r, role, body)
                before = self.snapshot(p) if exp in ("deny", "unauth") else None
                st, js, raw = self.call(m, path, body, tokens[who])
                got = {401: "unauth", 403: "deny"}.get(st, "allow")
                want = {"open": "allow"}.get(exp, exp)
                if got != want:
                    failures.append("%s %s as %s (%s): want %s, got %d %s" % (
                        m, r["name"], who, role, want, st, raw[:120]))
                if before is not None and self.snapshot(p) != before:
                    failures.append("denied %s as %s changed the state" % (r["name"], who))
        self.assertEqual(failures, [], "\n".join(failures))


if __name__ == "__main__":
    harness.main()
