/* pubscan.h - a fast path for the usual topics.publish body: scans
 * {"messages":[{"data":"...","attributes":{...},"orderingKey":"..."},...]}
 * in place, without building a JSON tree (jansson's tree building was most
 * of the publish CPU). Anything unusual - escapes, non-ASCII, unknown or
 * repeated fields, limits exceeded - makes it decline, and the caller
 * parses with jansson, which also words the precise error. */
#ifndef RN_PUBSCAN_H
#define RN_PUBSCAN_H

#include <stddef.h>

struct pubscan_msg {
	const char *data; /* base64 text, not decoded; NULL when absent */
	size_t data_len;
	const char *attrs; /* the attributes object's text, verbatim; NULL when none */
	size_t attrs_len;
	const char *key; /* orderingKey; NULL when absent */
	size_t key_len;
};

/* Limits checked by the scanner (beyond them it declines). */
#define PUBSCAN_MAX_MESSAGES 1000
#define PUBSCAN_MAX_ATTRS 100
#define PUBSCAN_MAX_ATTR_KEY 256
#define PUBSCAN_MAX_ATTR_VALUE 1024
#define PUBSCAN_MAX_KEY 1024

/* Scans body[0..len). Returns the number of messages (1..1000) with the
 * array in *out (pointers into body; free the array with mem_free), or -1
 * to decline. Any thread. */
int pubscan_parse(const char *body, size_t len, struct pubscan_msg **out);

#endif
