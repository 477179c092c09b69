/* audit.c - the audit entries of API calls (docs/audit.md), in model/audit.c's
 * shape, from the route's method_name, permission and audit column and the
 * call's principal, peer and User-Agent:
 *   - Admin Activity of a change: prepared by its handler (api_audit_admin)
 *     and written by the audited script in the same step as the change;
 *   - a failed admin write (status, ERROR), a refused call (Policy Denied,
 *     status 7) and Data Access entries (only where the project's
 *     auditConfigs turn them on): written when the call is answered
 *     (api_audit_done, the broker's call_done hook), through audit_write.
 * Every entry is exported to the matching log sinks in its own step. */
#include "api.h"

#include "audit.h"
#include "auth.h"
#include "broker.h"
#include "iam.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *service_of(const char *route)
{
	if (strncmp(route, "serviceAccounts.", 16) == 0)
		return "iam.googleapis.com";
	if (strncmp(route, "projects.", 9) == 0)
		return "cloudresourcemanager.googleapis.com";
	if (strncmp(route, "entries.", 8) == 0 || strncmp(route, "sinks.", 6) == 0)
		return "logging.googleapis.com";
	if (strncmp(route, "registry.", 9) == 0 || strncmp(route, "images.", 7) == 0)
		return "containerregistry.googleapis.com";
	return "pubsub.googleapis.com";
}

static const char *const stream_of[] = {
	[AUDIT_LOG_ACTIVITY] = "activity",
	[AUDIT_LOG_DATA_ACCESS] = "data_access",
	[AUDIT_LOG_SYSTEM_EVENT] = "system_event",
	[AUDIT_LOG_POLICY] = "policy",
};

static const char *const log_type_of[] = {
	[AUDIT_ADMIN_READ] = "ADMIN_READ",
	[AUDIT_DATA_READ] = "DATA_READ",
	[AUDIT_DATA_WRITE] = "DATA_WRITE",
};

/* What an entry of c in project's log says (a change when write); the
 * caller adds a status or a refusal. peer and id are the buffers the
 * entry's strings point into. */
static void call_fields(struct call *c, struct audit_call *a, enum audit_log_name log, int write,
			const char *project, const char *resource_name, char *peer, size_t peer_n,
			char *id)
{
	unsigned char rnd[16];
	call_peer(c, peer, peer_n);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[2 * sizeof(rnd)] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*a = (struct audit_call){ .log = log,
				  .write = write,
				  .project = project,
				  .resource_name = resource_name,
				  .service = service_of(c->route->name),
				  .method_name = c->route->method_name,
				  .principal = c->principal,
				  .permission = c->route->permission,
				  .granted = 1,
				  .caller_ip = peer,
				  .user_agent = call_header(c, "User-Agent"),
				  .time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
				  .insert_id = id };
}

void api_audit_admin(struct call *c, const char *project, const char *resource_name,
		     const char *response_text)
{
	if (c->route == NULL || c->route->audit != AUDIT_ADMIN_WRITE)
		return;
	char peer[128], id[33];
	struct audit_call a;
	call_fields(c, &a, AUDIT_LOG_ACTIVITY, 1, project, resource_name, peer, sizeof(peer), id);
	char *req = c->body ? json_dumps(c->body, JSON_COMPACT) : NULL;
	char *text = audit_entry_stored(&a, req ? req : "{}", response_text ? response_text : "{}");
	store_audit_next(c->b->link, project, "activity", text, a.time_us);
	mem_free(text);
	mem_free(req);
}

/* The project whose logs hold c's entries (from its route's resource), or
 * NULL for a global resource. */
static const char *call_project(const struct call *c, char *buf, size_t n)
{
	const char *res = c->route->resource ? c->route->resource : "";
	const char *p = NULL;
	if (strcmp(res, "project") == 0 || strcmp(res, "topic") == 0 ||
	    strcmp(res, "subscription") == 0)
		p = c->params[0];
	else if (strcmp(res, "service_account") == 0)
		p = strcmp(c->params[0], "-") != 0                   ? c->params[0]
		    : iam_account_project(c->params[1], buf, n) == 0 ? buf
								     : NULL;
	else if (strcmp(res, "body.resourceNames") == 0) {
		const char *rn = json_string_value(
			json_array_get(json_object_get(c->body, "resourceNames"), 0));
		if (rn && strncmp(rn, "projects/", 9) == 0)
			p = rn + 9;
	}
	return p && names_valid_project(p) == 0 ? p : NULL;
}

/* resourceName of a call from its path: "/v1/projects/P/topics/T:publish"
 * -> "projects/P/topics/T"; a collection names its parent
 * ("/v1/projects/P/topics" -> "projects/P"); "projects/P" when nothing
 * is left (entries:list). */
static void call_resource(const struct call *c, const char *project, char *buf, size_t n)
{
	const char *u = c->uri ? c->uri : "";
	if (strncmp(u, "/v1/", 4) == 0 || strncmp(u, "/v2/", 4) == 0)
		u += 4;
	size_t len = strcspn(u, ":?");
	if (len >= n)
		len = n - 1;
	memcpy(buf, u, len);
	buf[len] = '\0';
	int segs = len ? 1 : 0;
	for (size_t i = 0; i < len; i++)
		segs += buf[i] == '/';
	if (segs % 2 == 1) {
		char *slash = strrchr(buf, '/');
		if (slash)
			*slash = '\0';
		else
			buf[0] = '\0';
	}
	if (buf[0] == '\0' || strncmp(buf, "projects/", 9) != 0)
		snprintf(buf, n, "projects/%s", project);
}

/* google.rpc.Code and message of an error answer's text. */
static int error_of(const char *text, size_t len, char *msg, size_t msg_n)
{
	json_t *o = json_loadb(text, len, 0, NULL), *e = json_object_get(o, "error");
	const char *st = json_string_value(json_object_get(e, "status"));
	const char *m = json_string_value(json_object_get(e, "message"));
	snprintf(msg, msg_n, "%s", m ? m : "");
	int code = 2; /* UNKNOWN */
	for (int i = 1; st && i < ERR_COUNT; i++)
		if (strcmp(errors_status_name((enum err)i), st) == 0) {
			code = errors_grpc_code((enum err)i);
			break;
		}
	json_decref(o);
	return code;
}

static void on_written(redisReply *r, void *arg)
{
	char *what = arg;
	const char *st = store_status(r);
	if (st == NULL || strcmp(st, "OK") != 0)
		log_warn("audit: could not write the %s entry (%s)", what, st ? st : "Redis away");
}

static void write_entry(struct broker *b, const char *project, enum audit_log_name log,
			const char *text, int64_t time_us)
{
	static char what[][16] = { "activity", "data_access", "system_event", "policy" };
	if (store_audit_write(b->link, project, stream_of[log], text, time_us, on_written,
			      what[log]) != 0)
		log_warn("audit: could not write the %s entry (Redis away)", stream_of[log]);
}

/* A Data Access entry waiting for its project's auditConfigs. */
struct pending_entry {
	struct broker *b;
	char project[101];
	int64_t time_us;
	char *text;
};

static void on_enabled(void *arg, int on)
{
	struct pending_entry *pe = arg;
	if (on)
		write_entry(pe->b, pe->project, AUDIT_LOG_DATA_ACCESS, pe->text, pe->time_us);
	mem_free(pe->text);
	mem_free(pe);
}

static void data_access(struct call *c, const char *project, const char *resource_name,
			const char *request_text, int status, const char *text, size_t len)
{
	enum route_audit t = c->route->audit;
	if (auth_audit_off(c->b, project))
		return; /* the cached policy has no auditConfigs: nothing to build */
	char peer[128], id[33], msg[1024];
	struct audit_call a;
	call_fields(c, &a, AUDIT_LOG_DATA_ACCESS, 0, project, resource_name, peer, sizeof(peer),
		    id);
	if (status >= 300) {
		a.status_code = error_of(text, len, msg, sizeof(msg));
		a.status_message = msg;
	}
	struct pending_entry *pe = mem_alloc(sizeof(*pe));
	pe->b = c->b;
	snprintf(pe->project, sizeof(pe->project), "%s", project);
	pe->time_us = a.time_us;
	pe->text = audit_entry_stored(&a, request_text, NULL);
	auth_audit_enabled(c->b, project, a.service, log_type_of[t], c->principal, on_enabled, pe);
}

void api_audit_data(struct call *c, const char *project, const char *resource_name,
		    const char *request_text)
{
	if (c->route && c->route->audit >= AUDIT_ADMIN_READ)
		data_access(c, project, resource_name, request_text, 200, NULL, 0);
}

/* Policy Denied entries are rate limited per broker: a caller refused in
 * a loop must not turn Redis into its disk (metrics count what is not
 * written). */
#define DENIED_RATE 50.0 /* entries per second */
#define DENIED_BURST 200.0

static int denied_allowed(void)
{
	static double tokens = DENIED_BURST;
	static int64_t last_ms;
	static int64_t warned_ms;
	int64_t now = broker_now_ms();
	tokens += (double)(now - last_ms) * DENIED_RATE / 1000.0;
	if (tokens > DENIED_BURST)
		tokens = DENIED_BURST;
	last_ms = now;
	if (tokens >= 1.0) {
		tokens -= 1.0;
		return 1;
	}
	metrics.audit_denied_suppressed++;
	if (now - warned_ms > 60000) {
		warned_ms = now;
		log_warn("audit: more than %.0f refused calls per second; their Policy Denied "
			 "entries are not written (counted in "
			 "regnotify_audit_denied_suppressed_total)",
			 DENIED_RATE);
	}
	return 0;
}

void api_audit_done(struct call *c, int status, const char *text, size_t len)
{
	const struct route *r = c->route;
	if (r == NULL || r->permission == NULL || r->permission[0] == '\0')
		return;
	char pbuf[128], rname[700], peer[128], id[33], msg[1024];
	const char *project = call_project(c, pbuf, sizeof(pbuf));
	if (project == NULL)
		return; /* a global resource: the broker log has it */
	if (status == 403 && c->principal[0]) {
		/* An authenticated caller that lacked a permission. (A call
		 * without valid credentials is not written: an anonymous
		 * caller must not be able to write to Redis; the broker log
		 * has it.) */
		if (!denied_allowed())
			return;
		struct audit_call a;
		call_resource(c, project, rname, sizeof(rname));
		call_fields(c, &a, AUDIT_LOG_POLICY, 0, project, rname, peer, sizeof(peer), id);
		a.permission = c->denied_permission ? c->denied_permission : r->permission;
		a.auth_resource = c->denied_resource[0] ? c->denied_resource : NULL;
		a.granted = 0;
		a.status_code = 7;
		a.status_message = "PERMISSION_DENIED";
		char *e = audit_entry_stored(&a, NULL, NULL);
		write_entry(c->b, project, AUDIT_LOG_POLICY, e, a.time_us);
		mem_free(e);
		return;
	}
	if (!c->authorized)
		return; /* refused before its checks ran (bad request, 401) */
	if (r->audit == AUDIT_ADMIN_WRITE && status >= 300) {
		/* A change that did not happen: its entry says why. */
		struct audit_call a;
		call_resource(c, project, rname, sizeof(rname));
		call_fields(c, &a, AUDIT_LOG_ACTIVITY, 1, project, rname, peer, sizeof(peer), id);
		a.status_code = error_of(text, len, msg, sizeof(msg));
		a.status_message = msg;
		char *req = c->body ? json_dumps(c->body, JSON_COMPACT) : NULL;
		char *e = audit_entry_stored(&a, req ? req : "{}", NULL);
		write_entry(c->b, project, AUDIT_LOG_ACTIVITY, e, a.time_us);
		mem_free(e);
		mem_free(req);
		return;
	}
	if (r->audit >= AUDIT_ADMIN_READ && strcmp(r->resource, "global") != 0) {
		call_resource(c, project, rname, sizeof(rname));
		char *req = c->body && !r->raw_body ? json_dumps(c->body, JSON_COMPACT) : NULL;
		data_access(c, project, rname, req ? req : "{}", status, text, len);
		mem_free(req);
	}
}
