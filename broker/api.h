/* api.h - helpers shared by the Pub/Sub REST handlers (api_*.c). */
#ifndef RN_API_H
#define RN_API_H

#include "http_server.h"
#include "redis_conn.h"
#include "resource.h"

#include <stdint.h>

/* Read-modify-write attempts of a PATCH before it gives up with ABORTED. */
#define API_PATCH_TRIES 5

/* "project/id", the form resources take inside Redis keys. */
#define API_KEY_MAX (RESOURCE_PROJECT_MAX + RESOURCE_ID_MAX + 2)

/* Validates the call's {project} and {id} path parameters (nparams of
 * them); replies 400 INVALID_ARGUMENT and returns -1 when one is invalid.
 * kind is "topics" or "subscriptions" (for the message). */
int api_names_or_reply(struct call *c, int nparams, const char *kind);

/* Writes "project/id" into buf (API_KEY_MAX bytes). */
void api_key(char *buf, const char *project, const char *id);

/* The status word a store script put first in its reply ("OK",
 * "NOT_FOUND", ...), or NULL when the reply is not such an array. */
const char *api_status(const redisReply *r);

/* The status word of a store script's reply when it is a success or a
 * condition the caller handles; replies 503/500 (store failure) or 404
 * (NOT_FOUND of the call's resource) itself and returns NULL. */
const char *api_status_or_reply(struct call *c, const redisReply *r);

/* Replies to a failed Redis call: 503 when reply is NULL (link down), 500
 * with the script error otherwise. */
void api_store_failed(struct call *c, const redisReply *r);

/* Runs script id and answers 503 right away when Redis is not ready. */
void api_script(struct call *c, enum script_id id, redis_cb cb, int argc, const char **argv,
		const size_t *lens);

/* Reads a pageSize/pageToken pair; replies 400 and returns -1 on a bad
 * pageSize. Defaults: 100, max 1000. */
int api_page_or_reply(struct call *c, long *page_size, char *token, size_t toklen);
int api_page_size_or_reply(struct call *c, long *page_size);

/* topics.list (is_subs 0) and subscriptions.list (1). */
void api_list(struct call *c, int is_subs);

/* Stream entry id "ms-seq" <-> the decimal messageId clients see
 * (ms * 10^6 + seq). Return 0 or -1. */
int api_message_id(const char *entry_id, char *out, size_t n);
int api_entry_id(const char *message_id, char *out, size_t n);

/* Reads a proto3-JSON integer (a number or a decimal string). Returns 0,
 * or -1 when v is another type or not a whole number. */
int api_json_int(const json_t *v, long long *out);

/* 32-bit FNV-1a of "project/sub": the tag that ties an ackId to its
 * subscription. */
unsigned api_sub_tag(const char *sub_key);

/* Route handlers. */
void api_topics_create(struct call *c);
void api_topics_get(struct call *c);
void api_topics_list(struct call *c);
void api_topics_patch(struct call *c);
void api_topics_delete(struct call *c);
void api_topics_subscriptions(struct call *c);
void api_topics_publish(struct call *c);
void api_subs_create(struct call *c);
void api_subs_get(struct call *c);
void api_subs_list(struct call *c);
void api_subs_patch(struct call *c);
void api_subs_delete(struct call *c);
void api_subs_pull(struct call *c);
void api_subs_ack(struct call *c);
void api_subs_modack(struct call *c);
void api_subs_modify_push(struct call *c);
void api_subs_seek(struct call *c);
void api_health(struct call *c);
void api_ready(struct call *c);

#endif
