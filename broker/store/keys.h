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
#define KEYS_MAX (2 * NAMES_KEY_MAX + 64)

/* Topic T: its config hash, message stream, and set of subscriptions. */
#define KEYS_TOPIC(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:topic", t), (buf))
#define KEYS_TOPIC_LOG(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:log", t), (buf))
#define KEYS_TOPIC_SUBS(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:subs", t), (buf))
/* Filtered subscriptions of topic T: S -> its filter program, and S's own
 * stream of the messages that match (in the topic's slot: a publish writes
 * both in one step). */
#define KEYS_TOPIC_FILTERS(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:filters", t), (buf))
#define KEYS_TOPIC_PUBGUARD(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:pubguard", t), (buf))
#define KEYS_SUB_FLOG(buf, t, s) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:flog:%s", t, s), (buf))

/* Snapshot N ("project/snapshot"): its hash (topic, source subscription,
 * position, expiry, labels) and the sorted set of the entry ids it holds
 * unacked; the snapshots of each project (by name) and of each topic. */
#define KEYS_SNAP(buf, n) (snprintf(buf, KEYS_MAX, "rn:v1:snap:{%s}", n), (buf))
#define KEYS_SNAP_IDS(buf, n) (snprintf(buf, KEYS_MAX, "rn:v1:snap:{%s}:ids", n), (buf))
#define KEYS_PROJECT_SNAPS(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:snaps", p), (buf))
#define KEYS_TOPIC_SNAPS(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:snaps", t), (buf))

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
/* The projects with a pull recorded, and the lock of the scheduled
 * reanalysis (--reanalyze-interval: one broker per interval). */
#define KEYS_REG_PULLED_PROJECTS "rn:v1:reg:pulled-projects"
#define KEYS_REANALYZE_LOCK "rn:v1:reg:reanalyze-lock"

/* IAM (store/iam.c). A service account E (its email) has a hash and a set
 * of key IDs; each key K is a hash beside them (hash tag {E}, so an
 * account's keys share its slot; scripts/prelude.lua's sakey mirrors
 * this). Accounts per project, sorted by email; the IAM policies: the
 * global one (every project inherits it: the bootstrap admin), a
 * project, a topic T and a subscription S (beside the resource's own keys,
 * in its slot: deleting the resource deletes its policy); the broker's own
 * signing keys (kid -> JSON); the channel of IAM changes (payloads
 * "sa:E", "key:E/K", "policy:R", "policies" (any), "signing"). */
#define KEYS_SA(buf, e) (snprintf(buf, KEYS_MAX, "rn:v1:sa:{%s}", e), (buf))
#define KEYS_SA_KEYS(buf, e) (snprintf(buf, KEYS_MAX, "rn:v1:sa:{%s}:keys", e), (buf))
#define KEYS_SA_KEY(buf, e, k) (snprintf(buf, KEYS_MAX, "rn:v1:sa:{%s}:key:%s", e, k), (buf))
#define KEYS_PROJECT_SAS(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:sas", p), (buf))
#define KEYS_GLOBAL_POLICY "rn:v1:policy:global"
#define KEYS_PROJECT_POLICY(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:policy", p), (buf))
#define KEYS_TOPIC_POLICY(buf, t) (snprintf(buf, KEYS_MAX, "rn:v1:{%s}:policy", t), (buf))
#define KEYS_SUB_POLICY(buf, s) (snprintf(buf, KEYS_MAX, "rn:v1:sub:{%s}:policy", s), (buf))
#define KEYS_ALL_SAS "rn:v1:sas"
/* Every policy hash (sa_delete marks a deleted account's members in them). */
#define KEYS_ALL_POLICIES "rn:v1:policies"
#define KEYS_SIGNING "rn:v1:signing"
#define KEYS_IAM_CHANNEL "rn:v1:iam"

/* Audit logs (store/audit.c): one stream per project and log ("activity",
 * "data_access", "system_event"), entries appended by the audited scripts
 * in the same step as their change; the index of every such stream. */
#define KEYS_AUDIT(buf, p, log) (snprintf(buf, KEYS_MAX, "rn:v1:audit:%s:%s", p, log), (buf))
#define KEYS_ALL_AUDITS "rn:v1:audits"
/* Log sinks (store/sinks.c): one hash per project (name -> LogSink JSON),
 * the set of projects that have one, and a version every change bumps
 * (an audited script of a broker with an older one answers AUDIT_STALE). */
#define KEYS_PROJECT_SINKS(buf, p) (snprintf(buf, KEYS_MAX, "rn:v1:project:%s:sinks", p), (buf))
#define KEYS_SINKS_PROJECTS "rn:v1:sinks:projects"
#define KEYS_SINKS_VER "rn:v1:sinks:ver"

/* Wake-up channels: PUBLISH on KEYS_WAKE_PREFIX T. */
#define KEYS_WAKE_PREFIX "rn:v1:wake:"
#define KEYS_WAKE_PATTERN KEYS_WAKE_PREFIX "*"
#define KEYS_WAKE(buf, t) (snprintf(buf, KEYS_MAX, KEYS_WAKE_PREFIX "%s", t), (buf))

#endif
