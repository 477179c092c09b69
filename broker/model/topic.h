/* topic.h - the Topic resource: validation, defaults, and its proto3-JSON
 * form. Pure: any thread. */
#ifndef RN_TOPIC_H
#define RN_TOPIC_H

#include "errors.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MIN_RETENTION_MS (600LL * 1000)
#define MAX_RETENTION_MS (31LL * 86400 * 1000)

struct topic_cfg {
	json_t *labels;       /* object, owned; NULL when none */
	int64_t retention_ms; /* 0: unset */
};

/* Fills cfg from a Topic JSON object (request body or stored form; NULL
 * is an empty topic). Unknown fields, wrong types and values out of range
 * are ERR_INVALID_ARGUMENT, unsupported features set in a non-empty form
 * ERR_UNIMPLEMENTED, each with a message in err. On ERR_OK the caller owns
 * cfg's members and releases them with topic_cleanup. */
enum err topic_from_json(json_t *in, struct topic_cfg *cfg, char *err, size_t errlen);
void topic_cleanup(struct topic_cfg *cfg);

/* The Topic as Pub/Sub shows it. Ownership: the caller decrefs the result. */
json_t *topic_to_json(const char *project, const char *id, const struct topic_cfg *cfg);

#endif
