/* names.c - Pub/Sub resource-name validation. */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int names_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n < 3 || n > NAMES_ID_MAX || !isalpha((unsigned char)id[0]))
		return -1;
	if (strncmp(id, "goog", 4) == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (!isalnum(c) && !strchr("-_.~+%", c))
			return -1;
	}
	return 0;
}

int names_valid_project(const char *project)
{
	size_t n = strlen(project);
	if (n < 1 || n > NAMES_PROJECT_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)project[i];
		if (!isalnum(c) && !strchr("-_.~:", c))
			return -1;
	}
	return 0;
}

int names_split(const char *name, const char *kind, char *project, size_t plen, char *id,
		size_t idlen)
{
	if (strncmp(name, "projects/", 9) != 0)
		return -1;
	const char *p = name + 9, *slash = strchr(p, '/');
	if (slash == NULL || (size_t)(slash - p) >= plen)
		return -1;
	size_t kl = strlen(kind);
	if (strncmp(slash + 1, kind, kl) != 0 || slash[1 + kl] != '/')
		return -1;
	const char *i = slash + 2 + kl;
	if (strlen(i) >= idlen || strchr(i, '/'))
		return -1;
	memcpy(project, p, (size_t)(slash - p));
	project[slash - p] = '\0';
	snprintf(id, idlen, "%s", i);
	if (names_valid_project(project) || names_valid_id(id))
		return -1;
	return 0;
}

void names_key(char *buf, const char *project, const char *id)
{
	snprintf(buf, NAMES_KEY_MAX, "%s/%s", project, id);
}
