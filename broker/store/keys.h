/* keys.h - every Redis key name of the store, once (docs/redis-schema.md).
 * T = "project/topic", S = "project/sub", as names_key writes them. Keys of
 * one topic carry its hash tag {T}, keys of one subscription {S}, so each
 * resource's keys share a Redis Cluster slot. Scripts that reach keys of
 * another resource (a subscription's topic stream) derive them with the
 * same layout in scripts/prelude.lua (tkey, skey), which mirrors this file.
 * Pure: any thread. */
#ifndef RN_KEYS_H
#define RN_KEYS_H

#include "names.h"

#include <stddef.h>
#include <stdio.h>

/* Each KEYS_X(buf, name) macro formats into buf (KEYS_MAX bytes) and is
 * buf. */

/* Room for any key below. */
#define KEYS_MAX (NAMES_KEY_MAX + 64)

/* Topic T: its config hash, message stream, and set of subscriptions. */
#define KEYS_TOPIC(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:topic", t), (buf))
#define KEYS_TOPIC_LOG(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:log", t), (buf))
#define KEYS_TOPIC_SUBS(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:subs", t), (buf))

/* Subscription S: its hash, lease sorted set, attempts and retry hashes. */
#define KEYS_SUB(buf, s) (snprintf(buf, KEYS_MAX, "rn:v1:sub:{%s}", s), (buf))
#define KEYS_SUB_LEASE(buf, s) (snprintf(buf, KEYS_MAX, "rn:v1:sub:{%s}:lease", s), (buf))
#define KEYS_SUB_ATT(buf, s) (snprintf(buf, KEYS_MAX, "rn:v1:sub:{%s}:att", s), (buf))
#define KEYS_SUB_RETRY(buf, s) (snprintf(buf, KEYS_MAX, "rn:v1:sub:{%s}:retry", s), (buf))

/* Indexes: topic / subscription IDs per project (sorted by name), and the
 * sets of every topic, subscription and push subscription. */
#define KEYS_PROJECT_TOPICS(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:topics", p), (buf))
#define KEYS_PROJECT_SUBS(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:subs", p), (buf))
#define KEYS_ALL_TOPICS "rn:v1:topics"
#define KEYS_ALL_SUBS "rn:v1:subs"
#define KEYS_ALL_PUSH "rn:v1:push"

/* Registry ingest: event IDs seen (dedup), manifest digests per
 * repository, and last-pulled images per project. */
#define KEYS_REG_SEEN(buf, id) (snprintf(buf, KEYS_MAX, "rn:v1:reg:seen:%s", id), (buf))
#define KEYS_REG_MANIFESTS(buf, repo)                                                              \
	(snprintf(buf, KEYS_MAX, "rn:v1:reg:manifests:%s", repo), (buf))
#define KEYS_REG_PULLED(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:reg:pulled:%s", p), (buf))

/* Wake-up channels: PUBLISH on KEYS_WAKE_PREFIX T. */
#define KEYS_WAKE_PREFIX "rn:v1:wake:"
#define KEYS_WAKE_PATTERN KEYS_WAKE_PREFIX "*"
#define KEYS_WAKE(buf, t) (snprintf(buf, KEYS_MAX, KEYS_WAKE_PREFIX "%s", t), (buf))

#endif
