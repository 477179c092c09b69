/* logfilter.h - the Cloud Logging filter subset entries:list takes:
 * comparisons FIELD OP VALUE (OP = != < <= > >= and ':' for "contains"),
 * joined by AND, OR, NOT and parentheses (AND binds tighter than OR; two
 * terms side by side are an AND). FIELD is a dotted path into the entry
 * (logName, severity, timestamp, resource.type,
 * protoPayload.methodName, protoPayload.authenticationInfo.principalEmail,
 * ...); VALUE a "quoted" string or a bare word. severity compares by level
 * (INFO < NOTICE < WARNING < ERROR...), timestamp and receiveTimestamp as
 * times (to the millisecond). Pure: any thread. */
#ifndef RN_LOGFILTER_H
#define RN_LOGFILTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct logfilter;

/* Parses text (NULL or "": matches everything). NULL with a message in err
 * for a filter outside the subset. Free with logfilter_free. */
struct logfilter *logfilter_parse(const char *text, char *err, size_t errlen);
void logfilter_free(struct logfilter *f);

/* The lower bound (Unix ms) that a top-level timestamp>= or > term (one
 * AND'ed with the rest of the filter) puts on a matching entry's
 * timestamp; 0 when the filter has none. A reader can start its scan
 * there (entries:list, regnotify logs tail). */
int64_t logfilter_since_ms(const struct logfilter *f);

/* 1 when entry matches. */
int logfilter_match(const struct logfilter *f, json_t *entry);

#endif
