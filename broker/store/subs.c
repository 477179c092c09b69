/* subs.c - the store's subscription commands. */
#include "keys.h"
#include "mem.h"
#include "store_internal.h"
#include "subscription.h"

#include <stdio.h>
#include <string.h>

/* The numbers the scripts keep next to the canonical JSON. */
struct sub_args {
	char s[NAMES_KEY_MAX], topic[NAMES_KEY_MAX], dlq[NAMES_KEY_MAX];
	char ack[24], ret[24], ttl[24], maxatt[24], rmin[24], rmax[24], now[24];
	char *push; /* full pushConfig JSON, or "" for pull; freed by args_cleanup */
};

/* "projects/p/topics/t" -> "p/t" (already validated); "" otherwise. */
static void short_topic(const char *full, char *out)
{
	char p[NAMES_PROJECT_MAX + 1], t[NAMES_ID_MAX + 1];
	if (full[0] && names_split(full, "topics", p, sizeof(p), t, sizeof(t)) == 0)
		names_key(out, p, t);
	else
		out[0] = '\0';
}

static void fill_args(struct sub_args *a, const char *project, const char *id,
		      const struct sub_cfg *cfg, int64_t now_ms)
{
	names_key(a->s, project, id);
	short_topic(cfg->topic, a->topic);
	short_topic(cfg->dead_letter_topic, a->dlq);
	snprintf(a->ack, sizeof(a->ack), "%d", cfg->ack_deadline_s * 1000);
	snprintf(a->ret, sizeof(a->ret), "%lld", (long long)cfg->retention_ms);
	snprintf(a->ttl, sizeof(a->ttl), "%lld", (long long)cfg->expiration_ttl_ms);
	snprintf(a->maxatt, sizeof(a->maxatt), "%d", cfg->max_delivery_attempts);
	snprintf(a->rmin, sizeof(a->rmin), "%lld",
		 cfg->has_retry_policy ? (long long)cfg->retry_min_ms : -1LL);
	snprintf(a->rmax, sizeof(a->rmax), "%lld",
		 cfg->has_retry_policy ? (long long)cfg->retry_max_ms : 0LL);
	snprintf(a->now, sizeof(a->now), "%lld", (long long)now_ms);
	a->push = cfg->push ? json_dumps(cfg->push, JSON_COMPACT) : NULL;
}

static const char *push_of(const struct sub_args *a)
{
	return a->push ? a->push : "";
}

int store_sub_create(struct link *l, const char *project, const char *id, const char *cfg_json,
		     const struct sub_cfg *sub, const char *policy_json, const char *policy_etag,
		     int64_t now_ms, store_cb cb, void *arg)
{
	struct sub_args a;
	char k[9][KEYS_MAX];
	fill_args(&a, project, id, sub, now_ms);
	const char *keys[] = { KEYS_SUB(k[0], a.s),
			       KEYS_TOPIC(k[1], a.topic),
			       KEYS_TOPIC_LOG(k[2], a.topic),
			       KEYS_TOPIC_SUBS(k[3], a.topic),
			       KEYS_PROJECT_SUBS(k[4], project),
			       KEYS_ALL_SUBS,
			       KEYS_ALL_PUSH,
			       KEYS_TOPIC_FILTERS(k[7], a.topic),
			       KEYS_SUB_FLOG(k[8], a.topic, a.s) };
	const char *args[] = { a.s,
			       project,
			       id,
			       a.topic,
			       cfg_json,
			       a.ack,
			       a.ret,
			       a.ttl,
			       a.dlq,
			       a.maxatt,
			       a.rmin,
			       a.rmax,
			       a.now,
			       push_of(&a),
			       policy_json ? policy_json : "",
			       policy_etag ? policy_etag : "",
			       sub->filter_prog ? sub->filter_prog : "",
			       sub->retain_acked ? "1" : "0",
			       subscription_ephemeral(sub) ? "1" : "0",
			       sub->ordering ? "1" : "0",
			       sub->exactly_once ? "1" : "0" };
	int rc = store_run(l, SCRIPT_SUB_CREATE, cb, arg, 9, keys, 21, args);
	mem_free(a.push);
	return rc;
}

int store_sub_get(struct link *l, const char *project, const char *id, store_cb cb, void *arg)
{
	char s[NAMES_KEY_MAX], hkey[KEYS_MAX];
	names_key(s, project, id);
	KEYS_SUB(hkey, s);
	const char *argv[] = { "HMGET", hkey, "cfg", "topic", "push", "detached" };
	size_t lens[] = { 5, strlen(hkey), 3, 5, 4, 8 };
	return link_argv(l, cb, arg, 6, argv, lens);
}

int store_sub_detach(struct link *l, const char *project, const char *id, int64_t now_ms,
		     store_cb cb, void *arg)
{
	char s[NAMES_KEY_MAX], k[4][KEYS_MAX], now[24];
	names_key(s, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SUB(k[0], s), KEYS_SUB_LEASE(k[1], s), KEYS_SUB_ATT(k[2], s),
			       KEYS_SUB_RETRY(k[3], s), KEYS_ALL_PUSH };
	const char *args[] = { s, now };
	return store_run(l, SCRIPT_SUB_DETACH, cb, arg, 5, keys, 2, args);
}

int store_sub_patch(struct link *l, const char *project, const char *id, const char *cfg_json,
		    const struct sub_cfg *sub, int64_t now_ms, const char *based_on,
		    size_t based_len, store_cb cb, void *arg)
{
	struct sub_args a;
	char hkey[KEYS_MAX];
	fill_args(&a, project, id, sub, now_ms);
	const char *argv[] = { KEYS_SUB(hkey, a.s),
			       KEYS_ALL_PUSH,
			       a.s,
			       cfg_json,
			       a.ack,
			       a.ret,
			       a.ttl,
			       a.dlq,
			       a.maxatt,
			       a.rmin,
			       a.rmax,
			       a.now,
			       based_on,
			       push_of(&a),
			       sub->retain_acked ? "1" : "0",
			       subscription_ephemeral(sub) ? "1" : "0",
			       sub->exactly_once ? "1" : "0" };
	size_t lens[17];
	for (int i = 0; i < 17; i++)
		lens[i] = i == 12 ? based_len : strlen(argv[i]);
	int rc = link_script(l, SCRIPT_SUB_PATCH, cb, arg, 2, 17, argv, lens);
	mem_free(a.push);
	return rc;
}

int store_sub_delete(struct link *l, const char *project, const char *id, store_cb cb, void *arg)
{
	char s[NAMES_KEY_MAX], k[4][KEYS_MAX];
	names_key(s, project, id);
	const char *keys[] = { KEYS_SUB(k[0], s), KEYS_SUB_LEASE(k[1], s), KEYS_SUB_ATT(k[2], s),
			       KEYS_SUB_RETRY(k[3], s) };
	const char *args[] = { s };
	return store_run(l, SCRIPT_SUB_DELETE, cb, arg, 4, keys, 1, args);
}
