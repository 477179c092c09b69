/* subscription.h - the Subscription resource: validation, defaults, its
 * proto3-JSON form, and the ackId tag. Pure: any thread. */
#ifndef RN_SUBSCRIPTION_H
#define RN_SUBSCRIPTION_H

#include "errors.h"
#include "names.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Pub/Sub writes this as the topic of a subscription whose topic was deleted. */
#define SUBSCRIPTION_DELETED_TOPIC "_deleted-topic_"

#define DEFAULT_ACK_DEADLINE_S 10
#define DEFAULT_SUB_RETENTION_MS (604800LL * 1000)
#define DEFAULT_EXPIRATION_TTL_MS (2678400LL * 1000)
#define MIN_EXPIRATION_TTL_MS (86400LL * 1000)
/* regnotify extension: the label and shorter minimum of ephemeral subscriptions. */
#define EPHEMERAL_LABEL "regnotify-ephemeral"
#define MIN_EPHEMERAL_TTL_MS (60LL * 1000)
#define DEFAULT_MAX_DELIVERY_ATTEMPTS 5
/* Pub/Sub's limit on a subscription's filter, in bytes. */
#define SUB_FILTER_MAX 256

struct sub_cfg {
	char topic[NAMES_NAME_MAX + 1]; /* "projects/p/topics/t" */
	int ack_deadline_s;
	int64_t retention_ms;
	int64_t expiration_ttl_ms;                  /* -1: never expires */
	json_t *labels;                             /* object, owned; NULL when none */
	char dead_letter_topic[NAMES_NAME_MAX + 1]; /* "" when no policy */
	int max_delivery_attempts;
	int has_retry_policy;
	int64_t retry_min_ms, retry_max_ms;
	json_t *push;                    /* validated pushConfig with secrets, owned; NULL: pull */
	char filter[SUB_FILTER_MAX + 1]; /* the filter as given; "" when none */
	char *filter_prog; /* its program (filter.h filter_program), owned; NULL: none */
	int retain_acked;  /* retainAckedMessages */
	int ordering;      /* enableMessageOrdering (immutable) */
	int exactly_once;  /* enableExactlyOnceDelivery (pull subscriptions only) */
	int detached;      /* shown as "detached": true; set by the caller, never parsed */
};

/* Fills cfg from a Subscription JSON object, which needs "topic". Errors
 * as topic_from_json (ERR_UNIMPLEMENTED for unsupported features, also in
 * pushConfig). allow_link_local: see push_config.h. On ERR_OK the caller
 * releases cfg with subscription_cleanup. */
enum err subscription_from_json(json_t *in, struct sub_cfg *cfg, int allow_link_local, char *err,
				size_t errlen);
void subscription_cleanup(struct sub_cfg *cfg);

/* 1 when cfg has the label regnotify-ephemeral=true (`regnotify tail`'s
 * subscriptions: a short expiration ttl, and a seek back replays what the
 * topic's log still holds). */
int subscription_ephemeral(const struct sub_cfg *cfg);

/* The Subscription as Pub/Sub shows it (secrets redacted). Ownership: the
 * caller decrefs the result. */
json_t *subscription_to_json(const char *project, const char *id, const struct sub_cfg *cfg);

/* 32-bit FNV-1a of "project/sub": the tag that ties an ackId to its
 * subscription. */
unsigned subscription_tag(const char *sub_key);

#endif
