/* iam.c - getIamPolicy / setIamPolicy / testIamPermissions on projects,
 * topics and subscriptions; the token endpoint (POST /token, RFC 7523)
 * and the broker's JWKS. */
#include "api.h"

#include "auth.h"
#include "base64.h"
#include "broker.h"
#include "iam.h"
#include "log.h"
#include "jwt.h"
#include "mem.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The call's resource, from the route's resource column. */
static int resource_or_reply(struct call *c, struct store_resource *r, char *name, size_t n)
{
	const char *kind = c->route->resource;
	int sub = strcmp(kind, "subscription") == 0, topic = strcmp(kind, "topic") == 0;
	if (api_names_or_reply(c, sub || topic ? 2 : 1, sub ? "subscriptions" : "topics"))
		return -1;
	r->project = c->params[0];
	r->id = sub || topic ? c->params[1] : NULL;
	r->kind = sub ? STORE_RES_SUB : topic ? STORE_RES_TOPIC : STORE_RES_PROJECT;
	if (sub || topic)
		snprintf(name, n, "projects/%.100s/%s/%.255s", c->params[0],
			 sub ? "subscriptions" : "topics", c->params[1]);
	else
		snprintf(name, n, "projects/%.100s", c->params[0]);
	return 0;
}

/* A stored policy text (or none) and its auditConfigs as getIamPolicy
 * answers them. */
static json_t *policy_view(const redisReply *json, const redisReply *audit)
{
	json_t *p = json && json->type == REDIS_REPLY_STRING
			    ? json_loadb(json->str, json->len, 0, NULL)
			    : NULL;
	if (p == NULL)
		p = json_pack("{s:i,s:s}", "version", 1, "etag", "ACAB");
	json_t *ac = audit && audit->type == REDIS_REPLY_STRING
			     ? json_loadb(audit->str, audit->len, 0, NULL)
			     : NULL;
	if (ac)
		json_object_set_new(p, "auditConfigs", ac);
	return p;
}

static void on_policy_read(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "NOT_FOUND") == 0 || r->elements != 4) {
		call_not_found(c, c->params[1]);
		return;
	}
	call_reply(c, 200, policy_view(r->element[1], r->element[3]));
}

void iam_get_policy(struct call *c)
{
	struct store_resource res;
	char name[600];
	if (resource_or_reply(c, &res, name, sizeof(name)))
		return;
	if (store_policy_read(c->b->link, &res, on_policy_read, c) != 0)
		api_not_queued(c);
}

static void on_policy_set(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "NOT_FOUND") == 0) {
		call_not_found(c, c->params[1]);
	} else if (strcmp(st, "ABORTED") == 0) {
		call_error(c, ERR_ABORTED,
			   "There were concurrent policy changes. Please retry the whole "
			   "read-modify-write with exponential backoff.");
	} else {
		log_info("iam: policy of %s set by %s", c->uri,
			 c->principal[0] ? c->principal : "an anonymous caller");
		char what[700];
		const char *kind = c->route->resource;
		if (strcmp(kind, "project") == 0)
			snprintf(what, sizeof(what), "policy:projects/%.100s", c->params[0]);
		else
			snprintf(what, sizeof(what), "policy:projects/%.100s/%s/%.255s",
				 c->params[0],
				 strcmp(kind, "topic") == 0 ? "topics" : "subscriptions",
				 c->params[1]);
		auth_changed(c->b, what);
		/* The stored policy with the auditConfigs it has now. */
		redisReply *ac = r->elements > 1 ? r->element[1] : NULL;
		if (ac == NULL || ac->type != REDIS_REPLY_STRING) {
			call_reply_text(c, 200, c->state, strlen(c->state));
			return;
		}
		size_t n = strlen(c->state);
		char *out = mem_alloc(n + ac->len + 20);
		int k = snprintf(out, n + ac->len + 20, "%.*s,\"auditConfigs\":%s}", (int)(n - 1),
				 (const char *)c->state, ac->str);
		call_reply_owned(c, 200, out, (size_t)k);
	}
}

/* setIamPolicy's updateMask ("bindings,etag,auditConfigs"): *audit set
 * when it names auditConfigs; 400 for a path a policy does not have. */
static int mask_or_reply(struct call *c, int *audit)
{
	json_t *m = json_object_get(c->body, "updateMask");
	if (m == NULL)
		return 0;
	const char *s = json_string_value(m);
	if (s == NULL || strlen(s) > 200) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "updateMask must be a string such as \"bindings,etag,auditConfigs\".");
		return -1;
	}
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n == 12 && strncmp(s, "auditConfigs", 12) == 0)
			*audit = 1;
		else if (!(n == 8 && strncmp(s, "bindings", 8) == 0) &&
			 !(n == 4 && strncmp(s, "etag", 4) == 0) &&
			 !(n == 7 && strncmp(s, "version", 7) == 0)) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid updateMask path \"%.*s\": a policy has bindings, etag, "
				   "version and auditConfigs.",
				   (int)(n > 100 ? 100 : n), s);
			return -1;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

void iam_set_policy(struct call *c)
{
	struct store_resource res;
	char name[600], err[512];
	if (resource_or_reply(c, &res, name, sizeof(name)))
		return;
	json_t *policy = json_object_get(c->body, "policy");
	if (policy == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid JSON payload: policy is required.");
		return;
	}
	if (iam_policy_check(policy, err, sizeof(err)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	json_t *etag_in = json_object_get(policy, "etag");
	if (etag_in && !json_is_string(etag_in)) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid policy: etag must be a string.");
		return;
	}
	/* auditConfigs change when the updateMask names them, or when there
	 * is no mask and the policy has them (a mask without them keeps the
	 * stored ones, as IAM's default mask "bindings,etag"). */
	int set_audit = 0;
	json_t *ac = json_object_get(policy, "auditConfigs");
	if (mask_or_reply(c, &set_audit) != 0)
		return;
	if (!json_object_get(c->body, "updateMask"))
		set_audit = ac != NULL;
	if (set_audit && ac && json_array_size(ac) && res.kind != STORE_RES_PROJECT) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "auditConfigs can only be set on a project's policy.");
		return;
	}
	if (set_audit && iam_audit_configs_check(ac, err, sizeof(err)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	unsigned char rnd[8];
	char etag[16];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		call_error(c, ERR_INTERNAL, "No randomness for the policy's etag.");
		return;
	}
	base64_encode(rnd, sizeof(rnd), etag);
	json_t *canon = iam_policy_canonical(policy, etag);
	char *audit_text = set_audit && json_array_size(ac) ? json_dumps(ac, JSON_COMPACT) : NULL;
	if (audit_text) {
		json_object_set(canon, "auditConfigs", ac);
		char *entry_resp = json_dumps(canon, JSON_COMPACT);
		api_audit_admin(c, c->params[0], name, entry_resp);
		mem_free(entry_resp);
		json_object_del(canon, "auditConfigs");
	}
	api_keep_json(c, canon);
	if (audit_text == NULL)
		api_audit_admin(c, c->params[0], name, c->state);
	if (store_policy_set(c->b->link, &res, name, c->state, etag,
			     etag_in ? json_string_value(etag_in) : NULL,
			     set_audit ? (audit_text ? audit_text : "") : NULL, on_policy_set,
			     c) != 0)
		api_not_queued(c);
	mem_free(audit_text);
}

/* testIamPermissions: the permissions of the request the caller holds,
 * checked one after the other (the policies are cached after the first). */
struct test_state {
	json_t *asked, *granted;
	size_t next;
	char name[600];
};

static void test_state_free(void *p)
{
	struct test_state *t = p;
	json_decref(t->asked);
	json_decref(t->granted);
	mem_free(t);
}

static void test_next(struct call *c);

static void on_tested(struct call *c, int allowed)
{
	struct test_state *t = c->state;
	if (allowed)
		json_array_append(t->granted, json_array_get(t->asked, t->next));
	t->next++;
	test_next(c);
}

static void test_next(struct call *c)
{
	struct test_state *t = c->state;
	while (t->next < json_array_size(t->asked)) {
		const char *perm = json_string_value(json_array_get(t->asked, t->next));
		if (!c->b->cfg.auth_required) { /* no access control: everything */
			json_array_append(t->granted, json_array_get(t->asked, t->next));
			t->next++;
			continue;
		}
		auth_check(c, perm, t->name, on_tested);
		return;
	}
	json_t *out = json_object();
	if (json_array_size(t->granted))
		json_object_set(out, "permissions", t->granted);
	call_reply(c, 200, out);
}

void iam_test_permissions(struct call *c)
{
	struct store_resource res;
	char name[600];
	if (resource_or_reply(c, &res, name, sizeof(name)))
		return;
	json_t *perms = json_object_get(c->body, "permissions");
	if (perms && !json_is_array(perms)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid JSON payload: permissions must be a "
			   "list of strings.");
		return;
	}
	size_t i;
	json_t *p;
	json_array_foreach(perms, i, p)
	{
		const char *s = json_string_value(p);
		if (s == NULL || strlen(s) > 128 || strchr(s, '*')) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Permission %.128s is not valid: wildcards are not allowed.",
				   s ? s : "(not a string)");
			return;
		}
	}
	struct test_state *t = mem_calloc(1, sizeof(*t));
	t->asked = json_array();
	t->granted = json_array();
	/* Unknown permissions are never granted (as Google's). */
	json_array_foreach(perms, i, p) if (iam_permission_known(json_string_value(p)))
		json_array_append(t->asked, p);
	snprintf(t->name, sizeof(t->name), "%s", name);
	c->state = t;
	c->state_free = test_state_free;
	test_next(c);
}

/* ------------------------------------------------------------ /token */

/* The value of key in an application/x-www-form-urlencoded body, decoded
 * into out. Returns its length or -1. */
static long form_value(const char *body, size_t len, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	for (const char *p = body, *end = body + len; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t o = 0;
			for (const char *q = p + kl + 1; q < stop; q++) {
				if (o + 1 >= n)
					return -1;
				if (*q == '+') {
					out[o++] = ' ';
				} else if (*q == '%') {
					if (stop - q < 3 || !isxdigit((unsigned char)q[1]) ||
					    !isxdigit((unsigned char)q[2]))
						return -1;
					char hex[3] = { q[1], q[2], 0 };
					out[o++] = (char)strtol(hex, NULL, 16);
					q += 2;
				} else {
					out[o++] = *q;
				}
			}
			out[o] = '\0';
			return (long)o;
		}
		p = stop + 1;
	}
	return -1;
}

/* Room for the decoded assertion: a token of at most JWT_MAX_LEN. */
#define JWT_FORM_MAX (JWT_MAX_LEN + 1)

static void oauth_error(struct call *c, const char *error, const char *desc)
{
	call_reply(c, 400, json_pack("{s:s,s:s}", "error", error, "error_description", desc));
}

static void on_assertion(void *arg, const char *email, const char *why)
{
	struct call *c = arg;
	if (email == NULL) {
		if (why[0] == '\0') {
			call_unavailable(c);
			return;
		}
		log_info("token: assertion refused: %s", why);
		oauth_error(c, "invalid_grant", why);
		return;
	}
	long expires_in = 0;
	char *tok = auth_issue_token(c->b, email, &expires_in);
	if (tok == NULL) {
		call_error(c, ERR_UNAVAILABLE, "The broker has no signing key yet; retry shortly.");
		return;
	}
	log_debug("token: issued to %s for %lds", email, expires_in);
	json_t *out = json_pack("{s:s,s:i,s:s}", "access_token", tok, "expires_in", (int)expires_in,
				"token_type", "Bearer");
	free(tok);
	call_set_header(c, "Cache-Control", "no-store");
	call_reply(c, 200, out);
}

void iam_token(struct call *c)
{
	char grant[128];
	char *assertion = mem_alloc(JWT_FORM_MAX);
	long gl = form_value(c->raw ? c->raw : "", c->raw_len, "grant_type", grant, sizeof(grant));
	long al =
		form_value(c->raw ? c->raw : "", c->raw_len, "assertion", assertion, JWT_FORM_MAX);
	if (gl < 0 || strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer") != 0) {
		mem_free(assertion);
		oauth_error(c, "unsupported_grant_type",
			    "grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer");
		return;
	}
	if (al <= 0) {
		mem_free(assertion);
		oauth_error(c, "invalid_request", "the assertion parameter is missing");
		return;
	}
	c->state = assertion; /* the verification reads it until it answers */
	c->state_free = mem_free;
	auth_check_assertion(c->b, assertion, (size_t)al, on_assertion, c);
}

void iam_jwks(struct call *c)
{
	call_set_header(c, "Cache-Control", "public, max-age=300");
	call_reply(c, 200, auth_jwks(c->b));
}
