/* ack.c - subscriptions.acknowledge and subscriptions.modifyAckDeadline. */
#include "api.h"

#include "broker.h"
#include "codec.h"
#include "mem.h"
#include "subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "ms-seq:attempt:tag" -> entry id (into id) and attempt; the tag must be
 * this subscription's, so an ackId from another subscription is refused
 * instead of acking this subscription's copy of the same message. */
static int parse_ack_id(const char *s, unsigned tag, char *id, size_t idlen, long *attempt)
{
	const char *c1 = strchr(s, ':');
	const char *dash = strchr(s, '-');
	if (c1 == NULL || dash == NULL || dash > c1 || dash == s || dash + 1 == c1 ||
	    (size_t)(c1 - s) >= idlen)
		return -1;
	for (const char *p = s; p < c1; p++)
		if ((*p < '0' || *p > '9') && p != dash)
			return -1;
	char *end;
	long a = strtol(c1 + 1, &end, 10);
	if (end == c1 + 1 || *end != ':' || a < 1)
		return -1;
	const char *t = end + 1;
	unsigned long got = strtoul(t, &end, 16);
	if (strlen(t) != 8 || *end != '\0' || got != tag)
		return -1;
	memcpy(id, s, (size_t)(c1 - s));
	id[c1 - s] = '\0';
	*attempt = a;
	return 0;
}

static void on_acked(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r) == NULL)
		return;
	if (c->state) { /* an invalid ackId: the script only checked existence */
		call_error(c, ERR_INVALID_ARGUMENT,
			   "You have passed an invalid ack ID to the "
			   "service (ack_id=%.80s).",
			   (const char *)c->state);
		return;
	}
	if (r->elements > 1) {
		/* Exactly-once delivery refused some (the others are done): as
		 * Pub/Sub, an ErrorInfo whose metadata names each refused ackId. */
		json_t *ids = json_object_get(c->body, "ackIds"), *md = json_object();
		for (size_t i = 1; i < r->elements; i++) {
			long long k = r->element[i]->integer;
			const char *a = json_string_value(json_array_get(ids, (size_t)(k - 1)));
			if (a)
				json_object_set_new(
					md, a, json_string("PERMANENT_FAILURE_INVALID_ACK_ID"));
		}
		call_error_info(c, ERR_INVALID_ARGUMENT, "EXACTLY_ONCE_ACKID_FAILURE",
				"pubsub.googleapis.com", md,
				"%zu of the ack IDs are invalid: their lease expired, was given up "
				"(nack), or was taken over by a later delivery of the message "
				"(exactly-once delivery)",
				r->elements - 1);
		return;
	}
	call_reply_text(c, 200, "{}", 2);
}

/* Shared by acknowledge (modack 0) and modifyAckDeadline (1). */
static void ack_like(struct call *c, int modack)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *ids = c->body ? json_object_get(c->body, "ackIds") : NULL;
	size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
	if (n == 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "No ack ids specified.");
		return;
	}
	long long dl = 0;
	if (modack) {
		json_t *d = json_object_get(c->body, "ackDeadlineSeconds");
		if (d && !json_is_null(d) && codec_json_int(d, &dl) != 0) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid value at 'ackDeadlineSeconds' "
				   "(TYPE_INT32)");
			return;
		}
		if (dl < 0 || dl > 600) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid ack deadline given: %lld. The "
				   "deadline must be between 0 and 600 seconds.",
				   dl);
			return;
		}
	}
	char sub[NAMES_KEY_MAX];
	names_key(sub, c->params[0], c->params[1]);
	unsigned tag = subscription_tag(sub);
	char(*idbuf)[64] = mem_alloc(64 * n * 2);
	const char **ack_ids = mem_alloc(sizeof(*ack_ids) * n);
	const char **attempts = mem_alloc(sizeof(*attempts) * n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(ids, i);
		long attempt;
		if (!json_is_string(v) ||
		    parse_ack_id(json_string_value(v), tag, idbuf[2 * i], 64, &attempt) != 0) {
			/* Nothing is acked; the script still runs with no ids so that a
			 * missing subscription answers 404 before the 400. */
			c->state = mem_strdup(json_is_string(v) ? json_string_value(v) : "?");
			c->state_free = mem_free;
			k = 0;
			break;
		}
		ack_ids[k] = idbuf[2 * i];
		snprintf(idbuf[2 * i + 1], 64, "%ld", attempt);
		attempts[k++] = idbuf[2 * i + 1];
	}
	for (size_t i = 0; i < k && c->b->lease_seen; i++)
		c->b->lease_seen(c->b->lease_seen_arg, sub,
				 json_string_value(json_array_get(ids, i)), modack ? (long)dl : -1);
	int64_t now = broker_now_ms();
	int rc = modack ? store_modack(c->b->link, sub, now, (long)dl, ack_ids, attempts, k,
				       on_acked, c)
			: store_ack(c->b->link, sub, now, ack_ids, attempts, k, on_acked, c);
	mem_free(idbuf);
	mem_free(ack_ids);
	mem_free(attempts);
	if (rc != 0)
		api_not_queued(c);
}

void ack_acknowledge(struct call *c)
{
	ack_like(c, 0);
}

void ack_modify_deadline(struct call *c)
{
	ack_like(c, 1);
}
