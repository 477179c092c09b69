/* authz.c - what a call may do: the route's permission, checked against the
 * union of the global policy, the project's and the resource's own
 * (fetched once, then cached until an IAM notice). A denied call changes
 * nothing and learns nothing about whether the resource exists. */
#include "auth.h"
#include "auth_internal.h"
#include "cache.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "iam.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <string.h>

#define MAX_LEVELS 3

struct check {
	struct auth *a;
	struct call *c;
	const char *perm;
	char names[MAX_LEVELS][600]; /* "global", "projects/P", "projects/P/topics/T" */
	struct store_resource res[MAX_LEVELS];
	char project[128], id[ROUTE_PARAM_MAX];
	int n, pending, failed;
	void (*done)(struct call *c, int allowed);
};

/* Splits "projects/P[/topics|subscriptions/ID]" into the levels. */
static int levels(struct check *k, const char *name)
{
	snprintf(k->names[0], sizeof(k->names[0]), "global");
	k->res[0] = (struct store_resource){ STORE_RES_GLOBAL, NULL, NULL };
	k->n = 1;
	if (strcmp(name, "global") == 0)
		return 0;
	if (strncmp(name, "projects/", 9) != 0)
		return -1;
	const char *p = name + 9, *slash = strchr(p, '/');
	size_t pl = slash ? (size_t)(slash - p) : strlen(p);
	if (pl == 0 || pl >= sizeof(k->project))
		return -1;
	memcpy(k->project, p, pl);
	k->project[pl] = '\0';
	snprintf(k->names[1], sizeof(k->names[1]), "projects/%s", k->project);
	k->res[1] = (struct store_resource){ STORE_RES_PROJECT, k->project, NULL };
	k->n = 2;
	if (slash == NULL)
		return 0;
	enum store_res_kind kind;
	const char *id;
	if (strncmp(slash, "/topics/", 8) == 0)
		kind = STORE_RES_TOPIC, id = slash + 8;
	else if (strncmp(slash, "/subscriptions/", 15) == 0)
		kind = STORE_RES_SUB, id = slash + 15;
	else
		return 0; /* serviceAccounts/...: the project's policy */
	if (id[0] == '\0' || strlen(id) >= sizeof(k->id) || strchr(id, '/'))
		return -1;
	snprintf(k->id, sizeof(k->id), "%s", id);
	snprintf(k->names[2], sizeof(k->names[2]), "%s", name);
	k->res[2] = (struct store_resource){ kind, k->project, k->id };
	k->n = 3;
	return 0;
}

static void decide(struct check *k)
{
	json_t *pol[MAX_LEVELS];
	int np = 0;
	for (int i = 0; i < k->n; i++) {
		struct policy_entry *e = cache_policy_get(k->a, k->names[i]);
		if (e && e->policy)
			pol[np++] = e->policy;
	}
	const char *who = k->c->principal[0] ? k->c->principal : NULL;
	int ok = iam_allows(pol, (size_t)np, who, k->perm);
	struct call *c = k->c;
	void (*done)(struct call *, int) = k->done;
	mem_free(k);
	done(c, ok);
}

/* store_policy_get: [json, etag, audit] (nils: none), into the cache, the
 * auditConfigs merged in (auth_audit_enabled reads them there). */
struct fetch {
	struct check *k;
	int level;
};

static void on_fetched(redisReply *r, void *arg)
{
	struct fetch *f = arg;
	struct check *k = f->k;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
		cache_policy_put(k->a, k->names[f->level], auth_policy_of_reply(r));
	} else {
		k->failed = 1;
	}
	mem_free(f);
	if (--k->pending > 0)
		return;
	if (k->failed) {
		struct call *c = k->c;
		mem_free(k);
		call_unavailable(c);
		return;
	}
	decide(k);
}

static void check_run(struct check *k)
{
	int missing[MAX_LEVELS], nm = 0;
	for (int i = 0; i < k->n; i++)
		if (cache_policy_get(k->a, k->names[i]) == NULL)
			missing[nm++] = i;
	if (nm == 0) {
		decide(k);
		return;
	}
	k->pending = nm;
	for (int i = 0; i < nm; i++) {
		struct fetch *f = mem_alloc(sizeof(*f));
		f->k = k;
		f->level = missing[i];
		if (store_policy_get(k->a->b->link, &k->res[missing[i]], on_fetched, f) != 0) {
			mem_free(f);
			k->failed = 1;
			if (--k->pending == 0) {
				struct call *c = k->c;
				mem_free(k);
				call_unavailable(c);
				return;
			}
		}
	}
}

void auth_check(struct call *c, const char *perm, const char *resource_name,
		void (*done)(struct call *c, int allowed))
{
	struct check *k = mem_calloc(1, sizeof(*k));
	k->a = c->b->auth;
	k->c = c;
	k->perm = perm;
	k->done = done;
	if (levels(k, resource_name) != 0) {
		mem_free(k);
		done(c, 0);
		return;
	}
	check_run(k);
}

static void deny(struct call *c)
{
	char peer[128];
	call_peer(c, peer, sizeof(peer));
	if (c->principal[0] == '\0') {
		log_info("authz: %s %s without credentials from %s", c->route->name, c->uri, peer);
		call_set_header(c, "WWW-Authenticate", "Bearer realm=\"regnotify\"");
		call_error(
			c, ERR_UNAUTHENTICATED,
			"Request is missing required authentication credential. Expected OAuth 2 "
			"access token, login cookie or other valid authentication credential.");
		return;
	}
	log_info("authz: %s %s denied to %s from %s (needs %s on %s)", c->route->name, c->uri,
		 c->principal, peer,
		 c->denied_permission ? c->denied_permission : c->route->permission,
		 c->denied_resource);
	call_error(c, ERR_PERMISSION_DENIED, "User not authorized to perform this action.");
}

/* The check now running: what a refusal names (call.h). */
static void checking(struct call *c, const char *perm, const char *resource)
{
	c->denied_permission = perm;
	snprintf(c->denied_resource, sizeof(c->denied_resource), "%s", resource);
}

/* The topic a body names ("topic": "projects/P/topics/T"), or NULL. */
static const char *body_topic(const struct call *c)
{
	const char *t = json_string_value(json_object_get(c->body, "topic"));
	if (t == NULL || strncmp(t, "projects/", 9) != 0 || strlen(t) > 400 ||
	    strstr(t, "/topics/") == NULL)
		return NULL;
	return t;
}

/* The resource a route's second permission applies to: a body's "topic",
 * "subscription" (snapshots.create: consume on the source), "snapshot"
 * (seek: snapshots.seek, on the snapshot's project - snapshots have no
 * policies of their own) or sink "destination"; NULL when the body has no
 * usable name (the handler answers 400). buf: 600 bytes. */
static const char *body_destination(const struct call *c);
static const char *also_resource(const struct call *c, char *buf, size_t n)
{
	const char *r = c->route->also_resource;
	if (r && strcmp(r, "body.destination") == 0)
		return body_destination(c);
	if (r && (strcmp(r, "body.subscription") == 0 || strcmp(r, "body.snapshot") == 0)) {
		int snap = strcmp(r, "body.snapshot") == 0;
		const char *v = json_string_value(
			json_object_get(c->body, snap ? "snapshot" : "subscription"));
		const char *kind = snap ? "/snapshots/" : "/subscriptions/";
		if (v == NULL || strncmp(v, "projects/", 9) != 0 || strlen(v) > 400 ||
		    strstr(v, kind) == NULL)
			return NULL;
		if (!snap)
			return v;
		snprintf(buf, n, "%.*s", (int)(strstr(v, kind) - v), v);
		return buf;
	}
	return body_topic(c);
}

/* The topic of a sink's "destination" ("pubsub.googleapis.com/projects/
 * P/topics/T" -> "projects/P/topics/T"), or NULL. */
static const char *body_destination(const struct call *c)
{
	const char *d = json_string_value(json_object_get(c->body, "destination"));
	static const char pre[] = "pubsub.googleapis.com/";
	if (d == NULL || strncmp(d, pre, sizeof(pre) - 1) != 0 || strlen(d) > 420)
		return NULL;
	d += sizeof(pre) - 1;
	return strncmp(d, "projects/", 9) == 0 && strstr(d, "/topics/") ? d : NULL;
}

/* The service account a body's pushConfig.oidcToken names (at the route's
 * act_as_field), or NULL. */
static const char *body_oidc_account(const struct call *c)
{
	const char *f = c->route->act_as_field;
	if (f == NULL)
		return NULL;
	json_t *pc =
		strcmp(f, "subscription.pushConfig") == 0
			? json_object_get(json_object_get(c->body, "subscription"), "pushConfig")
			: json_object_get(c->body, "pushConfig");
	const char *e = json_string_value(
		json_object_get(json_object_get(pc, "oidcToken"), "serviceAccountEmail"));
	return e && strlen(e) <= 254 ? e : NULL;
}

/* The checks a route needs beyond its permission, run one after the
 * other: attachSubscription on the body's topic, actAs on the account of
 * an oidcToken. A body without a usable name skips a check: the handler
 * answers 400 for it. */
struct extra {
	int n, next;
	const char *perm[2];
	char name[2][600];
};

static void extra_next(struct call *c, int allowed);

static void extras_start(struct call *c, int skip_attach)
{
	struct extra *x = mem_calloc(1, sizeof(*x));
	const struct route *r = c->route;
	char buf[600];
	const char *t = also_resource(c, buf, sizeof(buf));
	const char *acct = body_oidc_account(c);
	if (!skip_attach && r->also_permission && t) {
		x->perm[x->n] = r->also_permission;
		snprintf(x->name[x->n++], sizeof(x->name[0]), "%s", t);
	}
	if (acct) {
		char proj[128];
		x->perm[x->n] = "iam.serviceAccounts.actAs";
		if (iam_account_project(acct, proj, sizeof(proj)) == 0)
			snprintf(x->name[x->n++], sizeof(x->name[0]), "projects/%s", proj);
		else
			snprintf(x->name[x->n++], sizeof(x->name[0]), "global");
	}
	c->auth_extra = x;
	extra_next(c, 1);
}

static void extra_next(struct call *c, int allowed)
{
	struct extra *x = c->auth_extra;
	if (!allowed || x->next >= x->n) {
		mem_free(x);
		c->auth_extra = NULL;
		if (allowed)
			gate_resume(c);
		else
			deny(c);
		return;
	}
	int i = x->next++;
	checking(c, x->perm[i], x->name[i]);
	auth_check(c, x->perm[i], x->name[i], extra_next);
}

/* An ephemeral subscription created through the tail permission: its
 * creator gets roles/pubsub.editor on it (api/subscriptions.c). */
static void on_ephemeral_checked(struct call *c, int allowed)
{
	if (!allowed) {
		deny(c);
		return;
	}
	c->grant_creator = 1;
	extras_start(c, 1);
}

static void on_route_checked(struct call *c, int allowed)
{
	const struct route *r = c->route;
	if (!allowed) {
		const char *t = body_topic(c);
		if (r->ephemeral_permission && t && c->principal[0] &&
		    iam_ephemeral_subscription(c->body)) {
			checking(c, r->ephemeral_permission, t);
			auth_check(c, r->ephemeral_permission, t, on_ephemeral_checked);
			return;
		}
		deny(c);
		return;
	}
	extras_start(c, 0);
}

/* The resource a route's permission applies to, from its columns and the
 * path's {} captures. -1 when a capture is longer than any valid name
 * (project IDs have at most 100 characters, topic and subscription IDs
 * 255, emails 254): the call is refused before anything is looked up. */
static int resource_of(const struct call *c, char *buf, size_t n)
{
	const char *res = c->route->resource ? c->route->resource : "";
	const char *p = c->params[0], *id = c->params[1];
	if (strlen(p) > 100 || strlen(id) > 255)
		return -1;
	if (strcmp(res, "topic") == 0)
		snprintf(buf, n, "projects/%.100s/topics/%.255s", p, id);
	else if (strcmp(res, "subscription") == 0)
		snprintf(buf, n, "projects/%.100s/subscriptions/%.255s", p, id);
	else if (strcmp(res, "project") == 0)
		snprintf(buf, n, "projects/%.100s", p);
	else if (strcmp(res, "service_account") == 0) {
		/* Its project's policy; "projects/-/serviceAccounts/E" names it by
		 * the email alone. An email of no project: the global policy. */
		char proj[128];
		if (strcmp(p, "-") != 0)
			snprintf(buf, n, "projects/%.100s", p);
		else if (iam_account_project(id, proj, sizeof(proj)) == 0)
			snprintf(buf, n, "projects/%.100s", proj);
		else
			snprintf(buf, n, "global");
	} else if (strcmp(res, "body.resourceNames") == 0) {
		/* entries:list: the one project its body names. */
		const char *rn = json_string_value(
			json_array_get(json_object_get(c->body, "resourceNames"), 0));
		if (rn == NULL || strncmp(rn, "projects/", 9) != 0 || strlen(rn) > 109 ||
		    strchr(rn + 9, '/'))
			return -1;
		snprintf(buf, n, "%s", rn);
	} else {
		snprintf(buf, n, "global");
	}
	return 0;
}

/* "subscription.topic" (subscriptions.detach): the subscription's topic,
 * read from the store; its project when the subscription or its topic is
 * gone (the handler then answers 404, or detaches what has no topic). */
static void on_sub_topic(redisReply *r, void *arg)
{
	struct call *c = arg;
	char name[600];
	const redisReply *t =
		r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 ? r->element[1] : NULL;
	if (r == NULL) {
		call_unavailable(c);
		return;
	}
	if (t && t->type == REDIS_REPLY_STRING && t->len > 0 && t->len < 400 &&
	    memchr(t->str, '/', t->len)) {
		const char *slash = memchr(t->str, '/', t->len);
		snprintf(name, sizeof(name), "projects/%.*s/topics/%.*s", (int)(slash - t->str),
			 t->str, (int)(t->len - (size_t)(slash - t->str) - 1), slash + 1);
	} else {
		snprintf(name, sizeof(name), "projects/%.100s", c->params[0]);
	}
	checking(c, c->route->permission, name);
	auth_check(c, c->route->permission, name, on_route_checked);
}

void auth_authorize(struct call *c)
{
	const struct route *r = c->route;
	const char *perm = r->permission;
	/* Open routes (/healthz, /readyz, /token, JWKS), and /metrics on the
	 * loopback-only --metrics-listen port. */
	if (perm == NULL || perm[0] == '\0' || c->ops->transport == VIA_METRICS) {
		gate_resume(c);
		return;
	}
	if (!c->b->cfg.auth_required) {
		/* No access control; only the ingest routes keep their tokens. */
		if (r->authn == AUTHN_INGEST_TOKEN && c->b->cfg.ingest_tokens.n > 0 &&
		    strcmp(c->principal, AUTH_INGEST_PRINCIPAL) != 0) {
			gate_refuse_ingest(c);
			return;
		}
		gate_resume(c);
		return;
	}
	if (strcmp(c->principal, AUTH_INGEST_PRINCIPAL) == 0) {
		on_route_checked(c, strcmp(perm, "regnotify.registry.notify") == 0);
		return;
	}
	char name[600];
	if (resource_of(c, name, sizeof(name)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid resource name given.");
		return;
	}
	if (r->resource && strcmp(r->resource, "subscription.topic") == 0) {
		if (store_sub_get(c->b->link, c->params[0], c->params[1], on_sub_topic, c) != 0)
			call_unavailable(c);
		return;
	}
	checking(c, perm, name);
	auth_check(c, perm, name, on_route_checked);
}
