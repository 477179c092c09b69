/* filter.h - client-side message filters for `regnotify tail --filter`.
 *
 * A subset of the Pub/Sub filter syntax (docs.cloud.google.com/pubsub/docs/
 * filtering), evaluated by the CLI because the broker does not implement
 * subscription filters:
 *
 *   attributes.KEY = "v"        attributes.KEY != "v" (also true without KEY)
 *   attributes:KEY              the attribute exists
 *   hasPrefix(attributes.KEY, "p")
 *   NOT x, -x, x AND y, x OR y, ( x )
 *
 * AND and OR cannot be mixed without parentheses; NOT binds tightest. Keys
 * with characters other than [A-Za-z0-9_-] are quoted: attributes."a.b".
 * Extension: the fields of a decoded gcr message (data.action, data.tag,
 * data.digest) take the place of attributes.KEY in every form, e.g.
 * data.action = "DELETE", data:tag, hasPrefix(data.tag, "reg/app:").
 *
 * Not thread-safe per filter for parsing; filter_match on a parsed filter
 * may run on any thread (it only reads). */
#ifndef RN_CLI_FILTER_H
#define RN_CLI_FILTER_H

#include <stddef.h>

struct filter;

/* What a filter looks at in one message. attr returns the value of an
 * attribute or NULL when the message has none; action/tag/digest are the
 * decoded data fields, NULL when absent (or when data is not gcr JSON). */
struct filter_msg {
	const char *(*attr)(void *arg, const char *key);
	void *arg;
	const char *action;
	const char *tag;
	const char *digest;
};

/* Parses expr. Returns 0 and *out, or -1 with a message in err (errlen
 * bytes) and the 0-based byte offset of the problem in *errpos.
 * Ownership: *out is freed with filter_free. */
int filter_parse(const char *expr, struct filter **out, char *err, size_t errlen, size_t *errpos);

/* 1 when m matches f, else 0. */
int filter_match(const struct filter *f, const struct filter_msg *m);

/* Frees f. Accepts NULL. */
void filter_free(struct filter *f);

#endif
