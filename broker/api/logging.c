/* logging.c - reading the audit logs: POST /v2/entries:list in the Cloud
 * Logging v2 shape (resourceNames, filter subset, orderBy, paging). */
#include "api.h"

#include "base64.h"
#include "broker.h"
#include "logfilter.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 200
#define MAX_BATCHES 50 /* per request: a page may end early, with a token */

struct list_state {
	struct logfilter *filter;
	json_t *entries;
	long page;
	int newest_first, batches;
	char project[128];
	char from[64]; /* "-", "+" or "(ID" */
};

static void list_free(void *p)
{
	struct list_state *s = p;
	logfilter_free(s->filter);
	json_decref(s->entries);
	mem_free(s);
}

static void finish(struct call *c, const char *last_id)
{
	struct list_state *s = c->state;
	json_t *out = json_object();
	if (json_array_size(s->entries))
		json_object_set(out, "entries", s->entries);
	if (last_id) {
		char tok[96];
		base64_encode((const unsigned char *)last_id, strlen(last_id), tok);
		json_object_set_new(out, "nextPageToken", json_string(tok));
	}
	call_reply(c, 200, out);
}

static void fetch(struct call *c);

static void on_range(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct list_state *s = c->state;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		api_store_failed(c, r);
		return;
	}
	const char *last = NULL;
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *row = r->element[i];
		if (row->type != REDIS_REPLY_ARRAY || row->elements != 2)
			continue;
		last = row->element[0]->str;
		redisReply *f = row->element[1];
		if (f->type != REDIS_REPLY_ARRAY || f->elements < 2)
			continue;
		json_t *e = json_loadb(f->element[1]->str, f->element[1]->len, 0, NULL);
		if (e && logfilter_match(s->filter, e))
			json_array_append(s->entries, e);
		json_decref(e);
		if ((long)json_array_size(s->entries) >= s->page) {
			/* Full: the rest is for the next page. */
			finish(c, i + 1 < r->elements || r->elements == BATCH ? last : NULL);
			return;
		}
	}
	if (r->elements < BATCH || last == NULL) {
		finish(c, NULL);
		return;
	}
	snprintf(s->from, sizeof(s->from), "(%s", last);
	if (++s->batches >= MAX_BATCHES) {
		finish(c, last);
		return;
	}
	fetch(c);
}

static void fetch(struct call *c)
{
	struct list_state *s = c->state;
	if (store_audit_range(c->b->link, s->project, "activity", s->from, BATCH, s->newest_first,
			      on_range, c) != 0)
		api_not_queued(c);
}

void logging_entries_list(struct call *c)
{
	json_t *names = json_object_get(c->body, "resourceNames");
	const char *rn = json_string_value(json_array_get(names, 0));
	if (!json_is_array(names) || json_array_size(names) != 1 || rn == NULL ||
	    strncmp(rn, "projects/", 9) != 0 || names_valid_project(rn + 9) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "resourceNames must hold exactly one \"projects/PROJECT\".");
		return;
	}
	const char *order = json_string_value(json_object_get(c->body, "orderBy"));
	int desc = 0;
	if (order && strcmp(order, "timestamp desc") == 0)
		desc = 1;
	else if (order && strcmp(order, "timestamp asc") != 0 && strcmp(order, "timestamp") != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "orderBy must be \"timestamp asc\" or \"timestamp desc\".");
		return;
	}
	json_t *ps = json_object_get(c->body, "pageSize");
	long page = 50;
	if (ps &&
	    (!json_is_integer(ps) || json_integer_value(ps) < 1 || json_integer_value(ps) > 1000)) {
		call_error(c, ERR_INVALID_ARGUMENT, "pageSize must be 1-1000.");
		return;
	}
	if (ps)
		page = (long)json_integer_value(ps);
	char err[300];
	struct logfilter *f = logfilter_parse(json_string_value(json_object_get(c->body, "filter")),
					      err, sizeof(err));
	if (f == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	struct list_state *s = mem_calloc(1, sizeof(*s));
	s->filter = f;
	s->entries = json_array();
	s->page = page;
	s->newest_first = desc;
	snprintf(s->project, sizeof(s->project), "%s", rn + 9);
	snprintf(s->from, sizeof(s->from), "%s", desc ? "+" : "-");
	c->state = s;
	c->state_free = list_free;
	const char *tok = json_string_value(json_object_get(c->body, "pageToken"));
	if (tok && tok[0]) {
		unsigned char id[64];
		long n = strlen(tok) < 80 ? base64_decode(tok, strlen(tok), id) : -1;
		if (n <= 0 || n >= 40 || strspn((char *)id, "0123456789-") < (size_t)n) {
			call_error(c, ERR_INVALID_ARGUMENT, "The page token is not valid.");
			return;
		}
		snprintf(s->from, sizeof(s->from), "(%.*s", (int)n, (const char *)id);
	}
	fetch(c);
}
