/* logging.c - reading the audit logs: POST /v2/entries:list in the Cloud
 * Logging v2 shape (resourceNames, filter subset, orderBy, paging) over a
 * project's logs - Admin Activity, System Event, Policy Denied and, for a
 * caller with logging.privateLogEntries.list, Data Access - merged in the
 * order Redis stored them (their stream ids, the time of the write). */
#include "api.h"

#include "audit.h"
#include "auth.h"
#include "base64.h"
#include "broker.h"
#include "logfilter.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 200
#define MAX_BATCHES 50 /* per request: a page may end early, with a token */
#define NLOGS 4
/* Stream ids are Redis' clock at the write, timestamps the broker's when the
 * call arrived: a scan bounded by the filter's timestamp starts this much
 * earlier. */
#define CLOCK_MARGIN_MS 300000

/* The streams of a project's logs, in page-token order. */
static const char *const logs[NLOGS] = { "activity", "data_access", "system_event", "policy" };
#define DATA_ACCESS 1

struct row {
	char id[48];
	char *text;
	size_t len;
};

struct src {
	int used;      /* read by this call */
	int ended;     /* the last fetch came back short */
	char last[48]; /* the last id consumed ("" none) */
	struct row *rows;
	size_t n, pos;
};

struct list_state {
	struct logfilter *filter;
	json_t *entries;
	long page;
	int newest_first, batches, pending, failed;
	int64_t floor_ms; /* no entry below this stream id can match (0: none) */
	char project[128];
	struct src src[NLOGS];
};

static void rows_free(struct src *s)
{
	for (size_t i = 0; i < s->n; i++)
		mem_free(s->rows[i].text);
	mem_free(s->rows);
	s->rows = NULL;
	s->n = s->pos = 0;
}

static void list_free(void *p)
{
	struct list_state *s = p;
	logfilter_free(s->filter);
	json_decref(s->entries);
	for (int i = 0; i < NLOGS; i++)
		rows_free(&s->src[i]);
	mem_free(s);
}

/* The page token: "v1:" and each log's last id ("" none), ','-joined. */
static void finish(struct call *c, int more)
{
	struct list_state *s = c->state;
	json_t *out = json_object();
	if (json_array_size(s->entries))
		json_object_set(out, "entries", s->entries);
	if (more) {
		char raw[8 + NLOGS * 49], tok[sizeof(raw) * 2];
		int n = snprintf(raw, sizeof(raw), "v1:%s,%s,%s,%s", s->src[0].last, s->src[1].last,
				 s->src[2].last, s->src[3].last);
		base64_encode((const unsigned char *)raw, (size_t)n, tok);
		json_object_set_new(out, "nextPageToken", json_string(tok));
	}
	call_reply(c, 200, out);
}

static int valid_id(const char *id)
{
	size_t n = strlen(id), d = strspn(id, "0123456789");
	return n == 0 ||
	       (d > 0 && d < 21 && id[d] == '-' && strspn(id + d + 1, "0123456789") == n - d - 1 &&
		n - d - 1 > 0 && n - d - 1 < 21);
}

static int parse_token(struct list_state *s, const char *tok)
{
	unsigned char raw[8 + NLOGS * 49 + 4];
	size_t tl = strlen(tok);
	if (tl > (sizeof(raw) - 4) / 3 * 4)
		return -1;
	long n = base64_decode(tok, tl, raw);
	if (n < 3 || memcmp(raw, "v1:", 3) != 0)
		return -1;
	raw[n] = '\0';
	char *p = (char *)raw + 3;
	for (int i = 0; i < NLOGS; i++) {
		size_t len = strcspn(p, ",");
		if (len >= sizeof(s->src[i].last) || (i < NLOGS - 1 && p[len] != ','))
			return -1;
		snprintf(s->src[i].last, sizeof(s->src[i].last), "%.*s", (int)len, p);
		if (!valid_id(s->src[i].last))
			return -1;
		p += len + (p[len] == ',');
	}
	return *p == '\0' ? 0 : -1;
}

/* -1, 0, 1 as stream id a is before, equal to or after b. */
static int id_cmp(const char *a, const char *b)
{
	unsigned long long am = strtoull(a, NULL, 10), bm = strtoull(b, NULL, 10);
	if (am != bm)
		return am < bm ? -1 : 1;
	const char *ad = strchr(a, '-'), *bd = strchr(b, '-');
	unsigned long long as = ad ? strtoull(ad + 1, NULL, 10) : 0;
	unsigned long long bs = bd ? strtoull(bd + 1, NULL, 10) : 0;
	return as < bs ? -1 : as > bs;
}

static void step(struct call *c);

struct fetch {
	struct call *c;
	int log;
};

static void on_range(redisReply *r, void *arg)
{
	struct fetch *f = arg;
	struct call *c = f->c;
	struct list_state *s = c->state;
	struct src *src = &s->src[f->log];
	mem_free(f);
	s->pending--;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		s->failed = 1;
	} else {
		rows_free(src);
		src->rows = mem_calloc(r->elements ? r->elements : 1, sizeof(*src->rows));
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *row = r->element[i], *fl;
			if (row->type != REDIS_REPLY_ARRAY || row->elements != 2 ||
			    (fl = row->element[1])->type != REDIS_REPLY_ARRAY || fl->elements < 2 ||
			    row->element[0]->len >= sizeof(src->rows[0].id))
				continue;
			struct row *w = &src->rows[src->n++];
			snprintf(w->id, sizeof(w->id), "%s", row->element[0]->str);
			w->text = mem_strndup(fl->element[1]->str, fl->element[1]->len);
			w->len = fl->element[1]->len;
		}
		src->ended = r->elements < BATCH;
		/* Newest first: what is older than the filter's bound ends it. */
		while (s->newest_first && s->floor_ms && src->n &&
		       strtoll(src->rows[src->n - 1].id, NULL, 10) < s->floor_ms) {
			mem_free(src->rows[--src->n].text);
			src->ended = 1;
		}
	}
	if (s->pending > 0)
		return;
	if (s->failed) {
		api_store_failed(c, NULL);
		return;
	}
	step(c);
}

/* Fetches the next batch of every log whose buffer ran out. 1 when some
 * fetch is under way (step runs again when they are all back). */
static int refill(struct call *c)
{
	struct list_state *s = c->state;
	for (int i = 0; i < NLOGS; i++) {
		struct src *src = &s->src[i];
		if (!src->used || src->ended || src->pos < src->n)
			continue;
		char from[56];
		if (src->last[0])
			snprintf(from, sizeof(from), "(%s", src->last);
		else if (!s->newest_first && s->floor_ms)
			snprintf(from, sizeof(from), "%lld", (long long)s->floor_ms);
		else
			snprintf(from, sizeof(from), "%s", s->newest_first ? "+" : "-");
		struct fetch *f = mem_alloc(sizeof(*f));
		f->c = c;
		f->log = i;
		if (store_audit_range(c->b->link, s->project, logs[i], from, BATCH, s->newest_first,
				      on_range, f) != 0) {
			mem_free(f);
			s->failed = 1;
			break;
		}
		s->pending++;
	}
	s->batches++;
	if (s->pending == 0 && s->failed) {
		api_not_queued(c);
		return 1;
	}
	return s->pending > 0;
}

/* Merges the buffered entries in timestamp order until the page is full,
 * a buffer runs out (refill) or every log ended. */
static void step(struct call *c)
{
	struct list_state *s = c->state;
	for (;;) {
		int need = 0;
		for (int i = 0; i < NLOGS; i++)
			need |= s->src[i].used && !s->src[i].ended && s->src[i].pos >= s->src[i].n;
		if (need) {
			if (s->batches >= MAX_BATCHES) {
				finish(c, 1);
				return;
			}
			if (refill(c))
				return;
			continue;
		}
		int best = -1;
		for (int i = 0; i < NLOGS; i++) {
			struct src *src = &s->src[i];
			if (!src->used || src->pos >= src->n)
				continue;
			if (best < 0) {
				best = i;
				continue;
			}
			int cmp = id_cmp(src->rows[src->pos].id,
					 s->src[best].rows[s->src[best].pos].id);
			if (s->newest_first ? cmp > 0 : cmp < 0)
				best = i;
		}
		if (best < 0) {
			finish(c, 0);
			return;
		}
		struct src *src = &s->src[best];
		struct row *w = &src->rows[src->pos++];
		snprintf(src->last, sizeof(src->last), "%s", w->id);
		json_t *st = json_loadb(w->text, w->len, 0, NULL);
		json_t *e = audit_entry_expand(st, s->project,
					       (enum audit_log_name)audit_log_by_id(logs[best]));
		json_decref(st);
		if (e && logfilter_match(s->filter, e))
			json_array_append(s->entries, e);
		json_decref(e);
		if ((long)json_array_size(s->entries) >= s->page) {
			int more = 0;
			for (int i = 0; i < NLOGS; i++)
				more |= s->src[i].used &&
					(!s->src[i].ended || s->src[i].pos < s->src[i].n);
			finish(c, more);
			return;
		}
	}
}

/* Data Access needs logging.privateLogEntries.list: without it the call
 * reads the other logs, or is refused when its filter asks for that log. */
static void on_private_checked(struct call *c, int allowed)
{
	struct list_state *s = c->state;
	const char *f = json_string_value(json_object_get(c->body, "filter"));
	if (!allowed && f && strstr(f, "data_access")) {
		call_error(c, ERR_PERMISSION_DENIED,
			   "Reading the Data Access log needs logging.privateLogEntries.list "
			   "(roles/logging.privateLogViewer or roles/owner).");
		return;
	}
	s->src[DATA_ACCESS].used = allowed;
	step(c);
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
	int64_t since = logfilter_since_ms(f);
	s->floor_ms = since > CLOCK_MARGIN_MS ? since - CLOCK_MARGIN_MS : 0;
	for (int i = 0; i < NLOGS; i++)
		s->src[i].used = i != DATA_ACCESS;
	c->state = s;
	c->state_free = list_free;
	const char *tok = json_string_value(json_object_get(c->body, "pageToken"));
	if (tok && tok[0] && parse_token(s, tok) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "The page token is not valid.");
		return;
	}
	if (!c->b->cfg.auth_required)
		on_private_checked(c, 1); /* no access control: every log */
	else
		auth_check(c, "logging.privateLogEntries.list", rn, on_private_checked);
}
