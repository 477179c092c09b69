/* housekeeping.c - the store's commands for push discovery, retention
 * trimming and subscription expiry. */
#include "keys.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int store_push_list(struct link *l, store_cb cb, void *arg)
{
	const char *keys[] = { KEYS_ALL_PUSH };
	return store_run(l, SCRIPT_PUSH_LIST, cb, arg, 1, keys, 0, NULL);
}

int store_members(struct link *l, int subs, store_cb cb, void *arg)
{
	const char *set = subs ? KEYS_ALL_SUBS : KEYS_ALL_TOPICS;
	const char *argv[] = { "SMEMBERS", set };
	size_t lens[] = { 8, strlen(set) };
	return link_argv(l, cb, arg, 2, argv, lens);
}

int store_trim(struct link *l, const char *t, int64_t now_ms, store_cb cb, void *arg)
{
	char k[3][KEYS_MAX], now[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_TOPIC(k[0], t), KEYS_TOPIC_SUBS(k[1], t),
			       KEYS_TOPIC_LOG(k[2], t) };
	const char *args[] = { t, now };
	return store_run(l, SCRIPT_TRIM, cb, arg, 3, keys, 2, args);
}

int store_expire(struct link *l, const char *s, int64_t now_ms, store_cb cb, void *arg)
{
	char k[KEYS_MAX], now[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SUB(k, s) };
	const char *args[] = { s, now };
	return store_run(l, SCRIPT_EXPIRE, cb, arg, 1, keys, 2, args);
}
