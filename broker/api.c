/* api.c - helpers shared by the REST handlers, and the health endpoints. */
#include "api.h"

#include "broker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_names_or_reply(struct call *c, int nparams, const char *kind)
{
	if (resource_valid_project(c->params[0]) != 0) {
		call_error(c, RPC_INVALID_ARGUMENT, "Invalid project ID given (project=%.120s).",
			   c->params[0]);
		return -1;
	}
	if (nparams > 1 && resource_valid_id(c->params[1]) != 0) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid resource name given (name=projects/%s/%s/%.255s). Refer to "
			   "https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for "
			   "more information.",
			   c->params[0], kind, c->params[1]);
		return -1;
	}
	return 0;
}

void api_key(char *buf, const char *project, const char *id)
{
	snprintf(buf, API_KEY_MAX, "%s/%s", project, id);
}

const char *api_status(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    (r->element[0]->type != REDIS_REPLY_STATUS &&
	     r->element[0]->type != REDIS_REPLY_STRING))
		return NULL;
	return r->element[0]->str;
}

const char *api_status_or_reply(struct call *c, const redisReply *r)
{
	const char *st = api_status(r);
	if (st == NULL)
		api_store_failed(c, r);
	else if (strcmp(st, "NOT_FOUND") == 0)
		call_not_found(c, c->params[1]);
	else
		return st;
	return NULL;
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
		call_error(c, RPC_INTERNAL, "Message store error: %.300s", r->str);
		return;
	}
	call_error(c, RPC_INTERNAL, "Unexpected reply from the message store");
}

void api_script(struct call *c, enum script_id id, redis_cb cb, int argc, const char **argv,
		const size_t *lens)
{
	if (redis_conn_script(c->b->redis, id, cb, c, 0, argc, argv, lens) != 0)
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
			call_error(c, RPC_INVALID_ARGUMENT, "Invalid pageSize: %.32s", ps);
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
		if (strlen(pt) >= toklen || resource_valid_id(pt) != 0) {
			call_error(c, RPC_INVALID_ARGUMENT, "Invalid pageToken");
			return -1;
		}
		snprintf(token, toklen, "%s", pt);
	}
	return 0;
}

int api_message_id(const char *entry_id, char *out, size_t n)
{
	char *dash;
	errno = 0;
	unsigned long long ms = strtoull(entry_id, &dash, 10);
	if (errno || *dash != '-')
		return -1;
	unsigned long long seq = strtoull(dash + 1, NULL, 10);
	if (seq >= 1000000ULL || ms > UINT64_MAX / 1000000ULL - 1)
		return -1;
	snprintf(out, n, "%llu", ms * 1000000ULL + seq);
	return 0;
}

int api_entry_id(const char *message_id, char *out, size_t n)
{
	char *end;
	if (*message_id < '0' || *message_id > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(message_id, &end, 10);
	if (errno || *end)
		return -1;
	snprintf(out, n, "%llu-%llu", v / 1000000ULL, v % 1000000ULL);
	return 0;
}

int api_json_int(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '-')) /* no spaces, no '+' */
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno || *end != '\0') ? -1 : 0;
}

unsigned api_sub_tag(const char *sub_key)
{
	unsigned h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)sub_key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

void api_health(struct call *c)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	call_reply_text(c, 200, ok, sizeof(ok) - 1);
}

void api_ready(struct call *c)
{
	static const char ready[] = "{\"status\":\"ready\"}";
	if (c->b->shutting_down) {
		call_error(c, RPC_UNAVAILABLE, "not ready: shutting down");
		return;
	}
	if (!redis_conn_ready(c->b->redis)) {
		call_error(c, RPC_UNAVAILABLE,
			   "not ready: the message store (Redis) is not "
			   "reachable");
		return;
	}
	call_reply_text(c, 200, ready, sizeof(ready) - 1);
}
