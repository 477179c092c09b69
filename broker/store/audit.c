/* audit.c - the store's audit-log streams: the entry an audited script
 * appends in the same step as its change, the streams' index, retention. */
#include "audit.h"
#include "keys.h"
#include "mem.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

void store_audit_next(struct link *l, const char *project, const char *log, const char *entry,
		      int64_t time_us)
{
	char key[KEYS_MAX];
	int id = audit_log_by_id(log);
	rn_assert(id >= 0);
	link_audit_next(l, project, id, KEYS_AUDIT(key, project, log), entry, time_us);
}

int store_audit_write(struct link *l, const char *project, const char *log, const char *entry,
		      int64_t time_us, store_cb cb, void *arg)
{
	store_audit_next(l, project, log, entry, time_us);
	return store_run(l, SCRIPT_AUDIT_WRITE, cb, arg, 0, NULL, 0, NULL);
}

/* Log sinks: KEYS project-sinks sinks-projects sinks-ver (+ audit-log). */
int store_sink_put(struct link *l, const char *project, const char *name, const char *json,
		   const char *expected, int max, store_cb cb, void *arg)
{
	char key[KEYS_MAX], mx[16];
	snprintf(mx, sizeof(mx), "%d", max);
	const char *keys[] = { KEYS_PROJECT_SINKS(key, project), KEYS_SINKS_PROJECTS,
			       KEYS_SINKS_VER };
	const char *args[] = { project, name, json, expected ? expected : "", mx };
	return store_run(l, SCRIPT_SINK_PUT, cb, arg, 3, keys, 5, args);
}

int store_sink_delete(struct link *l, const char *project, const char *name, store_cb cb, void *arg)
{
	char key[KEYS_MAX];
	const char *keys[] = { KEYS_PROJECT_SINKS(key, project), KEYS_SINKS_PROJECTS,
			       KEYS_SINKS_VER };
	const char *args[] = { project, name };
	return store_run(l, SCRIPT_SINK_DELETE, cb, arg, 3, keys, 2, args);
}

int store_sink_get(struct link *l, const char *project, const char *name, store_cb cb, void *arg)
{
	char key[KEYS_MAX];
	(void)KEYS_PROJECT_SINKS(key, project);
	if (name == NULL) {
		const char *argv[] = { "HGETALL", key };
		size_t lens[] = { 7, strlen(key) };
		return link_argv(l, cb, arg, 2, argv, lens);
	}
	const char *argv[] = { "HGET", key, name };
	size_t lens[] = { 4, strlen(key), strlen(name) };
	return link_argv(l, cb, arg, 3, argv, lens);
}

int store_audit_streams(struct link *l, store_cb cb, void *arg)
{
	const char *argv[] = { "SMEMBERS", KEYS_ALL_AUDITS };
	size_t lens[] = { 8, strlen(KEYS_ALL_AUDITS) };
	return link_argv(l, cb, arg, 2, argv, lens);
}

int store_audit_trim(struct link *l, const char *stream, int64_t before_ms, store_cb cb, void *arg)
{
	char minid[32];
	snprintf(minid, sizeof(minid), "%lld", (long long)before_ms);
	const char *argv[] = { "XTRIM", stream, "MINID", minid };
	size_t lens[] = { 5, strlen(stream), 5, strlen(minid) };
	return link_argv(l, cb, arg, 4, argv, lens);
}

int store_audit_range(struct link *l, const char *project, const char *log, const char *from,
		      long count, int newest_first, store_cb cb, void *arg)
{
	char key[KEYS_MAX], n[32];
	KEYS_AUDIT(key, project, log);
	snprintf(n, sizeof(n), "%ld", count);
	const char *argv[] = { newest_first ? "XREVRANGE" : "XRANGE",
			       key,
			       from,
			       newest_first ? "-" : "+",
			       "COUNT",
			       n };
	size_t lens[6];
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	return link_argv(l, cb, arg, 6, argv, lens);
}
