/* audit.c - the LogEntry / AuditLog shape of Cloud Audit Logs. */
#include "audit.h"

#include "mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const log_ids[] = {
	"cloudaudit.googleapis.com%2Factivity",
	"cloudaudit.googleapis.com%2Fdata_access",
	"cloudaudit.googleapis.com%2Fsystem_event",
	"cloudaudit.googleapis.com%2Fpolicy",
};

/* "projects/P/logs/cloudaudit.googleapis.com%2F..." into buf. */
static void log_name(const char *project, enum audit_log_name log, char *buf, size_t n)
{
	snprintf(buf, n, "projects/%s/logs/%s", project ? project : "-", log_ids[log]);
}

int audit_log_by_id(const char *id)
{
	for (size_t i = 0; i < sizeof(log_ids) / sizeof(log_ids[0]); i++)
		if (strcmp(id, log_ids[i] + strlen("cloudaudit.googleapis.com%2F")) == 0)
			return (int)i;
	return -1;
}

/* v as w decimal digits at p (zero-padded). */
static char *digits(char *p, long v, int w)
{
	for (int i = w - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + w;
}

void audit_time(int64_t us, char *buf, size_t n)
{
	if (us < 0)
		us = 0;
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	if (n < 28 || tm.tm_year + 1900 > 9999) {
		char day[40];
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, n, "%s.%06dZ", day, (int)(us % 1000000));
		return;
	}
	/* 2026-12-03T10:00:00.123456Z, without strftime and printf (one per
	 * audit entry, on the admin write path). */
	char *p = buf;
	p = digits(p, tm.tm_year + 1900, 4);
	*p++ = '-';
	p = digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = digits(p, tm.tm_sec, 2);
	*p++ = '.';
	p = digits(p, (long)(us % 1000000), 6);
	*p++ = 'Z';
	*p = '\0';
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

#define DEFAULT_SERVICE "pubsub.googleapis.com"
#define AUDITLOG_TYPE "type.googleapis.com/google.cloud.audit.AuditLog"

/* Frees what jansson allocated (json_dumps); NULL is fine. */
static void jansson_free(void *p)
{
	void *(*alloc)(size_t);
	void (*release)(void *);
	if (p == NULL)
		return;
	json_get_alloc_funcs(&alloc, &release);
	release(p);
}

/* The monitored resource of resource name r in project p. */
static json_t *monitored(const char *p, const char *r)
{
	r = r ? r : "";
	p = p ? p : "";
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

/* A growable text buffer (mem). */
struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (b->n + n + 1 > cap)
			cap *= 2;
		b->p = mem_realloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* s as a JSON string literal. */
static void put_str(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		put(b, run, (size_t)(s - run));
		char esc[8];
		if (ch == '"' || ch == '\\')
			snprintf(esc, sizeof(esc), "\\%c", ch);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
		puts_(b, esc);
		run = s + 1;
	}
	put(b, run, (size_t)(s - run));
	put(b, "\"", 1);
}

/* "name":"value" with a comma before unless first. */
static void put_kv(struct buf *b, int *first, const char *k, const char *v)
{
	if (!*first)
		put(b, ",", 1);
	*first = 0;
	put_str(b, k);
	put(b, ":", 1);
	put_str(b, v);
}

/* 1 when compact JSON text may hold a value audit_redact replaces. */
static int has_secret(const char *text)
{
	static const char *const keys[] = {
		"\"secret\":",      "\"authorization\":", "\"password\":",    "\"privateKeyData\":",
		"\"private_key\":", "\"token\":",         "\"access_token\":"
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(text, keys[i]))
			return 1;
	return 0;
}

/* A request/response object: its text as it is when it holds no secret,
 * else redacted through the tree; with "@type" first when type is set. */
static void put_object(struct buf *b, const char *text, const char *type)
{
	char *owned = NULL;
	if (text == NULL || text[0] != '{')
		text = "{}";
	else if (has_secret(text)) {
		json_t *v = json_loads(text, 0, NULL), *red = audit_redact(v);
		owned = json_dumps(red ? red : json_object(), JSON_COMPACT);
		json_decref(v);
		json_decref(red);
		text = owned ? owned : "{}";
	}
	if (type) {
		puts_(b, "{\"@type\":\"type.googleapis.com/");
		puts_(b, type);
		put(b, "\"", 1);
		const char *rest = text + 1;
		while (*rest == ' ')
			rest++;
		if (*rest != '}')
			put(b, ",", 1);
		puts_(b, rest);
	} else {
		puts_(b, text);
	}
	jansson_free(owned);
}

/* The entry's text; stored: without what audit_entry_expand derives. */
static char *entry_text(const struct audit_call *a, const char *request_text,
			const char *response_text, int stored)
{
	char ts[40], logname[200], ip[80] = "";
	audit_time(a->time_us, ts, sizeof(ts));
	if (!stored)
		log_name(a->project, a->log, logname, sizeof(logname));
	if (a->caller_ip && a->caller_ip[0]) {
		/* "ip:port" and "[v6]:port" as the transports give them: the ip. */
		const char *s = a->caller_ip;
		if (s[0] == '[')
			snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(s + 1, "]"), s + 1);
		else if (strchr(s, ':') == strrchr(s, ':'))
			snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(s, ":"), s);
		else
			snprintf(ip, sizeof(ip), "%s", s);
	}
	const char *rname = a->resource_name ? a->resource_name : "";
	struct buf b = { 0 };
	int f = 1;
	put(&b, "{", 1);
	put_kv(&b, &f, "insertId", a->insert_id ? a->insert_id : "");
	if (!stored)
		put_kv(&b, &f, "logName", logname);
	put_kv(&b, &f, "timestamp", ts);
	if (!stored)
		put_kv(&b, &f, "receiveTimestamp", ts);
	put_kv(&b, &f, "severity", a->status_code ? "ERROR" : a->write ? "NOTICE" : "INFO");
	if (!stored) {
		json_t *res = monitored(a->project, rname);
		char *rtext = json_dumps(res, JSON_COMPACT);
		puts_(&b, ",\"resource\":");
		puts_(&b, rtext ? rtext : "{}");
		jansson_free(rtext);
		json_decref(res);
	}
	puts_(&b, ",\"protoPayload\":{");
	f = 1;
	const char *service = a->service ? a->service : DEFAULT_SERVICE;
	if (!stored)
		put_kv(&b, &f, "@type", AUDITLOG_TYPE);
	if (!stored || strcmp(service, DEFAULT_SERVICE) != 0)
		put_kv(&b, &f, "serviceName", service);
	put_kv(&b, &f, "methodName", a->method_name ? a->method_name : "");
	put_kv(&b, &f, "resourceName", rname);
	puts_(&b, ",\"authenticationInfo\":{");
	if (a->principal && a->principal[0]) {
		int g = 1;
		put_kv(&b, &g, "principalEmail",
		       strncmp(a->principal, "serviceAccount:", 15) == 0 ? a->principal + 15
									 : a->principal);
	}
	put(&b, "}", 1);
	if (a->permission && a->permission[0]) {
		int g = 1;
		puts_(&b, ",\"authorizationInfo\":[{");
		const char *ar = a->auth_resource ? a->auth_resource : rname;
		if (!stored || strcmp(ar, rname) != 0)
			put_kv(&b, &g, "resource", ar);
		put_kv(&b, &g, "permission", a->permission);
		puts_(&b, a->granted ? ",\"granted\":true}]" : ",\"granted\":false}]");
	}
	puts_(&b, ",\"requestMetadata\":{");
	int g = 1;
	if (ip[0])
		put_kv(&b, &g, "callerIp", ip);
	if (a->user_agent && a->user_agent[0])
		put_kv(&b, &g, "callerSuppliedUserAgent", a->user_agent);
	if (!stored) {
		puts_(&b, g ? "\"requestAttributes\":{" : ",\"requestAttributes\":{");
		g = 1;
		put_kv(&b, &g, "time", ts);
		put(&b, "}", 1);
	}
	put(&b, "}", 1);
	if (request_text) {
		puts_(&b, ",\"request\":");
		put_object(&b, request_text, a->request_type);
	}
	if (response_text) {
		puts_(&b, ",\"response\":");
		put_object(&b, response_text, a->response_type);
	}
	if (a->status_code) {
		char code[40];
		snprintf(code, sizeof(code), ",\"status\":{\"code\":%d,", a->status_code);
		puts_(&b, code);
		g = 1;
		put_kv(&b, &g, "message", a->status_message ? a->status_message : "");
		put(&b, "}", 1);
	}
	puts_(&b, "}}");
	return b.p;
}

char *audit_entry_text(const struct audit_call *a, const char *request_text,
		       const char *response_text)
{
	return entry_text(a, request_text, response_text, 0);
}

char *audit_entry_stored(const struct audit_call *a, const char *request_text,
			 const char *response_text)
{
	return entry_text(a, request_text, response_text, 1);
}

json_t *audit_entry(const struct audit_call *a)
{
	char *req = a->request ? json_dumps(a->request, JSON_COMPACT) : NULL;
	char *resp = a->response ? json_dumps(a->response, JSON_COMPACT) : NULL;
	char *text = audit_entry_text(a, req, resp);
	json_t *e = json_loads(text, 0, NULL);
	jansson_free(req);
	jansson_free(resp);
	mem_free(text);
	return e;
}

/* Moves key k of from into to (borrowed from from); when from has none,
 * sets def instead (stolen; NULL: nothing). */
static void move_or(json_t *to, json_t *from, const char *k, json_t *def)
{
	json_t *v = json_object_get(from, k);
	if (v) {
		json_object_set(to, k, v);
		json_decref(def);
	} else if (def) {
		json_object_set_new(to, k, def);
	}
}

/* Copies the keys of from that to does not have yet, in from's order. */
static void copy_rest(json_t *to, json_t *from)
{
	const char *k;
	json_t *v;
	json_object_foreach(from, k, v)
	{
		if (json_object_get(to, k) == NULL)
			json_object_set(to, k, v);
	}
}

json_t *audit_entry_expand(json_t *stored, const char *project, enum audit_log_name log)
{
	if (!json_is_object(stored))
		return NULL;
	char logname[200];
	log_name(project, log, logname, sizeof(logname));
	json_t *ts = json_object_get(stored, "timestamp");
	json_t *pp = json_object_get(stored, "protoPayload");
	const char *rname = json_string_value(json_object_get(pp, "resourceName"));
	json_t *e = json_object();
	move_or(e, stored, "insertId", NULL);
	move_or(e, stored, "logName", json_string(logname));
	move_or(e, stored, "timestamp", NULL);
	move_or(e, stored, "receiveTimestamp", ts ? json_copy(ts) : NULL);
	move_or(e, stored, "severity", NULL);
	move_or(e, stored, "resource", monitored(project, rname));
	if (json_is_object(pp)) {
		json_t *q = json_object();
		move_or(q, pp, "@type", json_string(AUDITLOG_TYPE));
		move_or(q, pp, "serviceName", json_string(DEFAULT_SERVICE));
		move_or(q, pp, "methodName", NULL);
		move_or(q, pp, "resourceName", NULL);
		move_or(q, pp, "authenticationInfo", NULL);
		json_t *ai = json_object_get(pp, "authorizationInfo");
		if (json_is_array(ai)) {
			json_t *out = json_array();
			size_t i;
			json_t *x;
			json_array_foreach(ai, i, x)
			{
				json_t *y = json_object();
				if (json_is_object(x)) {
					move_or(y, x, "resource",
						rname ? json_string(rname) : NULL);
					copy_rest(y, x);
				}
				json_array_append_new(out, y);
			}
			json_object_set_new(q, "authorizationInfo", out);
		}
		json_t *rm = json_object_get(pp, "requestMetadata");
		if (json_is_object(rm)) {
			json_t *m = json_deep_copy(rm);
			if (json_object_get(m, "requestAttributes") == NULL && ts)
				json_object_set_new(m, "requestAttributes",
						    json_pack("{s:O}", "time", ts));
			json_object_set_new(q, "requestMetadata", m);
		}
		copy_rest(q, pp);
		json_object_set_new(e, "protoPayload", q);
	}
	copy_rest(e, stored);
	return e;
}
