#!/usr/bin/env python3
"""Audit logs beyond Admin Activity (issue 11): Data Access entries only
where the project policy's auditConfigs turn them on (and not for an
exempted member), registry ingest as DATA_WRITE, Policy Denied entries for
refused calls, System Event entries for the broker's own deletions, reading
every log through entries:list (Data Access only with
logging.privateLogEntries.list), and log sinks that export matching entries
to a topic in the same step - also when another broker created the sink.
Run: python3 tests/integration/test_audit_logs.py"""

import base64
import json
import re
import time

import harness
import test_audit


def unb64(s):
    return base64.b64decode(s)


class AuditLogsTest(test_audit.AuditCase):

    def enable(self, p, log_types, exempted=()):
        pol = self.assertOk(self.call("POST", "/v1/projects/%s:getIamPolicy" % p, {}))
        cfgs = [{"logType": t} for t in log_types]
        if exempted:
            cfgs[0]["exemptedMembers"] = list(exempted)
        pol["auditConfigs"] = [{"service": "allServices", "auditLogConfigs": cfgs}]
        return self.assertOk(self.call("POST", "/v1/projects/%s:setIamPolicy" % p,
                                       {"policy": pol, "updateMask": "bindings,etag,auditConfigs"}))

    def methods(self, entries):
        return [e["protoPayload"]["methodName"].rsplit(".", 1)[1] for e in entries]

    def test_data_access_follows_audit_configs(self):
        self.start()
        p = self.project()
        self.create_topic(p, "da-topic")
        self.assertOk(self.call("GET", "/v1/projects/%s/topics/da-topic" % p))
        self.assertEqual(self.entries(p, "data_access"), [], "off by default")
        pol = self.enable(p, ["DATA_READ", "ADMIN_READ"])
        self.assertEqual(pol["auditConfigs"][0]["service"], "allServices")
        # getIamPolicy shows them; a mask without auditConfigs keeps them.
        pol = self.assertOk(self.call("POST", "/v1/projects/%s:getIamPolicy" % p, {}))
        self.assertEqual(len(pol["auditConfigs"][0]["auditLogConfigs"]), 2)
        kept = self.assertOk(self.call("POST", "/v1/projects/%s:setIamPolicy" % p, {
            "policy": {"bindings": pol.get("bindings", []), "etag": pol["etag"]},
            "updateMask": "bindings,etag"}))
        self.assertEqual(kept["auditConfigs"], pol["auditConfigs"])
        self.assertOk(self.call("GET", "/v1/projects/%s/topics/da-topic" % p))
        self.assertOk(self.call("GET", "/v1/projects/%s/topics" % p))
        self.assertOk(self.call("POST", "/v1/projects/%s:getIamPolicy" % p, {}))
        self.assertError(self.call("GET", "/v1/projects/%s/topics/none" % p), 404, "NOT_FOUND")
        harness.wait_until(lambda: len(self.entries(p, "data_access")) >= 5, 5,
                           what="five Data Access entries")
        got = self.entries(p, "data_access")
        # (The first: the getIamPolicy that read the auditConfigs back.)
        self.assertEqual(self.methods(got), ["GetIamPolicy", "GetTopic", "ListTopics",
                                             "GetIamPolicy", "GetTopic"])
        got = got[1:]
        e = got[0]
        self.assertEqual(e["severity"], "INFO")
        self.assertEqual(e["protoPayload"]["resourceName"], "projects/%s/topics/da-topic" % p)
        self.assertEqual(e["protoPayload"]["authenticationInfo"]["principalEmail"],
                         "admin@regnotify.iam")
        self.assertEqual(e["protoPayload"]["authorizationInfo"][0]["permission"],
                         "pubsub.topics.get")
        self.assertEqual(got[1]["protoPayload"]["resourceName"], "projects/%s" % p)
        self.assertEqual((got[3]["severity"], got[3]["protoPayload"]["status"]["code"]),
                         ("ERROR", 5))
        # Only the log types asked for: no DATA_WRITE entry for a publish
        # (never logged) and none of the Admin Activity kind here.
        self.publish(p, "da-topic", ["x"])
        # Exempted: the admin reads without entries; another caller has them.
        self.enable(p, ["DATA_READ"], exempted=["serviceAccount:admin@regnotify.iam"])
        n = len(self.entries(p, "data_access"))
        self.assertOk(self.call("GET", "/v1/projects/%s/topics/da-topic" % p))
        email, tok = self.account(p, "da-viewer", "roles/viewer")
        self.assertEqual(self.client.req("GET", "/v1/projects/%s/topics/da-topic" % p,
                                         headers={"Authorization": "Bearer " + tok})[0], 200)
        harness.wait_until(lambda: len(self.entries(p, "data_access")) > n, 5,
                           what="the viewer's entry")
        time.sleep(0.3)
        new = self.entries(p, "data_access")[n:]
        self.assertEqual([x["protoPayload"]["authenticationInfo"]["principalEmail"]
                          for x in new], [email])
        # Bad auditConfigs and auditConfigs off a project are refused.
        for bad in ([{"service": "allServices", "auditLogConfigs": [{"logType": "ALL"}]}],
                    [{"service": "not a service"}], {"x": 1},
                    [{"service": "allServices", "auditLogConfigs": [
                        {"logType": "DATA_READ", "exemptedMembers": ["root"]}]}]):
            with self.subTest(bad=bad):
                self.assertError(self.call("POST", "/v1/projects/%s:setIamPolicy" % p, {
                    "policy": {"auditConfigs": bad}, "updateMask": "auditConfigs"}),
                    400, "INVALID_ARGUMENT")
        self.assertError(self.call("POST", "/v1/projects/%s/topics/da-topic:setIamPolicy" % p, {
            "policy": {"auditConfigs": [{"service": "allServices",
                                         "auditLogConfigs": [{"logType": "DATA_READ"}]}]}}),
            400, "INVALID_ARGUMENT")
        self.assertError(self.call("POST", "/v1/projects/%s:setIamPolicy" % p, {
            "policy": {}, "updateMask": "bindings,owner"}), 400, "INVALID_ARGUMENT")
        # Data Access is readable with privateLogEntries.list only: a viewer
        # gets the other logs, and a 403 when it asks for this one.
        body = {"resourceNames": ["projects/%s" % p]}
        st, js, raw = self.client.req("POST", "/v2/entries:list", body,
                                      headers={"Authorization": "Bearer " + tok})
        self.assertEqual(st, 200, raw)
        logs = {e["logName"].rsplit("%2F", 1)[1] for e in js["entries"]}
        self.assertNotIn("data_access", logs)
        self.assertIn("activity", logs)
        st, _, raw = self.client.req("POST", "/v2/entries:list", dict(
            body, filter='logName="projects/%s/logs/cloudaudit.googleapis.com%%2Fdata_access"'
            % p), headers={"Authorization": "Bearer " + tok})
        self.assertEqual(st, 403, raw)
        js = self.assertOk(self.call("POST", "/v2/entries:list", dict(body, pageSize=1000)))
        logs = [e["logName"].rsplit("%2F", 1)[1] for e in js["entries"]]
        self.assertIn("data_access", logs)
        # Merged in the order Redis stored them (stream ids: the write time).
        stored = []  # (stream id, log's place, insertId): equal ids go in the logs' order
        for n, log in enumerate(("activity", "data_access", "system_event", "policy")):
            rows = harness.redis_cmd(self.rport, "XRANGE", "rn:v1:audit:%s:%s" % (p, log),
                                     "-", "+") or []
            stored += [(tuple(int(x) for x in rid.split(b"-")), n,
                        json.loads(dict(zip(f[::2], f[1::2]))[b"e"])["insertId"])
                       for rid, f in rows]
        self.assertEqual([e["insertId"] for e in js["entries"]],
                         [i for _, _, i in sorted(stored)][:len(js["entries"])])

    def test_registry_ingest_is_data_write(self):
        self.start()
        p = self.project()
        ev = {"action": "push", "repository": "%s/app" % p, "tag": "v1", "id": "evt-da-1",
              "digest": "sha256:" + "a" * 64}
        hdr = {"Content-Type": "application/json"}
        self.assertOk(self.req("POST", "/v1/registry/events", raw=json.dumps(ev), headers=hdr))
        self.assertEqual(self.entries(p, "data_access"), [])
        self.enable(p, ["DATA_WRITE"])
        ev["id"] = "evt-da-2"
        self.assertOk(self.req("POST", "/v1/registry/events", raw=json.dumps(ev), headers=hdr))
        harness.wait_until(lambda: self.entries(p, "data_access"), 5, what="the ingest entry")
        e = self.entries(p, "data_access")[0]
        pp = e["protoPayload"]
        self.assertEqual(pp["methodName"], "regnotify.v1.Registry.NotifyEvents")
        self.assertEqual(pp["serviceName"], "containerregistry.googleapis.com")
        self.assertEqual(pp["authenticationInfo"]["principalEmail"], "admin@regnotify.iam")
        self.assertEqual(pp["request"]["events"][0]["id"], "evt-da-2")
        self.assertEqual(pp["request"]["events"][0]["repository"], "%s/app" % p)

    def test_policy_denied(self):
        self.start()
        p = self.project()
        email, tok = self.account(p, "no-roles")
        st, _, _ = self.client.req("PUT", "/v1/projects/%s/topics/denied" % p, {},
                                   headers={"Authorization": "Bearer " + tok})
        self.assertEqual(st, 403)
        got = self.entries(p, "policy")
        self.assertEqual(len(got), 1)
        e = got[0]
        pp = e["protoPayload"]
        self.assertEqual([x["logName"] for x in self.listed(p, "policy")],
                         ["projects/%s/logs/cloudaudit.googleapis.com%%2Fpolicy" % p])
        self.assertEqual(pp["status"]["code"], 7)
        self.assertEqual(pp["methodName"], "google.pubsub.v1.Publisher.CreateTopic")
        self.assertEqual(pp["resourceName"], "projects/%s/topics/denied" % p)
        self.assertEqual(pp["authenticationInfo"]["principalEmail"], email)
        self.assertEqual(pp["authorizationInfo"], [{"resource": "projects/%s" % p,
                                                    "permission": "pubsub.topics.create",
                                                    "granted": False}])
        # A call without a valid credential is not written (anonymous
        # callers cannot write to Redis); nothing else changed either.
        st, _, _ = self.client.req("PUT", "/v1/projects/%s/topics/anon" % p, {})
        self.assertEqual(st, 401)
        self.assertEqual(len(self.entries(p, "policy")), 1)
        self.assertError(self.call("GET", "/v1/projects/%s/topics/denied" % p), 404,
                         "NOT_FOUND")
        self.assertNotIn("projects/%s/topics/denied" % p,
                         [e["protoPayload"]["resourceName"] for e in self.entries(p)])
        # A storm of refusals is capped at a rate: each refusal is written
        # or counted as suppressed, never both, never neither.
        for _ in range(600):
            self.client.req("GET", "/v1/projects/%s/topics" % p,
                            headers={"Authorization": "Bearer " + tok})

        def suppressed():
            st, _, raw = self.client.req("GET", "/metrics", headers={
                "Authorization": "Bearer " + self.tok})
            self.assertEqual(st, 200)
            return int(re.search(rb"regnotify_audit_denied_suppressed_total (\d+)", raw).group(1))
        harness.wait_until(lambda: len(self.entries(p, "policy")) + suppressed() == 601, 5,
                           what="every refusal written or counted")
        self.assertGreater(suppressed(), 0)

    def test_system_events(self):
        self.start(["--retention-interval", "1s"])
        p = self.project()
        self.create_topic(p, "sys-topic", {"messageRetentionDuration": "600s"})
        self.create_sub(p, "sys-sub", "sys-topic", expirationPolicy={"ttl": "86400s"})
        # A subscription idle for longer than its ttl, a message past retention.
        harness.redis_cmd(self.rport, "HSET", "rn:v1:sub:{%s/sys-sub}" % p, "last",
                          str(int(time.time() * 1000) - 2 * 86400 * 1000))
        harness.redis_cmd(self.rport, "XADD", "rn:v1:{%s/sys-topic}:log" % p,
                          "%d-0" % (int(time.time() * 1000) - 3600 * 1000), "d", "old")
        harness.wait_until(lambda: len(self.entries(p, "system_event")) >= 2, 10,
                           what="two System Event entries")
        got = sorted(self.entries(p, "system_event"),
                     key=lambda e: e["protoPayload"]["methodName"])
        self.assertEqual([(e["protoPayload"]["methodName"], e["protoPayload"]["resourceName"])
                          for e in got],
                         [("google.pubsub.v1.Subscriber.InternalExpireInactiveSubscription",
                           "projects/%s/subscriptions/sys-sub" % p),
                          ("regnotify.v1.Internal.DeleteExpiredMessages",
                           "projects/%s/topics/sys-topic" % p)])
        self.assertEqual({x["logName"] for x in self.listed(p, "system_event")},
                         {"projects/%s/logs/cloudaudit.googleapis.com%%2Fsystem_event" % p})
        self.assertEqual(got[0]["protoPayload"]["authenticationInfo"], {})
        self.assertError(self.call("GET", "/v1/projects/%s/subscriptions/sys-sub" % p), 404,
                         "NOT_FOUND")
        time.sleep(2.5)  # later sweeps that delete nothing write nothing
        self.assertEqual(len(self.entries(p, "system_event")), 2)

    def sink(self, p, name, topic, filt=None):
        body = {"name": name, "destination": "pubsub.googleapis.com/projects/%s/topics/%s"
                % (p, topic)}
        if filt is not None:
            body["filter"] = filt
        return self.call("POST", "/v2/projects/%s/sinks" % p, body)

    def test_sinks_export_matching_entries(self):
        self.start()
        p = self.project()
        self.create_topic(p, "audit")
        self.create_sub(p, "siem", "audit")
        js = self.assertOk(self.sink(p, "creates", "audit",
                                     'protoPayload.methodName="google.pubsub.v1.Publisher.'
                                     'CreateTopic"'))
        self.assertEqual(js["name"], "creates")
        self.assertRegex(js["createTime"], r"Z$")
        self.create_topic(p, "top1")
        self.create_topic(p, "top2")
        self.assertOk(self.call("DELETE", "/v1/projects/%s/topics/top1" % p))
        rms = self.pull_until(p, "siem", 2, timeout=5)
        time.sleep(0.3)
        rms += self.pull(p, "siem")
        got = [json.loads(unb64(r["message"]["data"])) for r in rms]
        self.assertEqual([e["protoPayload"]["resourceName"] for e in got],
                         ["projects/%s/topics/top1" % p, "projects/%s/topics/top2" % p])
        logged = {e["insertId"]: e for e in self.listed(p)}
        for r, e in zip(rms, got):
            self.assertEqual(logged[e["insertId"]], e, "the message is the LogEntry itself")
            self.assertEqual(r["message"]["attributes"]["logging.googleapis.com/timestamp"],
                             e["timestamp"])
        # CRUD: get, list, update with a mask, errors, delete.
        self.assertEqual(self.assertOk(self.call("GET", "/v2/projects/%s/sinks/creates" % p))
                         ["filter"], js["filter"])
        self.assertOk(self.sink(p, "all", "audit"))
        names = [s["name"] for s in self.assertOk(
            self.call("GET", "/v2/projects/%s/sinks" % p))["sinks"]]
        self.assertEqual(names, ["all", "creates"])
        up = self.assertOk(self.call("PATCH", "/v2/projects/%s/sinks/all?updateMask=filter" % p,
                                     {"filter": 'resource.type="pubsub_subscription"',
                                      "description": "ignored: not in the mask"}))
        self.assertEqual(up["filter"], 'resource.type="pubsub_subscription"')
        self.assertNotIn("description", up)
        self.assertError(self.sink(p, "all", "audit"), 409, "ALREADY_EXISTS")
        for bad in ({"name": "x", "destination": "storage.googleapis.com/bucket"},
                    {"name": "x", "destination": "pubsub.googleapis.com/projects/%s/topics/a"
                     % p, "filter": "severity>="},
                    {"name": "bad name", "destination": "pubsub.googleapis.com/projects/"
                     "%s/topics/a" % p},
                    {"name": "x", "destination": "pubsub.googleapis.com/projects/%s/topics/a"
                     % p, "unknownField": 1},
                    {"name": "x"}):
            with self.subTest(bad=bad):
                self.assertError(self.call("POST", "/v2/projects/%s/sinks" % p, bad), 400,
                                 "INVALID_ARGUMENT")
        self.assertError(self.call("PATCH", "/v2/projects/%s/sinks/all?updateMask=name" % p,
                                   {"name": "y"}), 400, "INVALID_ARGUMENT")
        # A mask that clears the destination would leave a sink with nowhere to go.
        self.assertError(self.call("PATCH",
                                   "/v2/projects/%s/sinks/all?updateMask=destination" % p, {}),
                         400, "INVALID_ARGUMENT")
        self.assertError(self.call("GET", "/v2/projects/%s/sinks/none" % p), 404, "NOT_FOUND")
        # A caller that may create sinks but not publish to the topic may not
        # send the project's audit log there.
        _, tok = self.account(p, "sink-writer", "roles/logging.configWriter")
        st, _, raw = self.client.req("POST", "/v2/projects/%s/sinks" % p, {
            "name": "sneaky", "destination": "pubsub.googleapis.com/projects/%s/topics/audit"
            % p}, headers={"Authorization": "Bearer " + tok})
        self.assertEqual(st, 403, raw)
        # The sinks' own changes are Admin Activity.
        self.assertIn("CreateSink", self.methods(self.entries(p)))
        self.assertIn("UpdateSink", self.methods(self.entries(p)))
        self.assertOk(self.call("DELETE", "/v2/projects/%s/sinks/creates" % p))
        self.assertOk(self.call("DELETE", "/v2/projects/%s/sinks/all" % p))
        self.assertError(self.call("DELETE", "/v2/projects/%s/sinks/all" % p), 404, "NOT_FOUND")
        for r in self.pull(p, "siem"):
            self.ack(p, "siem", [r["ackId"]])
        self.create_topic(p, "top3")
        time.sleep(0.3)
        self.assertEqual(self.pull(p, "siem"), [], "a deleted sink exports nothing")

    def test_sink_made_on_another_broker(self):
        """Broker 2 writes entries before and after broker 1 creates a sink:
        the first entry after it is exported (the sinks version check)."""
        self.start()
        p = self.project()
        b2 = self.env.start_broker(self.rport, extra=["--auth", "required"])
        c2 = harness.Client(b2.port)
        self.addCleanup(c2.close)
        h = {"Authorization": "Bearer " + self.tok}
        self.create_topic(p, "exported")
        self.create_sub(p, "reader", "exported")
        self.assertOk(c2.req("PUT", "/v1/projects/%s/topics/before" % p, {}, headers=h))
        self.assertOk(self.sink(p, "to-exported", "exported"))
        self.assertOk(c2.req("PUT", "/v1/projects/%s/topics/after" % p, {}, headers=h))
        rms = self.pull_until(p, "reader", 1, timeout=5)
        got = [json.loads(unb64(r["message"]["data"]))["protoPayload"]["resourceName"]
               for r in rms]
        self.assertEqual(got, ["projects/%s/topics/after" % p])


if __name__ == "__main__":
    harness.main()
