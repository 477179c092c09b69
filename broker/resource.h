/* resource.h - Pub/Sub resource names and the Topic / Subscription
 * resources: validation, defaults, and their proto3-JSON form. */
#ifndef RN_RESOURCE_H
#define RN_RESOURCE_H

#include <jansson.h>
#include <stdint.h>

#define RESOURCE_ID_MAX 255
#define RESOURCE_PROJECT_MAX 100
#define RESOURCE_NAME_MAX 400 /* "projects/" + project + "/subscriptions/" + id */

/* Pub/Sub writes this as the topic of a subscription whose topic was deleted. */
#define RESOURCE_DELETED_TOPIC "_deleted-topic_"

#define DEFAULT_ACK_DEADLINE_S 10
#define DEFAULT_SUB_RETENTION_MS (604800LL * 1000)
#define DEFAULT_EXPIRATION_TTL_MS (2678400LL * 1000)
#define MIN_RETENTION_MS (600LL * 1000)
#define MAX_RETENTION_MS (31LL * 86400 * 1000)
#define MIN_EXPIRATION_TTL_MS (86400LL * 1000)
/* regnotify extension: the label and shorter minimum of ephemeral subscriptions. */
#define EPHEMERAL_LABEL "regnotify-ephemeral"
#define MIN_EPHEMERAL_TTL_MS (60LL * 1000)
#define DEFAULT_MAX_DELIVERY_ATTEMPTS 5

/* A resource ID: 3-255 chars, starts with a letter, [A-Za-z0-9-_.~+%], not
 * "goog...". Returns 0 when valid, -1 otherwise. Any thread. */
int resource_valid_id(const char *id);

/* A project ID or number: 1-100 chars of [A-Za-z0-9-_.~:]. 0 or -1. */
int resource_valid_project(const char *project);

/* Splits "projects/P/<kind>/ID" (kind "topics" or "subscriptions") into its
 * parts after validating both. Returns 0 or -1. */
int resource_split_name(const char *name, const char *kind, char *project, size_t plen, char *id,
			size_t idlen);

struct topic_cfg {
	json_t *labels;       /* object, owned; NULL when none */
	int64_t retention_ms; /* 0: unset */
};

struct sub_cfg {
	char topic[RESOURCE_NAME_MAX + 1]; /* "projects/p/topics/t" */
	int ack_deadline_s;
	int64_t retention_ms;
	int64_t expiration_ttl_ms;                     /* -1: never expires */
	json_t *labels;                                /* object, owned; NULL when none */
	char dead_letter_topic[RESOURCE_NAME_MAX + 1]; /* "" when no policy */
	int max_delivery_attempts;
	int has_retry_policy;
	int64_t retry_min_ms, retry_max_ms;
	json_t *push; /* validated pushConfig with secrets, owned; NULL: pull */
};

/* Fills cfg from a Topic JSON object (request body or stored form).
 * Unknown fields, wrong types and values out of range are rejected with a
 * message in err and *status 400; unsupported features set in a non-empty
 * form get *status 501. Returns 0 or -1. On success the caller owns cfg's
 * members and releases them with resource_topic_cleanup. */
int resource_topic_from_json(json_t *in, struct topic_cfg *cfg, int *status, char *err,
			     size_t errlen);
void resource_topic_cleanup(struct topic_cfg *cfg);

/* The Topic as Pub/Sub shows it. Ownership: the caller decrefs the result. */
json_t *resource_topic_to_json(const char *project, const char *id, const struct topic_cfg *cfg);

/* Same for Subscriptions. A subscription needs "topic". HTTP status for an
 * error is 400 except unsupported features, for which *status is set to
 * 501 (UNIMPLEMENTED). */
int resource_sub_from_json(json_t *in, struct sub_cfg *cfg, int allow_link_local, int *status,
			   char *err, size_t errlen);
void resource_sub_cleanup(struct sub_cfg *cfg);
json_t *resource_sub_to_json(const char *project, const char *id, const struct sub_cfg *cfg);

/* Applies a PATCH: for every comma-separated camelCase path of mask, copies
 * that field from patch into stored (or removes it when patch lacks it).
 * allowed is a NULL-terminated list of patchable top-level fields. Returns
 * 0, or -1 with a message when the mask is empty or names a field that
 * cannot be updated. */
int resource_apply_mask(json_t *stored, json_t *patch, const char *mask, const char *const *allowed,
			char *err, size_t errlen);

#endif
