/* pull.c - pull, acknowledge, modifyAckDeadline.
 *
 * A pull runs the atomic pull script. When it finds nothing and the client
 * did not ask for returnImmediately, the call is parked: it is retried when
 * a publish to its topic is seen (locally or through a Redis wake-up from
 * another broker), on a 100 ms tick (leases that expired, nacks), and is
 * answered {} when pull_wait runs out. */
#include "pull.h"

#include "api.h"
#include "broker.h"
#include "codec.h"
#include "deliver_push.h"
#include "log.h"
#include "mem.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PULL_MESSAGES 1000
#define TICK_MS 100

struct pull_state {
	char sub[API_KEY_MAX];
	char topic[API_KEY_MAX];
	long max;
	int return_immediately;
	int64_t deadline_ms;
	unsigned long wake_seq; /* waiters->seq when the script was sent */
	unsigned tag;           /* api_sub_tag of sub */
};

struct pull_waiters {
	struct call *head;
	struct event *tick;
	unsigned long seq; /* bumped on every wake-up */
};

static void run_pull(struct call *c);

static void on_wake(const char *topic, void *arg)
{
	pull_wake_topic(arg, topic);
}

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
	char woken[WAKE_SUBS_MAX][API_KEY_MAX];
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
		if (now >= ps->deadline_ms || b->shutting_down) {
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

int pull_init(struct broker *b)
{
	struct pull_waiters *w = mem_calloc(1, sizeof(*w));
	b->waiters = w;
	w->tick = event_new(b->base, -1, EV_PERSIST, on_tick, b);
	struct timeval tv = { 0, TICK_MS * 1000 };
	event_add(w->tick, &tv);
	redis_conn_on_wake(b->redis, on_wake, b);
	return 0;
}

void pull_cleanup(struct broker *b)
{
	if (b->waiters == NULL)
		return;
	pull_flush_all(b);
	event_free(b->waiters->tick);
	mem_free(b->waiters);
	b->waiters = NULL;
}

void pull_wake_topic(struct broker *b, const char *topic)
{
	deliver_push_wake(b, topic);
	b->waiters->seq++;
	if (b->waiters->head)
		unpark_all(b, topic, 0);
}

void pull_flush_all(struct broker *b)
{
	struct pull_waiters *w = b->waiters;
	while (w && w->head) {
		struct call *c = w->head;
		w->head = c->next;
		call_reply_text(c, 200, "{}", 2);
	}
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
static void reply_messages(struct call *c, const redisReply *r)
{
	const struct pull_state *ps = c->state;
	int has_dlq = r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer;
	size_t cap = 64;
	for (size_t i = 4; i + 4 < r->elements; i += 5)
		cap += 256 + codec_base64_encoded_len(r->element[i + 1]->len) +
		       r->element[i + 2]->len + r->element[i + 3]->len * 6;
	char *buf = mem_alloc(cap);
	size_t len = 0;
	long long ts_ms = -1;
	char ts[40];
	size_t tslen = 0;
	PUT("{\"receivedMessages\":[");
	for (size_t i = 4; i + 4 < r->elements; i += 5) {
		const redisReply *id = r->element[i], *d = r->element[i + 1],
				 *a = r->element[i + 2], *k = r->element[i + 3],
				 *n = r->element[i + 4];
		unsigned long long attempt = n->type == REDIS_REPLY_INTEGER && n->integer > 0
						     ? (unsigned long long)n->integer
						     : 1;
		char *dash;
		unsigned long long ms = strtoull(id->str, &dash, 10);
		unsigned long long seq = *dash == '-' ? strtoull(dash + 1, NULL, 10) : 0;
		if (i > 4)
			buf[len++] = ',';
		PUT("{\"ackId\":\"");
		memcpy(buf + len, id->str, id->len);
		len += id->len;
		buf[len++] = ':';
		len += put_u64(buf + len, attempt);
		len += (size_t)snprintf(buf + len, cap - len, ":%08x", ps->tag);
		PUT("\",\"message\":{");
		if (d->len) {
			PUT("\"data\":\"");
			len += codec_base64_encode((const unsigned char *)d->str, d->len,
						   buf + len);
			PUT("\",");
		}
		if (a->len) {
			PUT("\"attributes\":");
			memcpy(buf + len, a->str, a->len);
			len += a->len;
			buf[len++] = ',';
		}
		PUT("\"messageId\":\"");
		len += put_u64(buf + len, ms * 1000000ULL + seq);
		PUT("\",\"publishTime\":\"");
		if ((long long)ms != ts_ms) {
			ts_ms = (long long)ms;
			codec_timestamp_format(ts_ms, ts, sizeof(ts));
			tslen = strlen(ts);
		}
		memcpy(buf + len, ts, tslen);
		len += tslen;
		buf[len++] = '"';
		if (k->len) {
			PUT(",\"orderingKey\":");
			len += json_str(buf + len, k->str, k->len);
		}
		buf[len++] = '}';
		if (has_dlq) {
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
	const char *st = api_status(r);
	if (st == NULL || (strcmp(st, "OK") == 0 && r->elements < 4)) {
		api_store_failed(c, r);
		return;
	}
	if (strcmp(st, "NOT_FOUND") == 0) {
		call_not_found(c, c->params[1]);
		return;
	}
	if (r->elements > 4) {
		int full = (long)((r->elements - 4) / 5) >= ps->max;
		char sub[API_KEY_MAX];
		memcpy(sub, ps->sub, sizeof(sub));
		reply_messages(c, r);
		if (full)
			wake_next_of_sub(b, sub);
		return;
	}
	snprintf(ps->topic, sizeof(ps->topic), "%.*s", (int)r->element[1]->len, r->element[1]->str);
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
	struct pull_state *ps = c->state;
	char now[32], max[16];
	ps->wake_seq = c->b->waiters->seq;
	snprintf(now, sizeof(now), "%lld", (long long)broker_now_ms());
	snprintf(max, sizeof(max), "%ld", ps->max);
	const char *argv[] = { ps->sub, now, max };
	size_t lens[] = { strlen(ps->sub), strlen(now), strlen(max) };
	api_script(c, SCRIPT_PULL, on_pulled, 3, argv, lens);
}

void api_subs_pull(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *mm = c->body ? json_object_get(c->body, "maxMessages") : NULL;
	json_t *ri = c->body ? json_object_get(c->body, "returnImmediately") : NULL;
	long long max = 0;
	if (mm && !json_is_null(mm) && api_json_int(mm, &max) != 0) {
		call_error(c, RPC_INVALID_ARGUMENT, "Invalid value at 'maxMessages' (TYPE_INT32)");
		return;
	}
	if (max > 2147483647LL || max < -2147483648LL) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid value at 'maxMessages' (TYPE_INT32): "
			   "out of range");
		return;
	}
	if (max <= 0) {
		call_error(c, RPC_INVALID_ARGUMENT, "maxMessages must be greater than 0.");
		return;
	}
	if (ri && !json_is_boolean(ri)) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid value at 'returnImmediately': "
			   "expected a boolean");
		return;
	}
	struct pull_state *ps = mem_calloc(1, sizeof(*ps));
	api_key(ps->sub, c->params[0], c->params[1]);
	ps->tag = api_sub_tag(ps->sub);
	ps->max = max > MAX_PULL_MESSAGES ? MAX_PULL_MESSAGES : (long)max;
	ps->return_immediately = json_is_true(ri);
	ps->deadline_ms = broker_now_ms() + c->b->cfg.pull_wait_ms;
	c->state = ps;
	c->state_free = mem_free;
	run_pull(c);
}

/* "ms-seq:attempt:tag" -> entry id (into id) and attempt; the tag must be
 * this subscription's, so an ackId from another subscription is refused
 * instead of acking this subscription's copy of the same message. */
static int parse_ack_id(const char *s, unsigned tag, char *id, size_t idlen, long *attempt)
{
	const char *c1 = strchr(s, ':');
	const char *dash = strchr(s, '-');
	if (c1 == NULL || dash == NULL || dash > c1 || dash == s || dash + 1 == c1 ||
	    (size_t)(c1 - s) >= idlen)
		return -1;
	for (const char *p = s; p < c1; p++)
		if ((*p < '0' || *p > '9') && p != dash)
			return -1;
	char *end;
	long a = strtol(c1 + 1, &end, 10);
	if (end == c1 + 1 || *end != ':' || a < 1)
		return -1;
	const char *t = end + 1;
	unsigned long got = strtoul(t, &end, 16);
	if (strlen(t) != 8 || *end != '\0' || got != tag)
		return -1;
	memcpy(id, s, (size_t)(c1 - s));
	id[c1 - s] = '\0';
	*attempt = a;
	return 0;
}

static void on_acked(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r) == NULL)
		return;
	if (c->state) /* an invalid ackId: the script only checked existence */
		call_error(c, RPC_INVALID_ARGUMENT,
			   "You have passed an invalid ack ID to the "
			   "service (ack_id=%.80s).",
			   (const char *)c->state);
	else
		call_reply_text(c, 200, "{}", 2);
}

/* Shared by acknowledge (with_attempts 0) and modifyAckDeadline (1). */
static void ack_like(struct call *c, int modack)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *ids = c->body ? json_object_get(c->body, "ackIds") : NULL;
	size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
	if (n == 0) {
		call_error(c, RPC_INVALID_ARGUMENT, "No ack ids specified.");
		return;
	}
	long long dl = 0;
	if (modack) {
		json_t *d = json_object_get(c->body, "ackDeadlineSeconds");
		if (d && !json_is_null(d) && api_json_int(d, &dl) != 0) {
			call_error(c, RPC_INVALID_ARGUMENT,
				   "Invalid value at 'ackDeadlineSeconds' "
				   "(TYPE_INT32)");
			return;
		}
		if (dl < 0 || dl > 600) {
			call_error(c, RPC_INVALID_ARGUMENT,
				   "Invalid ack deadline given: %lld. The "
				   "deadline must be between 0 and 600 seconds.",
				   dl);
			return;
		}
	}
	int fixed = modack ? 3 : 2;
	int argc = fixed + (int)n * (modack ? 2 : 1);
	const char **argv = mem_alloc(sizeof(*argv) * (size_t)argc);
	size_t *lens = mem_alloc(sizeof(*lens) * (size_t)argc);
	char(*idbuf)[64] = mem_alloc(64 * n * 2);
	char sub[API_KEY_MAX], now[32], dls[16];
	api_key(sub, c->params[0], c->params[1]);
	unsigned tag = api_sub_tag(sub);
	snprintf(now, sizeof(now), "%lld", (long long)broker_now_ms());
	snprintf(dls, sizeof(dls), "%lld", dl);
	argv[0] = sub;
	argv[1] = now;
	argv[2] = dls;
	int k = fixed;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(ids, i);
		long attempt;
		if (!json_is_string(v) ||
		    parse_ack_id(json_string_value(v), tag, idbuf[2 * i], 64, &attempt) != 0) {
			/* Nothing is acked; the script still runs with no ids so that a
			 * missing subscription answers 404 before the 400. */
			c->state = mem_strdup(json_is_string(v) ? json_string_value(v) : "?");
			c->state_free = mem_free;
			k = fixed;
			argc = fixed;
			break;
		}
		argv[k++] = idbuf[2 * i];
		if (modack) {
			snprintf(idbuf[2 * i + 1], 64, "%ld", attempt);
			argv[k++] = idbuf[2 * i + 1];
		}
	}
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	api_script(c, modack ? SCRIPT_MODACK : SCRIPT_ACK, on_acked, argc, argv, lens);
	mem_free(argv);
	mem_free(lens);
	mem_free(idbuf);
}

void api_subs_ack(struct call *c)
{
	ack_like(c, 0);
}

void api_subs_modack(struct call *c)
{
	ack_like(c, 1);
}

static void on_seeked(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (api_status_or_reply(c, r) == NULL)
		return;
	struct broker *b = c->b;
	log_info("subscription projects/%s/subscriptions/%s seeked", c->params[0], c->params[1]);
	call_reply_text(c, 200, "{}", 2);
	pull_wake_topic(b, NULL);
}

void api_subs_seek(struct call *c)
{
	if (api_names_or_reply(c, 2, "subscriptions"))
		return;
	json_t *t = c->body ? json_object_get(c->body, "time") : NULL;
	json_t *snap = c->body ? json_object_get(c->body, "snapshot") : NULL;
	if (snap && !(json_is_string(snap) && json_string_length(snap) == 0)) {
		call_error(c, RPC_UNIMPLEMENTED,
			   "Seek to a snapshot is not supported by this version "
			   "of regnotify; seek to a time instead");
		return;
	}
	int64_t ms;
	if (!json_is_string(t) || codec_timestamp_parse(json_string_value(t), &ms) != 0 ||
	    json_object_size(c->body) != (snap ? 2u : 1u)) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "A seek needs {\"time\": \"RFC 3339 "
			   "timestamp\"}, e.g. \"2026-11-28T08:00:00Z\"");
		return;
	}
	char sub[API_KEY_MAX], ts[24], now[24];
	api_key(sub, c->params[0], c->params[1]);
	snprintf(ts, sizeof(ts), "%lld", (long long)(ms < 0 ? 0 : ms));
	snprintf(now, sizeof(now), "%lld", (long long)broker_now_ms());
	const char *argv[] = { sub, ts, now };
	size_t lens[] = { strlen(sub), strlen(ts), strlen(now) };
	api_script(c, SCRIPT_SEEK, on_seeked, 3, argv, lens);
}
