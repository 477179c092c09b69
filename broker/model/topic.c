/* topic.c - the Topic resource: validation, defaults and its proto3-JSON
 * form (camelCase keys, defaults filled in on output). */
#include "topic.h"

#include "fields.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

enum err topic_from_json(json_t *in, struct topic_cfg *cfg, char *err, size_t errlen)
{
	enum err e = ERR_INVALID_ARGUMENT;
	static const char *const ignored[] = { "name", "state", "satisfiesPzs", NULL };
	static const char *const unsupported[] = { "messageStoragePolicy",
						   "kmsKeyName",
						   "schemaSettings",
						   "ingestionDataSourceSettings",
						   "messageTransforms",
						   "tags",
						   NULL };
	memset(cfg, 0, sizeof(*cfg));
	if (in == NULL)
		return ERR_OK;
	if (!json_is_object(in)) {
		snprintf(err, errlen, "Invalid JSON payload: expected a Topic object");
		return ERR_INVALID_ARGUMENT;
	}
	const char *k;
	json_t *v;
	json_object_foreach(in, k, v)
	{
		if (strcmp(k, "labels") == 0) {
			if (fields_labels(v, &cfg->labels, err, errlen))
				goto fail;
		} else if (strcmp(k, "messageRetentionDuration") == 0) {
			if (fields_duration(v, k, MIN_RETENTION_MS, MAX_RETENTION_MS,
					    &cfg->retention_ms, err, errlen))
				goto fail;
		} else if (fields_in_list(k, ignored)) {
			continue;
		} else if (fields_in_list(k, unsupported)) {
			if (fields_is_off(v))
				continue;
			e = ERR_UNIMPLEMENTED;
			snprintf(err, errlen,
				 "Topic field '%s' is not supported by this version of "
				 "regnotify",
				 k);
			goto fail;
		} else {
			snprintf(err, errlen,
				 "Invalid JSON payload received. Unknown name \"%.64s\" "
				 "at 'topic'",
				 k);
			goto fail;
		}
	}
	return ERR_OK;
fail:
	topic_cleanup(cfg);
	return e;
}

void topic_cleanup(struct topic_cfg *cfg)
{
	json_decref(cfg->labels);
	cfg->labels = NULL;
}

json_t *topic_to_json(const char *project, const char *id, const struct topic_cfg *cfg)
{
	json_t *o = json_object();
	fields_set_name(o, "name", project, "topics", id);
	if (cfg->labels)
		json_object_set(o, "labels", cfg->labels);
	if (cfg->retention_ms)
		fields_set_duration(o, "messageRetentionDuration", cfg->retention_ms);
	json_object_set_new(o, "state", json_string("ACTIVE"));
	return o;
}