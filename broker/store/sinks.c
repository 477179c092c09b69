/* sinks.c - the store's copy of the log sinks (sinks.h). */
#include "sinks.h"

#include "audit.h"

#include "keys.h"
#include "log.h"
#include "logfilter.h"
#include "mem.h"
#include "names.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct sink {
	char project[NAMES_PROJECT_MAX + 1];
	char log_key[KEYS_MAX]; /* the destination topic's stream */
	struct logfilter *filter;
};

struct sinks {
	char ver[32];
	struct sink *v;
	size_t n;
};

struct sinks *sinks_new(void)
{
	return mem_calloc(1, sizeof(struct sinks));
}

static void clear(struct sinks *s)
{
	for (size_t i = 0; i < s->n; i++)
		logfilter_free(s->v[i].filter);
	mem_free(s->v);
	s->v = NULL;
	s->n = 0;
}

void sinks_free(struct sinks *s)
{
	if (s == NULL)
		return;
	clear(s);
	mem_free(s);
}

const char *sinks_version(const struct sinks *s)
{
	return s->ver;
}

/* "pubsub.googleapis.com/projects/Q/topics/T" -> the stream of Q/T. */
static int destination_key(const char *dest, char *key)
{
	static const char pre[] = "pubsub.googleapis.com/projects/";
	if (dest == NULL || strncmp(dest, pre, sizeof(pre) - 1) != 0)
		return -1;
	const char *p = dest + sizeof(pre) - 1, *slash = strchr(p, '/');
	if (slash == NULL || strncmp(slash, "/topics/", 8) != 0)
		return -1;
	char project[NAMES_PROJECT_MAX + 1], t[NAMES_KEY_MAX];
	if ((size_t)(slash - p) >= sizeof(project))
		return -1;
	snprintf(project, sizeof(project), "%.*s", (int)(slash - p), p);
	if (names_valid_project(project) != 0 || names_valid_id(slash + 8) != 0)
		return -1;
	names_key(t, project, slash + 8);
	(void)KEYS_TOPIC_LOG(key, t);
	return 0;
}

static void add(struct sinks *s, size_t *cap, const char *project, const redisReply *json)
{
	json_t *o = json_loadb(json->str, json->len, 0, NULL);
	struct sink k = { 0 };
	char err[256] = "";
	const char *dest = json_string_value(json_object_get(o, "destination"));
	if (o == NULL || json_is_true(json_object_get(o, "disabled"))) {
		if (o == NULL)
			log_warn("sinks: a sink of project %s is not JSON; skipped", project);
		json_decref(o);
		return;
	}
	if (destination_key(dest, k.log_key) != 0 ||
	    (k.filter = logfilter_parse(json_string_value(json_object_get(o, "filter")), err,
					sizeof(err))) == NULL) {
		log_warn(
			"sinks: a sink of project %s has a bad destination or filter (%s); skipped",
			project, err);
		json_decref(o);
		return;
	}
	json_decref(o);
	snprintf(k.project, sizeof(k.project), "%s", project);
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		s->v = mem_realloc(s->v, *cap * sizeof(*s->v));
	}
	s->v[s->n++] = k;
}

void sinks_load(struct sinks *s, const redisReply *ver, const redisReply *all)
{
	clear(s);
	snprintf(s->ver, sizeof(s->ver), "%s",
		 ver && ver->type == REDIS_REPLY_STRING ? ver->str : "");
	if (all == NULL || all->type != REDIS_REPLY_ARRAY)
		return;
	size_t cap = 0;
	for (size_t i = 0; i + 1 < all->elements; i += 2) {
		const redisReply *p = all->element[i], *h = all->element[i + 1];
		if (p->type != REDIS_REPLY_STRING || p->len > NAMES_PROJECT_MAX ||
		    h->type != REDIS_REPLY_ARRAY)
			continue;
		for (size_t j = 0; j + 1 < h->elements; j += 2)
			if (h->element[j + 1]->type == REDIS_REPLY_STRING)
				add(s, &cap, p->str, h->element[j + 1]);
	}
}

size_t sinks_match(const struct sinks *s, const char *project, int log, const char *entry,
		   const char **keys, size_t max, char **full)
{
	json_t *e = NULL;
	size_t n = 0;
	*full = NULL;
	for (size_t i = 0; i < s->n && n < max; i++) {
		if (strcmp(s->v[i].project, project) != 0)
			continue;
		if (e == NULL) {
			json_t *st = json_loads(entry, 0, NULL);
			e = audit_entry_expand(st, project, (enum audit_log_name)log);
			json_decref(st);
			if (e == NULL)
				return 0;
		}
		if (logfilter_match(s->v[i].filter, e))
			keys[n++] = s->v[i].log_key;
	}
	if (n && (*full = json_dumps(e, JSON_COMPACT)) == NULL)
		n = 0;
	json_decref(e);
	return n;
}
