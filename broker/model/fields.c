/* fields.c - proto3-JSON field helpers shared by the Topic and
 * Subscription models: labels, durations, "off" forms, resource names,
 * and update masks. */
#include "fields.h"

#include "duration.h"
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Labels: up to 64; keys 1-63 of [a-z0-9_-] starting with a lowercase
 * letter (international letters allowed, so bytes >= 0x80 pass); values
 * 0-63 of the same set. */
static int valid_label_part(const char *s, int is_key)
{
	size_t n = strlen(s);
	if (n > 63 || (is_key && n < 1))
		return 0;
	if (is_key && !((s[0] >= 'a' && s[0] <= 'z') || (unsigned char)s[0] >= 0x80))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || isdigit(c) || c == '_' || c == '-' || c >= 0x80))
			return 0;
	}
	return 1;
}

int fields_labels(json_t *v, json_t **out, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "Invalid value at 'labels': expected an object");
		return -1;
	}
	if (json_object_size(v) > 64) {
		snprintf(err, errlen, "Too many labels: at most 64 are allowed");
		return -1;
	}
	const char *k;
	json_t *lv;
	json_object_foreach(v, k, lv)
	{
		if (!json_is_string(lv) || !valid_label_part(k, 1) ||
		    !valid_label_part(json_string_value(lv), 0)) {
			snprintf(err, errlen,
				 "Invalid label (key=%.64s): keys and values are up to 63 "
				 "characters of [a-z0-9_-], keys start with a lowercase letter",
				 k);
			return -1;
		}
	}
	*out = json_object_size(v) ? json_incref(v) : NULL;
	return 0;
}

int fields_duration(json_t *v, const char *field, int64_t lo, int64_t hi, int64_t *out, char *err,
		    size_t errlen)
{
	if (!json_is_string(v) || duration_parse(json_string_value(v), DURATION_PROTO3, out) != 0) {
		snprintf(err, errlen, "Invalid value at '%s': expected a duration such as \"600s\"",
			 field);
		return -1;
	}
	if (*out < lo || *out > hi) {
		snprintf(err, errlen, "Invalid %s: must be between %llds and %llds", field,
			 (long long)(lo / 1000), (long long)(hi / 1000));
		return -1;
	}
	return 0;
}

/* The "off" form of a field: false, null, "", {} or []. Clients send
 * unsupported fields in that form (e.g. "tags":{}), which is harmless. */
int fields_is_off(json_t *v)
{
	return json_is_false(v) || json_is_null(v) ||
	       (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

/* Output-only fields may be sent back as they were received (a GET result
 * used as a PATCH body); they are ignored. */
int fields_in_list(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}
void fields_set_name(json_t *o, const char *key, const char *project, const char *kind,
		     const char *id)
{
	char name[NAMES_NAME_MAX + 1];
	snprintf(name, sizeof(name), "projects/%s/%s/%s", project, kind, id);
	json_object_set_new(o, key, json_string(name));
}

void fields_set_duration(json_t *o, const char *key, int64_t ms)
{
	char buf[32];
	duration_format(ms, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

int fields_apply_mask(json_t *stored, json_t *patch, const char *mask, const char *const *allowed,
		      char *err, size_t errlen)
{
	if (mask == NULL || *mask == '\0') {
		snprintf(err, errlen,
			 "Invalid update_mask provided: it must name at least one field");
		return -1;
	}
	char buf[1024];
	if (strlen(mask) >= sizeof(buf)) {
		snprintf(err, errlen, "Invalid update_mask provided: too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", mask);
	char *save = NULL;
	for (char *path = strtok_r(buf, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
		while (*path == ' ')
			path++;
		/* A nested path ("retryPolicy.minimumBackoff") updates its top field. */
		char *dot = strchr(path, '.');
		if (dot)
			*dot = '\0';
		if (!fields_in_list(path, allowed)) {
			snprintf(err, errlen,
				 "Invalid update_mask provided: '%.64s' cannot be updated", path);
			return -1;
		}
		json_t *nv = json_is_object(patch) ? json_object_get(patch, path) : NULL;
		if (nv && !dot)
			json_object_set(stored, path, nv);
		else if (nv && dot) {
			json_t *cur = json_object_get(stored, path);
			json_t *sub = json_object_get(nv, dot + 1);
			if (!json_is_object(cur)) {
				cur = json_object();
				json_object_set_new(stored, path, cur);
			}
			if (sub)
				json_object_set(cur, dot + 1, sub);
			else
				json_object_del(cur, dot + 1);
		} else
			json_object_del(stored, path);
	}
	return 0;
}
