/* sinks.c - log sinks in the Cloud Logging v2 shape (LogSink: name,
 * destination, filter, description, disabled, createTime, updateTime):
 * every matching audit entry is published to the sink's Pub/Sub topic in
 * the same Redis step that writes it (store/sinks.c). Sinks are admin
 * changes themselves (audited). */
#include "api.h"

#include "audit.h"
#include "broker.h"
#include "fields.h"
#include "logfilter.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SINKS_PER_PROJECT 200 /* as Cloud Logging */
#define SINK_FILTER_MAX 20000
#define SINK_DESCRIPTION_MAX 8000
#define DEST_PREFIX "pubsub.googleapis.com/"

static int valid_sink_id(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 100 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int valid_destination(const char *d)
{
	if (d == NULL || strncmp(d, DEST_PREFIX "projects/", sizeof(DEST_PREFIX) + 8) != 0)
		return 0;
	const char *p = d + sizeof(DEST_PREFIX) + 8, *slash = strchr(p, '/');
	if (slash == NULL || strncmp(slash, "/topics/", 8) != 0 || slash - p > 100)
		return 0;
	char project[101];
	snprintf(project, sizeof(project), "%.*s", (int)(slash - p), p);
	return names_valid_project(project) == 0 && names_valid_id(slash + 8) == 0;
}

static void now_text(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	audit_time((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, buf, n);
}

/* Checks the fields body has, then applies them to sink: those mask names
 * (fields_apply_mask: a named field the body lacks is cleared), or every
 * one it has when mask is NULL. 400 and -1 for a bad one. */
static int apply_or_reply(struct call *c, json_t *sink, json_t *body, const char *mask)
{
	static const char *const writable[] = { "destination", "filter", "description", "disabled",
						NULL };
	static const char *const output_only[] = { "name", "createTime", "updateTime",
						   "writerIdentity", NULL };
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v)
	{
		if (!fields_in_list(k, writable) && !fields_in_list(k, output_only)) {
			call_error(
				c, ERR_INVALID_ARGUMENT,
				"Invalid JSON payload received. Unknown name \"%.100s\" at 'sink': "
				"a LogSink has name, destination, filter, description and "
				"disabled.",
				k);
			return -1;
		}
	}
	json_t *dest = json_object_get(body, "destination"), *flt = json_object_get(body, "filter");
	json_t *desc = json_object_get(body, "description"),
	       *dis = json_object_get(body, "disabled");
	if ((dest && !json_is_string(dest)) || (flt && !json_is_string(flt)) ||
	    (desc && !json_is_string(desc))) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "destination, filter and description must be strings.");
		return -1;
	}
	if (dis && !json_is_boolean(dis)) {
		call_error(c, ERR_INVALID_ARGUMENT, "disabled must be true or false.");
		return -1;
	}
	if (flt) {
		char err[300];
		struct logfilter *lf = NULL;
		if (strlen(json_string_value(flt)) > SINK_FILTER_MAX) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "The filter is longer than %d characters.", SINK_FILTER_MAX);
			return -1;
		}
		if ((lf = logfilter_parse(json_string_value(flt), err, sizeof(err))) == NULL) {
			call_error(c, ERR_INVALID_ARGUMENT, "Invalid filter: %s", err);
			return -1;
		}
		logfilter_free(lf);
	}
	if (desc && strlen(json_string_value(desc)) > SINK_DESCRIPTION_MAX) {
		call_error(c, ERR_INVALID_ARGUMENT, "The description is longer than %d characters.",
			   SINK_DESCRIPTION_MAX);
		return -1;
	}
	if (mask) {
		char err[200];
		if (fields_apply_mask(sink, body, mask, writable, err, sizeof(err)) != 0) {
			call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
			return -1;
		}
	} else {
		for (size_t i = 0; writable[i]; i++)
			if ((v = json_object_get(body, writable[i])) != NULL)
				json_object_set(sink, writable[i], v);
	}
	const char *d = json_string_value(json_object_get(sink, "destination"));
	if (!valid_destination(d)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid destination \"%.300s\": regnotify exports to Pub/Sub topics "
			   "only, as \"pubsub.googleapis.com/projects/PROJECT/topics/TOPIC\".",
			   d ? d : "");
		return -1;
	}
	return 0;
}

static void sink_name(const struct call *c, char *buf, size_t n)
{
	snprintf(buf, n, "projects/%.100s/sinks/%.100s", c->params[0], c->params[1]);
}

static void on_put(redisReply *r, void *arg);

void sinks_create(struct call *c)
{
	if (api_names_or_reply(c, 1, "sinks"))
		return;
	const char *id = json_string_value(json_object_get(c->body, "name"));
	if (id == NULL || !valid_sink_id(id)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "name must be a sink identifier: 1-100 letters, digits, '_', '-' and "
			   "'.'.");
		return;
	}
	json_t *sink = json_pack("{s:s}", "name", id);
	if (apply_or_reply(c, sink, c->body, NULL) != 0) {
		json_decref(sink);
		return;
	}
	char t[40], rname[300];
	now_text(t, sizeof(t));
	json_object_set_new(sink, "createTime", json_string(t));
	json_object_set_new(sink, "updateTime", json_string(t));
	snprintf(c->params[1], sizeof(c->params[1]), "%s", id);
	sink_name(c, rname, sizeof(rname));
	api_keep_json(c, sink);
	api_audit_admin(c, c->params[0], rname, c->state);
	if (store_sink_put(c->b->link, c->params[0], id, c->state, NULL, SINKS_PER_PROJECT, on_put,
			   c) != 0)
		api_not_queued(c);
}

static void update_read(struct call *c);

static void on_put(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "OK") == 0)
		call_reply_text(c, 200, c->state, strlen(c->state));
	else if (strcmp(st, "ALREADY_EXISTS") == 0)
		call_error(c, ERR_ALREADY_EXISTS, "Sink %s already exists.", c->params[1]);
	else if (strcmp(st, "RESOURCE_EXHAUSTED") == 0)
		call_error(c, ERR_RESOURCE_EXHAUSTED, "A project has at most %d sinks.",
			   SINKS_PER_PROJECT);
	else if (strcmp(st, "NOT_FOUND") == 0)
		call_error(c, ERR_NOT_FOUND, "Sink %s does not exist.", c->params[1]);
	else if (strcmp(st, "ABORTED") == 0 && ++c->tries < 5)
		update_read(c); /* changed meanwhile: read-modify-write again */
	else
		call_error(c, ERR_ABORTED, "Sink %s kept changing; retry.", c->params[1]);
}

static int sink_params_or_reply(struct call *c)
{
	if (api_names_or_reply(c, 1, "sinks"))
		return -1;
	if (!valid_sink_id(c->params[1])) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid sink name given (sink=%.120s).",
			   c->params[1]);
		return -1;
	}
	return 0;
}

static void on_got(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
		api_store_failed(c, r);
		return;
	}
	if (r->type == REDIS_REPLY_NIL)
		call_error(c, ERR_NOT_FOUND, "Sink %s does not exist.", c->params[1]);
	else
		call_reply_text(c, 200, r->str, r->len);
}

void sinks_get(struct call *c)
{
	if (sink_params_or_reply(c))
		return;
	if (store_sink_get(c->b->link, c->params[0], c->params[1], on_got, c) != 0)
		api_not_queued(c);
}

static int by_name(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	return strcmp(x ? x : "", y ? y : "");
}

static void on_listed(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		api_store_failed(c, r);
		return;
	}
	size_t n = r->elements / 2, k = 0;
	json_t **v = mem_alloc(sizeof(*v) * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		redisReply *j = r->element[2 * i + 1];
		if (j->type == REDIS_REPLY_STRING &&
		    (v[k] = json_loadb(j->str, j->len, 0, NULL)) != NULL)
			k++;
	}
	qsort(v, k, sizeof(*v), by_name);
	json_t *sinks = json_array(), *out = json_object();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(sinks, v[i]);
	mem_free(v);
	if (k)
		json_object_set_new(out, "sinks", sinks);
	else
		json_decref(sinks);
	call_reply(c, 200, out);
}

void sinks_list(struct call *c)
{
	if (api_names_or_reply(c, 1, "sinks"))
		return;
	if (store_sink_get(c->b->link, c->params[0], NULL, on_listed, c) != 0)
		api_not_queued(c);
}

/* update: read, apply the body (updateMask or the fields it has), put
 * with the read JSON as the expected one. */
static void on_update_read(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
		api_store_failed(c, r);
		return;
	}
	if (r->type == REDIS_REPLY_NIL) {
		call_error(c, ERR_NOT_FOUND, "Sink %s does not exist.", c->params[1]);
		return;
	}
	json_t *sink = json_loadb(r->str, r->len, 0, NULL);
	if (sink == NULL) {
		call_error(c, ERR_INTERNAL, "Sink %s is not readable.", c->params[1]);
		return;
	}
	char mbuf[256], t[40], rname[300];
	const char *mask = call_query(c, "updateMask", mbuf, sizeof(mbuf));
	if (apply_or_reply(c, sink, c->body, mask && mask[0] ? mask : NULL) != 0) {
		json_decref(sink);
		return;
	}
	now_text(t, sizeof(t));
	json_object_set_new(sink, "updateTime", json_string(t));
	char *expected = mem_strndup(r->str, r->len);
	mem_free(c->state);
	api_keep_json(c, sink);
	sink_name(c, rname, sizeof(rname));
	api_audit_admin(c, c->params[0], rname, c->state);
	if (store_sink_put(c->b->link, c->params[0], c->params[1], c->state, expected,
			   SINKS_PER_PROJECT, on_put, c) != 0)
		api_not_queued(c);
	mem_free(expected);
}

static void update_read(struct call *c)
{
	if (store_sink_get(c->b->link, c->params[0], c->params[1], on_update_read, c) != 0)
		api_not_queued(c);
}

void sinks_update(struct call *c)
{
	if (sink_params_or_reply(c))
		return;
	if (c->body == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT, "Expected a LogSink in the body.");
		return;
	}
	update_read(c);
}

static void on_deleted(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "NOT_FOUND") == 0)
		call_error(c, ERR_NOT_FOUND, "Sink %s does not exist.", c->params[1]);
	else
		call_reply_text(c, 200, "{}", 2);
}

void sinks_delete(struct call *c)
{
	if (sink_params_or_reply(c))
		return;
	char rname[300];
	sink_name(c, rname, sizeof(rname));
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_sink_delete(c->b->link, c->params[0], c->params[1], on_deleted, c) != 0)
		api_not_queued(c);
}
