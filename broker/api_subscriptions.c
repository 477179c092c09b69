/* api_subscriptions.c - subscriptions.create/get/list/patch/delete. */
#include "api.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "push_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The numbers the Lua scripts need, next to the canonical JSON. */
struct sub_args {
	char key[API_KEY_MAX], topic[API_KEY_MAX], dlq[API_KEY_MAX];
	char ack[24], ret[24], ttl[24], maxatt[24], rmin[24], rmax[24], now[24];
	char *push; /* full pushConfig JSON, or "" for pull; freed by args_cleanup */
};

static void args_cleanup(struct sub_args *a)
{
	if (a->push[0])
		free(a->push);
}

/* "projects/p/topics/t" -> "p/t" (already validated). */
static void short_topic(const char *full, char *out)
{
	char p[RESOURCE_PROJECT_MAX + 1], t[RESOURCE_ID_MAX + 1];
	if (full[0] && resource_split_name(full, "topics", p, sizeof(p), t, sizeof(t)) == 0)
		api_key(out, p, t);
	else
		out[0] = '\0';
}

static void fill_args(struct call *c, const struct sub_cfg *cfg, struct sub_args *a)
{
	api_key(a->key, c->params[0], c->params[1]);
	short_topic(cfg->topic, a->topic);
	short_topic(cfg->dead_letter_topic, a->dlq);
	snprintf(a->ack, sizeof(a->ack), "%d", cfg->ack_deadline_s * 1000);
	snprintf(a->ret, sizeof(a->ret), "%lld", (long long)cfg->retention_ms);
	snprintf(a->ttl, sizeof(a->ttl), "%lld", (long long)cfg->expiration_ttl_ms);
	snprintf(a->maxatt, sizeof(a->maxatt), "%d", cfg->max_delivery_attempts);
	snprintf(a->rmin, sizeof(a->rmin), "%lld",
		 cfg->has_retry_policy ? (long long)cfg->retry_min_ms : -1LL);
	snprintf(a->rmax, sizeof(a->rmax), "%lld",
		 cfg->has_retry_policy ? (long long)cfg->retry_max_ms : 0LL);
	snprintf(a->now, sizeof(a->now), "%lld", (long long)broker_now_ms());
	a->push = cfg->push ? json_dumps(cfg->push, JSON_COMPACT) : "";
}

static void run(struct call *c, enum script_id id, redis_cb cb, const char **argv, int argc)
{
	size_t lens[16];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	api_script(c, id, cb, argc, argv, lens);
}

static void read_sub(struct call *c, redis_cb cb);
static void on_sub_patch_read(redisReply *r, void *arg);
static void on_modpush_read(redisReply *r, void *arg);

/* Status words shared by create and patch. */
static void on_sub_written(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status(r);
	if (st && strcmp(st, "CONFLICT") == 0 && ++c->tries < API_PATCH_TRIES) {
		/* Someone else updated it meanwhile: apply the mask again. */
		free(c->state);
		c->state = NULL;
		c->state_free = NULL;
		read_sub(c, c->route->handler == api_subs_modify_push ? on_modpush_read
								      : on_sub_patch_read);
	} else if (st && strcmp(st, "CONFLICT") == 0) {
		call_error(c, RPC_ABORTED, "The subscription was updated concurrently; retry.");
	} else if (st == NULL) {
		api_store_failed(c, r);
	} else if (strcmp(st, "ALREADY_EXISTS") == 0) {
		call_error(c, RPC_ALREADY_EXISTS,
			   "Resource already exists in the project "
			   "(resource=%s).",
			   c->params[1]);
	} else if (strcmp(st, "NOT_FOUND") == 0) {
		call_not_found(c, c->params[1]);
	} else if (strcmp(st, "TOPIC_NOT_FOUND") == 0 || strcmp(st, "DLQ_NOT_FOUND") == 0) {
		json_t *body = json_loads(c->state, 0, NULL);
		json_t *t = json_object_get(body, "topic");
		json_t *d = json_object_get(json_object_get(body, "deadLetterPolicy"),
					    "deadLetterTopic");
		const char *name = json_string_value(st[0] == 'T' ? t : d);
		const char *slash = name ? strrchr(name, '/') : NULL;
		call_error(c, RPC_NOT_FOUND, "Resource not found (resource=%s).",
			   slash ? slash + 1 : "topic");
		json_decref(body);
	} else {
		int modpush = c->route->handler == api_subs_modify_push;
		log_info("subscription projects/%s/subscriptions/%s %s", c->params[0], c->params[1],
			 c->route->method == M_PUT ? "created"
			 : modpush                 ? "push config changed"
						   : "updated");
		if (modpush)
			call_reply_text(c, 200, "{}", 2);
		else
			call_reply_text(c, 200, c->state, strlen(c->state));
	}
}

void api_subs_create(struct call *c)
{
	char err[512];
	int status;
	struct sub_cfg cfg;
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	if (c->body == NULL) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "A subscription needs a JSON body with "
			   "\"topic\"");
		return;
	}
	json_t *pc = json_object_get(c->body, "pushConfig");
	if (json_is_object(pc) && push_config_keep_secrets(pc, NULL, err, sizeof(err)) != 0) {
		/* "REDACTED" only means "keep" on an update; nothing is stored yet. */
		call_error(c, RPC_INVALID_ARGUMENT, "%s", err);
		return;
	}
	if (resource_sub_from_json(c->body, &cfg, c->b->cfg.push_allow_link_local, &status, err,
				   sizeof(err))) {
		call_error(c, status == 501 ? RPC_UNIMPLEMENTED : RPC_INVALID_ARGUMENT, "%s", err);
		return;
	}
	if (strcmp(cfg.topic, RESOURCE_DELETED_TOPIC) == 0) {
		resource_sub_cleanup(&cfg);
		call_error(c, RPC_INVALID_ARGUMENT, "Cannot create a subscription on %s",
			   RESOURCE_DELETED_TOPIC);
		return;
	}
	json_t *o = resource_sub_to_json(c->params[0], c->params[1], &cfg);
	c->state = json_dumps(o, JSON_COMPACT);
	c->state_free = free;
	json_decref(o);
	struct sub_args a;
	fill_args(c, &cfg, &a);
	resource_sub_cleanup(&cfg);
	const char *argv[] = {
		a.key, c->params[0], c->params[1], a.topic, c->state, a.ack, a.ret,
		a.ttl, a.dlq,        a.maxatt,     a.rmin,  a.rmax,   a.now, a.push
	};
	run(c, SCRIPT_SUB_CREATE, on_sub_written, argv, 14);
	args_cleanup(&a);
}

/* HMGET rn:v1:sub:{P/S} cfg topic push -> cb. */
static void read_sub(struct call *c, redis_cb cb)
{
	char key[API_KEY_MAX], hkey[API_KEY_MAX + 32];
	api_key(key, c->params[0], c->params[1]);
	snprintf(hkey, sizeof(hkey), "rn:v1:sub:{%s}", key);
	const char *argv[] = { "HMGET", hkey, "cfg", "topic", "push" };
	size_t lens[] = { 5, strlen(hkey), 3, 5, 4 };
	if (redis_conn_argv(c->b->redis, cb, c, 5, argv, lens) != 0)
		call_unavailable(c);
}

/* The stored JSON of a subscription as GET shows it, or NULL when the
 * HMGET reply says it does not exist (replied 404 / store error). */
static json_t *stored_sub_or_reply(struct call *c, const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		api_store_failed(c, r);
		return NULL;
	}
	if (r->element[0]->type != REDIS_REPLY_STRING) {
		call_not_found(c, c->params[1]);
		return NULL;
	}
	json_t *o = json_loadb(r->element[0]->str, r->element[0]->len, 0, NULL);
	if (o == NULL) {
		call_error(c, RPC_INTERNAL, "stored subscription is not valid JSON");
		return NULL;
	}
	if (r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == 0)
		json_object_set_new(o, "topic", json_string(RESOURCE_DELETED_TOPIC));
	return o;
}

static void on_sub_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	json_t *o = stored_sub_or_reply(c, r);
	if (o)
		call_reply(c, 200, o);
}

void api_subs_get(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions") == 0)
		read_sub(c, on_sub_get);
}

void api_subs_list(struct call *c)
{
	api_list(c, 1);
}

/* Validates the updated subscription JSON into cfg: secrets sent back as
 * REDACTED keep their stored values. Consumes stored; replies and returns
 * -1 on an invalid update. */
static int update_sub(struct call *c, const redisReply *r, json_t *stored, struct sub_cfg *cfg,
		      char *err, size_t errlen)
{
	int status = 400;
	json_t *pc = json_object_get(stored, "pushConfig");
	json_t *old_push = NULL;
	if (r->element[2]->type == REDIS_REPLY_STRING && r->element[2]->len)
		old_push = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
	int bad = pc && push_config_keep_secrets(pc, old_push, err, errlen) != 0;
	json_decref(old_push);
	if (bad || resource_sub_from_json(stored, cfg, c->b->cfg.push_allow_link_local, &status,
					  err, errlen)) {
		json_decref(stored);
		call_error(c, status == 501 ? RPC_UNIMPLEMENTED : RPC_INVALID_ARGUMENT, "%s", err);
		return -1;
	}
	json_decref(stored);
	return 0;
}

/* Writes an updated subscription with the compare-and-set script. */
static void write_update(struct call *c, const redisReply *r, struct sub_cfg *cfg)
{
	json_t *o = resource_sub_to_json(c->params[0], c->params[1], cfg);
	c->state = json_dumps(o, JSON_COMPACT);
	c->state_free = free;
	json_decref(o);
	struct sub_args a;
	fill_args(c, cfg, &a);
	resource_sub_cleanup(cfg);
	/* The stored text this update is based on, for the compare-and-set. */
	char *based_on = mem_strndup(r->element[0]->str, r->element[0]->len);
	const char *argv[] = { a.key,    c->state, a.ack,  a.ret, a.ttl,    a.dlq,
			       a.maxatt, a.rmin,   a.rmax, a.now, based_on, a.push };
	run(c, SCRIPT_SUB_PATCH, on_sub_written, argv, 12);
	mem_free(based_on);
	args_cleanup(&a);
}

static void on_sub_patch_read(redisReply *r, void *arg)
{
	static const char *const allowed[] = { "ackDeadlineSeconds",
					       "labels",
					       "messageRetentionDuration",
					       "expirationPolicy",
					       "deadLetterPolicy",
					       "retryPolicy",
					       "pushConfig",
					       "retainAckedMessages",
					       "enableExactlyOnceDelivery",
					       NULL };
	struct call *c = arg;
	char err[512];
	struct sub_cfg cfg;
	json_t *stored = stored_sub_or_reply(c, r);
	if (stored == NULL)
		return;
	json_t *patch = json_object_get(c->body, "subscription");
	json_t *mask = json_object_get(c->body, "updateMask");
	if (!json_is_object(patch) || !json_is_string(mask)) {
		json_decref(stored);
		call_error(c, RPC_INVALID_ARGUMENT,
			   "A subscription update needs \"subscription\" "
			   "(object) and \"updateMask\" (string)");
		return;
	}
	if (resource_apply_mask(stored, patch, json_string_value(mask), allowed, err,
				sizeof(err))) {
		json_decref(stored);
		call_error(c, RPC_INVALID_ARGUMENT, "%s", err);
		return;
	}
	if (update_sub(c, r, stored, &cfg, err, sizeof(err)) != 0)
		return;
	write_update(c, r, &cfg);
}

void api_subs_patch(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	if (c->body == NULL) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "A subscription update needs a JSON body with "
			   "\"subscription\" and \"updateMask\"");
		return;
	}
	read_sub(c, on_sub_patch_read);
}

static void on_modpush_read(redisReply *r, void *arg)
{
	struct call *c = arg;
	char err[512];
	struct sub_cfg cfg;
	json_t *stored = stored_sub_or_reply(c, r);
	if (stored == NULL)
		return;
	json_object_set(stored, "pushConfig", json_object_get(c->body, "pushConfig"));
	if (update_sub(c, r, stored, &cfg, err, sizeof(err)) != 0)
		return;
	write_update(c, r, &cfg);
}

void api_subs_modify_push(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *pc = c->body ? json_object_get(c->body, "pushConfig") : NULL;
	if (!json_is_object(pc) || json_object_size(c->body) != 1) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "modifyPushConfig needs {\"pushConfig\": {...}} "
			   "({} turns the subscription into a pull subscription)");
		return;
	}
	read_sub(c, on_modpush_read);
}

static void on_sub_deleted(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r)) {
		log_info("subscription projects/%s/subscriptions/%s deleted", c->params[0],
			 c->params[1]);
		call_reply_text(c, 200, "{}", 2);
	}
}

void api_subs_delete(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	char key[API_KEY_MAX];
	api_key(key, c->params[0], c->params[1]);
	const char *argv[] = { key };
	run(c, SCRIPT_SUB_DELETE, on_sub_deleted, argv, 1);
}
