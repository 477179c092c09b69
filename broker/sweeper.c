/* sweeper.c - retention trimming (XTRIM MINID per topic) and subscription
 * expiry, one script call per topic / subscription so Redis is never
 * blocked by one long script. */
#include "sweeper.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "redis_conn.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

struct sweeper {
	struct broker *b;
	struct event *ev;
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

/* SMEMBERS reply -> one script per member. */
static void each_member(struct broker *b, redisReply *r, enum script_id id, redis_cb cb)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	char now[32];
	snprintf(now, sizeof(now), "%lld", (long long)broker_now_ms());
	for (size_t i = 0; i < r->elements; i++) {
		char *name = mem_strndup(r->element[i]->str, r->element[i]->len);
		const char *argv[] = { name, now };
		size_t lens[] = { r->element[i]->len, strlen(now) };
		if (redis_conn_script(b->redis, id, cb, name, 0, 2, argv, lens) != 0) {
			mem_free(name);
			return;
		}
	}
}

static void on_topics(redisReply *r, void *arg)
{
	each_member(arg, r, SCRIPT_TRIM, on_trimmed);
}

static void on_subs(redisReply *r, void *arg)
{
	each_member(arg, r, SCRIPT_EXPIRE, on_expired);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	const char *t[] = { "SMEMBERS", "rn:v1:topics" };
	const char *s[] = { "SMEMBERS", "rn:v1:subs" };
	size_t tl[] = { 8, strlen(t[1]) }, sl[] = { 8, strlen(s[1]) };
	if (b->shutting_down || !redis_conn_ready(b->redis))
		return;
	redis_conn_argv(b->redis, on_topics, b, 2, t, tl);
	redis_conn_argv(b->redis, on_subs, b, 2, s, sl);
}

int sweeper_start(struct broker *b)
{
	struct sweeper *s = mem_calloc(1, sizeof(*s));
	s->b = b;
	s->ev = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	int64_t ms = b->cfg.retention_interval_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	event_add(s->ev, &tv);
	b->sweeper = s;
	return 0;
}

void sweeper_stop(struct broker *b)
{
	if (b->sweeper == NULL)
		return;
	event_free(b->sweeper->ev);
	mem_free(b->sweeper);
	b->sweeper = NULL;
}
