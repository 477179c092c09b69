/* filter.h - the Pub/Sub filter language (docs.cloud.google.com/pubsub/docs/
 * filtering): the one parser of subscription filters (the broker, with
 * FILTER_ATTRIBUTES_ONLY) and of `regnotify tail --filter` (the CLI, which
 * also evaluates it and accepts the data.FIELD extension below):
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
 * The broker evaluates subscription filters in its Redis scripts, from the
 * program filter_program writes (store/scripts/prelude.lua filter_eval).
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

/* filter_parse_flags: Pub/Sub's language only (no data.FIELD), as a
 * subscription's filter. */
#define FILTER_ATTRIBUTES_ONLY 1

/* As filter_parse, with FILTER_* flags. */
int filter_parse_flags(const char *expr, int flags, struct filter **out, char *err, size_t errlen,
		       size_t *errpos);

/* 1 when f uses a data.FIELD term (the CLI's extension), else 0. */
int filter_uses_data(const struct filter *f);

/* f as the program the broker's scripts evaluate: compact JSON of nested
 * arrays, ["and", X, Y...], ["or", X, Y...], ["not", X], ["has", KEY],
 * ["eq", KEY, V], ["ne", KEY, V], ["pfx", KEY, PREFIX]. NULL when f uses
 * data.FIELD (or out of memory). Ownership: free. */
char *filter_program(const struct filter *f);

/* 1 when m matches f, else 0. */
int filter_match(const struct filter *f, const struct filter_msg *m);

/* Frees f. Accepts NULL. */
void filter_free(struct filter *f);

#endif
