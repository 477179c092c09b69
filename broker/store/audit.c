/* audit.c - the store's audit-log streams: the entry an audited script
 * appends in the same step as its change, the streams' index, retention. */
#include "keys.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

void store_audit_next(struct link *l, const char *project, const char *log, const char *entry)
{
	char key[KEYS_MAX];
	link_audit_next(l, KEYS_AUDIT(key, project, log), entry);
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
