/* push_format.c - push request bodies and headers. */
#include "push_format.h"

#include "base64.h"
#include "duration.h"
#include "mem.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void push_format_webhook_signature(const unsigned char *key, size_t keylen, const char *id,
				   int64_t ts, const char *body, size_t len, char *out, size_t n)
{
	/* HMAC-SHA256 over the exact bytes "<id>.<timestamp>.<body>". */
	char prefix[160];
	int pl = snprintf(prefix, sizeof(prefix), "%s.%lld.", id, (long long)ts);
	char *msg = mem_alloc((size_t)pl + len);
	memcpy(msg, prefix, (size_t)pl);
	memcpy(msg + pl, body, len);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, (size_t)pl + len, mac,
	     &maclen);
	mem_free(msg);
	char b64[128];
	base64_encode(mac, maclen, b64);
	snprintf(out, n, "v1,%s", b64);
}

void push_format_hub_signature(const char *secret, const char *body, size_t len, char *out,
			       size_t n)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
	     &maclen);
	int o = snprintf(out, n, "sha256=");
	for (unsigned i = 0; i < maclen && (size_t)o + 2 < n; i++)
		o += snprintf(out + o, n - (size_t)o, "%02x", mac[i]);
}

static struct curl_slist *add(struct curl_slist *h, const char *name, const char *value)
{
	char line[2048];
	snprintf(line, sizeof(line), "%s: %s", name, value);
	return curl_slist_append(h, line);
}

/* Headers an attribute must never set: HTTP framing and hop-by-hop headers
 * (request smuggling), and every header the broker itself sets (identity,
 * signatures, metadata). Compared without case; entries ending in '*' are
 * prefixes. */
static const char *const reserved_headers[] = { "content-length",
						"transfer-encoding",
						"host",
						"connection",
						"keep-alive",
						"te",
						"trailer",
						"upgrade",
						"expect",
						"proxy-*",
						"content-type",
						"content-encoding",
						"authorization",
						"cookie",
						"user-agent",
						"accept",
						"webhook-*",
						"x-goog-*",
						"x-hub-signature*",
						"ce-*",
						NULL };

static int reserved(const char *k)
{
	for (int i = 0; reserved_headers[i]; i++) {
		const char *r = reserved_headers[i];
		size_t n = strlen(r);
		if (r[n - 1] == '*' ? strncasecmp(k, r, n - 1) == 0 : strcasecmp(k, r) == 0)
			return 1;
	}
	return 0;
}

/* An attribute can become a header only if its key is an HTTP token that is
 * not reserved, and its value has no control characters. */
static int header_safe(const char *k, const char *v)
{
	if (reserved(k))
		return 0;
	if (*k == '\0')
		return 0;
	for (const char *p = k; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return 0;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return 0;
	return 1;
}

static char *wrapped_body(const struct push_target *t, const struct push_msg *m, size_t *len)
{
	char ts[40];
	timestamp_format(m->publish_ms, ts, sizeof(ts));
	json_t *msg = json_object();
	if (m->attrs_len) {
		json_t *a = json_loadb(m->attrs, m->attrs_len, 0, NULL);
		if (a)
			json_object_set_new(msg, "attributes", a);
	}
	if (m->data_len) {
		char *b64 = mem_alloc(base64_encoded_len(m->data_len) + 1);
		base64_encode((const unsigned char *)m->data, m->data_len, b64);
		json_object_set_new(msg, "data", json_string(b64));
		mem_free(b64);
	}
	/* Both spellings, as Pub/Sub sends them. */
	json_object_set_new(msg, "messageId", json_string(m->message_id));
	json_object_set_new(msg, "message_id", json_string(m->message_id));
	json_object_set_new(msg, "publishTime", json_string(ts));
	json_object_set_new(msg, "publish_time", json_string(ts));
	if (m->ordering_key[0])
		json_object_set_new(msg, "orderingKey", json_string(m->ordering_key));
	json_t *o = json_object();
	json_object_set_new(o, "message", msg);
	json_object_set_new(o, "subscription", json_string(t->subscription));
	if (t->has_dlq)
		json_object_set_new(o, "deliveryAttempt", json_integer(m->attempt));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = strlen(s);
	return s;
}

static const char *attr(json_t *attrs, const char *k)
{
	json_t *v = json_object_get(attrs, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static struct curl_slist *cloudevent_headers(struct curl_slist *h, const struct push_target *t,
					     const struct push_msg *m, json_t *attrs)
{
	const struct push_cfg *c = t->cfg;
	char ts[40], buf[700];
	timestamp_format(m->publish_ms, ts, sizeof(ts));
	h = add(h, "ce-specversion", "1.0");
	h = add(h, "ce-id", m->message_id);
	if (c->ce_source[0])
		snprintf(buf, sizeof(buf), "%s", c->ce_source);
	else
		snprintf(buf, sizeof(buf), "//regnotify/%s", t->topic);
	h = add(h, "ce-source", buf);
	const char *action = attr(attrs, "action");
	const char *kind = action == NULL                  ? "message.published"
			   : strcmp(action, "INSERT") == 0 ? "image.inserted"
			   : strcmp(action, "DELETE") == 0 ? "image.deleted"
							   : "message.published";
	snprintf(buf, sizeof(buf), "%s.%s", c->ce_type_prefix, kind);
	h = add(h, "ce-type", buf);
	h = add(h, "ce-time", ts);
	/* Subject: the image reference of a gcr message (tag first). */
	json_t *d = json_loadb(m->data, m->data_len, 0, NULL);
	const char *subj = d ? attr(d, "tag") : NULL;
	if (subj == NULL && d)
		subj = attr(d, "digest");
	if (subj && header_safe("subject", subj))
		h = add(h, "ce-subject", subj);
	h = add(h, "Content-Type", d ? "application/json" : "application/octet-stream");
	json_decref(d);
	return h;
}

void push_format_build(const struct push_target *t, const struct push_msg *m, int64_t now_s,
		       struct curl_slist **headers, char **body, size_t *len)
{
	const struct push_cfg *c = t->cfg;
	struct curl_slist *h = NULL;
	json_t *attrs = m->attrs_len ? json_loadb(m->attrs, m->attrs_len, 0, NULL) : NULL;
	if (c->format == PUSH_WRAPPED) {
		*body = wrapped_body(t, m, len);
		h = add(h, "Content-Type", "application/json");
	} else {
		*body = malloc(m->data_len ? m->data_len : 1);
		if (*body == NULL)
			abort();
		memcpy(*body, m->data, m->data_len);
		*len = m->data_len;
		if (c->format == PUSH_CLOUDEVENTS) {
			h = cloudevent_headers(h, t, m, attrs);
		} else {
			h = add(h, "Content-Type", "application/octet-stream");
			if (c->write_metadata) {
				char ts[40];
				timestamp_format(m->publish_ms, ts, sizeof(ts));
				h = add(h, "x-goog-pubsub-subscription-name", t->subscription);
				h = add(h, "x-goog-pubsub-message-id", m->message_id);
				h = add(h, "x-goog-pubsub-publish-time", ts);
				if (m->ordering_key[0] &&
				    header_safe("x-ordering", m->ordering_key))
					h = add(h, "x-goog-pubsub-ordering-key", m->ordering_key);
				const char *k;
				json_t *v;
				json_object_foreach(attrs, k, v)
				{
					if (json_is_string(v) &&
					    header_safe(k, json_string_value(v)))
						h = add(h, k, json_string_value(v));
				}
			}
		}
	}
	if (c->whsec_len) {
		char sig[128], tsbuf[24];
		snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)now_s);
		push_format_webhook_signature(c->whsec, c->whsec_len, m->message_id, now_s, *body,
					      *len, sig, sizeof(sig));
		h = add(h, "webhook-id", m->message_id);
		h = add(h, "webhook-timestamp", tsbuf);
		h = add(h, "webhook-signature", sig);
	}
	if (c->hub_secret[0]) {
		char sig[80];
		push_format_hub_signature(c->hub_secret, *body, *len, sig, sizeof(sig));
		h = add(h, "X-Hub-Signature-256", sig);
	}
	if (c->authorization[0])
		h = add(h, "Authorization", c->authorization);
	if (t->bearer) {
		size_t n = strlen(t->bearer) + 8;
		char *v = malloc(n);
		if (v == NULL)
			abort();
		snprintf(v, n, "Bearer %s", t->bearer);
		h = add(h, "Authorization", v);
		free(v);
	}
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	json_decref(attrs);
	*headers = h;
}
