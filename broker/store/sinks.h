/* sinks.h - the store's copy of every log sink (Logging API LogSink:
 * name, destination topic, filter, disabled), by which an audited script
 * learns where its entry is exported. Loaded from an AUDIT_STALE reply
 * (scripts/prelude.lua): the copy is always the version the script checks,
 * so an entry is never written without the exports its sinks ask for.
 * Loop thread. */
#ifndef RN_STORE_SINKS_H
#define RN_STORE_SINKS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

struct sinks;

struct sinks *sinks_new(void);
void sinks_free(struct sinks *s);

/* The version this copy is of ("" before the first load). */
const char *sinks_version(const struct sinks *s);

/* Replaces the copy with an AUDIT_STALE reply's version and sinks
 * ([project, [name, json, ...], ...]). A sink that does not parse (never
 * written by this broker) is skipped with a warning. */
void sinks_load(struct sinks *s, const redisReply *ver, const redisReply *all);

/* The log streams of the destination topics of project's enabled sinks
 * whose filter the entry matches - the stored text of an entry of log
 * (audit_entry_stored), matched as the LogEntry it expands to: up to max
 * pointers into the copy, valid until the next sinks_load. Returns how
 * many; when some, *full is that LogEntry's text (mem_alloc'd, what the
 * sinks' topics receive), else NULL. */
size_t sinks_match(const struct sinks *s, const char *project, int log, const char *entry,
		   const char **keys, size_t max, char **full);

#endif
