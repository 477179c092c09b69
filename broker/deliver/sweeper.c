/* sweeper.c - retention trimming (XTRIM MINID per topic and per audit
 * stream) and subscription expiry, one script call per topic / subscription so Redis is never
 * blocked by one long script. */
#include "sweeper.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

struct sweeper {
	struct broker *b;
	struct event *ev;
	struct event *reanalyze; /* --reanalyze-interval, or NULL */
};

static void on_trimmed(redisReply *r, void *arg)
{
	char *name = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_debug("retention: trimmed %lld messages from %s", r->integer, name);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_warn("retention: trimming %s failed: %s", name, r->str);
	mem_free(name);
}

static void on_expired(redisReply *r, void *arg)
{
	char *name = arg;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		log_info("subscription %s expired after its expirationPolicy ttl without activity",
			 name);
	mem_free(name);
}

typedef int (*sweep_fn)(struct link *l, const char *name, int64_t now_ms, store_cb cb, void *arg);

/* SMEMBERS reply -> one script per member. */
static void each_member(struct broker *b, redisReply *r, sweep_fn fn, store_cb cb)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	int64_t now = broker_now_ms();
	for (size_t i = 0; i < r->elements; i++) {
		char *name = mem_strndup(r->element[i]->str, r->element[i]->len);
		if (fn(b->link, name, now, cb, name) != 0) {
			mem_free(name);
			return;
		}
	}
}

static void on_topics(redisReply *r, void *arg)
{
	each_member(arg, r, store_trim, on_trimmed);
}

static void on_subs(redisReply *r, void *arg)
{
	each_member(arg, r, store_expire, on_expired);
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
		if (store_audit_trim(b->link, name, now - keep, on_trimmed, name) != 0) {
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
	if (b->shutting_down || !store_ready(b->link))
		return;
	store_members(b->link, 0, on_topics, b);
	store_members(b->link, 1, on_subs, b);
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
	mem_free(s);
}

static const struct module_ops sweeper_module = {
	.name = "sweeper",
	.stop = stop,
};

int sweeper_start(struct broker *b)
{
	struct sweeper *s = mem_calloc(1, sizeof(*s));
	s->b = b;
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
