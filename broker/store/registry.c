/* registry.c - the store's registry-ingest commands. */
#include "keys.h"
#include "mem.h"
#include "link.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#define EVENT_ARGS 8

int store_ingest(struct link *l, int64_t now_ms, long long ttl_s, int create, const char *topic,
		 const struct store_event *ev, size_t n, store_cb cb, void *arg)
{
	char now[24], ttl[24], count[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(ttl, sizeof(ttl), "%lld", ttl_s);
	snprintf(count, sizeof(count), "%zu", n);
	/* KEYS: per event its dedup key and its repository's manifest set. */
	char(*keybuf)[KEYS_MAX] = mem_alloc(sizeof(*keybuf) * 2 * (n ? n : 1));
	const char **keys = mem_alloc(sizeof(*keys) * 2 * (n ? n : 1));
	const char **args = mem_alloc(sizeof(*args) * (5 + EVENT_ARGS * n));
	args[0] = now;
	args[1] = ttl;
	args[2] = create ? "1" : "0";
	args[3] = topic;
	args[4] = count;
	for (size_t i = 0; i < n; i++) {
		const struct store_event *e = &ev[i];
		keys[2 * i] = KEYS_REG_SEEN(keybuf[2 * i], e->id);
		keys[2 * i + 1] = KEYS_REG_MANIFESTS(keybuf[2 * i + 1], e->repository);
		const char **a = args + 5 + i * EVENT_ARGS;
		a[0] = e->id;
		a[1] = e->op;
		a[2] = e->project;
		a[3] = e->repository;
		a[4] = e->digest;
		a[5] = e->data;
		a[6] = e->attrs;
		a[7] = e->ref;
	}
	int rc = store_run(l, SCRIPT_INGEST, cb, arg, (int)(2 * n), keys, (int)(5 + EVENT_ARGS * n),
			   args);
	mem_free(keybuf);
	mem_free(keys);
	mem_free(args);
	return rc;
}

int store_pulled_images(struct link *l, const char *project, int64_t since_ms, long offset,
			long count, store_cb cb, void *arg)
{
	char key[KEYS_MAX], since[24], off[24], cnt[24];
	snprintf(since, sizeof(since), "%lld", (long long)since_ms);
	snprintf(off, sizeof(off), "%ld", offset);
	snprintf(cnt, sizeof(cnt), "%ld", count);
	const char *keys[] = { KEYS_REG_PULLED(key, project) };
	const char *args[] = { project, since, off, cnt };
	return store_run(l, SCRIPT_PULLED, cb, arg, 1, keys, 4, args);
}

int store_reanalyze(struct link *l, const char *project, int64_t now_ms, int64_t within_ms,
		    int64_t lock_ms, store_cb cb, void *arg)
{
	char key[KEYS_MAX], now[24], within[24], lock[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(within, sizeof(within), "%lld", (long long)within_ms);
	snprintf(lock, sizeof(lock), "%lld", (long long)(lock_ms > 0 ? lock_ms : 1));
	const char *keys[] = { project ? KEYS_REG_PULLED(key, project) : KEYS_REANALYZE_LOCK,
			       KEYS_REG_PULLED_PROJECTS };
	const char *args[] = { project ? project : "", now, within, link_instance(l), lock };
	return store_run(l, SCRIPT_REANALYZE, cb, arg, 2, keys, 5, args);
}
