/* fields.h - proto3-JSON field helpers shared by the Topic and
 * Subscription models (topic.c, subscription.c). Pure: any thread. */
#ifndef RN_FIELDS_H
#define RN_FIELDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Validates a labels object (up to 64; keys 1-63 of [a-z0-9_-] starting with
 * a lowercase letter, values 0-63): *out holds a reference, NULL when
 * empty. Returns 0, or -1 with a message in err. */
int fields_labels(json_t *v, json_t **out, char *err, size_t errlen);

/* A proto3 Duration field within [lo, hi] ms into *out. 0 or -1 with err. */
int fields_duration(json_t *v, const char *field, int64_t lo, int64_t hi, int64_t *out, char *err,
		    size_t errlen);

/* 1 for the "off" form of a field: false, null, "", {} or []. Clients send
 * unsupported fields in that form (e.g. "tags":{}), which is harmless. */
int fields_is_off(json_t *v);

/* 1 when k is in the NULL-terminated list. */
int fields_in_list(const char *k, const char *const *list);

/* Sets o[key] = "projects/PROJECT/KIND/ID". */
void fields_set_name(json_t *o, const char *key, const char *project, const char *kind,
		     const char *id);

/* Sets o[key] to ms as a Duration ("600s"). */
void fields_set_duration(json_t *o, const char *key, int64_t ms);

/* Applies a PATCH: for every comma-separated camelCase path of mask, copies
 * that field from patch into stored (or removes it when patch lacks it).
 * allowed is a NULL-terminated list of patchable top-level fields. Returns
 * 0, or -1 with a message when the mask is empty or names a field that
 * cannot be updated. */
int fields_apply_mask(json_t *stored, json_t *patch, const char *mask, const char *const *allowed,
		      char *err, size_t errlen);

#endif
