/* names.h - the grammar of Pub/Sub resource names (project IDs, topic and
 * subscription IDs, "projects/P/topics/T"), shared by the broker (route
 * parameters, configuration) and available to the client side. Pure: any
 * thread. */
#ifndef RN_NAMES_H
#define RN_NAMES_H

#include <stddef.h>

#define NAMES_ID_MAX 255
#define NAMES_PROJECT_MAX 100
#define NAMES_NAME_MAX 400 /* "projects/" + project + "/subscriptions/" + id */
/* "project/id", the form resources take inside the store's keys. */
#define NAMES_KEY_MAX (NAMES_PROJECT_MAX + NAMES_ID_MAX + 2)

/* A resource ID: 3-255 chars, starts with a letter, [A-Za-z0-9-_.~+%], not
 * "goog...". Returns 0 when valid, -1 otherwise. */
int names_valid_id(const char *id);

/* A project ID or number: 1-100 chars of [A-Za-z0-9-_.~:]. 0 or -1. */
int names_valid_project(const char *project);

/* Splits "projects/P/<kind>/ID" (kind "topics" or "subscriptions") into its
 * parts after validating both. Returns 0 or -1. */
int names_split(const char *name, const char *kind, char *project, size_t plen, char *id,
		size_t idlen);

/* Writes "project/id" into buf (NAMES_KEY_MAX bytes). */
void names_key(char *buf, const char *project, const char *id);

#endif
