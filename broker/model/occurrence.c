/* occurrence.c - attributes of Container Analysis notifications. */
#include "occurrence.h"

#include <stdio.h>
#include <string.h>

static int upper_word(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || *s == '_' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int severity(const char *s)
{
	static const char *const known[] = {
		"SEVERITY_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", NULL
	};
	for (const char *const *k = known; *k; k++)
		if (strcmp(s, *k) == 0)
			return 1;
	return 0;
}

int occurrence_attributes(const unsigned char *data, size_t len, json_t *attrs, char *err,
			  size_t errlen)
{
	json_error_t je;
	json_t *o = len ? json_loadb((const char *)data, len, 0, &je) : NULL;
	const char *why = NULL;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *nt = json_object_get(o, "notificationTime");
	json_t *vuln = json_object_get(o, "vulnerability");
	if (!json_is_object(o))
		why = "the data is not a JSON object";
	else if (name == NULL || strncmp(name, "projects/", 9) != 0 ||
		 strstr(name, "/occurrences/") == NULL)
		why = "\"name\" must be projects/PROJECT/occurrences/ID";
	else if (!upper_word(kind))
		why = "\"kind\" must be a Grafeas note kind such as VULNERABILITY";
	else if (nt && !json_is_string(nt))
		why = "\"notificationTime\" must be an RFC 3339 string";
	else if (vuln && !json_is_object(vuln))
		why = "\"vulnerability\" must be an object";
	if (why == NULL) {
		json_object_set_new(attrs, "kind", json_string(kind));
		static const char *const sev[] = { "effectiveSeverity", "severity", NULL };
		for (const char *const *f = sev; *f && why == NULL; f++) {
			json_t *v = json_object_get(vuln, *f);
			if (v == NULL)
				continue;
			if (!json_is_string(v) || !severity(json_string_value(v)))
				why = "vulnerability severities are SEVERITY_UNSPECIFIED, MINIMAL, LOW, "
				      "MEDIUM, HIGH or CRITICAL";
			else
				json_object_set(attrs, *f, v);
		}
		json_t *cv = json_object_get(vuln, "cvssScore");
		if (why == NULL && cv) {
			double d = json_number_value(cv);
			if (!json_is_number(cv) || d < 0 || d > 10) {
				why = "vulnerability.cvssScore must be a number from 0 to 10";
			} else {
				char buf[32];
				snprintf(buf, sizeof(buf), "%.1f", d);
				json_object_set_new(attrs, "cvssScore", json_string(buf));
			}
		}
	}
	json_decref(o);
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}
