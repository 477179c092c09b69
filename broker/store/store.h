/* store.h - every Redis command and key of the broker goes through here:
 * handlers and delivery say what they want stored or read, the store names
 * the keys (keys.h), passes them in KEYS to its scripts (scripts/, one .lua each)
 * and sends the commands on the link (link.h).
 *
 * Every function returns 0 when the command was queued (cb runs exactly
 * once, with NULL when the link was lost meanwhile), or -1 when Redis is
 * not ready (cb does not run). Replies are hiredis', freed after cb
 * returns. Names are validated by the caller. Loop thread. */
#ifndef RN_STORE_H
#define RN_STORE_H

#include "errors.h"
#include "link.h"

#include <stddef.h>
#include <stdint.h>

struct sub_cfg;

typedef link_cb store_cb;

/* 1 when the store can take commands. */
int store_ready(const struct link *l);

/* The status word a script put first in its reply ("OK", "NOT_FOUND",
 * ...), or NULL when the reply is not such an array. */
const char *store_status(const redisReply *r);

/* Topics (store/topics.c). Replies: {'OK'} / {'ALREADY_EXISTS'} (create),
 * the cfg JSON or nil (get), {'OK'|'NOT_FOUND'|'CONFLICT'} (patch: a
 * compare-and-set on based_on), {'OK'|'NOT_FOUND'} (delete),
 * {'OK', 'p/s', ...} | {'NOT_FOUND'} (subscriptions of a topic). */
int store_topic_create(struct link *l, const char *project, const char *id, const char *cfg,
		       int64_t retention_ms, int64_t now_ms, store_cb cb, void *arg);
int store_topic_get(struct link *l, const char *project, const char *id, store_cb cb, void *arg);
int store_topic_patch(struct link *l, const char *project, const char *id, const char *cfg,
		      int64_t retention_ms, const char *based_on, size_t based_len, store_cb cb,
		      void *arg);
int store_topic_delete(struct link *l, const char *project, const char *id, store_cb cb, void *arg);
int store_topic_subs(struct link *l, const char *project, const char *id, store_cb cb, void *arg);

/* Up to count topics (subs 0) or subscriptions (1) of project in name
 * order, after start ("-": the first, "(ID": after ID). Reply {'OK', id,
 * cfg-json, topic, ...}; topic is "" for topics and detached subscriptions. */
int store_list(struct link *l, int subs, const char *project, const char *start, long count,
	       store_cb cb, void *arg);

/* Subscriptions (store/subs.c). cfg_json is the canonical JSON GET shows;
 * sub the validated model it came from (its numbers and pushConfig with
 * secrets are stored beside it); policy_json (or NULL) becomes its IAM
 * policy (the creator's, for a subscription made by tail). Replies: {'OK'} or {'ALREADY_EXISTS' |
 * 'TOPIC_NOT_FOUND' | 'DLQ_NOT_FOUND'} (create), [cfg, topic, push, detached]
 * (get: nils when absent), {'OK' | 'NOT_FOUND' | 'CONFLICT' | 'DLQ_NOT_FOUND'}
 * (patch, a compare-and-set on based_on), {'OK' | 'NOT_FOUND'} (delete, and
 * detach: Pub/Sub's DetachSubscription, store/scripts/sub_detach.lua). */
int store_sub_create(struct link *l, const char *project, const char *id, const char *cfg_json,
		     const struct sub_cfg *sub, const char *policy_json, const char *policy_etag,
		     int64_t now_ms, store_cb cb, void *arg);
int store_sub_get(struct link *l, const char *project, const char *id, store_cb cb, void *arg);
int store_sub_patch(struct link *l, const char *project, const char *id, const char *cfg_json,
		    const struct sub_cfg *sub, int64_t now_ms, const char *based_on,
		    size_t based_len, store_cb cb, void *arg);
int store_sub_delete(struct link *l, const char *project, const char *id, store_cb cb, void *arg);
int store_sub_detach(struct link *l, const char *project, const char *id, int64_t now_ms,
		     store_cb cb, void *arg);

/* Snapshots (store/snapshots.c; N = "project/snapshot", sub = "p/s"). Replies:
 * create {'OK', topic, expire-ms} | {'ALREADY_EXISTS' | 'SUB_NOT_FOUND' |
 * 'TOPIC_GONE' | 'DETACHED' | 'SNAPSHOT_TOO_OLD'}; get {'OK', topic,
 * expire-ms, labels} | {'NOT_FOUND'} (also once expired); list {'OK', id,
 * topic, expire-ms, labels, ...}; patch (labels NULL: unchanged, expire_ms
 * -1: unchanged) as get, or {'EXPIRE_PAST' | 'EXPIRE_TOO_LATE', limit-ms};
 * delete {'OK' | 'NOT_FOUND'}; topic_snaps {'OK', 'p/n', ...} |
 * {'NOT_FOUND'}; seek {'OK'} | {'NOT_FOUND' | 'SNAPSHOT_NOT_FOUND' |
 * 'DETACHED' | 'TOPIC_MISMATCH'}. topic is "p/t", "" once deleted. */
int store_snap_create(struct link *l, const char *project, const char *id, const char *sub,
		      const char *labels, int64_t now_ms, store_cb cb, void *arg);
int store_snap_get(struct link *l, const char *project, const char *id, int64_t now_ms, store_cb cb,
		   void *arg);
int store_snap_list(struct link *l, const char *project, const char *start, long count,
		    int64_t now_ms, store_cb cb, void *arg);
int store_snap_patch(struct link *l, const char *project, const char *id, const char *labels,
		     int64_t expire_ms, int64_t now_ms, store_cb cb, void *arg);
int store_snap_delete(struct link *l, const char *project, const char *id, int64_t now_ms,
		      store_cb cb, void *arg);
int store_topic_snaps(struct link *l, const char *project, const char *id, int64_t now_ms,
		      store_cb cb, void *arg);
int store_seek_snapshot(struct link *l, const char *sub, const char *snap, int64_t now_ms,
			store_cb cb, void *arg);

/* Messages (store/messages.c). */
struct store_msg_in {
	const unsigned char *data;
	size_t len;
	const char *attrs; /* compact JSON object text or NULL */
	size_t attrs_len;
	const char *key; /* orderingKey or NULL */
	size_t key_len;
};

/* Called once per publish: ids[n] are the entry-id replies (nil: the
 * topic does not exist), or ids is NULL and failed the error reply (NULL:
 * the link was lost). */
/* ids: the n entry ids (n > 0); or not_found (the topic does not exist);
 * or neither, with failed the error reply (NULL: Redis not reachable). */
typedef void (*store_published_cb)(void *arg, redisReply *failed, int not_found, redisReply **ids,
				   size_t n);

/* Appends n messages to topic project/id, all or none, copies each to the
 * topic's filtered subscriptions it matches, then wakes the topic's
 * waiters on every broker. Message memory is copied. Small publishes to
 * one topic in one loop turn share one script call (store/publish.c); cb
 * always runs later, never inside this call. */
int store_publish(struct link *l, const char *project, const char *id, const struct store_msg_in *m,
		  size_t n, store_published_cb cb, void *arg);

/* Leases up to max messages of subscription sub ("p/s") for lease_ms (0:
 * the subscription's ackDeadlineSeconds; StreamingPull's stream deadline
 * otherwise), of an ordered subscription at most per_key (0: any) of one
 * orderingKey; decode the reply with store_pulled_decode. */
int store_pull(struct link *l, const char *sub, int64_t now_ms, long max, long lease_ms,
	       long per_key, store_cb cb, void *arg);

/* Acknowledges entry ids, delivered as attempts[i] (n may be 0: only the
 * subscription's existence is checked). Reply {'OK', index...} (with
 * exactly-once delivery: the 1-based indexes of the refused acks, whose
 * lease was not held by that attempt) | {'NOT_FOUND'} | {'DETACHED'}. */
int store_ack(struct link *l, const char *sub, int64_t now_ms, const char *const *ids,
	      const char *const *attempts, size_t n, store_cb cb, void *arg);

/* Moves the leases of (ids[i], attempts[i]) to now + deadline_s (0: a
 * nack, with the retryPolicy backoff). Reply {'OK'} | {'NOT_FOUND'}. */
int store_modack(struct link *l, const char *sub, int64_t now_ms, long deadline_s,
		 const char *const *ids, const char *const *attempts, size_t n, store_cb cb,
		 void *arg);

/* Seeks sub to time_ms. Reply {'OK'} | {'NOT_FOUND'}. */
int store_seek(struct link *l, const char *sub, int64_t time_ms, int64_t now_ms, store_cb cb,
	       void *arg);

/* One leased message of a pull reply; pointers into the reply. */
struct store_msg {
	const char *id; /* stream entry id "ms-seq" */
	size_t id_len;
	const char *data;
	size_t data_len;
	const char *attrs; /* compact JSON object text, "" when none */
	size_t attrs_len;
	const char *key; /* orderingKey, "" when none */
	size_t key_len;
	long attempt; /* delivery attempt, >= 1 */
};

/* A decoded pull reply; msgs point into it (valid during the callback). */
struct store_pulled {
	const char *topic; /* "p/t", "" when detached */
	size_t topic_len;
	int has_dlq;
	long long dead_lettered; /* forwarded to the dead-letter topic in this step */
	int ordered;             /* enableMessageOrdering */
	int exactly_once;        /* enableExactlyOnceDelivery */
	int flags;               /* pull.lua's */
	size_t n;                /* messages: store_pulled_msg(p, 0..n-1) */
	/* Where they are (the reply's memory): nflat in the script's reply,
	 * then the split pull's XREADGROUP entries from skip on. */
	const redisReply *script, *entries;
	size_t nflat, skip;
	int split; /* a split pull's reply (store/messages.c) */
};

/* Decodes a pull reply: ERR_OK, ERR_NOT_FOUND (no such subscription),
 * ERR_UNAVAILABLE (r NULL) or ERR_INTERNAL (an error reply or another
 * shape). */
enum err store_pulled_decode(const redisReply *r, struct store_pulled *out);

/* Message i (< p->n) of a decoded pull reply (valid while the reply is). */
void store_pulled_msg(const struct store_pulled *p, size_t i, struct store_msg *m);

/* Registry ingest (store/registry.c). One translated event; all strings,
 * "" for none. */
struct store_event {
	const char *id, *op, *project, *repository, *digest, *data, *attrs, *ref;
};

/* Stores an envelope's events in one step (dedup on id for ttl_s, topic
 * auto-creation when create). Reply {published, duplicates, ignored,
 * rejected, dropped}. */
int store_ingest(struct link *l, int64_t now_ms, long long ttl_s, int create, const char *topic,
		 const struct store_event *ev, size_t n, store_cb cb, void *arg);

/* Continuous analysis: one REANALYZE message per image of project pulled
 * within within_ms to its container-analysis-reanalyze topic (created if
 * missing). project NULL: every project with pulls, once per lock_ms over
 * all brokers (--reanalyze-interval). Reply {'OK', published} |
 * {'LOCKED'}. */
int store_reanalyze(struct link *l, const char *project, int64_t now_ms, int64_t within_ms,
		    int64_t lock_ms, store_cb cb, void *arg);

/* Images of project pulled since since_ms, most recent first: {ref, ms,
 * ...} from offset, at most count. */
int store_pulled_images(struct link *l, const char *project, int64_t since_ms, long offset,
			long count, store_cb cb, void *arg);

/* IAM (store/iam.c): service accounts, their public keys (the private
 * key is never stored), IAM policies and the broker's signing keys. Every
 * change is PUBLISHed on the IAM channel (store_watch_iam). */
struct store_sa {
	const char *email, *project, *account_id, *unique_id, *display_name, *description;
};
/* {'OK'} | {'ALREADY_EXISTS'}. */
int store_sa_create(struct link *l, const struct store_sa *sa, int64_t now_ms, store_cb cb,
		    void *arg);
/* The account's hash as a flat array (empty: none): email, project,
 * account_id, unique_id, display_name, description, disabled ("0"/"1"),
 * created_ms. */
int store_sa_get(struct link *l, const char *email, store_cb cb, void *arg);
/* Up to count accounts of project in email order after start ("-" or
 * "(EMAIL"): {'OK', email, hash-array, ...}. */
int store_sa_list(struct link *l, const char *project, const char *start, long count, store_cb cb,
		  void *arg);
/* Sets one field (disabled, display_name, description). {'OK'} | {'NOT_FOUND'}. */
int store_sa_update(struct link *l, const char *email, const char *field, const char *value,
		    store_cb cb, void *arg);
/* How many accounts exist (integer reply). */
int store_sa_count(struct link *l, store_cb cb, void *arg);
/* Deletes the account and its keys. {'OK'} | {'NOT_FOUND'}. */
int store_sa_delete(struct link *l, const char *email, const char *project, store_cb cb, void *arg);
struct store_key {
	const char *key_id, *public_pem, *algorithm;
	int64_t created_ms, valid_before_ms;
};
/* {'OK'} | {'NOT_FOUND'} (no account) | {'FAILED_PRECONDITION'} (max_keys). */
int store_key_create(struct link *l, const char *email, const struct store_key *k, int max_keys,
		     store_cb cb, void *arg);
/* {'OK', key-hash-array, ...} by key id | {'NOT_FOUND'}. A key hash:
 * key_id, public_pem, algorithm, created_ms, valid_before_ms. */
int store_key_list(struct link *l, const char *email, store_cb cb, void *arg);
/* One key's hash (empty array: none). */
int store_key_get(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg);
/* For token verification: {'OK', public_pem, valid_before_ms, disabled} |
 * {'NOT_FOUND'}. */
int store_key_lookup(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg);
/* {'OK'} | {'NOT_FOUND'}. */
int store_key_delete(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg);
enum store_res_kind { STORE_RES_GLOBAL = 0, STORE_RES_PROJECT, STORE_RES_TOPIC, STORE_RES_SUB };
struct store_resource {
	enum store_res_kind kind;
	const char *project, *id; /* project: NULL for global; id: NULL for a project */
};
/* [json, etag, auditConfigs json] (nils: no policy yet, none). */
int store_policy_get(struct link *l, const struct store_resource *r, store_cb cb, void *arg);
/* For getIamPolicy: {'OK', json, etag, auditConfigs} (nils: none) |
 * {'NOT_FOUND'} (no such topic or subscription). */
int store_policy_read(struct link *l, const struct store_resource *r, store_cb cb, void *arg);
/* Compare-and-set (expected_etag NULL or "": none; "ACAB": none yet). {'OK',
 * auditConfigs | nil} | {'ABORTED'} (stale etag) | {'NOT_FOUND'} (no such
 * topic or subscription). audit_configs: the new auditConfigs array text
 * ("" drops them), or NULL to keep what is stored.
 * resource_name ("projects/P/topics/T") is what the change notice names. */
int store_policy_set(struct link *l, const struct store_resource *r, const char *resource_name,
		     const char *json, const char *etag, const char *expected_etag,
		     const char *audit_configs, store_cb cb, void *arg);
/* The broker's signing keys: adds (kid, key_json) unless a key younger
 * than rotate_ms exists, drops keys older than keep_ms; the reply is the
 * flat kid -> key_json array of every key (store_signing_get: the same,
 * without a change). */
int store_signing_ensure(struct link *l, const char *kid, const char *key_json, int64_t now_ms,
			 int64_t rotate_ms, int64_t keep_ms, store_cb cb, void *arg);
int store_signing_get(struct link *l, store_cb cb, void *arg);
/* IAM change notices ("sa:E", "key:E/K", "policy:R", "signing"; NULL:
 * maybe missed, drop every cached entry). */
void store_watch_iam(struct link *l, link_watch_fn fn, void *arg);

/* Audit logs (store/audit.c). The entry (LogEntry JSON text) that the next
 * audited store call (topic, subscription, policy, account and key
 * changes) appends to the audit stream of project's log ("activity", ...)
 * in the same Redis step as the change - only when the change happens.
 * Call it right before that store call. */
void store_audit_next(struct link *l, const char *project, const char *log, const char *entry,
		      int64_t time_us);
/* An entry that records no change of its own (Data Access, Policy Denied,
 * a failed call): appended, and exported to the matching sinks' topics, in
 * one step. Reply {'OK'}. */
int store_audit_write(struct link *l, const char *project, const char *log, const char *entry,
		      int64_t time_us, store_cb cb, void *arg);
/* Log sinks of project (scripts/sink_put.lua, sink_delete.lua; audited):
 * put creates (expected NULL; at most max per project) or replaces the
 * stored JSON expected; get: HGET of one (name) or HGETALL (name NULL). */
int store_sink_put(struct link *l, const char *project, const char *name, const char *json,
		   const char *expected, int max, store_cb cb, void *arg);
int store_sink_delete(struct link *l, const char *project, const char *name, store_cb cb,
		      void *arg);
int store_sink_get(struct link *l, const char *project, const char *name, store_cb cb, void *arg);
/* Every audit stream (SMEMBERS), and the retention of one (XTRIM MINID:
 * integer reply, entries removed). */
int store_audit_streams(struct link *l, store_cb cb, void *arg);
int store_audit_trim(struct link *l, const char *stream, int64_t before_ms, store_cb cb, void *arg);
/* Up to count entries of project's log from "from" ("-"/"+": the start/end,
 * "(ID": after ID), oldest first or newest first: XRANGE / XREVRANGE
 * reply [[id, ["e", json]], ...]. */
int store_audit_range(struct link *l, const char *project, const char *log, const char *from,
		      long count, int newest_first, store_cb cb, void *arg);

/* Housekeeping (store/housekeeping.c). */
/* Every push subscription: {name, push-config-json, ack-ms, topic, ...}. */
int store_push_list(struct link *l, store_cb cb, void *arg);
/* A page of the topics (subs 0) or subscriptions (1), "p/id" each: SSCAN
 * from cursor ("0" to start) for about count; reply [next-cursor ("0":
 * done), [member...]], a member possibly more than once. */
int store_scan_members(struct link *l, int subs, const char *cursor, long count, store_cb cb,
		       void *arg);
/* Retention trim of topic t ("p/t"): integer reply, entries removed. */
int store_trim(struct link *l, const char *t, int64_t now_ms, store_cb cb, void *arg);
/* Expiry of subscription s ("p/s"): integer reply 1 when it was deleted. */
int store_expire(struct link *l, const char *s, int64_t now_ms, store_cb cb, void *arg);

#endif
