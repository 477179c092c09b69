/* publish.c - topics.publish: validation with Pub/Sub's limits, then
 * one atomic store step for the whole request. 200 only after Redis
 * answered, so a 200 is a promise that every message is stored. */
#include "api.h"

#include "base64.h"
#include "broker.h"
#include "codec.h"
#include "mem.h"
#include "metrics.h"
#include "occurrence.h"
#include "pubscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES_PER_PUBLISH 1000
#define MAX_REQUEST_DATA (10 * 1000 * 1000)
#define MAX_ATTRIBUTES 100
#define MAX_ATTR_KEY 256
#define MAX_ATTR_VALUE 1024
#define MAX_ORDERING_KEY 1024

struct pub_msg {
	unsigned char *data;
	size_t len;
	char *attrs; /* JSON object text or NULL (owned on the jansson path) */
	size_t attrs_len;
	const char *attrs_ref; /* pubscan path: the text inside the body */
	const char *key;       /* orderingKey or NULL */
	size_t key_len;
};

/* Answers {"messageIds":[...]} for the n stream entry ids in ids[]. */
static void reply_ids(struct call *c, redisReply **ids, size_t n)
{
	metrics.published_messages += n;
	size_t cap = 32 + n * 24;
	char *text = mem_alloc(cap);
	size_t o = (size_t)snprintf(text, cap, "{\"messageIds\":[");
	for (size_t i = 0; i < n; i++) {
		char mid[32];
		if (codec_message_id(ids[i]->str, mid, sizeof(mid)) != 0)
			snprintf(mid, sizeof(mid), "0");
		o += (size_t)snprintf(text + o, cap - o, "%s\"%s\"", i ? "," : "", mid);
	}
	o += (size_t)snprintf(text + o, cap - o, "]}");
	/* This broker's waiters were woken when the script was sent
	 * (store/publish.c): their pulls follow it on the link. */
	call_reply_owned(c, 200, text, o);
}

/* The store's answer: the entry ids, or why not. */
static void on_published(void *arg, redisReply *failed, int not_found, redisReply **ids, size_t n)
{
	struct call *c = arg;
	if (not_found) {
		call_not_found(c, c->params[1]);
		return;
	}
	if (ids == NULL) {
		api_store_failed(c, failed);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ids[i]->type != REDIS_REPLY_STRING) {
			api_store_failed(c, ids[i]);
			return;
		}
	}
	reply_ids(c, ids, n);
}

/* Validates one PubsubMessage into m; replies 400 and returns -1. */
static int message_or_reply(struct call *c, json_t *jm, size_t idx, struct pub_msg *m,
			    size_t *total)
{
	if (!json_is_object(jm)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid value at 'messages[%zu]': expected "
			   "a PubsubMessage object",
			   idx);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(jm, k, v)
	{
		if (strcmp(k, "data") == 0) {
			if (!json_is_string(v)) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Invalid value at "
					   "'messages[%zu].data': expected a base64 string",
					   idx);
				return -1;
			}
			size_t tl = json_string_length(v);
			if (tl / 4 * 3 > MAX_REQUEST_DATA + 3) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Message too large: "
					   "messages[%zu].data exceeds %d bytes",
					   idx, MAX_REQUEST_DATA);
				return -1;
			}
			m->data = mem_alloc(tl / 4 * 3 + 3);
			long dl = base64_decode(json_string_value(v), tl, m->data);
			if (dl < 0) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Invalid value at "
					   "'messages[%zu].data' (TYPE_BYTES): invalid base64",
					   idx);
				return -1;
			}
			m->len = (size_t)dl;
			*total += m->len;
		} else if (strcmp(k, "attributes") == 0) {
			if (!json_is_object(v)) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Invalid value at "
					   "'messages[%zu].attributes': expected an object",
					   idx);
				return -1;
			}
			if (json_object_size(v) > MAX_ATTRIBUTES) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Too many attributes in "
					   "messages[%zu]: %zu, at most %d are allowed",
					   idx, json_object_size(v), MAX_ATTRIBUTES);
				return -1;
			}
			const char *ak;
			json_t *av;
			json_object_foreach(v, ak, av)
			{
				size_t kl = strlen(ak);
				if (kl == 0 || kl > MAX_ATTR_KEY || !json_is_string(av) ||
				    json_string_length(av) > MAX_ATTR_VALUE) {
					call_error(
						c, ERR_INVALID_ARGUMENT,
						"Invalid attribute "
						"in messages[%zu]: keys are 1-%d bytes and values "
						"strings of at most %d bytes",
						idx, MAX_ATTR_KEY, MAX_ATTR_VALUE);
					return -1;
				}
				*total += kl + json_string_length(av);
			}
			if (json_object_size(v)) {
				m->attrs = json_dumps(v, JSON_COMPACT);
				m->attrs_len = strlen(m->attrs);
			}
		} else if (strcmp(k, "orderingKey") == 0) {
			if (!json_is_string(v) || json_string_length(v) > MAX_ORDERING_KEY) {
				call_error(c, ERR_INVALID_ARGUMENT,
					   "Invalid orderingKey in "
					   "messages[%zu]: a string of at most %d bytes",
					   idx, MAX_ORDERING_KEY);
				return -1;
			}
			m->key = json_string_value(v);
			m->key_len = json_string_length(v);
		} else if (strcmp(k, "messageId") != 0 && strcmp(k, "publishTime") != 0) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Invalid JSON payload received. Unknown "
				   "name \"%.64s\" at 'messages[%zu]'",
				   k, idx);
			return -1;
		}
	}
	if (m->len == 0 && m->attrs == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "One or more messages in the publish request "
			   "is empty. Each message must contain either non-empty data, or at "
			   "least one attribute.");
		return -1;
	}
	return 0;
}

/* Stores n validated messages (the store copies them); frees nothing. */
static void store(struct call *c, const struct pub_msg *m, size_t n)
{
	struct store_msg_in one, *in = n == 1 ? &one : mem_alloc(n * sizeof(*in));
	for (size_t i = 0; i < n; i++) {
		in[i].data = m[i].data;
		in[i].len = m[i].len;
		in[i].attrs = m[i].attrs;
		in[i].attrs_len = m[i].attrs_len;
		in[i].key = m[i].key;
		in[i].key_len = m[i].key_len;
	}
	if (store_publish(c->b->link, c->params[0], c->params[1], in, n, on_published, c) != 0)
		call_unavailable(c);
	if (in != &one)
		mem_free(in);
}

/* The fast path: a body pubscan accepts. Returns 0 when the call was
 * handed to the store, -1 to fall back to the full parser (nothing sent). */
static int publish_scanned(struct call *c)
{
	struct pubscan_msg *sm;
	int n = pubscan_parse(c->raw, c->raw_len, &sm);
	if (n <= 0)
		return -1;
	struct pub_msg *m = mem_calloc((size_t)n, sizeof(*m));
	size_t total = 0;
	int ok = 1;
	for (int i = 0; i < n && ok; i++) {
		if (sm[i].data_len) {
			m[i].data = mem_alloc(sm[i].data_len / 4 * 3 + 3);
			long dl = base64_decode(sm[i].data, sm[i].data_len, m[i].data);
			ok = dl >= 0;
			m[i].len = dl > 0 ? (size_t)dl : 0;
		}
		m[i].attrs_ref = sm[i].attrs;
		m[i].attrs_len = sm[i].attrs_len;
		m[i].key = sm[i].key;
		m[i].key_len = sm[i].key_len;
		total += m[i].len + sm[i].attrs_len;
		if (i > 0 && (m[i].key_len != m[0].key_len ||
			      (m[i].key_len && memcmp(m[i].key, m[0].key, m[i].key_len) != 0)))
			ok = 0;
		if (ok && m[i].len == 0 && m[i].attrs_ref == NULL)
			ok = 0;
	}
	if (ok && total <= MAX_REQUEST_DATA) {
		for (int i = 0; i < n; i++)
			m[i].attrs = (char *)m[i].attrs_ref; /* borrowed from the body */
		store(c, m, (size_t)n);
	} else {
		ok = 0;
	}
	for (int i = 0; i < n; i++)
		mem_free(m[i].data);
	mem_free(m);
	mem_free(sm);
	return ok ? 0 : -1;
}

/* container-analysis-occurrences-v1: the attributes a subscription filter
 * uses, derived from the notification each message carries. Replies 400
 * and returns -1. */
static int occurrence_or_reply(struct call *c, struct pub_msg *m, size_t idx)
{
	char err[200];
	json_t *a = m->attrs ? json_loadb(m->attrs, m->attrs_len, 0, NULL) : json_object();
	if (a == NULL || occurrence_attributes(m->data, m->len, a, err, sizeof(err)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid messages[%zu] for %s: %s (the data is a Container Analysis "
			   "notification, docs/registry.md)",
			   idx, OCCURRENCE_TOPIC, a ? err : "bad attributes");
		json_decref(a);
		return -1;
	}
	if (json_object_size(a) > MAX_ATTRIBUTES) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Too many attributes in messages[%zu] with the derived ones: at most %d",
			   idx, MAX_ATTRIBUTES);
		json_decref(a);
		return -1;
	}
	mem_free(m->attrs);
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	m->attrs_len = strlen(text);
	m->attrs = mem_alloc(m->attrs_len + 1);
	memcpy(m->attrs, text, m->attrs_len + 1);
	free(text);
	return 0;
}

void publish_topic(struct call *c)
{
	if (api_names_or_reply(c, 2, "topics"))
		return;
	int occurrences = strcmp(c->params[1], OCCURRENCE_TOPIC) == 0;
	if (c->raw_len && !occurrences && publish_scanned(c) == 0)
		return;
	if (c->raw_len && call_parse_body_or_reply(c) != 0)
		return;
	json_t *msgs = c->body ? json_object_get(c->body, "messages") : NULL;
	if (c->body && json_object_size(c->body) != (msgs ? 1u : 0u)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid JSON payload received: a publish "
			   "request has only \"messages\"");
		return;
	}
	size_t n = json_is_array(msgs) ? json_array_size(msgs) : 0;
	if (n == 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "The value for message_count is too small. You "
			   "passed 0 in the request, but the minimum value is 1.");
		return;
	}
	if (n > MAX_MESSAGES_PER_PUBLISH) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "The value for message_count is too large. "
			   "You passed %zu in the request, but the maximum value is %d.",
			   n, MAX_MESSAGES_PER_PUBLISH);
		return;
	}
	struct pub_msg *m = mem_calloc(n, sizeof(*m));
	size_t total = 0, i;
	const char *okey = NULL;
	int failed = 0;
	for (i = 0; i < n && !failed; i++) {
		if (message_or_reply(c, json_array_get(msgs, i), i, &m[i], &total)) {
			failed = 1;
		} else if (occurrences && occurrence_or_reply(c, &m[i], i)) {
			failed = 1;
		} else if (total > MAX_REQUEST_DATA) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "Request payload size exceeds the "
				   "limit: %d bytes.",
				   MAX_REQUEST_DATA);
			failed = 1;
		} else if (i > 0 && strcmp(m[i].key ? m[i].key : "", okey ? okey : "") != 0) {
			call_error(c, ERR_INVALID_ARGUMENT,
				   "All messages in a publish request must "
				   "have the same orderingKey");
			failed = 1;
		}
		if (i == 0)
			okey = m[0].key;
	}
	if (!failed)
		store(c, m, n);
	for (i = 0; i < n; i++) {
		mem_free(m[i].data);
		mem_free(m[i].attrs);
	}
	mem_free(m);
}
