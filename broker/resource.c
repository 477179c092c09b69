/* resource.c - resource names, Topic and Subscription validation and JSON.
 * The JSON form follows the proto3 mapping Pub/Sub uses: camelCase keys,
 * defaults filled in on output, empty fields and false booleans omitted. */
#include "resource.h"

#include "codec.h"
#include "push_config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int resource_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n < 3 || n > RESOURCE_ID_MAX || !isalpha((unsigned char)id[0]))
		return -1;
	if (strncmp(id, "goog", 4) == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!isalnum(c) && !strchr("-_.~+%", c))
			return -1;
	}
	return 0;
}

int resource_valid_project(const char *project)
{
	size_t n = strlen(project);
	if (n < 1 || n > RESOURCE_PROJECT_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)project[i];
		if (!isalnum(c) && !strchr("-_.~:", c))
			return -1;
	}
	return 0;
}

int resource_split_name(const char *name, const char *kind, char *project, size_t plen, char *id,
			size_t idlen)
{
	if (strncmp(name, "projects/", 9) != 0)
		return -1;
	const char *p = name + 9, *slash = strchr(p, '/');
	if (slash == NULL || (size_t)(slash - p) >= plen)
		return -1;
	size_t kl = strlen(kind);
	if (strncmp(slash + 1, kind, kl) != 0 || slash[1 + kl] != '/')
		return -1;
	const char *i = slash + 2 + kl;
	if (strlen(i) >= idlen || strchr(i, '/'))
		return -1;
	memcpy(project, p, (size_t)(slash - p));
	project[slash - p] = '\0';
	snprintf(id, idlen, "%s", i);
	if (resource_valid_project(project) || resource_valid_id(id))
		return -1;
	return 0;
}

/* Labels: up to 64; keys 1-63 of [a-z0-9_-] starting with a lowercase
 * letter (international letters allowed, so bytes >= 0x80 pass); values
 * 0-63 of the same set. */
static int valid_label_part(const char *s, int is_key)
{
	size_t n = strlen(s);
	if (n > 63 || (is_key && n < 1))
		return 0;
	if (is_key && !((s[0] >= 'a' && s[0] <= 'z') || (unsigned char)s[0] >= 0x80))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || isdigit(c) || c == '_' || c == '-' || c >= 0x80))
			return 0;
	}
	return 1;
}

static int parse_labels(json_t *v, json_t **out, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Invalid value at 'labels': expected an object");
		return -1;
	}
	if (json_object_size(v) > 64) {
		snprintf(err, errlen, "Too many labels: at most 64 are allowed");
		return -1;
	}
	const char *k;
	json_t *lv;
	json_object_foreach(v, k, lv)
	{
		if (!json_is_string(lv) || !valid_label_part(k, 1) ||
		    !valid_label_part(json_string_value(lv), 0)) {
			snprintf(err, errlen,
				 "Invalid label (key=%.64s): keys and values are up to 63 "
				 "characters of [a-z0-9_-], keys start with a lowercase letter",
				 k);
			return -1;
		}
	}
	*out = json_object_size(v) ? json_incref(v) : NULL;
	return 0;
}

static int parse_duration_field(json_t *v, const char *field, int64_t lo, int64_t hi, int64_t *out,
				char *err, size_t errlen)
{
	if (!json_is_string(v) || codec_duration_parse(json_string_value(v), out) != 0) {
		snprintf(err, errlen, "Invalid value at '%s': expected a duration such as \"600s\"",
			 field);
		return -1;
	}
	if (*out < lo || *out > hi) {
		snprintf(err, errlen, "Invalid %s: must be between %llds and %llds", field,
			 (long long)(lo / 1000), (long long)(hi / 1000));
		return -1;
	}
	return 0;
}

/* The "off" form of a field: false, null, "", {} or []. Clients send
 * unsupported fields in that form (e.g. "tags":{}), which is harmless. */
static int is_false_or_empty(json_t *v)
{
	return json_is_false(v) || json_is_null(v) ||
	       (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

/* Output-only fields may be sent back as they were received (a GET result
 * used as a PATCH body); they are ignored. */
static int is_ignored(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

int resource_topic_from_json(json_t *in, struct topic_cfg *cfg, int *status, char *err,
			     size_t errlen)
{
	*status = 400;
	static const char *const ignored[] = { "name", "state", "satisfiesPzs", NULL };
	static const char *const unsupported[] = { "messageStoragePolicy",
						   "kmsKeyName",
						   "schemaSettings",
						   "ingestionDataSourceSettings",
						   "messageTransforms",
						   "tags",
						   NULL };
	memset(cfg, 0, sizeof(*cfg));
	if (in == NULL)
		return 0;
	if (!json_is_object(in)) {
		snprintf(err, errlen, "Invalid JSON payload: expected a Topic object");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "labels") == 0) {
			if (parse_labels(v, &cfg->labels, err, errlen))
				goto fail;
		} else if (strcmp(k, "messageRetentionDuration") == 0) {
			if (parse_duration_field(v, k, MIN_RETENTION_MS, MAX_RETENTION_MS,
						 &cfg->retention_ms, err, errlen))
				goto fail;
		} else if (is_ignored(k, ignored)) {
			continue;
		} else if (is_ignored(k, unsupported)) {
			if (is_false_or_empty(v))
				continue;
			*status = 501;
			snprintf(err, errlen,
				 "Topic field '%s' is not supported by this version of "
				 "regnotify",
				 k);
			goto fail;
		} else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'topic'",
				 k);
			goto fail;
		}
	}
	return 0;
fail:
	resource_topic_cleanup(cfg);
	return -1;
}

void resource_topic_cleanup(struct topic_cfg *cfg)
{
	json_decref(cfg->labels);
	cfg->labels = NULL;
}

static void set_name(json_t *o, const char *key, const char *project, const char *kind,
		     const char *id)
{
	char name[RESOURCE_NAME_MAX + 1];
	snprintf(name, sizeof(name), "projects/%s/%s/%s", project, kind, id);
	json_object_set_new(o, key, json_string(name));
}

static void set_duration(json_t *o, const char *key, int64_t ms)
{
	char buf[32];
	codec_duration_format(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

json_t *resource_topic_to_json(const char *project, const char *id, const struct topic_cfg *cfg)
{
	json_t *o = json_object();
	set_name(o, "name", project, "topics", id);
	if (cfg->labels)
		json_object_set(o, "labels", cfg->labels);
	if (cfg->retention_ms)
		set_duration(o, "messageRetentionDuration", cfg->retention_ms);
	json_object_set_new(o, "state", json_string("ACTIVE"));
	return o;
}

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
	char p[RESOURCE_PROJECT_MAX + 1], t[RESOURCE_ID_MAX + 1];
	if (!json_is_string(v) ||
	    resource_split_name(json_string_value(v), "topics", p, sizeof(p), t, sizeof(t))) {
		snprintf(
			err, errlen,
			"Invalid resource name given (name=%.300s). Refer to "
			"https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more "
			"information.",
			json_is_string(v) ? json_string_value(v) : field);
		return -1;
	}
	snprintf(out, RESOURCE_NAME_MAX + 1, "projects/%s/topics/%s", p, t);
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
		if (parse_duration_field(f, k, 0, 600 * 1000, dst, err, errlen))
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
		if (parse_duration_field(f, "expirationPolicy.ttl", 0, INT64_MAX / 2,
					 &cfg->expiration_ttl_ms, err, errlen))
			return -1;
	}
	return 0;
}

/* Pub/Sub's minimum expiration TTL is one day. regnotify's extension: a
 * subscription labelled regnotify-ephemeral=true (what `regnotify tail`
 * creates) may expire after as little as a minute, so one left behind by a
 * killed CLI goes away soon. Checked once the whole object is read. */
static int check_expiration(const struct sub_cfg *cfg, char *err, size_t errlen)
{
	if (cfg->expiration_ttl_ms < 0 || cfg->expiration_ttl_ms >= MIN_EXPIRATION_TTL_MS)
		return 0;
	json_t *l = cfg->labels ? json_object_get(cfg->labels, EPHEMERAL_LABEL) : NULL;
	int ephemeral = json_is_string(l) && strcmp(json_string_value(l), "true") == 0;
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

int resource_sub_from_json(json_t *in, struct sub_cfg *cfg, int allow_link_local, int *status,
			   char *err, size_t errlen)
{
	static const char *const ignored[] = { "name", "state", "topicMessageRetentionDuration",
					       "analyticsHubSubscriptionInfo", NULL };
	memset(cfg, 0, sizeof(*cfg));
	cfg->ack_deadline_s = DEFAULT_ACK_DEADLINE_S;
	cfg->retention_ms = DEFAULT_SUB_RETENTION_MS;
	cfg->expiration_ttl_ms = DEFAULT_EXPIRATION_TTL_MS;
	*status = 400;
	if (!json_is_object(in)) {
		snprintf(err, errlen, "Invalid JSON payload: expected a Subscription object");
		return -1;
	}
	const char *k;
	json_t *v;
	long long n;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "topic") == 0) {
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), RESOURCE_DELETED_TOPIC) == 0)
				snprintf(cfg->topic, sizeof(cfg->topic), "%s",
					 RESOURCE_DELETED_TOPIC);
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
			if (parse_duration_field(v, k, MIN_RETENTION_MS, MAX_RETENTION_MS,
						 &cfg->retention_ms, err, errlen))
				goto fail;
		} else if (strcmp(k, "labels") == 0) {
			if (parse_labels(v, &cfg->labels, err, errlen))
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
		} else if (strcmp(k, "pushConfig") == 0) {
			int is_push;
			if (push_config_validate(v, allow_link_local, &is_push, status, err,
						 errlen))
				goto fail;
			if (is_push)
				cfg->push = json_incref(v);
		} else if (strcmp(k, "bigqueryConfig") == 0 ||
			   strcmp(k, "cloudStorageConfig") == 0 || strcmp(k, "filter") == 0 ||
			   strcmp(k, "enableMessageOrdering") == 0 ||
			   strcmp(k, "retainAckedMessages") == 0 ||
			   strcmp(k, "enableExactlyOnceDelivery") == 0 ||
			   strcmp(k, "messageTransforms") == 0 || strcmp(k, "tags") == 0 ||
			   strcmp(k, "detached") == 0) {
			/* Accepted only in their "off" form until the broker implements
			 * them: silently ignoring them would change delivery semantics. */
			if (!is_false_or_empty(v)) {
				*status = 501;
				snprintf(err, errlen,
					 "Subscription field '%s' is not supported by this "
					 "version of regnotify",
					 k);
				goto fail;
			}
		} else if (is_ignored(k, ignored)) {
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
	return 0;
fail:
	resource_sub_cleanup(cfg);
	return -1;
}

void resource_sub_cleanup(struct sub_cfg *cfg)
{
	json_decref(cfg->labels);
	json_decref(cfg->push);
	cfg->labels = NULL;
	cfg->push = NULL;
}

json_t *resource_sub_to_json(const char *project, const char *id, const struct sub_cfg *cfg)
{
	json_t *o = json_object();
	set_name(o, "name", project, "subscriptions", id);
	json_object_set_new(o, "topic", json_string(cfg->topic));
	json_object_set_new(o, "pushConfig",
			    cfg->push ? push_config_redact(cfg->push) : json_object());
	json_object_set_new(o, "ackDeadlineSeconds", json_integer(cfg->ack_deadline_s));
	set_duration(o, "messageRetentionDuration", cfg->retention_ms);
	if (cfg->labels)
		json_object_set(o, "labels", cfg->labels);
	json_t *exp = json_object();
	if (cfg->expiration_ttl_ms >= 0)
		set_duration(exp, "ttl", cfg->expiration_ttl_ms);
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
		set_duration(r, "minimumBackoff", cfg->retry_min_ms);
		set_duration(r, "maximumBackoff", cfg->retry_max_ms);
		json_object_set_new(o, "retryPolicy", r);
	}
	json_object_set_new(o, "state", json_string("ACTIVE"));
	return o;
}

int resource_apply_mask(json_t *stored, json_t *patch, const char *mask, const char *const *allowed,
			char *err, size_t errlen)
{
	if (mask == NULL || *mask == '\0') {
		snprintf(err, errlen,
			 "Invalid update_mask provided: it must name at least one field");
		return -1;
	}
	char buf[1024];
	if (strlen(mask) >= sizeof(buf)) {
		snprintf(err, errlen, "Invalid update_mask provided: too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", mask);
	char *save = NULL;
	for (char *path = strtok_r(buf, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
		while (*path == ' ')
			path++;
		/* A nested path ("retryPolicy.minimumBackoff") updates its top field. */
		char *dot = strchr(path, '.');
		if (dot)
			*dot = '\0';
		if (!is_ignored(path, allowed)) {
			snprintf(err, errlen,
				 "Invalid update_mask provided: '%.64s' cannot be updated", path);
			return -1;
		}
		json_t *nv = json_is_object(patch) ? json_object_get(patch, path) : NULL;
		if (nv && !dot)
			json_object_set(stored, path, nv);
		else if (nv && dot) {
			json_t *cur = json_object_get(stored, path);
			json_t *sub = json_object_get(nv, dot + 1);
			if (!json_is_object(cur)) {
				cur = json_object();
				json_object_set_new(stored, path, cur);
			}
			if (sub)
				json_object_set(cur, dot + 1, sub);
			else
				json_object_del(cur, dot + 1);
		} else
			json_object_del(stored, path);
	}
	return 0;
}
