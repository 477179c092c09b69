/* push_format.h - the HTTP request of one push delivery: body in the
 * subscription's format (Pub/Sub wrapper, noWrapper, CloudEvents binary)
 * and headers, including the signatures (Standard Webhooks, GitHub-style
 * X-Hub-Signature-256) and the static Authorization. Pure: any thread. */
#ifndef RN_PUSH_FORMAT_H
#define RN_PUSH_FORMAT_H

#include "push_config.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

struct push_msg {
	const char *message_id; /* decimal */
	const char *data;
	size_t data_len;
	const char *attrs; /* compact JSON object text, or "" */
	size_t attrs_len;
	const char *ordering_key; /* "" when none */
	int64_t publish_ms;
	long attempt; /* deliveryAttempt */
};

struct push_target {
	const char *subscription; /* "projects/p/subscriptions/s" */
	const char *topic;        /* "projects/p/topics/t" */
	int has_dlq;              /* deliveryAttempt is sent only then */
	const struct push_cfg *cfg;
	const char *bearer; /* oidcToken: the signed token, or NULL */
};

/* Builds the request. Ownership: *headers (free with curl_slist_free_all)
 * and *body (free()) go to the caller. now_s is the signing time. */
void push_format_build(const struct push_target *t, const struct push_msg *m, int64_t now_s,
		       struct curl_slist **headers, char **body, size_t *len);

/* Standard Webhooks v1 signature of "id.timestamp.body" under key, as
 * "v1,<base64>", into out (>= 64 bytes). */
void push_format_webhook_signature(const unsigned char *key, size_t keylen, const char *id,
				   int64_t ts, const char *body, size_t len, char *out, size_t n);

/* "sha256=<hex HMAC-SHA256(secret, body)>" into out (>= 72 bytes). */
void push_format_hub_signature(const char *secret, const char *body, size_t len, char *out,
			       size_t n);

#endif
