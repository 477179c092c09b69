/* subscriber.c - the streaming subscriber.
 *
 * Threads (all share core->mu):
 *   pullers  (opts.pullers)  long-poll :pull with maxMessages = the free
 *            capacity (max_outstanding_messages - outstanding - what the
 *            other pullers asked for), pause while outstanding_bytes is at
 *            its limit; failures go to the status callback and are retried
 *            with exponential backoff (100 ms .. 5 s, jitter) until stop.
 *            Each puller has its own nng context so that stop can abort
 *            its long poll by closing the context.
 *   workers  (opts.threads)  take messages from the queue and run the
 *            callback.
 *   lease    every second, picks the outstanding messages whose lease ends
 *            within 2/3 of lease_s (so about every lease_s/3, and at once
 *            when the subscription's deadline is shorter than that), until
 *            max_extension_s, and queues modifyAckDeadline(lease_s) for
 *            them.
 *   acker    sends the extensions, acks and nacks (modifyAckDeadline 0)
 *            gathered from any thread, ACK_DELAY_MS after the first one or
 *            at CLIENT_MAX_BATCH ids. One thread sends all three, in that
 *            order, so an extension picked before a nack can never reach
 *            the broker after it and undo the nack (and one picked after
 *            cannot contain the nacked message: it left the list).
 * A message is "outstanding" from its receipt until its ack/nack, whether
 * it is still queued or held by the application. Every streaming message
 * holds a reference to the core, so an ack after rn_subscriber_stop is
 * safe. */
#include "internal.h"

#include <nng/supplemental/util/platform.h>

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_MESSAGES 1000
#define DEFAULT_MAX_BYTES (100u * 1024 * 1024)
#define DEFAULT_THREADS 4
#define DEFAULT_PULLERS 2
#define DEFAULT_MAX_EXTENSION_S 3600
#define DEFAULT_LEASE_S 30
#define MAX_THREADS 256
#define ACK_DELAY_MS 5
#define LEASE_TICK_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define ACK_RETRY_MS 500
/* Longest a stop waits for each pending ack/nack request. */
#define STOP_FLUSH_TIMEOUT_MS 2000
#define SUB_MAX 512

/* A growable array of ack ids. */
struct idvec {
	char **v;
	size_t n, cap;
};

struct subscriber_core {
	pthread_mutex_t mu;
	int refs; /* the handle + one per streaming message alive */
	struct rn_client *c;
	char sub[SUB_MAX];
	char pull_path[SUB_MAX + 16];
	size_t max_msgs, max_bytes;
	int nthreads, npullers, max_ext_s, lease_s, sub_deadline_s;
	rn_message_cb cb;
	void *cb_arg;
	rn_subscriber_status_cb status;
	void *status_arg;

	bool stopping, stopped, lease_exit, ack_exit;
	size_t outstanding, out_bytes, reserved, max_seen;
	struct rn_message *all;             /* outstanding messages (prev/next) */
	struct rn_message *q_head, *q_tail; /* to hand out (qnext) */
	struct idvec acks, nacks, ext;
	int64_t first_pending_ms;
	uint64_t flush_req, flush_done;
	uint64_t received, acked, nacked, extensions, reconnects;

	pthread_cond_t pull_cv;  /* pullers: capacity or stop */
	pthread_cond_t work_cv;  /* workers: queue or stop */
	pthread_cond_t lease_cv; /* lease thread: new messages or exit */
	pthread_cond_t ack_cv;   /* acker: ids, flush or exit */
	pthread_cond_t done_cv;  /* flush done, stop done */

	pthread_mutex_t status_mu; /* serializes status callbacks */
	int last_status;

	nng_ctx *pctx;
	pthread_t *pullers, *workers, lease_t, ack_t;
	int started_pullers, started_workers;
	bool lease_started, ack_started;
};

struct rn_subscriber {
	struct subscriber_core *core;
	struct puller_arg {
		struct subscriber_core *core;
		int idx;
	} * pargs;
};

void rn_subscriber_opts_init(struct rn_subscriber_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_outstanding_messages = DEFAULT_MAX_MESSAGES;
	o->max_outstanding_bytes = DEFAULT_MAX_BYTES;
	o->threads = DEFAULT_THREADS;
	o->pullers = DEFAULT_PULLERS;
	o->max_extension_s = DEFAULT_MAX_EXTENSION_S;
	o->lease_s = DEFAULT_LEASE_S;
}

static int idvec_push(struct idvec *iv, char *id)
{
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 64;
		char **v = realloc(iv->v, cap * sizeof(char *));
		if (!v)
			return -1;
		iv->v = v;
		iv->cap = cap;
	}
	iv->v[iv->n++] = id;
	return 0;
}

/* Moves the ids of src to the end of dst (src emptied). */
static void idvec_take(struct idvec *dst, struct idvec *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (idvec_push(dst, src->v[i]) != 0)
			free(src->v[i]); /* out of memory: the lease will expire */
	src->n = 0;
}

static void core_release(struct subscriber_core *core)
{
	pthread_mutex_lock(&core->mu);
	bool last = --core->refs == 0;
	pthread_mutex_unlock(&core->mu);
	if (!last)
		return;
	client_strv_free(core->acks.v, core->acks.n);
	client_strv_free(core->nacks.v, core->nacks.n);
	client_strv_free(core->ext.v, core->ext.n);
	pthread_cond_destroy(&core->pull_cv);
	pthread_cond_destroy(&core->work_cv);
	pthread_cond_destroy(&core->lease_cv);
	pthread_cond_destroy(&core->ack_cv);
	pthread_cond_destroy(&core->done_cv);
	pthread_mutex_destroy(&core->status_mu);
	pthread_mutex_destroy(&core->mu);
	free(core->pctx);
	free(core->pullers);
	free(core->workers);
	free(core);
}

/* Unlinks m from the outstanding list and queues its ack id for an ack or
 * a nack. With core->mu held; m is freed by the caller. */
static void settle_locked(struct subscriber_core *core, struct rn_message *m, bool nack)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		core->all = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->prev = m->next = NULL;
	core->outstanding--;
	core->out_bytes -= m->len;
	struct idvec *iv = nack ? &core->nacks : &core->acks;
	bool was_empty = core->acks.n == 0 && core->nacks.n == 0 && core->ext.n == 0;
	if (idvec_push(iv, m->ack_id) == 0)
		m->ack_id = NULL;
	if (was_empty)
		core->first_pending_ms = client_now_ms();
	if (was_empty || iv->n >= CLIENT_MAX_BATCH)
		pthread_cond_signal(&core->ack_cv);
	pthread_cond_broadcast(&core->pull_cv);
}

void subscriber_settle(struct rn_message *m, bool nack)
{
	struct subscriber_core *core = m->core;
	pthread_mutex_lock(&core->mu);
	settle_locked(core, m, nack);
	pthread_mutex_unlock(&core->mu);
	message_free(m);
	core_release(core);
}

/* Calls the status callback when the state changed. No lock held. */
static void report_status(struct subscriber_core *core, int err)
{
	pthread_mutex_lock(&core->status_mu);
	if (err != core->last_status) {
		core->last_status = err;
		if (core->status)
			core->status(core->status_arg, err);
	}
	pthread_mutex_unlock(&core->status_mu);
}

/* ------------------------------------------------------------------ */
/* Pullers */

static size_t capacity(const struct subscriber_core *core)
{
	size_t used = core->outstanding + core->reserved;
	if (used >= core->max_msgs || core->out_bytes >= core->max_bytes)
		return 0;
	return core->max_msgs - used;
}

/* Adds the pulled messages to the outstanding list and the queue. With
 * core->mu held. */
static void add_received(struct subscriber_core *core, struct rn_message **msgs, size_t n)
{
	int64_t now = client_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct rn_message *m = msgs[i];
		m->core = core;
		core->refs++;
		m->received_ms = now;
		m->lease_until_ms = now + (int64_t)core->sub_deadline_s * 1000;
		m->next = core->all;
		if (core->all)
			core->all->prev = m;
		core->all = m;
		if (core->q_tail)
			core->q_tail->qnext = m;
		else
			core->q_head = m;
		core->q_tail = m;
		core->outstanding++;
		core->out_bytes += m->len;
	}
	core->received += n;
	if (core->outstanding > core->max_seen)
		core->max_seen = core->outstanding;
	pthread_cond_broadcast(&core->work_cv);
	pthread_cond_signal(&core->lease_cv);
}

static int backoff_ms(int failures)
{
	int d = BACKOFF_MIN_MS;
	for (int i = 1; i < failures && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* Jitter: between half and all of it, so pullers of many clients do
	 * not come back in lockstep. */
	return d / 2 + (int)(nng_random() % (uint32_t)(d / 2 + 1));
}

static void *puller_main(void *arg)
{
	struct puller_arg *pa = arg;
	struct subscriber_core *core = pa->core;
	nng_ctx *ctx = &core->pctx[pa->idx];
	int failures = 0;
	pthread_mutex_lock(&core->mu);
	for (;;) {
		while (!core->stopping && capacity(core) == 0)
			pthread_cond_wait(&core->pull_cv, &core->mu);
		if (core->stopping)
			break;
		size_t n = capacity(core);
		if (n > CLIENT_MAX_BATCH)
			n = CLIENT_MAX_BATCH;
		core->reserved += n;
		pthread_mutex_unlock(&core->mu);

		struct rn_message **msgs = NULL;
		size_t got = 0;
		int rv = client_pull(core->c, ctx, core->pull_path, (int)n, true,
				     client_longpoll_timeout(core->c), &msgs, &got);
		if (rv && rv != RN_ECLOSED)
			client_log(core->c, RN_LOG_WARN, "pull from %s failed: %s (%s)", core->sub,
				   rn_strerror(rv), rn_last_error_message());
		else if (rv == 0)
			report_status(core, 0);

		pthread_mutex_lock(&core->mu);
		core->reserved -= n;
		if (!rv) {
			failures = 0;
			add_received(core, msgs, got);
			free(msgs);
			continue;
		}
		if (core->stopping)
			break;
		failures++;
		core->reconnects++;
		int delay = backoff_ms(failures);
		pthread_mutex_unlock(&core->mu);
		report_status(core, rv);
		pthread_mutex_lock(&core->mu);
		struct timespec ts;
		client_abstime(client_now_ms() + delay, &ts);
		while (!core->stopping)
			if (pthread_cond_timedwait(&core->pull_cv, &core->mu, &ts) != 0)
				break;
	}
	pthread_mutex_unlock(&core->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Workers */

static void *worker_main(void *arg)
{
	struct subscriber_core *core = arg;
	pthread_mutex_lock(&core->mu);
	for (;;) {
		while (!core->stopping && !core->q_head)
			pthread_cond_wait(&core->work_cv, &core->mu);
		if (core->stopping)
			break;
		struct rn_message *m = core->q_head;
		core->q_head = m->qnext;
		if (!core->q_head)
			core->q_tail = NULL;
		m->qnext = NULL;
		pthread_mutex_unlock(&core->mu);
		core->cb(core->cb_arg, m);
		pthread_mutex_lock(&core->mu);
	}
	pthread_mutex_unlock(&core->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Lease extension */

static void *lease_main(void *arg)
{
	struct subscriber_core *core = arg;
	int64_t lease_ms = (int64_t)core->lease_s * 1000;
	pthread_mutex_lock(&core->mu);
	while (!core->lease_exit) {
		int64_t now = client_now_ms();
		bool was_empty = core->acks.n == 0 && core->nacks.n == 0 && core->ext.n == 0;
		size_t before = core->ext.n;
		for (struct rn_message *m = core->all; m; m = m->next) {
			if (now - m->received_ms >= (int64_t)core->max_ext_s * 1000 || !m->ack_id)
				continue;
			if (m->lease_until_ms - now > lease_ms * 2 / 3)
				continue;
			char *id = strdup(m->ack_id);
			if (!id || idvec_push(&core->ext, id) != 0) {
				free(id);
				break;
			}
			m->lease_until_ms = now + lease_ms;
		}
		if (core->ext.n > before) {
			if (was_empty)
				core->first_pending_ms = now;
			pthread_cond_signal(&core->ack_cv);
		}
		struct timespec ts;
		client_abstime(client_now_ms() + LEASE_TICK_MS, &ts);
		if (!core->lease_exit)
			pthread_cond_timedwait(&core->lease_cv, &core->mu, &ts);
	}
	pthread_mutex_unlock(&core->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Acks and nacks */

static bool retryable(int err)
{
	return err == RN_EUNAVAIL || err == RN_ETIMEDOUT || err == RN_ECONNREFUSED ||
	       err == RN_EINTERNAL || err == RN_ENOMEM;
}

enum send_kind { SEND_EXTEND, SEND_ACK, SEND_NACK };

/* Sends ids as kind and frees them. A failed ack or nack that may succeed
 * later goes into back (unless exiting); a failed extension is dropped
 * (the message may be redelivered: at least once). Runs without the lock;
 * takes it to count. Returns true when it failed. */
static bool send_ids(struct subscriber_core *core, struct idvec *ids, struct idvec *back,
		     enum send_kind kind)
{
	static const char *const names[] = { "lease extension", "ack", "nack" };
	if (ids->n == 0)
		return false;
	int seconds = kind == SEND_EXTEND ? core->lease_s : kind == SEND_NACK ? 0 : -1;
	/* While stopping, a broker that is down must not hold the stop for a
	 * whole request timeout: unsent acks only mean redelivery. */
	pthread_mutex_lock(&core->mu);
	int timeout_ms = core->stopping ? STOP_FLUSH_TIMEOUT_MS : 0;
	pthread_mutex_unlock(&core->mu);
	int rv = resources_ack_ids(core->c, core->sub, (const char *const *)ids->v, ids->n, seconds,
				   timeout_ms);
	pthread_mutex_lock(&core->mu);
	if (!rv) {
		uint64_t *counter = kind == SEND_EXTEND ? &core->extensions
				    : kind == SEND_NACK ? &core->nacked
							: &core->acked;
		*counter += ids->n;
	} else if (back && retryable(rv) && !core->ack_exit) {
		idvec_take(back, ids);
	}
	pthread_mutex_unlock(&core->mu);
	if (rv)
		client_log(core->c, RN_LOG_WARN, "%s of %zu messages failed: %s (%s)", names[kind],
			   ids->n, rn_strerror(rv), rn_last_error_message());
	client_strv_free(ids->v, ids->n);
	memset(ids, 0, sizeof(*ids));
	return rv != 0 && kind != SEND_EXTEND;
}

static void *ack_main(void *arg)
{
	struct subscriber_core *core = arg;
	int64_t retry_at = 0;
	pthread_mutex_lock(&core->mu);
	for (;;) {
		bool pending = core->acks.n > 0 || core->nacks.n > 0 || core->ext.n > 0;
		bool flush = core->flush_req > core->flush_done;
		if (!pending) {
			if (flush) {
				core->flush_done = core->flush_req;
				pthread_cond_broadcast(&core->done_cv);
			}
			if (core->ack_exit)
				break;
			pthread_cond_wait(&core->ack_cv, &core->mu);
			continue;
		}
		int64_t now = client_now_ms();
		int64_t due = core->first_pending_ms + ACK_DELAY_MS;
		if (retry_at > due)
			due = retry_at;
		bool full = core->acks.n >= CLIENT_MAX_BATCH || core->nacks.n >= CLIENT_MAX_BATCH;
		if (!flush && !core->ack_exit && !full && now < due) {
			struct timespec ts;
			client_abstime(due, &ts);
			pthread_cond_timedwait(&core->ack_cv, &core->mu, &ts);
			continue;
		}
		uint64_t req = core->flush_req;
		struct idvec acks = core->acks, nacks = core->nacks, ext = core->ext;
		memset(&core->acks, 0, sizeof(core->acks));
		memset(&core->nacks, 0, sizeof(core->nacks));
		memset(&core->ext, 0, sizeof(core->ext));
		core->first_pending_ms = 0;
		pthread_mutex_unlock(&core->mu);
		/* Failed ids go to fresh vectors (the shared ones may have
		 * grown meanwhile) and are merged back below. */
		struct idvec back_a = { 0 }, back_n = { 0 };
		send_ids(core, &ext, NULL, SEND_EXTEND);
		bool failed = send_ids(core, &acks, &back_a, SEND_ACK);
		failed = send_ids(core, &nacks, &back_n, SEND_NACK) || failed;
		pthread_mutex_lock(&core->mu);
		idvec_take(&core->acks, &back_a);
		idvec_take(&core->nacks, &back_n);
		free(back_a.v);
		free(back_n.v);
		retry_at = failed ? client_now_ms() + ACK_RETRY_MS : 0;
		/* One attempt per id is what a flush waits for. */
		if (req > core->flush_done) {
			core->flush_done = req;
			pthread_cond_broadcast(&core->done_cv);
		}
	}
	pthread_mutex_unlock(&core->mu);
	return NULL;
}

/* Waits until every ack and nack queued so far was sent once. */
static void flush_acks(struct subscriber_core *core)
{
	pthread_mutex_lock(&core->mu);
	if (core->ack_started) {
		uint64_t mine = ++core->flush_req;
		pthread_cond_signal(&core->ack_cv);
		while (core->flush_done < mine)
			pthread_cond_wait(&core->done_cv, &core->mu);
	}
	pthread_mutex_unlock(&core->mu);
}

/* ------------------------------------------------------------------ */
/* Lifecycle */

static int check_opts(const struct rn_subscriber_opts *o)
{
	if (o->threads < 0 || o->threads > MAX_THREADS || o->pullers < 0 ||
	    o->pullers > MAX_THREADS || o->max_extension_s < 0 ||
	    (o->lease_s != 0 && (o->lease_s < 10 || o->lease_s > 600)))
		return errors_set(RN_EINVAL,
				  "Invalid subscriber options (threads and pullers "
				  "0..%d, max_extension_s >= 0, lease_s 10..600)",
				  MAX_THREADS);
	return 0;
}

int rn_subscriber_new(struct rn_subscriber **out, struct rn_client *c, const char *sub,
		      const struct rn_subscriber_opts *o, rn_message_cb cb, void *arg)
{
	struct rn_subscriber_opts def;
	if (!out || !c || !cb)
		return errors_set(RN_EINVAL, "out, client or callback is NULL");
	*out = NULL;
	rn_subscriber_opts_init(&def);
	if (!o)
		o = &def;
	int rv = check_opts(o);
	if (rv)
		return rv;
	struct rn_subscriber *s = calloc(1, sizeof(*s));
	struct subscriber_core *core = calloc(1, sizeof(*core));
	if (!s || !core) {
		free(s);
		free(core);
		return errors_set(RN_ENOMEM, "Out of memory");
	}
	s->core = core;
	core->refs = 1;
	core->c = c;
	core->cb = cb;
	core->cb_arg = arg;
	core->status = o->status;
	core->status_arg = o->status_arg;
	core->last_status = -1;
	core->max_msgs =
		o->max_outstanding_messages ? o->max_outstanding_messages : DEFAULT_MAX_MESSAGES;
	core->max_bytes = o->max_outstanding_bytes ? o->max_outstanding_bytes : DEFAULT_MAX_BYTES;
	core->nthreads = o->threads ? o->threads : DEFAULT_THREADS;
	core->npullers = o->pullers ? o->pullers : DEFAULT_PULLERS;
	core->max_ext_s = o->max_extension_s ? o->max_extension_s : DEFAULT_MAX_EXTENSION_S;
	core->lease_s = o->lease_s ? o->lease_s : DEFAULT_LEASE_S;
	pthread_mutex_init(&core->mu, NULL);
	pthread_mutex_init(&core->status_mu, NULL);
	client_cond_init(&core->pull_cv);
	client_cond_init(&core->work_cv);
	client_cond_init(&core->lease_cv);
	client_cond_init(&core->ack_cv);
	client_cond_init(&core->done_cv);
	core->pctx = calloc((size_t)core->npullers, sizeof(nng_ctx));
	core->pullers = calloc((size_t)core->npullers, sizeof(pthread_t));
	core->workers = calloc((size_t)core->nthreads, sizeof(pthread_t));
	s->pargs = calloc((size_t)core->npullers, sizeof(*s->pargs));
	if (!core->pctx || !core->pullers || !core->workers || !s->pargs) {
		rv = errors_set(RN_ENOMEM, "Out of memory");
		goto fail;
	}
	if ((rv = client_resolve(c->project, "subscriptions", sub, core->sub, sizeof(core->sub))))
		goto fail;
	snprintf(core->pull_path, sizeof(core->pull_path), "/v1/%s:pull", core->sub);
	/* The subscription's deadline tells how soon the first extension is
	 * due; this also reports a missing subscription right away. */
	if ((rv = resources_sub_deadline(c, core->sub, &core->sub_deadline_s)))
		goto fail;
	for (int i = 0; i < core->npullers; i++) {
		int nrv = nng_ctx_open(&core->pctx[i], c->sock);
		if (nrv) {
			for (int j = 0; j < i; j++)
				nng_ctx_close(core->pctx[j]);
			rv = client_map_nng(nrv, true);
			goto fail;
		}
	}
	core->ack_started = pthread_create(&core->ack_t, NULL, ack_main, core) == 0;
	core->lease_started = pthread_create(&core->lease_t, NULL, lease_main, core) == 0;
	while (core->started_workers < core->nthreads &&
	       pthread_create(&core->workers[core->started_workers], NULL, worker_main, core) == 0)
		core->started_workers++;
	for (int i = 0; i < core->npullers; i++) {
		s->pargs[i].core = core;
		s->pargs[i].idx = i;
	}
	while (core->started_pullers < core->npullers &&
	       pthread_create(&core->pullers[core->started_pullers], NULL, puller_main,
			      &s->pargs[core->started_pullers]) == 0)
		core->started_pullers++;
	if (!core->ack_started || !core->lease_started || core->started_workers < core->nthreads ||
	    core->started_pullers < core->npullers) {
		rn_subscriber_free(s);
		return errors_set(RN_ENOMEM, "Cannot start the subscriber threads");
	}
	*out = s;
	return 0;
fail:
	free(s->pargs);
	free(s);
	core_release(core);
	return rv;
}

void rn_subscriber_stop(struct rn_subscriber *s)
{
	if (!s)
		return;
	struct subscriber_core *core = s->core;
	pthread_mutex_lock(&core->mu);
	if (core->stopping) {
		/* Another thread is stopping: wait for it. */
		while (!core->stopped)
			pthread_cond_wait(&core->done_cv, &core->mu);
		pthread_mutex_unlock(&core->mu);
		return;
	}
	core->stopping = true;
	pthread_cond_broadcast(&core->pull_cv);
	pthread_cond_broadcast(&core->work_cv);
	pthread_mutex_unlock(&core->mu);

	/* Closing a puller's context aborts its long poll at once. */
	for (int i = 0; i < core->npullers; i++)
		nng_ctx_close(core->pctx[i]);
	for (int i = 0; i < core->started_pullers; i++)
		pthread_join(core->pullers[i], NULL);
	for (int i = 0; i < core->started_workers; i++)
		pthread_join(core->workers[i], NULL);

	/* Received but never handed out: back to the broker. */
	pthread_mutex_lock(&core->mu);
	struct rn_message *q = core->q_head;
	core->q_head = core->q_tail = NULL;
	for (struct rn_message *m = q; m; m = m->qnext)
		settle_locked(core, m, true);
	pthread_mutex_unlock(&core->mu);
	for (struct rn_message *m = q, *next; m; m = next) {
		next = m->qnext;
		message_free(m);
		core_release(core);
	}

	if (core->lease_started) {
		pthread_mutex_lock(&core->mu);
		core->lease_exit = true;
		pthread_cond_signal(&core->lease_cv);
		pthread_mutex_unlock(&core->mu);
		pthread_join(core->lease_t, NULL);
		core->lease_started = false;
	}
	flush_acks(core);

	pthread_mutex_lock(&core->mu);
	core->stopped = true;
	pthread_cond_broadcast(&core->done_cv);
	pthread_mutex_unlock(&core->mu);
}

void rn_subscriber_free(struct rn_subscriber *s)
{
	if (!s)
		return;
	struct subscriber_core *core = s->core;
	rn_subscriber_stop(s);

	/* Messages the application still holds are nacked and freed. */
	pthread_mutex_lock(&core->mu);
	struct rn_message *held = core->all;
	for (struct rn_message *m = held; m; m = m->qnext) {
		m->qnext = m->next;
		settle_locked(core, m, true);
	}
	pthread_mutex_unlock(&core->mu);
	for (struct rn_message *m = held, *next; m; m = next) {
		next = m->qnext;
		message_free(m);
		core_release(core);
	}
	flush_acks(core);
	if (core->ack_started) {
		pthread_mutex_lock(&core->mu);
		core->ack_exit = true;
		pthread_cond_signal(&core->ack_cv);
		pthread_mutex_unlock(&core->mu);
		pthread_join(core->ack_t, NULL);
	}
	free(s->pargs);
	free(s);
	core_release(core);
}

void rn_subscriber_stats(struct rn_subscriber *s, struct rn_subscriber_stats *st)
{
	if (!s || !st)
		return;
	struct subscriber_core *core = s->core;
	pthread_mutex_lock(&core->mu);
	st->received = core->received;
	st->acked = core->acked;
	st->nacked = core->nacked;
	st->extensions = core->extensions;
	st->reconnects = core->reconnects;
	st->outstanding = core->outstanding;
	st->outstanding_bytes = core->out_bytes;
	st->max_outstanding_seen = core->max_seen;
	pthread_mutex_unlock(&core->mu);
}
