/* snapshots.c - Pub/Sub snapshots: create, get, list, patch (labels,
 * expireTime), delete, and seek to one (store/snapshots.c; docs/api.md
 * "Snapshots"). The Snapshot resource: {"name", "topic", "expireTime",
 * "labels"}. */
#include "api.h"

#include "broker.h"
#include "duration.h"
#include "fields.h"
#include "log.h"
#include "mem.h"
#include "subscription.h"
#include "wake.h"

#include <stdio.h>
#include <string.h>

/* The Snapshot of project/id: topic "p/t" ("" once deleted), expiry and the
 * stored labels text ("" for none). */
static json_t *snapshot_json(const char *project, const char *id, const redisReply *topic,
			     const redisReply *expire, const redisReply *labels)
{
	json_t *o = json_object();
	fields_set_name(o, "name", project, "snapshots", id);
	const char *slash = topic->str ? memchr(topic->str, '/', topic->len) : NULL;
	char t[NAMES_NAME_MAX + 1];
	if (slash)
		snprintf(t, sizeof(t), "projects/%.*s/topics/%.*s", (int)(slash - topic->str),
			 topic->str, (int)(topic->len - (size_t)(slash - topic->str) - 1),
			 slash + 1);
	else
		snprintf(t, sizeof(t), "%s", SUBSCRIPTION_DELETED_TOPIC);
	json_object_set_new(o, "topic", json_string(t));
	char ts[40];
	timestamp_format(expire->str ? strtoll(expire->str, NULL, 10) : 0, ts, sizeof(ts));
	json_object_set_new(o, "expireTime", json_string(ts));
	json_t *l =
		labels->str && labels->len ? json_loadb(labels->str, labels->len, 0, NULL) : NULL;
	if (json_object_size(l))
		json_object_set(o, "labels", l);
	json_decref(l);
	return o;
}

/* Labels of a body (NULL: none) as stored text ("" for none), in *out
 * (mem_free). Replies 400 and returns -1. */
static int labels_or_reply(struct call *c, json_t *v, char **out)
{
	char err[300];
	json_t *l = NULL;
	*out = NULL;
	if (v && !json_is_null(v) && fields_labels(v, &l, err, sizeof(err)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return -1;
	}
	char *text = l && json_object_size(l) ? json_dumps(l, JSON_COMPACT) : NULL;
	json_decref(l);
	size_t n = text ? strlen(text) : 0;
	*out = mem_alloc(n + 1);
	memcpy(*out, text ? text : "", n + 1);
	free(text);
	return 0;
}

static void reply_snapshot(struct call *c, const redisReply *r)
{
	if (r->elements < 4) {
		api_store_failed(c, r);
		return;
	}
	call_reply(c, 200,
		   snapshot_json(c->params[0], c->params[1], r->element[1], r->element[2],
				 r->element[3]));
}

static void on_snap_created(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = store_status(r);
	if (st == NULL) {
		api_store_failed(c, r);
	} else if (strcmp(st, "OK") == 0 && r->elements == 3) {
		log_info("snapshot projects/%s/snapshots/%s created", c->params[0], c->params[1]);
		redisReply labels = { .type = REDIS_REPLY_STRING,
				      .str = c->state,
				      .len = strlen(c->state) };
		call_reply(c, 200,
			   snapshot_json(c->params[0], c->params[1], r->element[1], r->element[2],
					 &labels));
	} else if (strcmp(st, "ALREADY_EXISTS") == 0) {
		call_error(c, ERR_ALREADY_EXISTS,
			   "Resource already exists in the project (resource=%s).", c->params[1]);
	} else if (strcmp(st, "SUB_NOT_FOUND") == 0) {
		json_t *s = json_object_get(c->body, "subscription");
		call_error(c, ERR_NOT_FOUND, "Resource not found (resource=%s).",
			   strrchr(json_string_value(s), '/') + 1);
	} else if (strcmp(st, "TOPIC_GONE") == 0) {
		call_error(c, ERR_FAILED_PRECONDITION,
			   "The subscription's topic was deleted: there is nothing to snapshot");
	} else if (strcmp(st, "DETACHED") == 0) {
		call_error(c, ERR_FAILED_PRECONDITION,
			   "The subscription is detached: there is nothing to snapshot");
	} else if (strcmp(st, "SNAPSHOT_TOO_OLD") == 0) {
		call_error(c, ERR_FAILED_PRECONDITION,
			   "The subscription's backlog is too old: its oldest unacked message "
			   "would leave the snapshot in less than 1 hour (snapshots expire 7 days "
			   "after the oldest message they hold)");
	} else {
		api_store_failed(c, r);
	}
}

void snapshots_create(struct call *c)
{
	if (api_names_or_reply(c, 2, "snapshots"))
		return;
	json_t *body = c->body, *sub = body ? json_object_get(body, "subscription") : NULL;
	char p[NAMES_PROJECT_MAX + 1], s[NAMES_ID_MAX + 1];
	if (!json_is_string(sub) ||
	    names_split(json_string_value(sub), "subscriptions", p, sizeof(p), s, sizeof(s))) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A snapshot needs {\"subscription\": "
			   "\"projects/PROJECT/subscriptions/SUBSCRIPTION\"}");
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "subscription") != 0 && strcmp(k, "labels") != 0 &&
		    strcmp(k, "name") != 0) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid JSON payload received. Unknown name \"%.64s\" at "
				   "'snapshot'",
				   k);
			return;
		}
	}
	char *labels;
	if (labels_or_reply(c, json_object_get(body, "labels"), &labels) != 0)
		return;
	c->state = labels;
	c->state_free = mem_free;
	char key[NAMES_KEY_MAX], rname[400];
	names_key(key, p, s);
	snprintf(rname, sizeof(rname), "projects/%.100s/snapshots/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_snap_create(c->b->link, c->params[0], c->params[1], key, labels, broker_now_ms(),
			      on_snap_created, c) != 0)
		api_not_queued(c);
}

static void on_snap_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st)
		reply_snapshot(c, r);
}

void snapshots_get(struct call *c)
{
	if (api_names_or_reply(c, 2, "snapshots"))
		return;
	if (store_snap_get(c->b->link, c->params[0], c->params[1], broker_now_ms(), on_snap_get,
			   c) != 0)
		api_not_queued(c);
}

static void on_snap_list(redisReply *r, void *arg)
{
	struct call *c = arg;
	long ps = *(long *)c->state;
	const char *st = store_status(r);
	if (st == NULL || strcmp(st, "OK") != 0) {
		api_store_failed(c, r);
		return;
	}
	json_t *arr = json_array();
	size_t n = (r->elements - 1) / 4;
	const char *last = NULL;
	for (size_t i = 0; i < n && (long)i < ps; i++) {
		redisReply *const *e = r->element + 1 + i * 4;
		json_array_append_new(arr,
				      snapshot_json(c->params[0], e[0]->str, e[1], e[2], e[3]));
		last = e[0]->str;
	}
	json_t *out = json_object();
	if (json_array_size(arr))
		json_object_set(out, "snapshots", arr);
	if ((long)n > ps && last)
		json_object_set_new(out, "nextPageToken", json_string(last));
	json_decref(arr);
	call_reply(c, 200, out);
}

void snapshots_list(struct call *c)
{
	char token[NAMES_ID_MAX + 2];
	long ps;
	if (api_names_or_reply(c, 1, "") || api_page_or_reply(c, &ps, token, sizeof(token)))
		return;
	long *st = mem_alloc(sizeof(*st));
	*st = ps;
	c->state = st;
	c->state_free = mem_free;
	char start[NAMES_ID_MAX + 3];
	snprintf(start, sizeof(start), "%s%s", token[0] ? "(" : "-", token);
	if (store_snap_list(c->b->link, c->params[0], start, ps + 1, broker_now_ms(), on_snap_list,
			    c) != 0)
		api_not_queued(c);
}

static void on_snap_patched(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "OK") == 0) {
		log_info("snapshot projects/%s/snapshots/%s updated", c->params[0], c->params[1]);
		reply_snapshot(c, r);
		return;
	}
	char limit[40] = "?";
	if (r->elements > 1 && r->element[1]->str)
		timestamp_format(strtoll(r->element[1]->str, NULL, 10), limit, sizeof(limit));
	if (strcmp(st, "EXPIRE_PAST") == 0)
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid expireTime: it must be in the future (and not after %s, 7 "
			   "days after the oldest message the snapshot holds)",
			   limit);
	else if (strcmp(st, "EXPIRE_TOO_LATE") == 0)
		call_error(
			c, ERR_INVALID_ARGUMENT,
			"Invalid expireTime: a snapshot lasts at most until %s, 7 days after the "
			"oldest message it holds",
			limit);
	else
		api_store_failed(c, r);
}

void snapshots_patch(struct call *c)
{
	if (api_names_or_reply(c, 2, "snapshots"))
		return;
	json_t *snap = c->body ? json_object_get(c->body, "snapshot") : NULL;
	json_t *mask = c->body ? json_object_get(c->body, "updateMask") : NULL;
	if (!json_is_object(snap) || !json_is_string(mask)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A snapshot update needs \"snapshot\" (object) and \"updateMask\" "
			   "(string: labels, expireTime)");
		return;
	}
	int want_labels = 0;
	int64_t expire = -1;
	char paths[512];
	snprintf(paths, sizeof(paths), "%s", json_string_value(mask));
	char *save = NULL;
	int any = 0;
	for (char *f = strtok_r(paths, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		while (*f == ' ')
			f++;
		any = 1;
		if (strcmp(f, "labels") == 0) {
			want_labels = 1;
		} else if (strcmp(f, "expireTime") == 0 || strcmp(f, "expire_time") == 0) {
			json_t *e = json_object_get(snap, "expireTime");
			if (!json_is_string(e) || timestamp_parse(json_string_value(e), &expire)) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Invalid expireTime: expected an RFC 3339 timestamp");
				return;
			}
		} else {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid updateMask: '%.64s' cannot be updated (a snapshot's "
				   "labels and expireTime can)",
				   f);
			return;
		}
	}
	if (!any) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid updateMask: it names no field");
		return;
	}
	char *labels = NULL;
	if (want_labels) {
		if (labels_or_reply(c, json_object_get(snap, "labels"), &labels) != 0)
			return;
		c->state = labels;
		c->state_free = mem_free;
	}
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/snapshots/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_snap_patch(c->b->link, c->params[0], c->params[1], labels, expire,
			     broker_now_ms(), on_snap_patched, c) != 0)
		api_not_queued(c);
}

static void on_snap_deleted(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r)) {
		log_info("snapshot projects/%s/snapshots/%s deleted", c->params[0], c->params[1]);
		call_reply_text(c, 200, "{}", 2);
	}
}

void snapshots_delete(struct call *c)
{
	if (api_names_or_reply(c, 2, "snapshots"))
		return;
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/snapshots/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_snap_delete(c->b->link, c->params[0], c->params[1], broker_now_ms(),
			      on_snap_deleted, c) != 0)
		api_not_queued(c);
}

static void on_seeked_snapshot(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "OK") == 0) {
		struct broker *b = c->b;
		log_info("subscription projects/%s/subscriptions/%s seeked to a snapshot",
			 c->params[0], c->params[1]);
		call_reply_text(c, 200, "{}", 2);
		wake_topic(b, NULL);
	} else if (strcmp(st, "SNAPSHOT_NOT_FOUND") == 0) {
		call_error(c, ERR_NOT_FOUND, "Resource not found (resource=%s).",
			   strrchr(json_string_value(json_object_get(c->body, "snapshot")), '/') +
				   1);
	} else if (strcmp(st, "TOPIC_MISMATCH") == 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "The snapshot's topic is not the subscription's topic: a subscription "
			   "can seek only to a snapshot of its own topic");
	} else {
		api_store_failed(c, r);
	}
}

int api_seek_snapshot(struct call *c, const char *name)
{
	char p[NAMES_PROJECT_MAX + 1], n[NAMES_ID_MAX + 1];
	if (names_split(name, "snapshots", p, sizeof(p), n, sizeof(n)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid resource name given (name=%.300s): a snapshot is "
			   "projects/PROJECT/snapshots/SNAPSHOT",
			   name);
		return -1;
	}
	char sub[NAMES_KEY_MAX], snap[NAMES_KEY_MAX];
	names_key(sub, c->params[0], c->params[1]);
	names_key(snap, p, n);
	if (store_seek_snapshot(c->b->link, sub, snap, broker_now_ms(), on_seeked_snapshot, c) != 0)
		api_not_queued(c);
	return 0;
}

void topics_snapshots(struct call *c)
{
	api_topic_names(c, 1);
}
