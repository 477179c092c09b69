/* publish.c - topics.publish's store step (store/scripts/publish.lua),
 * coalesced: the small publishes to one topic that arrive in one loop turn
 * go to Redis as one script call, so that the script's fixed cost (the
 * EVALSHA, the topic checks, the wake-up PUBLISH) is paid per batch of
 * concurrent requests, not per request (docs/performance.md, issue 14).
 *
 * Each request keeps its own answer: the script replies one entry id per
 * message in order, and each request gets its slice. A request's messages
 * are appended together and in order; requests to one topic keep their
 * arrival order (a large request flushes the topic's batch before it goes
 * by itself). The batch is flushed by an event made active on its first
 * request: libevent runs it after the callbacks already active in this
 * turn (the requests read in the same epoll round), and hiredis writes the
 * script call with the rest of the turn's commands. The topic's parked
 * pulls are woken as the call is sent, so that theirs follow it. */
#include "broker.h"
#include "keys.h"
#include "mem.h"
#include "store_internal.h"
#include "wake.h"

#include <event2/event.h>
#include <string.h>

/* A request larger than this goes by itself (nothing to gain from
 * coalescing; no copy). */
#define DIRECT_MSGS 100
#define DIRECT_BYTES (64 * 1024)
/* A batch reaching either is flushed at once (Redis runs one script at a
 * time: keep each short). */
#define BATCH_MAX_MSGS 1000
#define BATCH_MAX_BYTES (1024 * 1024)

struct pb_waiter {
	store_published_cb cb;
	void *arg;
	size_t first, n;
};

/* One topic's batch: the messages' bytes (data, attrs, key per message,
 * lengths in lens) and who waits for which of them. */
struct pb_topic {
	struct pb_topic *next;
	char t[NAMES_KEY_MAX];
	char *buf;
	size_t len, cap;
	size_t *lens; /* 3 per message */
	size_t nmsg, cap_msg;
	struct pb_waiter *w;
	size_t nw, cap_w;
};

/* Topics seen with filtered subscriptions: their publishes go to
 * publish.lua at once for a while (a stale entry only costs speed). */
#define FILTERED_SLOTS 256
#define FILTERED_TTL_MS 10000

struct filtered_slot {
	char t[NAMES_KEY_MAX];
	int64_t until_ms;
};

struct pubbatch {
	struct link *l;
	struct event *flush_ev;
	struct pb_topic *head, *tail; /* pending, in arrival order */
	struct pb_topic *spare;       /* flushed ones, kept for reuse */
	struct filtered_slot filtered[FILTERED_SLOTS];
};

/* What a sent call answers: the waiters, moved out of the batch; for the
 * fast path also the messages, copied, for publish.lua should its EXEC
 * abort. */
struct pb_sent {
	struct pb_waiter *w;
	size_t nw, nmsg;
	struct link *l;
	char t[NAMES_KEY_MAX];
	char *copy;
	size_t *lens; /* 3 per message */
};

static void pb_fail(struct pb_waiter *w, size_t nw, redisReply *r)
{
	for (size_t i = 0; i < nw; i++)
		w[i].cb(w[i].arg, r, 0, NULL, 0);
}

/* The publish script's reply: {'OK', id...} or {'NOT_FOUND'}. */
static void on_published(redisReply *r, void *arg)
{
	struct pb_sent *s = arg;
	const char *st = r ? store_status(r) : NULL;
	if (st && strcmp(st, "OK") == 0 && r->elements == s->nmsg + 1) {
		for (size_t i = 0; i < s->nw; i++)
			s->w[i].cb(s->w[i].arg, NULL, 0, r->element + 1 + s->w[i].first, s->w[i].n);
	} else if (st && strcmp(st, "NOT_FOUND") == 0) {
		for (size_t i = 0; i < s->nw; i++)
			s->w[i].cb(s->w[i].arg, NULL, 1, NULL, 0);
	} else {
		pb_fail(s->w, s->nw, r);
	}
	mem_free(s->w);
	mem_free(s);
}

/* Sends topic t's n messages (argv/lens from index 4 on filled by the
 * caller) for the waiters w (taken over). */
static int send_lua(struct link *l, const char *t, const char **argv, size_t *lens, size_t n,
		    struct pb_waiter *w, size_t nw)
{
	char stream[KEYS_MAX], filters[KEYS_MAX];
	argv[0] = KEYS_TOPIC_LOG(stream, t);
	argv[1] = KEYS_TOPIC_FILTERS(filters, t);
	argv[2] = t;
	argv[3] = link_instance(l);
	for (size_t i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	struct pb_sent *s = mem_calloc(1, sizeof(*s));
	s->w = w;
	s->nw = nw;
	s->nmsg = n;
	int rc = link_script(l, SCRIPT_PUBLISH, on_published, s, 2, (int)(4 + 3 * n), argv, lens);
	if (rc != 0)
		mem_free(s);
	return rc;
}

static unsigned slot_of(const char *t)
{
	unsigned h = 2166136261u;
	for (const char *p = t; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % FILTERED_SLOTS;
}

static int believed_filtered(struct link *l, const char *t)
{
	struct filtered_slot *f = &link_pubbatch(l)->filtered[slot_of(t)];
	return f->until_ms > broker_now_ms() && strcmp(f->t, t) == 0;
}

static void sent_free(struct pb_sent *s)
{
	mem_free(s->copy);
	mem_free(s->lens);
	mem_free(s->w);
	mem_free(s);
}

static void on_queued(redisReply *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* The fast path's EXEC: the entry ids and the PUBLISH's count; nil when
 * pubguard aborted it (the topic has filtered subscriptions). */
static void on_fast(redisReply *r, void *arg)
{
	struct pb_sent *s = arg;
	if (r && r->type == REDIS_REPLY_NIL) {
		struct filtered_slot *f = &link_pubbatch(s->l)->filtered[slot_of(s->t)];
		snprintf(f->t, sizeof(f->t), "%s", s->t);
		f->until_ms = broker_now_ms() + FILTERED_TTL_MS;
		size_t argc = 4 + 3 * s->nmsg, o = 0;
		const char **argv = mem_alloc(argc * sizeof(*argv));
		size_t *lens = mem_alloc(argc * sizeof(*lens));
		for (size_t i = 0; i < 3 * s->nmsg; i++) {
			argv[4 + i] = s->copy + o;
			lens[4 + i] = s->lens[i];
			o += s->lens[i];
		}
		if (send_lua(s->l, s->t, argv, lens, s->nmsg, s->w, s->nw) == 0)
			s->w = NULL; /* theirs now */
		else
			pb_fail(s->w, s->nw, NULL);
		mem_free(argv);
		mem_free(lens);
		sent_free(s);
		return;
	}
	size_t nil = 0, ids = 0;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == s->nmsg + 1) {
		for (size_t i = 0; i < s->nmsg; i++) {
			nil += r->element[i]->type == REDIS_REPLY_NIL;
			ids += r->element[i]->type == REDIS_REPLY_STRING;
		}
	}
	if (ids == s->nmsg && ids > 0) {
		for (size_t i = 0; i < s->nw; i++)
			s->w[i].cb(s->w[i].arg, NULL, 0, r->element + s->w[i].first, s->w[i].n);
	} else if (nil == s->nmsg && nil > 0) { /* NOMKSTREAM: no topic */
		for (size_t i = 0; i < s->nw; i++)
			s->w[i].cb(s->w[i].arg, NULL, 1, NULL, 0);
	} else {
		pb_fail(s->w, s->nw, r && r->type == REDIS_REPLY_ERROR ? r : NULL);
	}
	sent_free(s);
}

/* The fast path, for a topic without filtered subscriptions: WATCH its
 * filters and guard, pubguard (aborts what follows when it has some),
 * MULTI, one XADD NOMKSTREAM per message, the wake-up PUBLISH, EXEC - the
 * messages appended by Redis itself, not through Lua (a third less Redis
 * CPU per message: docs/performance.md), as atomically as publish.lua. */
static int send_fast(struct link *l, const char *t, const char **argv, size_t *lens, size_t n,
		     struct pb_waiter *w, size_t nw)
{
	char log[KEYS_MAX], filters[KEYS_MAX], guard[KEYS_MAX], wake[KEYS_MAX];
	KEYS_TOPIC_LOG(log, t);
	KEYS_TOPIC_FILTERS(filters, t);
	KEYS_TOPIC_PUBGUARD(guard, t);
	KEYS_WAKE(wake, t);
	const char *inst = link_instance(l);
	struct pb_sent *s = mem_calloc(1, sizeof(*s));
	s->w = w;
	s->nw = nw;
	s->nmsg = n;
	s->l = l;
	snprintf(s->t, sizeof(s->t), "%s", t);
	size_t bytes = 0;
	for (size_t i = 0; i < 3 * n; i++)
		bytes += lens[4 + i];
	s->copy = mem_alloc(bytes + 1);
	s->lens = mem_alloc(3 * n * sizeof(*s->lens));
	size_t o = 0;
	for (size_t i = 0; i < 3 * n; i++) {
		memcpy(s->copy + o, argv[4 + i], lens[4 + i]);
		o += lens[4 + i];
		s->lens[i] = lens[4 + i];
	}
	const char *watch[] = { "WATCH", filters, guard };
	size_t wl[] = { 5, strlen(filters), strlen(guard) };
	const char *gk[] = { filters, guard };
	size_t gl[] = { wl[1], wl[2] };
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	size_t ml[] = { 5 }, el[] = { 4 };
	const char *pub[] = { "PUBLISH", wake, inst };
	size_t pl[] = { 7, strlen(wake), strlen(inst) };
	int rc = link_argv(l, on_queued, NULL, 3, watch, wl) ||
		 link_script(l, SCRIPT_PUBGUARD, on_queued, NULL, 2, 2, gk, gl) ||
		 link_argv(l, on_queued, NULL, 1, multi, ml);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *xa[10] = { "XADD", log, "NOMKSTREAM", "*", "d", argv[4 + 3 * i] };
		size_t xl[10] = { 4, strlen(log), 10, 1, 1, lens[4 + 3 * i] };
		int k = 6;
		if (lens[5 + 3 * i]) {
			xa[k] = "a";
			xl[k++] = 1;
			xa[k] = argv[5 + 3 * i];
			xl[k++] = lens[5 + 3 * i];
		}
		if (lens[6 + 3 * i]) {
			xa[k] = "k";
			xl[k++] = 1;
			xa[k] = argv[6 + 3 * i];
			xl[k++] = lens[6 + 3 * i];
		}
		rc = link_argv(l, on_queued, NULL, k, xa, xl);
	}
	if (rc == 0)
		rc = link_argv(l, on_queued, NULL, 3, pub, pl) ||
		     link_argv(l, on_fast, s, 1, exec, el);
	if (rc != 0) { /* the link went: what was queued fails with it */
		s->w = NULL;
		sent_free(s);
		return -1;
	}
	return 0;
}

/* Sends topic t's n messages (argv/lens from index 4 on filled by the
 * caller; 0..3 are the script's) for the waiters w (taken over on 0). */
static int send_script(struct link *l, const char *t, const char **argv, size_t *lens, size_t n,
		       struct pb_waiter *w, size_t nw)
{
	int rc = believed_filtered(l, t) ? send_lua(l, t, argv, lens, n, w, nw)
					 : send_fast(l, t, argv, lens, n, w, nw);
	if (rc != 0)
		return rc;
	/* This broker's parked pulls on t go now: one link carries every
	 * command in order, so their pull scripts run right after this
	 * publish and see its messages - publish to delivery in one round
	 * trip to Redis, not two (e2e, docs/performance.md). Other brokers
	 * hear the PUBLISH. */
	wake_topic(link_broker(l), t);
	return 0;
}

/* Sends topic p's batch, answers its waiters with NULL when Redis is not
 * ready, and keeps p (emptied) for reuse. */
static void flush_topic(struct pubbatch *pb, struct pb_topic *p)
{
	size_t argc = 4 + 3 * p->nmsg;
	const char **argv = mem_alloc(argc * sizeof(*argv));
	size_t *lens = mem_alloc(argc * sizeof(*lens));
	size_t o = 0;
	for (size_t i = 0; i < 3 * p->nmsg; i++) {
		argv[4 + i] = p->buf + o;
		lens[4 + i] = p->lens[i];
		o += p->lens[i];
	}
	struct pb_waiter *w = p->w;
	size_t nw = p->nw;
	p->w = NULL;
	p->nw = p->cap_w = 0;
	if (send_script(pb->l, p->t, argv, lens, p->nmsg, w, nw) != 0) {
		pb_fail(w, nw, NULL);
		mem_free(w);
	}
	mem_free(argv);
	mem_free(lens);
	p->len = p->nmsg = 0;
}

/* Takes p out of the pending list (prev: the one before it, or NULL). */
static void unlink_topic(struct pubbatch *pb, struct pb_topic *prev, struct pb_topic *p)
{
	if (prev)
		prev->next = p->next;
	else
		pb->head = p->next;
	if (pb->tail == p)
		pb->tail = prev;
	p->next = pb->spare;
	pb->spare = p;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pubbatch *pb = arg;
	while (pb->head) {
		struct pb_topic *p = pb->head;
		unlink_topic(pb, NULL, p);
		flush_topic(pb, p);
	}
}

struct pubbatch *pubbatch_new(struct link *l, struct event_base *base)
{
	struct pubbatch *pb = mem_calloc(1, sizeof(*pb));
	pb->l = l;
	pb->flush_ev = event_new(base, -1, 0, on_flush, pb);
	return pb;
}

static void topic_free(struct pb_topic *p)
{
	mem_free(p->buf);
	mem_free(p->lens);
	mem_free(p->w);
	mem_free(p);
}

void pubbatch_free(struct pubbatch *pb)
{
	if (pb == NULL)
		return;
	/* Not sent: answered like commands of a link that went away. */
	while (pb->head) {
		struct pb_topic *p = pb->head;
		unlink_topic(pb, NULL, p);
		pb_fail(p->w, p->nw, NULL);
	}
	while (pb->spare) {
		struct pb_topic *p = pb->spare;
		pb->spare = p->next;
		topic_free(p);
	}
	event_free(pb->flush_ev);
	mem_free(pb);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	*cap = c;
	return mem_realloc(p, c * size);
}

/* Appends request m[n] to p's batch for (cb, arg). */
static void append(struct pb_topic *p, const struct store_msg_in *m, size_t n,
		   store_published_cb cb, void *arg)
{
	p->lens = grow(p->lens, &p->cap_msg, 3 * (p->nmsg + n), sizeof(*p->lens));
	p->w = grow(p->w, &p->cap_w, p->nw + 1, sizeof(*p->w));
	p->w[p->nw++] = (struct pb_waiter){ cb, arg, p->nmsg, n };
	for (size_t i = 0; i < n; i++) {
		const char *f[3] = { m[i].data ? (const char *)m[i].data : "",
				     m[i].attrs ? m[i].attrs : "", m[i].key ? m[i].key : "" };
		size_t fl[3] = { m[i].data ? m[i].len : 0, m[i].attrs ? m[i].attrs_len : 0,
				 m[i].key ? m[i].key_len : 0 };
		for (int k = 0; k < 3; k++) {
			p->buf = grow(p->buf, &p->cap, p->len + fl[k], 1);
			if (fl[k])
				memcpy(p->buf + p->len, f[k], fl[k]);
			p->len += fl[k];
			p->lens[3 * p->nmsg + (size_t)k] = fl[k];
		}
		p->nmsg++;
	}
}

/* A request that goes by itself, without a copy. */
static int send_direct(struct link *l, const char *t, const struct store_msg_in *m, size_t n,
		       store_published_cb cb, void *arg)
{
	size_t argc = 4 + 3 * n;
	const char **argv = mem_alloc(argc * sizeof(*argv));
	size_t *lens = mem_alloc(argc * sizeof(*lens));
	for (size_t i = 0; i < n; i++) {
		argv[4 + 3 * i] = m[i].data ? (const char *)m[i].data : "";
		lens[4 + 3 * i] = m[i].data ? m[i].len : 0;
		argv[5 + 3 * i] = m[i].attrs ? m[i].attrs : "";
		lens[5 + 3 * i] = m[i].attrs ? m[i].attrs_len : 0;
		argv[6 + 3 * i] = m[i].key ? m[i].key : "";
		lens[6 + 3 * i] = m[i].key ? m[i].key_len : 0;
	}
	struct pb_waiter *w = mem_alloc(sizeof(*w));
	*w = (struct pb_waiter){ cb, arg, 0, n };
	int rc = send_script(l, t, argv, lens, n, w, 1);
	if (rc != 0)
		mem_free(w);
	mem_free(argv);
	mem_free(lens);
	return rc;
}

int store_publish(struct link *l, const char *project, const char *id, const struct store_msg_in *m,
		  size_t n, store_published_cb cb, void *arg)
{
	if (!link_ready(l))
		return -1;
	struct pubbatch *pb = link_pubbatch(l);
	char t[NAMES_KEY_MAX];
	names_key(t, project, id);
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += m[i].len + m[i].attrs_len + m[i].key_len;
	struct pb_topic *prev = NULL, *p = pb->head;
	while (p && strcmp(p->t, t) != 0) {
		prev = p;
		p = p->next;
	}
	if (n > DIRECT_MSGS || bytes > DIRECT_BYTES) {
		if (p) { /* what came first is stored first */
			unlink_topic(pb, prev, p);
			flush_topic(pb, p);
		}
		return send_direct(l, t, m, n, cb, arg);
	}
	if (p == NULL) {
		p = pb->spare;
		if (p)
			pb->spare = p->next;
		else
			p = mem_calloc(1, sizeof(*p));
		p->next = NULL;
		snprintf(p->t, sizeof(p->t), "%s", t);
		if (pb->tail)
			pb->tail->next = p;
		else
			pb->head = p;
		pb->tail = p;
		event_active(pb->flush_ev, 0, 0);
	}
	append(p, m, n, cb, arg);
	if (p->nmsg >= BATCH_MAX_MSGS || p->len >= BATCH_MAX_BYTES) {
		struct pb_topic *q = pb->head;
		prev = NULL;
		while (q != p) {
			prev = q;
			q = q->next;
		}
		unlink_topic(pb, prev, p);
		flush_topic(pb, p);
	}
	return 0;
}
