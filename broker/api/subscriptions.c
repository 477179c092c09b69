/* subscriptions.c - subscriptions.create/get/list/patch/delete and
 * modifyPushConfig. */
#include "api.h"

#include "broker.h"
#include "fields.h"
#include "log.h"
#include "mem.h"
#include "push_config.h"
#include "subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_sub(struct call *c, store_cb cb);
static void on_sub_patch_read(redisReply *r, void *arg);
static void on_modpush_read(redisReply *r, void *arg);

/* Status words shared by create and patch. */
static void on_sub_written(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = store_status(r);
	if (st && strcmp(st, "CONFLICT") == 0 && ++c->tries < API_PATCH_TRIES) {
		/* Someone else updated it meanwhile: apply the mask again. */
		mem_free(c->state);
		c->state = NULL;
		c->state_free = NULL;
		read_sub(c, c->route->handler == subscriptions_modify_push ? on_modpush_read
									   : on_sub_patch_read);
	} else if (st && strcmp(st, "CONFLICT") == 0) {
		call_error(c, ERR_ABORTED, "The subscription was updated concurrently; retry.");
	} else if (st == NULL) {
		api_store_failed(c, r);
	} else if (strcmp(st, "ALREADY_EXISTS") == 0) {
		call_error(c, ERR_ALREADY_EXISTS,
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
		call_error(c, ERR_NOT_FOUND, "Resource not found (resource=%s).",
			   slash ? slash + 1 : "topic");
		json_decref(body);
	} else {
		int modpush = c->route->handler == subscriptions_modify_push;
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

void subscriptions_create(struct call *c)
{
	char err[512];
	struct sub_cfg cfg;
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	if (c->body == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A subscription needs a JSON body with "
			   "\"topic\"");
		return;
	}
	json_t *pc = json_object_get(c->body, "pushConfig");
	if (json_is_object(pc) && push_config_keep_secrets(pc, NULL, err, sizeof(err)) != 0) {
		/* "REDACTED" only means "keep" on an update; nothing is stored yet. */
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	enum err e = subscription_from_json(c->body, &cfg, c->b->cfg.push_allow_link_local, err,
					    sizeof(err));
	if (e != ERR_OK) {
		call_error(c, e, "%s", err);
		return;
	}
	if (strcmp(cfg.topic, SUBSCRIPTION_DELETED_TOPIC) == 0) {
		subscription_cleanup(&cfg);
		call_error(c, ERR_INVALID_ARGUMENT, "Cannot create a subscription on %s",
			   SUBSCRIPTION_DELETED_TOPIC);
		return;
	}
	api_keep_json(c, subscription_to_json(c->params[0], c->params[1], &cfg));
	char policy[CALL_PRINCIPAL_MAX + 128] = "";
	if (c->grant_creator)
		snprintf(policy, sizeof(policy),
			 "{\"version\":1,\"etag\":\"BwCreator=\",\"bindings\":[{\"role\":"
			 "\"roles/pubsub.editor\",\"members\":[\"%s\"]}]}",
			 c->principal);
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/subscriptions/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, c->state);
	int rc = store_sub_create(c->b->link, c->params[0], c->params[1], c->state, &cfg,
				  policy[0] ? policy : NULL, "BwCreator=", broker_now_ms(),
				  on_sub_written, c);
	subscription_cleanup(&cfg);
	if (rc != 0)
		api_not_queued(c);
}

/* Reads the subscription's [cfg, topic, push, detached] into cb. */
static void read_sub(struct call *c, store_cb cb)
{
	if (store_sub_get(c->b->link, c->params[0], c->params[1], cb, c) != 0)
		api_not_queued(c);
}
/* The stored JSON of a subscription as GET shows it, or NULL when the
 * HMGET reply says it does not exist (replied 404 / store error). */
static json_t *stored_sub_or_reply(struct call *c, const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		api_store_failed(c, r);
		return NULL;
	}
	if (r->element[0]->type != REDIS_REPLY_STRING) {
		call_not_found(c, c->params[1]);
		return NULL;
	}
	json_t *o = json_loadb(r->element[0]->str, r->element[0]->len, 0, NULL);
	if (o == NULL) {
		call_error(c, ERR_INTERNAL, "stored subscription is not valid JSON");
		return NULL;
	}
	if (r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == 0)
		json_object_set_new(o, "topic", json_string(SUBSCRIPTION_DELETED_TOPIC));
	if (r->element[3]->type == REDIS_REPLY_STRING && r->element[3]->len == 1 &&
	    r->element[3]->str[0] == '1')
		json_object_set_new(o, "detached", json_true());
	return o;
}

static void on_sub_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	json_t *o = stored_sub_or_reply(c, r);
	if (o)
		call_reply(c, 200, o);
}

void subscriptions_get(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions") == 0)
		read_sub(c, on_sub_get);
}

void subscriptions_list(struct call *c)
{
	api_list(c, 1);
}

/* Validates the updated subscription JSON into cfg: secrets sent back as
 * REDACTED keep their stored values. Consumes stored; replies and returns
 * -1 on an invalid update. */
static int update_sub(struct call *c, const redisReply *r, json_t *stored, struct sub_cfg *cfg,
		      char *err, size_t errlen)
{
	json_t *pc = json_object_get(stored, "pushConfig");
	json_t *old_push = NULL;
	if (r->element[2]->type == REDIS_REPLY_STRING && r->element[2]->len)
		old_push = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
	enum err e = ERR_OK;
	if (pc && push_config_keep_secrets(pc, old_push, err, errlen) != 0)
		e = ERR_INVALID_ARGUMENT;
	json_decref(old_push);
	/* "detached" is the store's (stored_sub_or_reply added it), not the update's. */
	int detached = json_is_true(json_object_get(stored, "detached"));
	json_object_del(stored, "detached");
	if (e == ERR_OK)
		e = subscription_from_json(stored, cfg, c->b->cfg.push_allow_link_local, err,
					   errlen);
	cfg->detached = e == ERR_OK && detached;
	if (e != ERR_OK) {
		json_decref(stored);
		call_error(c, e, "%s", err);
		return -1;
	}
	json_decref(stored);
	return 0;
}

/* Writes an updated subscription with the compare-and-set script. */
static void write_update(struct call *c, const redisReply *r, struct sub_cfg *cfg)
{
	api_keep_json(c, subscription_to_json(c->params[0], c->params[1], cfg));
	/* The stored text this update is based on, for the compare-and-set. */
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/subscriptions/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, c->state);
	int rc = store_sub_patch(c->b->link, c->params[0], c->params[1], c->state, cfg,
				 broker_now_ms(), r->element[0]->str, r->element[0]->len,
				 on_sub_written, c);
	subscription_cleanup(cfg);
	if (rc != 0)
		api_not_queued(c);
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
		call_error(c, ERR_INVALID_ARGUMENT,
			   "A subscription update needs \"subscription\" "
			   "(object) and \"updateMask\" (string)");
		return;
	}
	if (fields_apply_mask(stored, patch, json_string_value(mask), allowed, err, sizeof(err))) {
		json_decref(stored);
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	if (update_sub(c, r, stored, &cfg, err, sizeof(err)) != 0)
		return;
	write_update(c, r, &cfg);
}

void subscriptions_patch(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	if (c->body == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT,
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

void subscriptions_modify_push(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *pc = c->body ? json_object_get(c->body, "pushConfig") : NULL;
	if (!json_is_object(pc) || json_object_size(c->body) != 1) {
		call_error(c, ERR_INVALID_ARGUMENT,
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

static void on_sub_detached(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r)) {
		log_info("subscription projects/%s/subscriptions/%s detached", c->params[0],
			 c->params[1]);
		call_reply_text(c, 200, "{}", 2);
	}
}

void subscriptions_detach(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/subscriptions/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_sub_detach(c->b->link, c->params[0], c->params[1], broker_now_ms(),
			     on_sub_detached, c) != 0)
		api_not_queued(c);
}

void subscriptions_delete(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/subscriptions/%.255s", c->params[0],
		 c->params[1]);
	api_audit_admin(c, c->params[0], rname, NULL);
	if (store_sub_delete(c->b->link, c->params[0], c->params[1], on_sub_deleted, c) != 0)
		api_not_queued(c);
}
