/* snapshots.c - the store's snapshot commands (scripts snap_*.lua,
 * topic_snaps.lua, seek_snap.lua; docs/redis-schema.md). */
#include "keys.h"
#include "store_internal.h"

#include <stdio.h>

int store_snap_create(struct link *l, const char *project, const char *id, const char *sub,
		      const char *labels, int64_t now_ms, store_cb cb, void *arg)
{
	char n[NAMES_KEY_MAX], now[24], k[5][KEYS_MAX];
	names_key(n, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SNAP(k[0], n), KEYS_SNAP_IDS(k[1], n), KEYS_SUB(k[2], sub),
			       KEYS_SUB_LEASE(k[3], sub), KEYS_PROJECT_SNAPS(k[4], project) };
	const char *args[] = { n, sub, now, labels ? labels : "", project, id };
	return store_run(l, SCRIPT_SNAP_CREATE, cb, arg, 5, keys, 6, args);
}

int store_snap_get(struct link *l, const char *project, const char *id, int64_t now_ms, store_cb cb,
		   void *arg)
{
	char n[NAMES_KEY_MAX], now[24], k[KEYS_MAX];
	names_key(n, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SNAP(k, n) };
	const char *args[] = { now };
	return store_run(l, SCRIPT_SNAP_GET, cb, arg, 1, keys, 1, args);
}

int store_snap_list(struct link *l, const char *project, const char *start, long count,
		    int64_t now_ms, store_cb cb, void *arg)
{
	char index[KEYS_MAX], c[24], now[24];
	snprintf(c, sizeof(c), "%ld", count);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_PROJECT_SNAPS(index, project) };
	const char *args[] = { project, start, c, now };
	return store_run(l, SCRIPT_SNAP_LIST, cb, arg, 1, keys, 4, args);
}

int store_snap_patch(struct link *l, const char *project, const char *id, const char *labels,
		     int64_t expire_ms, int64_t now_ms, store_cb cb, void *arg)
{
	char n[NAMES_KEY_MAX], now[24], exp[24] = "", k[KEYS_MAX];
	names_key(n, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	if (expire_ms >= 0)
		snprintf(exp, sizeof(exp), "%lld", (long long)expire_ms);
	const char *keys[] = { KEYS_SNAP(k, n) };
	const char *args[] = { now, labels ? labels : "-", exp };
	return store_run(l, SCRIPT_SNAP_PATCH, cb, arg, 1, keys, 3, args);
}

int store_snap_delete(struct link *l, const char *project, const char *id, int64_t now_ms,
		      store_cb cb, void *arg)
{
	char n[NAMES_KEY_MAX], now[24], k[3][KEYS_MAX];
	names_key(n, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SNAP(k[0], n), KEYS_SNAP_IDS(k[1], n),
			       KEYS_PROJECT_SNAPS(k[2], project) };
	const char *args[] = { n, id, now };
	return store_run(l, SCRIPT_SNAP_DELETE, cb, arg, 3, keys, 3, args);
}

int store_topic_snaps(struct link *l, const char *project, const char *id, int64_t now_ms,
		      store_cb cb, void *arg)
{
	char t[NAMES_KEY_MAX], hash[KEYS_MAX], snaps[KEYS_MAX], now[24];
	names_key(t, project, id);
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_TOPIC(hash, t), KEYS_TOPIC_SNAPS(snaps, t) };
	const char *args[] = { now };
	return store_run(l, SCRIPT_TOPIC_SNAPS, cb, arg, 2, keys, 1, args);
}

int store_seek_snapshot(struct link *l, const char *sub, const char *snap, int64_t now_ms,
			store_cb cb, void *arg)
{
	char now[24], k[6][KEYS_MAX];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SUB(k[0], sub),     KEYS_SUB_LEASE(k[1], sub),
			       KEYS_SUB_ATT(k[2], sub), KEYS_SUB_RETRY(k[3], sub),
			       KEYS_SNAP(k[4], snap),   KEYS_SNAP_IDS(k[5], snap) };
	const char *args[] = { sub, now };
	return store_run(l, SCRIPT_SEEK_SNAP, cb, arg, 6, keys, 2, args);
}
