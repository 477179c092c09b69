/* push.c - push delivery workers.
 *
 * Per push subscription and broker: a slow-start window of concurrent
 * requests (starts at 1, +1 per success, halved per failure, capped by
 * push_max_window), a subscription-wide pause that grows while the endpoint
 * keeps failing (100 ms doubling to 60 s, jittered; Retry-After wins), and
 * the subscription's retryPolicy applied per message by the nack (modack 0)
 * script. The ack deadline is the HTTP timeout, so a lease never expires
 * while its request is still running. */
#include "push.h"

#include "auth.h"
#include "broker.h"
#include "codec.h"
#include "http_client.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "push_format.h"
#include "store.h"
#include "subscription.h"
#include "wake.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_MS 1000
#define IDLE_RETRY_MS 250 /* safety net; publishes wake workers at once */
#define PAUSE_MIN_MS 100
#define PAUSE_MAX_MS 60000

struct worker {
	struct deliver *d;
	char sub[NAMES_KEY_MAX];
	char name[NAMES_NAME_MAX + 1]; /* projects/p/subscriptions/s */
	char topic[NAMES_KEY_MAX];     /* p/t, "" when detached */
	char topic_name[NAMES_NAME_MAX + 1];
	char *cfg_text;
	struct push_cfg cfg;
	long ack_ms;
	unsigned tag;
	double window;
	int inflight, pulling, alive, seen;
	int has_dlq;
	int64_t pause_until_ms;
	int failures;
	struct event *timer;
	/* Acks are batched: one ack script per loop turn, not per message. */
	char **acks;
	size_t nacks, acks_cap;
	struct event *ack_ev;
	/* Metrics (Pub/Sub's subscription/push_request_count & co.). */
	unsigned long long by_class[4]; /* ack, nack (HTTP status), timeout, error */
	unsigned long long dead_lettered;
	double latency_sum;
	unsigned long long latency_n;
	/* pushConfig.oidcToken: the current token, renewed 5 minutes before
	 * its exp. */
	char *oidc;
	long long oidc_exp_s;
	struct worker *next;
};

struct deliver {
	struct broker *b;
	struct http_client *hc;
	struct event *refresh;
	struct worker *workers;
	int quiesced;
};

enum { CLASS_ACK, CLASS_NACK, CLASS_TIMEOUT, CLASS_ERROR };

/* One message in flight. */
struct delivery {
	struct worker *w;
	char entry[48];
	long attempt;
	char attempt_s[24];
};

static void worker_kick(struct worker *w);

static void flush_acks(struct worker *w);

/* The worker's OIDC token (pushConfig.oidcToken), signed anew when it has
 * less than 5 minutes left; NULL without oidcToken (or before the broker
 * has a signing key: the request then goes without it and the endpoint
 * refuses it, as it should). */
static const char *oidc_token(struct worker *w)
{
	if (w->cfg.oidc_email[0] == '\0')
		return NULL;
	long long now = broker_now_ms() / 1000;
	if (w->oidc == NULL || now > w->oidc_exp_s - 300) {
		const char *aud = w->cfg.oidc_audience[0] ? w->cfg.oidc_audience : w->cfg.endpoint;
		char *t = auth_sign_oidc(w->d->b, w->cfg.oidc_email, aud, &w->oidc_exp_s);
		if (t) {
			free(w->oidc);
			w->oidc = t;
		}
	}
	return w->oidc;
}

static void worker_free(struct worker *w)
{
	struct deliver *d = w->d;
	flush_acks(w);
	event_free(w->ack_ev);
	mem_free(w->acks);
	for (struct worker **p = &d->workers; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	event_free(w->timer);
	free(w->cfg_text);
	free(w->oidc);
	mem_free(w);
}

/* Frees a retired worker once nothing of it is in flight. */
static int maybe_free(struct worker *w)
{
	if (w->alive || w->inflight || w->pulling)
		return 0;
	worker_free(w);
	return 1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_kick(arg);
}

static void arm(struct worker *w, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(w->timer, &tv);
}

static void ignore_reply(redisReply *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* Sends the acks gathered since the last flush in one script call. */
static void flush_acks(struct worker *w)
{
	if (w->nacks == 0)
		return;
	/* Push subscriptions have no exactly-once delivery: the attempts go
	 * unchecked. */
	const char **attempts = mem_alloc(sizeof(*attempts) * w->nacks);
	for (size_t i = 0; i < w->nacks; i++)
		attempts[i] = "0";
	store_ack(w->d->b->link, w->sub, broker_now_ms(), (const char *const *)w->acks, attempts,
		  w->nacks, ignore_reply, NULL);
	mem_free(attempts);
	for (size_t i = 0; i < w->nacks; i++)
		mem_free(w->acks[i]);
	w->nacks = 0;
}

static void on_flush_acks(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_acks(arg);
}

static void queue_ack(struct worker *w, const char *entry)
{
	if (w->nacks == w->acks_cap) {
		w->acks_cap = w->acks_cap ? w->acks_cap * 2 : 64;
		w->acks = mem_realloc(w->acks, w->acks_cap * sizeof(*w->acks));
	}
	w->acks[w->nacks++] = mem_strdup(entry);
	if (w->nacks >= 1000)
		flush_acks(w);
	else if (w->nacks == 1)
		event_active(w->ack_ev, 0, 0); /* after the other callbacks of this turn */
}

static void on_done(const struct http_result *res, void *arg)
{
	struct delivery *dv = arg;
	struct worker *w = dv->w;
	struct broker *b = w->d->b;
	w->inflight--;
	long s = res->status;
	int ack =
		res->code == CURLE_OK && (s == 102 || s == 200 || s == 201 || s == 202 || s == 204);
	int cls = ack                                     ? CLASS_ACK
		  : res->code == CURLE_OK                 ? CLASS_NACK
		  : res->code == CURLE_OPERATION_TIMEDOUT ? CLASS_TIMEOUT
							  : CLASS_ERROR;
	w->by_class[cls]++;
	w->latency_sum += res->seconds;
	w->latency_n++;
	if (ack) {
		queue_ack(w, dv->entry);
		w->failures = 0;
		w->window = fmin(w->window + 1, (double)b->cfg.push_max_window);
	} else {
		/* Nack: due now, or after the retryPolicy backoff, or after
		 * Retry-After (the endpoint's word wins). */
		long ra = res->retry_after_s > 600 ? 600 : res->retry_after_s;
		const char *ids[] = { dv->entry }, *attempts[] = { dv->attempt_s };
		store_modack(w->d->b->link, w->sub, broker_now_ms(), ra > 0 ? ra : 0, ids, attempts,
			     1, ignore_reply, NULL);
		w->failures++;
		w->window = fmax(1, floor(w->window / 2));
		double pause = fmin(PAUSE_MAX_MS, PAUSE_MIN_MS * pow(2, w->failures - 1));
		pause *= 0.8 + 0.4 * (double)rand() / RAND_MAX; /* no lockstep retries */
		if (ra > 0)
			pause = fmax(pause, (double)ra * 1000);
		w->pause_until_ms = broker_now_ms() + (int64_t)pause;
		if (w->failures == 1 || w->failures % 10 == 0)
			log_warn("push %s: %s (attempt %ld, %d failures in a row; pausing %.0f ms)",
				 w->name,
				 cls == CLASS_NACK      ? "endpoint answered a nack status"
				 : cls == CLASS_TIMEOUT ? "timeout"
							: res->error,
				 dv->attempt, w->failures, pause);
		if (cls == CLASS_NACK)
			log_debug("push %s: HTTP %ld", w->name, s);
	}
	mem_free(dv);
	if (!maybe_free(w))
		worker_kick(w);
}

static void deliver_one(struct worker *w, const struct store_msg *sm)
{
	char mid[32];
	if (codec_message_id(sm->id, mid, sizeof(mid)) != 0)
		return;
	struct push_msg m = { mid,
			      sm->data,
			      sm->data_len,
			      sm->attrs,
			      sm->attrs_len,
			      sm->key,
			      strtoll(sm->id, NULL, 10),
			      sm->attempt };
	struct push_target t = { w->name, w->topic_name, w->has_dlq, &w->cfg, oidc_token(w) };
	struct curl_slist *h;
	char *body;
	size_t len;
	push_format_build(&t, &m, broker_now_ms() / 1000, &h, &body, &len);
	struct delivery *dv = mem_calloc(1, sizeof(*dv));
	dv->w = w;
	snprintf(dv->entry, sizeof(dv->entry), "%s", sm->id);
	dv->attempt = m.attempt;
	snprintf(dv->attempt_s, sizeof(dv->attempt_s), "%ld", m.attempt);
	if (http_client_post(w->d->hc, w->cfg.endpoint, h, body, len, w->ack_ms, w->cfg.ca_file,
			     on_done, dv) != 0) {
		/* Not sent: the lease expires and the message comes back. */
		mem_free(dv);
		return;
	}
	w->inflight++;
}

static void on_pulled(redisReply *r, void *arg)
{
	struct worker *w = arg;
	w->pulling = 0;
	if (maybe_free(w))
		return;
	struct store_pulled p;
	if (store_pulled_decode(r, &p) != ERR_OK) {
		arm(w, REFRESH_MS); /* Redis down or subscription gone: refresh decides */
		return;
	}
	w->has_dlq = p.has_dlq;
	w->dead_lettered += (unsigned long long)p.dead_lettered;
	for (size_t i = 0; i < p.n; i++) {
		struct store_msg m;
		store_pulled_msg(&p, i, &m);
		deliver_one(w, &m);
	}
	if (p.n == 0)
		arm(w, IDLE_RETRY_MS);
	else
		worker_kick(w);
}

static void worker_kick(struct worker *w)
{
	struct deliver *d = w->d;
	if (!w->alive || d->quiesced || w->pulling || w->topic[0] == '\0')
		return;
	int64_t now = broker_now_ms();
	if (now < w->pause_until_ms) {
		arm(w, w->pause_until_ms - now);
		return;
	}
	/* push_max_window may have been lowered by SIGHUP (core/reload.c). */
	w->window = fmin(w->window, (double)d->b->cfg.push_max_window);
	long room = (long)floor(w->window) - w->inflight;
	/* Refill in batches (half the window), not one pull per completion. */
	if (room <= 0 || (w->inflight > 0 && room < (long)floor(w->window) / 2))
		return; /* a completion kicks again */
	if (room > 1000)
		room = 1000;
	/* Pushes run concurrently: of an ordered subscription, one message per
	 * orderingKey at a time (the next one waits for its ack). */
	if (store_pull(d->b->link, w->sub, now, room, 0, 1, on_pulled, w) == 0)
		w->pulling = 1;
	else
		arm(w, REFRESH_MS);
}

static struct worker *find(struct deliver *d, const char *sub, size_t len)
{
	for (struct worker *w = d->workers; w; w = w->next)
		if (strlen(w->sub) == len && memcmp(w->sub, sub, len) == 0)
			return w;
	return NULL;
}

/* Creates or updates the worker of one push subscription. */
static void upsert(struct deliver *d, const redisReply *name, const redisReply *cfg,
		   const redisReply *ack, const redisReply *topic)
{
	if (name->len >= NAMES_KEY_MAX || topic->len >= NAMES_KEY_MAX)
		return;
	struct worker *w = find(d, name->str, name->len);
	if (w == NULL) {
		w = mem_calloc(1, sizeof(*w));
		w->d = d;
		memcpy(w->sub, name->str, name->len);
		const char *slash = strchr(w->sub, '/');
		snprintf(w->name, sizeof(w->name), "projects/%.*s/subscriptions/%s",
			 (int)(slash - w->sub), w->sub, slash + 1);
		w->tag = subscription_tag(w->sub);
		w->window = 1;
		w->timer = evtimer_new(d->b->base, on_timer, w);
		w->ack_ev = event_new(d->b->base, -1, 0, on_flush_acks, w);
		w->alive = 1;
		w->next = d->workers;
		d->workers = w;
		log_info("push %s: delivering", w->name);
	}
	w->seen = 1;
	if (w->cfg_text == NULL || strlen(w->cfg_text) != cfg->len ||
	    memcmp(w->cfg_text, cfg->str, cfg->len) != 0) {
		json_t *pc = json_loadb(cfg->str, cfg->len, 0, NULL);
		struct push_cfg pcfg;
		if (pc == NULL || push_config_parse(pc, &pcfg) != 0) {
			json_decref(pc);
			w->seen = 0; /* unusable: retire it */
			return;
		}
		json_decref(pc);
		w->cfg = pcfg;
		free(w->oidc); /* its account or audience may have changed */
		w->oidc = NULL;
		free(w->cfg_text);
		w->cfg_text = strndup(cfg->str, cfg->len);
		/* A new endpoint starts its slow start again. */
		w->window = 1;
		w->failures = 0;
		w->pause_until_ms = 0;
	}
	w->ack_ms = ack->str ? strtol(ack->str, NULL, 10) : 10000;
	if (w->ack_ms <= 0)
		w->ack_ms = 10000;
	memcpy(w->topic, topic->str, topic->len);
	w->topic[topic->len] = '\0';
	const char *slash = strchr(w->topic, '/');
	if (slash)
		snprintf(w->topic_name, sizeof(w->topic_name), "projects/%.*s/topics/%s",
			 (int)(slash - w->topic), w->topic, slash + 1);
}

static void on_list(redisReply *r, void *arg)
{
	struct deliver *d = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return; /* Redis down: keep what runs, try again next tick */
	for (struct worker *w = d->workers; w; w = w->next)
		w->seen = 0;
	for (size_t i = 0; i + 3 < r->elements; i += 4)
		upsert(d, r->element[i], r->element[i + 1], r->element[i + 2], r->element[i + 3]);
	struct worker *w = d->workers, *next;
	for (; w; w = next) {
		next = w->next;
		if (!w->seen && w->alive) {
			/* Deleted, or its push config removed: stop. Requests
			 * in flight finish; their acks go nowhere harmful. */
			log_info("push %s: stopped (subscription deleted or no push config)",
				 w->name);
			w->alive = 0;
			evtimer_del(w->timer);
			maybe_free(w);
		} else if (w->alive) {
			worker_kick(w);
		}
	}
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct deliver *d = arg;
	if (!d->quiesced && store_ready(d->b->link))
		store_push_list(d->b->link, on_list, d);
}

static void quiesce(void *state)
{
	((struct deliver *)state)->quiesced = 1;
}

static long pending(void *state)
{
	long n = 0;
	for (struct worker *w = ((struct deliver *)state)->workers; w; w = w->next)
		n += w->inflight;
	return n;
}

static void stop(void *state)
{
	struct deliver *d = state;
	/* Transfers still running are aborted: their callbacks nack the
	 * messages, which any broker then delivers again. */
	d->quiesced = 1;
	http_client_free(d->hc);
	d->hc = NULL;
	while (d->workers)
		worker_free(d->workers);
	event_free(d->refresh);
	mem_free(d);
}

static const struct module_ops push_module = {
	.name = "push",
	.quiesce = quiesce,
	.pending = pending,
	.stop = stop,
};

/* Messages were published to topic (NULL: any): kick its workers. */
static void on_wake(void *arg, const char *topic)
{
	struct deliver *d = arg;
	for (struct worker *w = d->workers; w; w = w->next)
		if (topic == NULL || strcmp(w->topic, topic) == 0) {
			evtimer_del(w->timer);
			worker_kick(w);
		}
}

static void write_metrics(void *arg, struct evbuffer *out);

int push_start(struct broker *b)
{
	struct deliver *d = mem_calloc(1, sizeof(*d));
	d->b = b;
	d->hc = http_client_new(b->base, b->cfg.push_allow_link_local, b->cfg.push_client == 1);
	d->refresh = event_new(b->base, -1, EV_PERSIST, on_refresh, d);
	struct timeval tv = { REFRESH_MS / 1000, (REFRESH_MS % 1000) * 1000 };
	event_add(d->refresh, &tv);
	broker_add_module(b, &push_module, d);
	wake_observe(b, on_wake, d);
	metrics_add_writer(write_metrics, d);
	return 0;
}

static void write_metrics(void *arg, struct evbuffer *out)
{
	struct deliver *d = arg;
	static const char *const classes[] = { "ack", "nack", "timeout", "error" };
	evbuffer_add_printf(out, "# HELP regnotify_push_requests_total Push requests by outcome "
				 "(ack = 102/200/201/202/204).\n"
				 "# TYPE regnotify_push_requests_total counter\n");
	for (struct worker *w = d->workers; w; w = w->next)
		for (int k = 0; k < 4; k++)
			evbuffer_add_printf(out,
					    "regnotify_push_requests_total{subscription=\"%s\","
					    "response_class=\"%s\"} %llu\n",
					    w->name, classes[k], w->by_class[k]);
	evbuffer_add_printf(out,
			    "# HELP regnotify_push_request_latency_seconds Push request "
			    "latency.\n# TYPE regnotify_push_request_latency_seconds summary\n");
	for (struct worker *w = d->workers; w; w = w->next)
		evbuffer_add_printf(
			out,
			"regnotify_push_request_latency_seconds_sum{subscription=\"%s\"} "
			"%.6f\nregnotify_push_request_latency_seconds_count{subscription="
			"\"%s\"} %llu\n",
			w->name, w->latency_sum, w->name, w->latency_n);
	evbuffer_add_printf(out, "# HELP regnotify_push_dead_lettered_total Messages forwarded to "
				 "the dead-letter topic by push delivery.\n"
				 "# TYPE regnotify_push_dead_lettered_total counter\n");
	for (struct worker *w = d->workers; w; w = w->next)
		evbuffer_add_printf(out,
				    "regnotify_push_dead_lettered_total{subscription=\"%s\"} "
				    "%llu\n",
				    w->name, w->dead_lettered);
	evbuffer_add_printf(out, "# HELP regnotify_push_outstanding Push requests in flight.\n"
				 "# TYPE regnotify_push_outstanding gauge\n");
	for (struct worker *w = d->workers; w; w = w->next)
		evbuffer_add_printf(out, "regnotify_push_outstanding{subscription=\"%s\"} %d\n",
				    w->name, w->inflight);
	evbuffer_add_printf(out, "# HELP regnotify_push_window Slow-start window (concurrent "
				 "requests allowed).\n# TYPE regnotify_push_window gauge\n");
	for (struct worker *w = d->workers; w; w = w->next)
		evbuffer_add_printf(out, "regnotify_push_window{subscription=\"%s\"} %.0f\n",
				    w->name, w->window);
}
