/* topics.c - the store's topic commands and the name-ordered listings. */
#include "keys.h"
#include "mem.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int store_ready(const struct link *l)
{
	return l && link_ready(l);
}

const char *store_status(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    (r->element[0]->type != REDIS_REPLY_STATUS &&
	     r->element[0]->type != REDIS_REPLY_STRING))
		return NULL;
	return r->element[0]->str;
}

int store_run(struct link *l, enum script_id id, store_cb cb, void *arg, int nkeys,
	      const char *const *keys, int nargs, const char *const *args)
{
	const char *stackv[32];
	size_t stackl[32] = { 0 };
	int argc = nkeys + nargs;
	const char **v = argc <= 32 ? stackv : mem_alloc(sizeof(*v) * (size_t)argc);
	size_t *len = argc <= 32 ? stackl : mem_alloc(sizeof(*len) * (size_t)argc);
	for (int i = 0; i < argc; i++) {
		v[i] = i < nkeys ? keys[i] : args[i - nkeys];
		len[i] = strlen(v[i]);
	}
	int rc = link_script(l, id, cb, arg, nkeys, argc, v, len);
	if (v != stackv) {
		mem_free(v);
		mem_free(len);
	}
	return rc;
}

/* The five keys of topic_create and topic_delete. */
struct topic_keys {
	char t[NAMES_KEY_MAX], hash[KEYS_MAX], log[KEYS_MAX], subs[KEYS_MAX], index[KEYS_MAX];
	const char *v[5];
};

static void topic_keys(struct topic_keys *k, const char *project, const char *id)
{
	names_key(k->t, project, id);
	k->v[0] = KEYS_TOPIC(k->hash, k->t);
	k->v[1] = KEYS_TOPIC_LOG(k->log, k->t);
	k->v[2] = KEYS_TOPIC_SUBS(k->subs, k->t);
	k->v[3] = KEYS_PROJECT_TOPICS(k->index, project);
	k->v[4] = KEYS_ALL_TOPICS;
}

int store_topic_create(struct link *l, const char *project, const char *id, const char *cfg,
		       int64_t retention_ms, int64_t now_ms, store_cb cb, void *arg)
{
	struct topic_keys k;
	char ret[32], now[32];
	topic_keys(&k, project, id);
	snprintf(ret, sizeof(ret), "%lld", (long long)retention_ms);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *args[] = { k.t, project, id, cfg, ret, now };
	return store_run(l, SCRIPT_TOPIC_CREATE, cb, arg, 5, k.v, 6, args);
}

int store_topic_get(struct link *l, const char *project, const char *id, store_cb cb, void *arg)
{
	char t[NAMES_KEY_MAX], hkey[KEYS_MAX];
	names_key(t, project, id);
	KEYS_TOPIC(hkey, t);
	const char *argv[] = { "HGET", hkey, "cfg" };
	size_t lens[] = { 4, strlen(hkey), 3 };
	return link_argv(l, cb, arg, 3, argv, lens);
}

int store_topic_patch(struct link *l, const char *project, const char *id, const char *cfg,
		      int64_t retention_ms, const char *based_on, size_t based_len, store_cb cb,
		      void *arg)
{
	char t[NAMES_KEY_MAX], hkey[KEYS_MAX], ret[32];
	names_key(t, project, id);
	KEYS_TOPIC(hkey, t);
	snprintf(ret, sizeof(ret), "%lld", (long long)retention_ms);
	const char *argv[] = { hkey, t, cfg, ret, based_on };
	size_t lens[] = { strlen(hkey), strlen(t), strlen(cfg), strlen(ret), based_len };
	return link_script(l, SCRIPT_TOPIC_PATCH, cb, arg, 1, 5, argv, lens);
}

int store_topic_delete(struct link *l, const char *project, const char *id, store_cb cb, void *arg)
{
	struct topic_keys k;
	topic_keys(&k, project, id);
	const char *args[] = { k.t, project, id };
	return store_run(l, SCRIPT_TOPIC_DELETE, cb, arg, 5, k.v, 3, args);
}

int store_topic_subs(struct link *l, const char *project, const char *id, store_cb cb, void *arg)
{
	char t[NAMES_KEY_MAX], hash[KEYS_MAX], subs[KEYS_MAX];
	names_key(t, project, id);
	const char *keys[] = { KEYS_TOPIC(hash, t), KEYS_TOPIC_SUBS(subs, t) };
	const char *args[] = { t };
	return store_run(l, SCRIPT_TOPIC_SUBS, cb, arg, 2, keys, 1, args);
}

int store_list(struct link *l, int subs, const char *project, const char *start, long count,
	       store_cb cb, void *arg)
{
	char index[KEYS_MAX], n[32];
	const char *keys[] = { subs ? KEYS_PROJECT_SUBS(index, project)
				    : KEYS_PROJECT_TOPICS(index, project) };
	snprintf(n, sizeof(n), "%ld", count);
	const char *args[] = { subs ? "subs" : "topics", project, start, n };
	return store_run(l, SCRIPT_LIST, cb, arg, 1, keys, 4, args);
}
