/* sweeper.c - retention trimming (XTRIM MINID per topic and per audit
 * stream) and subscription expiry, one script call per topic / subscription so Redis is never
 * blocked by one long script, a page of them at a time. */
#include "sweeper.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

/* The topics and subscriptions are swept a page at a time: SSCAN a page,
 * one script per member, the next page once they all answered. Queuing
 * every script of 100k topics at once on the one Redis link made every
 * request wait 2.6 s behind them and the broker grow to 296 MB
 * (bench/growth.sh, breadth). A tick that finds a sweep still running
 * lets it finish. */
#define SWEEP_PAGE 128

struct sweeper {
	struct broker *b;
	struct event *ev;
	struct event *reanalyze; /* --reanalyze-interval, or NULL */
	int phase;               /* 0 idle, 1 topics, 2 subscriptions */
	char cursor[32];
	int scanning;  /* an SSCAN is out */
	long inflight; /* scripts of the page not answered yet */
	int stopped;   /* freed by the last callback */
};

struct sweep_item {
	struct sweeper *s;
	char name[];
};

static void page_done(struct sweeper *s);

static void maybe_free(struct sweeper *s)
{
	if (s->stopped && !s->scanning && s->inflight == 0)
		mem_free(s);
}

/* One script of the page answered. */
static void item_done(struct sweep_item *it)
{
	struct sweeper *s = it->s;
	mem_free(it);
	if (--s->inflight == 0)
		page_done(s);
	maybe_free(s);
}

static void on_trimmed(redisReply *r, void *arg)
{
	struct sweep_item *it = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_debug("retention: trimmed %lld messages from %s", r->integer, it->name);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_warn("retention: trimming %s failed: %s", it->name, r->str);
	item_done(it);
}

static void on_expired(redisReply *r, void *arg)
{
	struct sweep_item *it = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		log_info("subscription %s expired after its expirationPolicy ttl without activity",
			 it->name);
	item_done(it);
}

static void on_page(redisReply *r, void *arg);

static void scan_page(struct sweeper *s)
{
	if (store_scan_members(s->b->link, s->phase == 2, s->cursor, SWEEP_PAGE, on_page, s) == 0)
		s->scanning = 1;
	else
		s->phase = 0; /* Redis went away: the next tick starts over */
}

/* A page's scripts all answered: the next page, the next set, or done. */
static void page_done(struct sweeper *s)
{
	if (s->stopped || s->phase == 0)
		return;
	if (strcmp(s->cursor, "0") != 0) {
		scan_page(s);
	} else if (s->phase == 1) {
		s->phase = 2;
		scan_page(s);
	} else {
		s->phase = 0;
	}
}

/* A page: [cursor, [member...]]; one script per member. */
static void on_page(redisReply *r, void *arg)
{
	struct sweeper *s = arg;
	s->scanning = 0;
	if (s->stopped || r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->len >= sizeof(s->cursor)) {
		s->phase = 0;
		maybe_free(s);
		return;
	}
	memcpy(s->cursor, r->element[0]->str, r->element[0]->len + 1);
	redisReply *m = r->element[1];
	int64_t now = broker_now_ms();
	for (size_t i = 0; i < m->elements && s->phase != 0; i++) {
		if (m->element[i]->type != REDIS_REPLY_STRING)
			continue;
		struct sweep_item *it = mem_alloc(sizeof(*it) + m->element[i]->len + 1);
		it->s = s;
		memcpy(it->name, m->element[i]->str, m->element[i]->len);
		it->name[m->element[i]->len] = '\0';
		int rc = s->phase == 1 ? store_trim(s->b->link, it->name, now, on_trimmed, it)
				       : store_expire(s->b->link, it->name, now, on_expired, it);
		if (rc != 0) { /* what was queued still answers (with NULL) */
			mem_free(it);
			s->phase = 0;
		} else {
			s->inflight++;
		}
	}
	if (s->inflight == 0)
		page_done(s);
}

static void on_audit_trimmed(redisReply *r, void *arg)
{
	char *name = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_debug("retention: trimmed %lld entries from %s", r->integer, name);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_warn("retention: trimming %s failed: %s", name, r->str);
	mem_free(name);
}

/* Audit-log retention: each stream "rn:v1:audit:P:LOG" keeps its log's
 * audit_retention_* (Admin Activity and System Event 400 days, Data
 * Access and Policy Denied 30 days by default). */
static void on_audits(redisReply *r, void *arg)
{
	struct broker *b = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	int64_t now = broker_now_ms();
	for (size_t i = 0; i < r->elements; i++) {
		const char *k = r->element[i]->str;
		size_t n = r->element[i]->len;
		int64_t keep = (n > 12 && strcmp(k + n - 12, ":data_access") == 0) ||
					       (n > 7 && strcmp(k + n - 7, ":policy") == 0)
				       ? b->cfg.audit_retention_data_access_ms
				       : b->cfg.audit_retention_activity_ms;
		char *name = mem_strndup(k, n);
		if (store_audit_trim(b->link, name, now - keep, on_audit_trimmed, name) != 0) {
			mem_free(name);
			return;
		}
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	struct sweeper *s = b->sweeper;
	if (b->shutting_down || !store_ready(b->link) || s == NULL)
		return;
	if (s->phase == 0) {
		s->phase = 1;
		snprintf(s->cursor, sizeof(s->cursor), "0");
		scan_page(s);
	} else {
		log_debug("retention: the last sweep is still running; this tick waits for it");
	}
	store_audit_streams(b->link, on_audits, b);
}

static void on_reanalyzed(redisReply *r, void *arg)
{
	(void)arg;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER)
		log_info("continuous analysis: %lld REANALYZE message(s) published",
			 r->element[1]->integer);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_warn("continuous analysis failed: %s", r->str);
}

/* Continuous analysis (--reanalyze-interval): the store's lock lets one
 * broker per interval publish. */
static void on_reanalyze_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	if (b->shutting_down || !store_ready(b->link))
		return;
	store_reanalyze(b->link, NULL, broker_now_ms(), b->cfg.pulled_window_ms,
			b->cfg.reanalyze_interval_ms - b->cfg.reanalyze_interval_ms / 10,
			on_reanalyzed, NULL);
}

static void stop(void *state)
{
	struct sweeper *s = state;
	event_free(s->ev);
	if (s->reanalyze)
		event_free(s->reanalyze);
	s->b->sweeper = NULL;
	s->stopped = 1; /* the callbacks still out free it */
	maybe_free(s);
}

static const struct module_ops sweeper_module = {
	.name = "sweeper",
	.stop = stop,
};

int sweeper_start(struct broker *b)
{
	struct sweeper *s = mem_calloc(1, sizeof(*s));
	s->b = b;
	b->sweeper = s;
	s->ev = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	int64_t ms = b->cfg.retention_interval_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	event_add(s->ev, &tv);
	int64_t ra = b->cfg.reanalyze_interval_ms;
	if (ra > 0) {
		s->reanalyze = event_new(b->base, -1, EV_PERSIST, on_reanalyze_tick, b);
		struct timeval rtv = { (time_t)(ra / 1000), (suseconds_t)(ra % 1000) * 1000 };
		event_add(s->reanalyze, &rtv);
	}
	broker_add_module(b, &sweeper_module, s);
	return 0;
}
