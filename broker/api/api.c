/* api.c - helpers shared by the REST handlers, and the layer's start. */
#include "api.h"
#include "log.h"

#include "iam.h"

#include "broker.h"
#include "mem.h"
#include "ingest.h"
#include "pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_routes_check(const struct route *t, size_t n, char *err, size_t errlen)
{
	static const char *const kinds[] = { "project",           "topic",  "subscription",
					     "service_account",   "global", "body.resourceNames",
					     "subscription.topic" };
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &t[i];
		if (r->permission == NULL) {
			snprintf(err, errlen, "route %s has no permission", r->name);
			return -1;
		}
		if (r->audit == AUDIT_UNSET || r->method_name == NULL) {
			snprintf(err, errlen, "route %s has no audit log type or methodName",
				 r->name);
			return -1;
		}
		if (r->permission[0] == '\0')
			continue;
		if (!iam_permission_known(r->permission)) {
			snprintf(err, errlen, "route %s: unknown permission %s", r->name,
				 r->permission);
			return -1;
		}
		if (r->also_permission &&
		    (!iam_permission_known(r->also_permission) || r->also_resource == NULL ||
		     (strcmp(r->also_resource, "body.topic") != 0 &&
		      strcmp(r->also_resource, "body.destination") != 0 &&
		      strcmp(r->also_resource, "body.subscription") != 0 &&
		      strcmp(r->also_resource, "body.snapshot") != 0))) {
			snprintf(err, errlen, "route %s: bad second permission", r->name);
			return -1;
		}
		int ok = 0;
		for (size_t k = 0; r->resource && k < sizeof(kinds) / sizeof(kinds[0]); k++)
			ok |= strcmp(r->resource, kinds[k]) == 0;
		if (!ok) {
			snprintf(err, errlen, "route %s: no valid resource for %s", r->name,
				 r->permission);
			return -1;
		}
	}
	return 0;
}

void api_print_routes(FILE *out)
{
	static const char *const methods[] = { "GET", "PUT", "POST", "PATCH", "DELETE" };
	json_t *all = json_array();
	for (size_t i = 0; i < routes_len; i++) {
		const struct route *r = &routes[i];
		json_t *ms = json_array();
		for (int m = 0; m < 5; m++)
			if (r->method & (1 << m))
				json_array_append_new(ms, json_string(methods[m]));
		json_t *o = json_pack("{s:s,s:s,s:o,s:s?,s:s?,s:s?,s:s?,s:s?,s:b,s:b,s:b}", "name",
				      r->name, "pattern", r->pattern, "methods", ms, "permission",
				      r->permission, "resource", r->resource, "also_permission",
				      r->also_permission, "also_resource", r->also_resource,
				      "ephemeral_permission", r->ephemeral_permission, "http",
				      !r->via || (r->via & VIA_HTTP), "nng",
				      !r->via || (r->via & VIA_NNG), "metrics_listen",
				      (r->via & VIA_METRICS) != 0);
		static const char *const logs[] = { "",           "none",      "ADMIN_WRITE",
						    "ADMIN_READ", "DATA_READ", "DATA_WRITE" };
		json_object_set_new(o, "audit", json_string(logs[r->audit]));
		json_object_set_new(o, "method_name",
				    json_string(r->method_name ? r->method_name : ""));
		json_array_append_new(all, o);
	}
	char *text = json_dumps(all, JSON_INDENT(1));
	void *(*alloc)(size_t);
	void (*release)(void *);
	json_get_alloc_funcs(&alloc, &release);
	fprintf(out, "%s\n", text);
	release(text);
	json_decref(all);
}

void api_start(struct broker *b)
{
	char err[256];
	/* A route without a permission is a wiring bug, never an open door. */
	if (api_routes_check(b->routes, b->nroutes, err, sizeof(err)) != 0) {
		log_error("api: %s", err);
		abort();
	}
	pull_start(b);
	ingest_start(b);
	b->call_done = api_audit_done;
}

int api_names_or_reply(struct call *c, int nparams, const char *kind)
{
	if (names_valid_project(c->params[0]) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid project ID given (project=%.120s).",
			   c->params[0]);
		return -1;
	}
	if (nparams > 1 && names_valid_id(c->params[1]) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid resource name given (name=projects/%s/%s/%.255s). Refer to "
			   "https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for "
			   "more information.",
			   c->params[0], kind, c->params[1]);
		return -1;
	}
	return 0;
}

const char *api_status_or_reply(struct call *c, const redisReply *r)
{
	const char *st = store_status(r);
	if (st == NULL)
		api_store_failed(c, r);
	else if (strcmp(st, "NOT_FOUND") == 0)
		call_not_found(c, c->params[1]);
	else if (strcmp(st, "DETACHED") == 0)
		api_detached(c);
	else
		return st;
	return NULL;
}

void api_detached(struct call *c)
{
	call_error(c, ERR_FAILED_PRECONDITION,
		   "The subscription projects/%.100s/subscriptions/%.255s is detached from its "
		   "topic: it receives no messages and cannot be pulled, acknowledged or sought",
		   c->params[0], c->params[1]);
}

void api_store_failed(struct call *c, const redisReply *r)
{
	if (r == NULL) {
		call_unavailable(c);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		/* OOM, READONLY (a replica), or a script bug: all retryable
		 * from the client's side only once an operator acts. */
		call_error(c, ERR_INTERNAL, "Message store error: %.300s", r->str);
		return;
	}
	call_error(c, ERR_INTERNAL, "Unexpected reply from the message store");
}

void api_keep_json(struct call *c, json_t *o)
{
	c->state = json_dumps(o, JSON_COMPACT);
	c->state_free = mem_free;
	json_decref(o);
}

void api_not_queued(struct call *c)
{
	call_unavailable(c);
}

int api_page_size_or_reply(struct call *c, long *page_size)
{
	char buf[64];
	*page_size = 100;
	const char *ps = call_query(c, "pageSize", buf, sizeof(buf));
	if (ps && *ps) {
		char *end;
		errno = 0;
		long v = strtol(ps, &end, 10);
		if (errno || *end || v < 0) {
			call_error(c, ERR_INVALID_ARGUMENT, "Invalid pageSize: %.32s", ps);
			return -1;
		}
		*page_size = v == 0 ? 100 : v > 1000 ? 1000 : v;
	}
	return 0;
}

int api_page_or_reply(struct call *c, long *page_size, char *token, size_t toklen)
{
	token[0] = '\0';
	if (api_page_size_or_reply(c, page_size))
		return -1;
	char tb[512];
	const char *pt = call_query(c, "pageToken", tb, sizeof(tb));
	if (pt && *pt) {
		if (strlen(pt) >= toklen || names_valid_id(pt) != 0) {
			call_error(c, ERR_INVALID_ARGUMENT, "Invalid pageToken");
			return -1;
		}
		snprintf(token, toklen, "%s", pt);
	}
	return 0;
}
