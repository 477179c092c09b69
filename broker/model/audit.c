/* audit.c - the LogEntry / AuditLog shape of Cloud Audit Logs. */
#include "audit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const log_ids[] = {
	"cloudaudit.googleapis.com%2Factivity",
	"cloudaudit.googleapis.com%2Fdata_access",
	"cloudaudit.googleapis.com%2Fsystem_event",
};

void audit_time(int64_t us, char *buf, size_t n)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char day[24];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%06dZ", day, (int)(us % 1000000));
}

static int secret_key(const char *k)
{
	static const char *const names[] = { "secret",         "authorization", "password",
					     "privateKeyData", "private_key",   "token",
					     "access_token" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

json_t *audit_redact(json_t *v)
{
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			if (secret_key(k) && !json_is_object(x) && !json_is_array(x))
				json_object_set_new(out, k, json_string("REDACTED"));
			else
				json_object_set_new(out, k, audit_redact(x));
		}
		return out;
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) json_array_append_new(out, audit_redact(x));
		return out;
	}
	return json_deep_copy(v);
}

/* The monitored resource of a resource name. */
static json_t *monitored(const struct audit_call *a)
{
	const char *r = a->resource_name ? a->resource_name : "";
	const char *p = a->project ? a->project : "";
	if (strstr(r, "/topics/"))
		return json_pack("{s:s,s:{s:s,s:s}}", "type", "pubsub_topic", "labels",
				 "project_id", p, "topic_id", r);
	if (strstr(r, "/subscriptions/"))
		return json_pack("{s:s,s:{s:s,s:s}}", "type", "pubsub_subscription", "labels",
				 "project_id", p, "subscription_id", r);
	if (strstr(r, "/serviceAccounts/")) {
		const char *e = strstr(r, "/serviceAccounts/") + 17;
		char email[300];
		snprintf(email, sizeof(email), "%.*s", (int)strcspn(e, "/"), e);
		return json_pack("{s:s,s:{s:s,s:s}}", "type", "service_account", "labels",
				 "project_id", p, "email_id", email);
	}
	return json_pack("{s:s,s:{s:s}}", "type", "project", "labels", "project_id", p);
}

/* v with its "@type" first. */
static json_t *typed(json_t *v, const char *type)
{
	json_t *out = json_object();
	if (type)
		json_object_set_new(out, "@type", json_sprintf("type.googleapis.com/%s", type));
	json_t *red = audit_redact(v);
	json_object_update(out, red);
	json_decref(red);
	return out;
}

json_t *audit_entry(const struct audit_call *a)
{
	char ts[40], logname[200];
	audit_time(a->time_us, ts, sizeof(ts));
	snprintf(logname, sizeof(logname), "projects/%s/logs/%s", a->project ? a->project : "-",
		 log_ids[a->log]);
	json_t *pp = json_pack("{s:s,s:s,s:s,s:s}", "@type",
			       "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName",
			       a->service ? a->service : "pubsub.googleapis.com", "methodName",
			       a->method_name ? a->method_name : "", "resourceName",
			       a->resource_name ? a->resource_name : "");
	json_t *authn = json_object();
	if (a->principal && a->principal[0]) {
		const char *colon = strchr(a->principal, ':');
		json_object_set_new(
			authn, "principalEmail",
			json_string(colon && strncmp(a->principal, "serviceAccount:", 15) == 0
					    ? colon + 1
					    : a->principal));
	}
	json_object_set_new(pp, "authenticationInfo", authn);
	if (a->permission && a->permission[0])
		json_object_set_new(pp, "authorizationInfo",
				    json_pack("[{s:s,s:s,s:b}]", "resource",
					      a->resource_name ? a->resource_name : "",
					      "permission", a->permission, "granted", a->granted));
	json_t *rm = json_pack("{s:{s:s}}", "requestAttributes", "time", ts);
	if (a->caller_ip && a->caller_ip[0]) {
		/* "ip:port" and "[v6]:port" as the transports give them: the ip. */
		char ip[80];
		const char *s = a->caller_ip;
		if (s[0] == '[')
			snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(s + 1, "]"), s + 1);
		else if (strchr(s, ':') == strrchr(s, ':'))
			snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(s, ":"), s);
		else
			snprintf(ip, sizeof(ip), "%s", s);
		json_object_set_new(rm, "callerIp", json_string(ip));
	}
	if (a->user_agent && a->user_agent[0])
		json_object_set_new(rm, "callerSuppliedUserAgent", json_string(a->user_agent));
	json_object_set_new(pp, "requestMetadata", rm);
	if (a->request)
		json_object_set_new(pp, "request", typed(a->request, a->request_type));
	if (a->response)
		json_object_set_new(pp, "response", typed(a->response, a->response_type));
	if (a->status_code)
		json_object_set_new(pp, "status",
				    json_pack("{s:i,s:s}", "code", a->status_code, "message",
					      a->status_message ? a->status_message : ""));
	const char *sev = a->status_code ? "ERROR" : a->write ? "NOTICE" : "INFO";
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "insertId",
			 a->insert_id ? a->insert_id : "", "logName", logname, "timestamp", ts,
			 "receiveTimestamp", ts, "severity", sev, "resource", monitored(a),
			 "protoPayload", pp);
}
