/* duration.h - the one grammar of durations and times, shared by the
 * broker (config options, proto3-JSON fields) and the CLI (--since, TTLs).
 * Pure: any thread.
 *
 * Duration: one or more NUMBER UNIT terms, NUMBER = digits with an
 * optional fraction of 1-9 digits, UNIT = ms | s | m | h | d ("10s",
 * "0.5s", "1h30m", "500ms"); what is below 1 ms is truncated; at most
 * 10,000 years (proto3's limit). A proto3-JSON Duration ("600s",
 * "1.5s") is the one-term "s" form: DURATION_PROTO3 accepts only that. */
#ifndef RN_DURATION_H
#define RN_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_PROTO3 1u

/* Parses s into milliseconds (>= 0). Returns 0, or -1 when s is not a
 * duration of the grammar flags allow. */
int duration_parse(const char *s, unsigned flags, int64_t *ms);

/* Writes ms as a proto3 Duration ("600s", "0.500s") into buf (>= 32 bytes). */
void duration_format(int64_t ms, char *buf, size_t n);

/* Parses an RFC 3339 timestamp ("2021-02-26T19:13:55.749Z"; a "+02:00"
 * offset, 0-9 fraction digits) into Unix milliseconds (fractions below
 * 1 ms truncated). Returns 0 or -1 (also for a day the month lacks). */
int timestamp_parse(const char *s, int64_t *ms);

/* Writes Unix ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes). */
void timestamp_format(int64_t ms, char *buf, size_t n);

#endif
