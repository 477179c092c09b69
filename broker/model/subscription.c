/* subscription.c - the Subscription resource: validation, defaults and its
 * proto3-JSON form, and the tag that ties an ackId to its subscription. */
#include "subscription.h"

#include "fields.h"
#include "filter.h"
#include "names.h"
#include "push_config.h"
#include "topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int_field(json_t *v, const char *field, long long lo, long long hi, long long *out,
			   char *err, size_t errlen)
{
	/* proto3 JSON allows int32 as a number or a decimal string. */
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		*out = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0')
			goto bad;
	} else {
		goto bad;
	}
	if (*out < lo || *out > hi) {
		snprintf(err, errlen, "Invalid %s: must be between %lld and %lld", field, lo, hi);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "Invalid value at '%s': expected an integer", field);
	return -1;
}

static int parse_topic_ref(json_t *v, const char *field, char *out, char *err, size_t errlen)
{
	char p[NAMES_PROJECT_MAX + 1], t[NAMES_ID_MAX + 1];
	if (!json_is_string(v) ||
	    names_split(json_string_value(v), "topics", p, sizeof(p), t, sizeof(t))) {
		snprintf(
			err, errlen,
			"Invalid resource name given (name=%.300s). Refer to "
			"https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more "
			"information.",
			json_is_string(v) ? json_string_value(v) : field);
		return -1;
	}
	snprintf(out, NAMES_NAME_MAX + 1, "projects/%s/topics/%s", p, t);
	return 0;
}

static int parse_dead_letter(json_t *v, struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Invalid value at 'deadLetterPolicy': expected an object");
		return -1;
	}
	const char *k;
	json_t *f;
	long long n;
	cfg->max_delivery_attempts = DEFAULT_MAX_DELIVERY_ATTEMPTS;
	json_object_foreach(v, k, f)
	{
		if (strcmp(k, "deadLetterTopic") == 0) {
			if (parse_topic_ref(f, k, cfg->dead_letter_topic, err, errlen))
				return -1;
		} else if (strcmp(k, "maxDeliveryAttempts") == 0) {
			if (json_is_null(f))
				continue; /* proto3 JSON: null is the default */
			if (parse_int_field(f, "maxDeliveryAttempts", 0, 100, &n, err, errlen))
				return -1;
			if (n != 0 && n < 5) {
				snprintf(err, errlen,
					 "Invalid maxDeliveryAttempts: must be between "
					 "5 and 100");
				return -1;
			}
			cfg->max_delivery_attempts = n ? (int)n : DEFAULT_MAX_DELIVERY_ATTEMPTS;
		} else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'subscription.deadLetterPolicy'",
				 k);
			return -1;
		}
	}
	if (cfg->dead_letter_topic[0] == '\0') {
		snprintf(err, errlen, "deadLetterPolicy.deadLetterTopic is required");
		return -1;
	}
	return 0;
}

static int parse_retry(json_t *v, struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Invalid value at 'retryPolicy': expected an object");
		return -1;
	}
	cfg->has_retry_policy = 1;
	cfg->retry_min_ms = 10 * 1000;
	cfg->retry_max_ms = 600 * 1000;
	const char *k;
	json_t *f;
	json_object_foreach(v, k, f)
	{
		int64_t *dst;
		if (strcmp(k, "minimumBackoff") == 0)
			dst = &cfg->retry_min_ms;
		else if (strcmp(k, "maximumBackoff") == 0)
			dst = &cfg->retry_max_ms;
		else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'subscription.retryPolicy'",
				 k);
			return -1;
		}
		if (fields_duration(f, k, 0, 600 * 1000, dst, err, errlen))
			return -1;
	}
	if (cfg->retry_min_ms > cfg->retry_max_ms) {
		snprintf(err, errlen,
			 "Invalid retryPolicy: minimumBackoff must not exceed "
			 "maximumBackoff");
		return -1;
	}
	return 0;
}

static int parse_expiration(json_t *v, struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Invalid value at 'expirationPolicy': expected an object");
		return -1;
	}
	const char *k;
	json_t *f;
	cfg->expiration_ttl_ms = -1; /* a policy without ttl: never expires */
	json_object_foreach(v, k, f)
	{
		if (strcmp(k, "ttl") != 0) {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'subscription.expirationPolicy'",
				 k);
			return -1;
		}
		if (json_is_string(f) && json_string_length(f) == 0)
			continue;
		if (fields_duration(f, "expirationPolicy.ttl", 0, INT64_MAX / 2,
				    &cfg->expiration_ttl_ms, err, errlen))
			return -1;
	}
	return 0;
}

/* Pub/Sub's minimum expiration TTL is one day. regnotify's extension: a
 * subscription labelled regnotify-ephemeral=true (what `regnotify tail`
 * creates) may expire after as little as a minute, so one left behind by a
 * killed CLI goes away soon. Checked once the whole object is read. */
int subscription_ephemeral(const struct sub_cfg *cfg)
{
	json_t *l = cfg->labels ? json_object_get(cfg->labels, EPHEMERAL_LABEL) : NULL;
	return json_is_string(l) && strcmp(json_string_value(l), "true") == 0;
}

static int check_expiration(const struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (cfg->expiration_ttl_ms < 0 || cfg->expiration_ttl_ms >= MIN_EXPIRATION_TTL_MS)
		return 0;
	int ephemeral = subscription_ephemeral(cfg);
	if (ephemeral && cfg->expiration_ttl_ms >= MIN_EPHEMERAL_TTL_MS)
		return 0;
	if (ephemeral)
		snprintf(err, errlen,
			 "Invalid expirationPolicy.ttl: an ephemeral subscription's ttl must be "
			 "at least %llds",
			 (long long)(MIN_EPHEMERAL_TTL_MS / 1000));
	else
		snprintf(err, errlen,
			 "Invalid expirationPolicy.ttl: must be at least %llds "
			 "(1 day), or omitted for no expiration (or at least %llds with the label "
			 "%s=true)",
			 (long long)(MIN_EXPIRATION_TTL_MS / 1000),
			 (long long)(MIN_EPHEMERAL_TTL_MS / 1000), EPHEMERAL_LABEL);
	return -1;
}

/* The filter: at most SUB_FILTER_MAX bytes of Pub/Sub's filter language,
 * compiled to the program the store's scripts evaluate. */
static int parse_filter(json_t *v, struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "Invalid value at 'filter': expected a string");
		return -1;
	}
	const char *text = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0)
		return 0;
	if (len > SUB_FILTER_MAX) {
		snprintf(err, errlen,
			 "Invalid filter: the filter is %zu bytes long, the limit is %d bytes", len,
			 SUB_FILTER_MAX);
		return -1;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "Invalid filter: the filter contains a NUL character");
		return -1;
	}
	struct filter *f;
	char why[200];
	size_t pos = 0;
	if (filter_parse_flags(text, FILTER_ATTRIBUTES_ONLY, &f, why, sizeof(why), &pos) != 0) {
		snprintf(err, errlen, "Invalid filter expression \"%s\": %s (at column %zu)", text,
			 why, pos + 1);
		return -1;
	}
	cfg->filter_prog = filter_program(f);
	filter_free(f);
	if (cfg->filter_prog == NULL) {
		snprintf(err, errlen, "Invalid filter: out of memory");
		return -1;
	}
	memcpy(cfg->filter, text, len + 1);
	return 0;
}

enum err subscription_from_json(json_t *in, struct sub_cfg *cfg, int allow_link_local, char *err,
				size_t errlen)
{
	static const char *const ignored[] = { "name", "state", "topicMessageRetentionDuration",
					       "analyticsHubSubscriptionInfo", NULL };
	memset(cfg, 0, sizeof(*cfg));
	cfg->ack_deadline_s = DEFAULT_ACK_DEADLINE_S;
	cfg->retention_ms = DEFAULT_SUB_RETENTION_MS;
	cfg->expiration_ttl_ms = DEFAULT_EXPIRATION_TTL_MS;
	enum err e = ERR_INVALID_ARGUMENT;
	if (!json_is_object(in)) {
		snprintf(err, errlen, "Invalid JSON payload: expected a Subscription object");
		return ERR_INVALID_ARGUMENT;
	}
	const char *k;
	json_t *v;
	long long n;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "topic") == 0) {
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), SUBSCRIPTION_DELETED_TOPIC) == 0)
				snprintf(cfg->topic, sizeof(cfg->topic), "%s",
					 SUBSCRIPTION_DELETED_TOPIC);
			else if (parse_topic_ref(v, k, cfg->topic, err, errlen))
				goto fail;
		} else if (strcmp(k, "ackDeadlineSeconds") == 0) {
			if (json_is_null(v))
				continue; /* proto3 JSON: null is the default */
			if (parse_int_field(v, "ackDeadlineSeconds", 0, 600, &n, err, errlen) ||
			    (n != 0 && n < 10)) {
				snprintf(err, errlen,
					 "Invalid ackDeadlineSeconds: must be between "
					 "10 and 600 (0 means the default, 10)");
				goto fail;
			}
			cfg->ack_deadline_s = n ? (int)n : DEFAULT_ACK_DEADLINE_S;
		} else if (strcmp(k, "messageRetentionDuration") == 0) {
			if (fields_duration(v, k, MIN_RETENTION_MS, MAX_RETENTION_MS,
					    &cfg->retention_ms, err, errlen))
				goto fail;
		} else if (strcmp(k, "labels") == 0) {
			if (fields_labels(v, &cfg->labels, err, errlen))
				goto fail;
		} else if (strcmp(k, "expirationPolicy") == 0) {
			if (parse_expiration(v, cfg, err, errlen))
				goto fail;
		} else if (strcmp(k, "deadLetterPolicy") == 0) {
			if (!json_is_null(v) && parse_dead_letter(v, cfg, err, errlen))
				goto fail;
		} else if (strcmp(k, "retryPolicy") == 0) {
			if (!json_is_null(v) && parse_retry(v, cfg, err, errlen))
				goto fail;
		} else if (strcmp(k, "detached") == 0) {
			if (!fields_is_off(v)) {
				snprintf(
					err, errlen,
					"Invalid value at 'detached': a subscription is detached with "
					"subscriptions.detach (POST .../subscriptions/S:detach), not "
					"created or updated detached");
				goto fail;
			}
		} else if (strcmp(k, "enableExactlyOnceDelivery") == 0) {
			if (!json_is_boolean(v) && !json_is_null(v)) {
				snprintf(err, errlen,
					 "Invalid value at 'enableExactlyOnceDelivery': expected a "
					 "boolean");
				goto fail;
			}
			cfg->exactly_once = json_is_true(v);
		} else if (strcmp(k, "enableMessageOrdering") == 0) {
			if (!json_is_boolean(v) && !json_is_null(v)) {
				snprintf(
					err, errlen,
					"Invalid value at 'enableMessageOrdering': expected a boolean");
				goto fail;
			}
			cfg->ordering = json_is_true(v);
		} else if (strcmp(k, "retainAckedMessages") == 0) {
			if (!json_is_boolean(v) && !json_is_null(v)) {
				snprintf(
					err, errlen,
					"Invalid value at 'retainAckedMessages': expected a boolean");
				goto fail;
			}
			cfg->retain_acked = json_is_true(v);
		} else if (strcmp(k, "filter") == 0) {
			if (parse_filter(v, cfg, err, errlen))
				goto fail;
		} else if (strcmp(k, "pushConfig") == 0) {
			int is_push;
			e = push_config_validate(v, allow_link_local, &is_push, err, errlen);
			if (e != ERR_OK)
				goto fail;
			e = ERR_INVALID_ARGUMENT;
			if (is_push)
				cfg->push = json_incref(v);
		} else if (strcmp(k, "bigqueryConfig") == 0 ||
			   strcmp(k, "cloudStorageConfig") == 0 ||
			   strcmp(k, "messageTransforms") == 0 || strcmp(k, "tags") == 0) {
			/* Accepted only in their "off" form until the broker implements
			 * them: silently ignoring them would change delivery semantics. */
			if (!fields_is_off(v)) {
				e = ERR_UNIMPLEMENTED;
				snprintf(err, errlen,
					 "Subscription field '%s' is not supported by this "
					 "version of regnotify",
					 k);
				goto fail;
			}
		} else if (fields_in_list(k, ignored)) {
			continue;
		} else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'subscription'",
				 k);
			goto fail;
		}
	}
	if (cfg->topic[0] == '\0') {
		snprintf(err, errlen,
			 "A subscription needs a topic (\"topic\": "
			 "\"projects/PROJECT/topics/TOPIC\")");
		goto fail;
	}
	if (check_expiration(cfg, err, errlen))
		goto fail;
	if (cfg->exactly_once && cfg->push) {
		snprintf(err, errlen,
			 "Exactly-once delivery is supported for pull subscriptions only (Pull and "
			 "StreamingPull), not with a pushEndpoint");
		goto fail;
	}
	return ERR_OK;
fail:
	subscription_cleanup(cfg);
	return e;
}

void subscription_cleanup(struct sub_cfg *cfg)
{
	json_decref(cfg->labels);
	json_decref(cfg->push);
	free(cfg->filter_prog);
	cfg->labels = NULL;
	cfg->push = NULL;
	cfg->filter_prog = NULL;
}

json_t *subscription_to_json(const char *project, const char *id, const struct sub_cfg *cfg)
{
	json_t *o = json_object();
	fields_set_name(o, "name", project, "subscriptions", id);
	json_object_set_new(o, "topic", json_string(cfg->topic));
	json_object_set_new(o, "pushConfig",
			    cfg->push ? push_config_redact(cfg->push) : json_object());
	json_object_set_new(o, "ackDeadlineSeconds", json_integer(cfg->ack_deadline_s));
	fields_set_duration(o, "messageRetentionDuration", cfg->retention_ms);
	if (cfg->labels)
		json_object_set(o, "labels", cfg->labels);
	json_t *exp = json_object();
	if (cfg->expiration_ttl_ms >= 0)
		fields_set_duration(exp, "ttl", cfg->expiration_ttl_ms);
	json_object_set_new(o, "expirationPolicy", exp);
	if (cfg->dead_letter_topic[0]) {
		json_t *d = json_object();
		json_object_set_new(d, "deadLetterTopic", json_string(cfg->dead_letter_topic));
		json_object_set_new(d, "maxDeliveryAttempts",
				    json_integer(cfg->max_delivery_attempts));
		json_object_set_new(o, "deadLetterPolicy", d);
	}
	if (cfg->has_retry_policy) {
		json_t *r = json_object();
		fields_set_duration(r, "minimumBackoff", cfg->retry_min_ms);
		fields_set_duration(r, "maximumBackoff", cfg->retry_max_ms);
		json_object_set_new(o, "retryPolicy", r);
	}
	if (cfg->retain_acked)
		json_object_set_new(o, "retainAckedMessages", json_true());
	if (cfg->ordering)
		json_object_set_new(o, "enableMessageOrdering", json_true());
	if (cfg->exactly_once)
		json_object_set_new(o, "enableExactlyOnceDelivery", json_true());
	if (cfg->detached)
		json_object_set_new(o, "detached", json_true());
	if (cfg->filter[0])
		json_object_set_new(o, "filter", json_string(cfg->filter));
	json_object_set_new(o, "state", json_string("ACTIVE"));
	return o;
}
unsigned subscription_tag(const char *sub_key)
{
	unsigned h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)sub_key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}
