/* housekeeping.c - the store's commands for push discovery, retention
 * trimming and subscription expiry; the last two write System Event audit
 * entries in the same step when they delete something. */
#include "audit.h"
#include "keys.h"
#include "mem.h"
#include "names.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int store_push_list(struct link *l, store_cb cb, void *arg)
{
	const char *keys[] = { KEYS_ALL_PUSH };
	return store_run(l, SCRIPT_PUSH_LIST, cb, arg, 1, keys, 0, NULL);
}

int store_scan_members(struct link *l, int subs, const char *cursor, long count, store_cb cb,
		       void *arg)
{
	const char *set = subs ? KEYS_ALL_SUBS : KEYS_ALL_TOPICS;
	char n[24];
	snprintf(n, sizeof(n), "%ld", count);
	const char *argv[] = { "SSCAN", set, cursor, "COUNT", n };
	size_t lens[] = { 5, strlen(set), strlen(cursor), 5, strlen(n) };
	return link_argv(l, cb, arg, 5, argv, lens);
}

/* The System Event entry of the broker's own change to "p/id" (kind
 * "topics" or "subscriptions"), for the next audited script. */
static void system_event(struct link *l, const char *name, const char *kind, const char *method,
			 int64_t now_ms)
{
	char project[NAMES_PROJECT_MAX + 1], rname[NAMES_KEY_MAX + 32], id[40],
		req[NAMES_KEY_MAX + 64];
	const char *slash = strchr(name, '/');
	if (slash == NULL || (size_t)(slash - name) > NAMES_PROJECT_MAX)
		return;
	snprintf(project, sizeof(project), "%.*s", (int)(slash - name), name);
	snprintf(rname, sizeof(rname), "projects/%s/%s/%s", project, kind, slash + 1);
	snprintf(req, sizeof(req), "{\"name\":\"%s\"}", rname);
	snprintf(id, sizeof(id), "sys-%llx-%s", (unsigned long long)now_ms, link_instance(l));
	struct audit_call a = { .log = AUDIT_LOG_SYSTEM_EVENT,
				.write = 1,
				.service = "pubsub.googleapis.com",
				.method_name = method,
				.project = project,
				.resource_name = rname,
				.time_us = now_ms * 1000,
				.insert_id = id };
	char *text = audit_entry_stored(&a, req, NULL);
	store_audit_next(l, project, "system_event", text, a.time_us);
	mem_free(text);
}

int store_trim(struct link *l, const char *t, int64_t now_ms, store_cb cb, void *arg)
{
	char k[3][KEYS_MAX], now[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_TOPIC(k[0], t), KEYS_TOPIC_SUBS(k[1], t),
			       KEYS_TOPIC_LOG(k[2], t) };
	const char *args[] = { t, now };
	system_event(l, t, "topics", "regnotify.v1.Internal.DeleteExpiredMessages", now_ms);
	return store_run(l, SCRIPT_TRIM, cb, arg, 3, keys, 2, args);
}

int store_expire(struct link *l, const char *s, int64_t now_ms, store_cb cb, void *arg)
{
	char k[KEYS_MAX], now[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SUB(k, s) };
	const char *args[] = { s, now };
	system_event(l, s, "subscriptions",
		     "google.pubsub.v1.Subscriber.InternalExpireInactiveSubscription", now_ms);
	return store_run(l, SCRIPT_EXPIRE, cb, arg, 1, keys, 2, args);
}
