/* pull.c - subscriptions.pull and the parked (long-polling) pulls.
 *
 * A pull runs the atomic pull script. When it finds nothing and the client
 * did not ask for returnImmediately, the call is parked: it is retried when
 * a publish to its topic is seen (locally or through a Redis wake-up from
 * another broker), on a 100 ms tick (leases that expired, nacks), and is
 * answered {} when pull_wait runs out. */
#include "pull.h"

#include "api.h"
#include "base64.h"
#include "broker.h"
#include "codec.h"
#include "duration.h"
#include "log.h"
#include "mem.h"
#include "subscription.h"
#include "wake.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PULL_MESSAGES 1000
#define TICK_MS 100

struct pull_state {
	char sub[NAMES_KEY_MAX];
	char topic[NAMES_KEY_MAX];
	long max;
	int return_immediately;
	int64_t deadline_ms;
	unsigned long wake_seq; /* waiters->seq when the script was sent */
	unsigned tag;           /* subscription_tag of sub */
};

struct pull_waiters {
	struct call *head;
	struct event *tick;
	unsigned long seq; /* bumped on every wake-up */
};

static void run_pull(struct call *c);

static void on_wake(void *arg, const char *topic);

#define WAKE_SUBS_MAX 16

/* Retries parked pulls for topic (NULL: all): one waiter per subscription,
 * since one pull takes what there is; the others stay parked and are woken
 * in turn when that pull comes back full (on_pulled). Answers {} to those
 * whose wait ran out. */
static void unpark_all(struct broker *b, const char *topic, int expire_only)
{
	struct pull_waiters *w = b->waiters;
	struct call *list = w->head, *keep = NULL, **tail = &keep;
	int64_t now = broker_now_ms();
	char woken[WAKE_SUBS_MAX][NAMES_KEY_MAX];
	int nwoken = 0;
	w->head = NULL;
	while (list) {
		struct call *c = list;
		struct pull_state *ps = c->state;
		list = c->next;
		c->next = NULL;
		int dup = 0;
		for (int i = 0; i < nwoken && !dup; i++)
			dup = strcmp(woken[i], ps->sub) == 0;
		if (now >= ps->deadline_ms || b->shutting_down || c->cancelled) {
			call_reply_text(c, 200, "{}", 2);
		} else if (!expire_only && !dup &&
			   (topic == NULL || strcmp(ps->topic, topic) == 0)) {
			if (nwoken < WAKE_SUBS_MAX)
				memcpy(woken[nwoken++], ps->sub, sizeof(ps->sub));
			run_pull(c);
		} else {
			*tail = c;
			tail = &c->next;
		}
	}
	/* Calls parked meanwhile by run_pull went to w->head; keep both. */
	*tail = w->head;
	w->head = keep;
}

/* A pull of sub came back full: there may be more, wake its next waiter. */
static void wake_next_of_sub(struct broker *b, const char *sub)
{
	for (struct call **p = &b->waiters->head; *p; p = &(*p)->next) {
		struct pull_state *ps = (*p)->state;
		if (strcmp(ps->sub, sub) == 0) {
			struct call *c = *p;
			*p = c->next;
			c->next = NULL;
			run_pull(c);
			return;
		}
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	if (b->waiters->head)
		unpark_all(b, NULL, 0);
}

/* Messages were published to topic: retry the parked pulls that wait
 * on it. */
static void on_wake(void *arg, const char *topic)
{
	struct broker *b = arg;
	b->waiters->seq++;
	if (b->waiters->head)
		unpark_all(b, topic, 0);
}

/* Answers every parked pull with an empty response (shutdown). */
static void flush_all(void *arg)
{
	struct broker *b = arg;
	struct pull_waiters *w = b->waiters;
	while (w && w->head) {
		struct call *c = w->head;
		w->head = c->next;
		call_reply_text(c, 200, "{}", 2);
	}
}

static void stop(void *arg)
{
	struct broker *b = arg;
	flush_all(b);
	event_free(b->waiters->tick);
	mem_free(b->waiters);
	b->waiters = NULL;
}

static const struct module_ops pull_module = {
	.name = "pull",
	.quiesce = flush_all,
	.stop = stop,
};

void pull_start(struct broker *b)
{
	struct pull_waiters *w = mem_calloc(1, sizeof(*w));
	b->waiters = w;
	w->tick = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(w->tick, &tv);
	wake_observe(b, on_wake, b);
	broker_add_module(b, &pull_module, b);
}

/* Writes s as a JSON string literal (with escapes) at out (room for
 * n * 6 + 2 bytes); returns the bytes written. */
static size_t json_str(char *out, const char *s, size_t n)
{
	char *o = out;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			*o++ = '\\';
			*o++ = (char)ch;
		} else if (ch < 0x20) {
			o += snprintf(o, 7, "\\u%04x", ch);
		} else {
			*o++ = (char)ch;
		}
	}
	*o++ = '"';
	return (size_t)(o - out);
}

/* Writes v in decimal at p; returns the number of digits. */
static size_t put_u64(char *p, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

#define PUT(lit) (memcpy(buf + len, lit, sizeof(lit) - 1), len += sizeof(lit) - 1)

/* Writes the receivedMessages response for the pull script's reply in one
 * pre-sized buffer (this is the drain's hot path: no snprintf, one
 * gmtime per distinct millisecond). The stored attributes are already
 * compact JSON objects and go in verbatim. */
/* The same answer for a transport that encodes messages itself. */
static void reply_native(struct call *c, const redisReply *r, const struct store_pulled *p)
{
	const struct pull_state *ps = c->state;
	struct call_msg *msgs = mem_alloc(sizeof(*msgs) * p->n);
	char(*ids)[64] = mem_alloc(64 * p->n);
	for (size_t i = 0; i < p->n; i++) {
		struct store_msg m;
		store_pulled_msg(p, i, &m);
		char *dash;
		unsigned long long ms = strtoull(m.id, &dash, 10);
		unsigned long long seq = *dash == '-' ? strtoull(dash + 1, NULL, 10) : 0;
		snprintf(ids[i], 64, "%.*s:%ld:%08x", (int)m.id_len, m.id, m.attempt, ps->tag);
		msgs[i] = (struct call_msg){
			.ack_id = ids[i],
			.data = m.data,
			.data_len = m.data_len,
			.attrs = m.attrs,
			.attrs_len = m.attrs_len,
			.key = m.key,
			.key_len = m.key_len,
			.message_id = ms * 1000000ULL + seq,
			.publish_ms = (int64_t)ms,
			.delivery_attempt = p->has_dlq ? m.attempt : 0,
		};
	}
	call_reply_messages(c, msgs, p->n);
	mem_free(ids);
	mem_free(msgs);
}

static void reply_messages(struct call *c, const redisReply *r, const struct store_pulled *p)
{
	const struct pull_state *ps = c->state;
	struct store_msg m;
	if (c->ops->send_messages) {
		c->sub_flags = (p->ordered ? CALL_SUB_ORDERED : 0) |
			       (p->exactly_once ? CALL_SUB_EXACTLY_ONCE : 0);
		reply_native(c, r, p);
		return;
	}
	size_t cap = 64;
	for (size_t i = 0; i < p->n; i++) {
		store_pulled_msg(p, i, &m);
		cap += 256 + base64_encoded_len(m.data_len) + m.attrs_len + m.key_len * 6;
	}
	char *buf = mem_alloc(cap);
	size_t len = 0;
	long long ts_ms = -1;
	char ts[40];
	size_t tslen = 0;
	PUT("{\"receivedMessages\":[");
	for (size_t i = 0; i < p->n; i++) {
		store_pulled_msg(p, i, &m);
		unsigned long long attempt = (unsigned long long)m.attempt;
		char *dash;
		unsigned long long ms = strtoull(m.id, &dash, 10);
		unsigned long long seq = *dash == '-' ? strtoull(dash + 1, NULL, 10) : 0;
		if (i > 0)
			buf[len++] = ',';
		PUT("{\"ackId\":\"");
		memcpy(buf + len, m.id, m.id_len);
		len += m.id_len;
		buf[len++] = ':';
		len += put_u64(buf + len, attempt);
		len += (size_t)snprintf(buf + len, cap - len, ":%08x", ps->tag);
		PUT("\",\"message\":{");
		if (m.data_len) {
			PUT("\"data\":\"");
			len += base64_encode((const unsigned char *)m.data, m.data_len, buf + len);
			PUT("\",");
		}
		if (m.attrs_len) {
			PUT("\"attributes\":");
			memcpy(buf + len, m.attrs, m.attrs_len);
			len += m.attrs_len;
			buf[len++] = ',';
		}
		PUT("\"messageId\":\"");
		len += put_u64(buf + len, ms * 1000000ULL + seq);
		PUT("\",\"publishTime\":\"");
		if ((long long)ms != ts_ms) {
			ts_ms = (long long)ms;
			timestamp_format(ts_ms, ts, sizeof(ts));
			tslen = strlen(ts);
		}
		memcpy(buf + len, ts, tslen);
		len += tslen;
		buf[len++] = '"';
		if (m.key_len) {
			PUT(",\"orderingKey\":");
			len += json_str(buf + len, m.key, m.key_len);
		}
		buf[len++] = '}';
		if (p->has_dlq) {
			PUT(",\"deliveryAttempt\":");
			len += put_u64(buf + len, attempt);
		}
		buf[len++] = '}';
	}
	PUT("]}");
	call_reply_owned(c, 200, buf, len);
}

#undef PUT

static void on_pulled(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct pull_state *ps = c->state;
	struct broker *b = c->b;
	struct store_pulled p;
	enum err e = store_pulled_decode(r, &p);
	if (e == ERR_NOT_FOUND) {
		call_not_found(c, c->params[1]);
		return;
	}
	if (e == ERR_FAILED_PRECONDITION) {
		api_detached(c);
		return;
	}
	if (e != ERR_OK) {
		api_store_failed(c, r);
		return;
	}
	if (p.n > 0) {
		int full = (long)p.n >= ps->max;
		char sub[NAMES_KEY_MAX];
		memcpy(sub, ps->sub, sizeof(sub));
		reply_messages(c, r, &p);
		if (full)
			wake_next_of_sub(b, sub);
		return;
	}
	snprintf(ps->topic, sizeof(ps->topic), "%.*s", (int)p.topic_len, p.topic);
	if (ps->return_immediately || b->shutting_down || broker_now_ms() >= ps->deadline_ms) {
		call_reply_text(c, 200, "{}", 2);
		return;
	}
	if (ps->wake_seq != b->waiters->seq) {
		/* Something was published while the script ran: retry now
		 * rather than wait for the next wake-up. */
		run_pull(c);
		return;
	}
	c->next = b->waiters->head;
	b->waiters->head = c;
}

static void run_pull(struct call *c)
{
	if (c->cancelled) { /* its client went away: it takes nothing more */
		call_reply_text(c, 200, "{}", 2);
		return;
	}
	struct pull_state *ps = c->state;
	ps->wake_seq = c->b->waiters->seq;
	if (store_pull(c->b->link, ps->sub, broker_now_ms(), ps->max, c->lease_ms, 0, on_pulled,
		       c) != 0)
		api_not_queued(c);
}

void pull_messages(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *mm = c->body ? json_object_get(c->body, "maxMessages") : NULL;
	json_t *ri = c->body ? json_object_get(c->body, "returnImmediately") : NULL;
	long long max = 0;
	if (mm && !json_is_null(mm) && codec_json_int(mm, &max) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid value at 'maxMessages' (TYPE_INT32)");
		return;
	}
	if (max > 2147483647LL || max < -2147483648LL) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid value at 'maxMessages' (TYPE_INT32): "
			   "out of range");
		return;
	}
	if (max <= 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "maxMessages must be greater than 0.");
		return;
	}
	if (ri && !json_is_boolean(ri)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid value at 'returnImmediately': "
			   "expected a boolean");
		return;
	}
	struct pull_state *ps = mem_calloc(1, sizeof(*ps));
	names_key(ps->sub, c->params[0], c->params[1]);
	ps->tag = subscription_tag(ps->sub);
	ps->max = max > MAX_PULL_MESSAGES ? MAX_PULL_MESSAGES : (long)max;
	ps->return_immediately = json_is_true(ri);
	ps->deadline_ms = broker_now_ms() + c->b->cfg.pull_wait_ms;
	c->state = ps;
	c->state_free = mem_free;
	run_pull(c);
}
