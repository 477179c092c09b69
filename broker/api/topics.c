/* topics.c - topics.create/get/list/patch/delete and
 * topics.subscriptions.list (publish is publish.c), and the listing shared
 * with subscriptions.list. */
#include "api.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "subscription.h"
#include "fields.h"
#include "topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_topic_created(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = store_status(r);
	if (st == NULL)
		api_store_failed(c, r);
	else if (strcmp(st, "ALREADY_EXISTS") == 0)
		call_error(c, ERR_ALREADY_EXISTS,
			   "Resource already exists in the project "
			   "(resource=%s).",
			   c->params[1]);
	else {
		log_info("topic projects/%s/topics/%s created", c->params[0], c->params[1]);
		call_reply_text(c, 200, c->state, strlen(c->state));
	}
}

void topics_create(struct call *c)
{
	char err[512];
	struct topic_cfg cfg;
	if (api_names_or_reply(c, 2, "topics"))
		return;
	enum err e = topic_from_json(c->body, &cfg, err, sizeof(err));
	if (e != ERR_OK) {
		call_error(c, e, "%s", err);
		return;
	}
	api_keep_json(c, topic_to_json(c->params[0], c->params[1], &cfg));
	int64_t retention = cfg.retention_ms;
	topic_cleanup(&cfg);
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/topics/%.255s", c->params[0], c->params[1]);
	api_audit_admin(c, c->params[0], rname, c->state);
	if (store_topic_create(c->b->link, c->params[0], c->params[1], c->state, retention,
			       broker_now_ms(), on_topic_created, c) != 0)
		api_not_queued(c);
}

static void on_topic_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		api_store_failed(c, r);
	else if (r->type != REDIS_REPLY_STRING)
		call_not_found(c, c->params[1]);
	else
		call_reply_text(c, 200, r->str, r->len);
}

/* Reads the topic's stored JSON into cb. */
static void get_topic_cfg(struct call *c, store_cb cb)
{
	if (store_topic_get(c->b->link, c->params[0], c->params[1], cb, c) != 0)
		api_not_queued(c);
}

void topics_get(struct call *c)
{
	if (api_names_or_reply(c, 2, "topics") == 0)
		get_topic_cfg(c, on_topic_get);
}

/* Shared by topics.list and subscriptions.list: the list script's reply
 * becomes {"<field>":[...],"nextPageToken"}. */
struct list_state {
	long page_size;
	const char *field;
	int subs;
};

static void on_list(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct list_state *ls = c->state;
	const char *st = store_status(r);
	if (st == NULL || strcmp(st, "OK") != 0) {
		api_store_failed(c, r);
		return;
	}
	json_t *arr = json_array();
	size_t n = (r->elements - 1) / 3;
	const char *last = NULL;
	for (size_t i = 0; i < n && (long)i < ls->page_size; i++) {
		redisReply *id = r->element[1 + i * 3], *cfg = r->element[2 + i * 3],
			   *topic = r->element[3 + i * 3];
		json_t *o = json_loadb(cfg->str, cfg->len, 0, NULL);
		if (o == NULL)
			continue;
		if (ls->subs && topic->len == 0)
			json_object_set_new(o, "topic", json_string(SUBSCRIPTION_DELETED_TOPIC));
		json_array_append_new(arr, o);
		last = id->str;
	}
	json_t *out = json_object();
	if (json_array_size(arr))
		json_object_set(out, ls->field, arr);
	if ((long)n > ls->page_size && last)
		json_object_set_new(out, "nextPageToken", json_string(last));
	json_decref(arr);
	call_reply(c, 200, out);
}

void api_list(struct call *c, int subs)
{
	char token[NAMES_ID_MAX + 2];
	long ps;
	if (api_names_or_reply(c, 1, "") || api_page_or_reply(c, &ps, token, sizeof(token)))
		return;
	struct list_state *ls = mem_calloc(1, sizeof(*ls));
	ls->page_size = ps;
	ls->subs = subs;
	ls->field = subs ? "subscriptions" : "topics";
	c->state = ls;
	c->state_free = mem_free;
	char start[NAMES_ID_MAX + 3];
	snprintf(start, sizeof(start), "%s%s", token[0] ? "(" : "-", token);
	if (store_list(c->b->link, subs, c->params[0], start, ps + 1, on_list, c) != 0)
		api_not_queued(c);
}

void topics_list(struct call *c)
{
	api_list(c, 0);
}

static void on_topic_patch_read(redisReply *r, void *arg);

static void on_topic_patched(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = store_status(r);
	if (st && strcmp(st, "CONFLICT") == 0 && ++c->tries < API_PATCH_TRIES) {
		/* Someone else updated it meanwhile: apply the mask again. */
		mem_free(c->state);
		c->state = NULL;
		c->state_free = NULL;
		get_topic_cfg(c, on_topic_patch_read);
	} else if (st && strcmp(st, "CONFLICT") == 0)
		call_error(c, ERR_ABORTED, "The topic was updated concurrently; retry.");
	else if (st == NULL)
		api_store_failed(c, r);
	else if (strcmp(st, "NOT_FOUND") == 0)
		call_not_found(c, c->params[1]);
	else {
		log_info("topic projects/%s/topics/%s updated", c->params[0], c->params[1]);
		call_reply_text(c, 200, c->state, strlen(c->state));
	}
}

static void on_topic_patch_read(redisReply *r, void *arg)
{
	static const char *const allowed[] = { "labels", "messageRetentionDuration", NULL };
	struct call *c = arg;
	char err[512];
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		api_store_failed(c, r);
		return;
	}
	if (r->type != REDIS_REPLY_STRING) {
		call_not_found(c, c->params[1]);
		return;
	}
	json_t *stored = json_loadb(r->str, r->len, 0, NULL);
	json_t *patch = json_object_get(c->body, "topic");
	json_t *mask = json_object_get(c->body, "updateMask");
	struct topic_cfg cfg;
	enum err e = ERR_INVALID_ARGUMENT;
	if (stored == NULL) {
		call_error(c, ERR_INTERNAL, "stored topic is not valid JSON");
		return;
	}
	if (!json_is_object(patch) || !json_is_string(mask)) {
		json_decref(stored);
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A topic update needs \"topic\" (object) and "
			   "\"updateMask\" (string)");
		return;
	}
	if (fields_apply_mask(stored, patch, json_string_value(mask), allowed, err, sizeof(err)) ||
	    (e = topic_from_json(stored, &cfg, err, sizeof(err))) != ERR_OK) {
		json_decref(stored);
		call_error(c, e, "%s", err);
		return;
	}
	json_decref(stored);
	api_keep_json(c, topic_to_json(c->params[0], c->params[1], &cfg));
	int64_t retention = cfg.retention_ms;
	topic_cleanup(&cfg);
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/topics/%.255s", c->params[0], c->params[1]);
	api_audit_admin(c, c->params[0], rname, c->state);
	if (store_topic_patch(c->b->link, c->params[0], c->params[1], c->state, retention, r->str,
			      r->len, on_topic_patched, c) != 0)
		api_not_queued(c);
}

void topics_patch(struct call *c)
{
	if (api_names_or_reply(c, 2, "topics"))
		return;
	if (c->body == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A topic update needs a JSON body with "
			   "\"topic\" and \"updateMask\"");
		return;
	}
	get_topic_cfg(c, on_topic_patch_read);
}

static void on_deleted(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r)) {
		log_info("topic projects/%s/topics/%s deleted", c->params[0], c->params[1]);
		call_reply_text(c, 200, "{}", 2);
	}
}

void topics_delete(struct call *c)
{
	if (api_names_or_reply(c, 2, "topics"))
		return;
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/topics/%.255s", c->params[0], c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_topic_delete(c->b->link, c->params[0], c->params[1], on_deleted, c) != 0)
		api_not_queued(c);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void on_topic_subs(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct list_state *ls = c->state;
	if (api_status_or_reply(c, r) == NULL)
		return;
	size_t n = r->elements - 1;
	const char **names = mem_calloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = r->element[i + 1]->str;
	qsort(names, n, sizeof(*names), cmp_str);
	char tok[512] = "", name[NAMES_NAME_MAX + 1];
	call_query(c, "pageToken", tok, sizeof(tok));
	json_t *arr = json_array();
	const char *last = NULL;
	size_t i = 0;
	while (i < n && tok[0] && strcmp(names[i], tok) <= 0)
		i++;
	for (; i < n && (long)json_array_size(arr) < ls->page_size; i++) {
		const char *slash = strchr(names[i], '/');
		if (slash == NULL)
			continue;
		snprintf(name, sizeof(name), "projects/%.*s/%s/%s", (int)(slash - names[i]),
			 names[i], ls->field, slash + 1);
		json_array_append_new(arr, json_string(name));
		last = names[i];
	}
	json_t *out = json_object();
	if (json_array_size(arr))
		json_object_set(out, ls->field, arr);
	if (i < n && last)
		json_object_set_new(out, "nextPageToken", json_string(last));
	json_decref(arr);
	mem_free(names);
	call_reply(c, 200, out);
}

void api_topic_names(struct call *c, int snapshots)
{
	long ps;
	if (api_names_or_reply(c, 2, "topics") || api_page_size_or_reply(c, &ps))
		return;
	struct list_state *ls = mem_calloc(1, sizeof(*ls));
	ls->page_size = ps > 1000 ? 1000 : ps;
	ls->field = snapshots ? "snapshots" : "subscriptions";
	c->state = ls;
	c->state_free = mem_free;
	int rc = snapshots ? store_topic_snaps(c->b->link, c->params[0], c->params[1],
					       broker_now_ms(), on_topic_subs, c)
			   : store_topic_subs(c->b->link, c->params[0], c->params[1], on_topic_subs,
					      c);
	if (rc != 0)
		api_not_queued(c);
}

void topics_subscriptions(struct call *c)
{
	api_topic_names(c, 0);
}
