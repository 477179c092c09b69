/* publisher.c - asynchronous batched publishing.
 *
 * Threads: max_inflight_batches sender threads share one FIFO queue under
 * p->mu. A sender takes the longest ready prefix of the queue (same
 * ordering key, at most max_batch_messages / max_batch_bytes), publishes it
 * synchronously and runs the callbacks; so "one sender = one batch in
 * flight" and the thread count is the in-flight limit. A prefix is ready
 * when it is full, when the next message has another ordering key (one
 * publish request takes one key), when its oldest message waited
 * max_latency_ms, or when a flush or free is waiting.
 *
 * Flush: every message gets a sequence number; a flush waits until the
 * lowest sequence still queued or in flight is past the last one queued
 * before the call. Failed batches are remembered (a small ring) so that
 * the flush can report the first error among its messages. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH_MESSAGES 100
#define DEFAULT_BATCH_BYTES 1000000
#define DEFAULT_LATENCY_MS 5
#define DEFAULT_OUTSTANDING 10000
#define DEFAULT_INFLIGHT 4
#define MAX_INFLIGHT 64
#define ERR_RING 64
#define TOPIC_MAX 512
/* The broker takes at most this many data + attribute bytes per publish. */
#define BROKER_MAX_BYTES 10000000

struct pub_entry {
	json_t *msg;
	size_t bytes;
	const char *okey; /* points into msg ("" when none) */
	rn_publish_cb cb;
	void *arg;
	uint64_t seq;
	int64_t enq_ms;
	struct pub_entry *next;
};

struct pub_err {
	uint64_t first, last; /* sequence range of the failed batch */
	int err;
};

struct sender {
	struct rn_publisher *p;
	pthread_t thread;
	bool busy;
	uint64_t first_seq; /* of the batch in flight, when busy */
};

struct rn_publisher {
	struct rn_client *c;
	char topic[TOPIC_MAX];
	size_t max_msgs, max_bytes, max_outstanding;
	int latency_ms;

	pthread_mutex_t mu;
	pthread_cond_t work;  /* senders: queue changed */
	pthread_cond_t space; /* producers: outstanding went down */
	pthread_cond_t done;  /* flushes: a batch completed */
	struct pub_entry *head, *tail;
	size_t outstanding; /* queued + in flight */
	uint64_t next_seq;
	int flushing;
	bool closing;
	struct pub_err errs[ERR_RING];
	uint64_t nerrs;
	struct sender *senders;
	int nsenders;
};

void rn_publisher_opts_init(struct rn_publisher_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_batch_messages = DEFAULT_BATCH_MESSAGES;
	o->max_batch_bytes = DEFAULT_BATCH_BYTES;
	o->max_latency_ms = DEFAULT_LATENCY_MS;
	o->max_outstanding = DEFAULT_OUTSTANDING;
	o->max_inflight_batches = DEFAULT_INFLIGHT;
}

/* The lowest sequence number not yet completed. Called with p->mu held. */
static uint64_t lowest_pending(const struct rn_publisher *p)
{
	uint64_t low = p->head ? p->head->seq : p->next_seq;
	for (int i = 0; i < p->nsenders; i++)
		if (p->senders[i].busy && p->senders[i].first_seq < low)
			low = p->senders[i].first_seq;
	return low;
}

/* Length of the batch at the head of the queue and whether it is ready to
 * go now; *wake_ms: when it will be ready by latency. With p->mu held. */
static size_t ready_prefix(const struct rn_publisher *p, int64_t now, bool *ready, int64_t *wake_ms)
{
	const struct pub_entry *e = p->head;
	size_t k = 0, bytes = 0;
	*ready = p->closing || p->flushing > 0 || now - e->enq_ms >= p->latency_ms;
	*wake_ms = e->enq_ms + p->latency_ms;
	for (; e; e = e->next) {
		if (k > 0 && strcmp(e->okey, p->head->okey) != 0) {
			*ready = true; /* the batch cannot grow */
			break;
		}
		if (k > 0 && bytes + e->bytes > p->max_bytes) {
			*ready = true;
			break;
		}
		k++;
		bytes += e->bytes;
		if (k == p->max_msgs) {
			*ready = true;
			break;
		}
	}
	return k;
}

/* Publishes one batch (owned) and completes its entries. Runs on a
 * sender thread without the lock. */
static void send_batch(struct rn_publisher *p, struct sender *s, struct pub_entry *batch, size_t k)
{
	json_t *arr = json_array();
	char **ids = calloc(k, sizeof(char *));
	int rv = 0;
	if (!arr || !ids)
		rv = RN_ENOMEM;
	for (struct pub_entry *e = batch; e && !rv; e = e->next)
		if (json_array_append(arr, e->msg) != 0)
			rv = RN_ENOMEM;
	if (!rv)
		rv = resources_publish(p->c, p->topic, arr, ids);
	if (rv)
		client_log(p->c, RN_LOG_WARN, "publish of %zu messages to %s failed: %s (%s)", k,
			   p->topic, rn_strerror(rv), rn_last_error_message());
	json_decref(arr);

	/* Room for producers first: a callback may publish again. */
	pthread_mutex_lock(&p->mu);
	p->outstanding -= k;
	if (rv) {
		struct pub_err *pe = &p->errs[p->nerrs++ % ERR_RING];
		pe->first = batch->seq;
		for (struct pub_entry *e = batch; e; e = e->next)
			pe->last = e->seq;
		pe->err = rv;
	}
	pthread_cond_broadcast(&p->space);
	pthread_mutex_unlock(&p->mu);

	size_t i = 0;
	for (struct pub_entry *e = batch, *next; e; e = next, i++) {
		next = e->next;
		if (e->cb)
			e->cb(e->arg, rv, rv ? NULL : ids[i]);
		json_decref(e->msg);
		free(e);
	}
	if (ids)
		client_strv_free(ids, rv ? 0 : k);

	pthread_mutex_lock(&p->mu);
	s->busy = false;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct rn_publisher *p = s->p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!p->head) {
			if (p->closing)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		bool ready;
		int64_t wake;
		size_t k = ready_prefix(p, client_now_ms(), &ready, &wake);
		if (!ready) {
			struct timespec ts;
			client_abstime(wake, &ts);
			pthread_cond_timedwait(&p->work, &p->mu, &ts);
			continue;
		}
		struct pub_entry *batch = p->head, *last = batch;
		for (size_t i = 1; i < k; i++)
			last = last->next;
		p->head = last->next;
		if (!p->head)
			p->tail = NULL;
		last->next = NULL;
		s->busy = true;
		s->first_seq = batch->seq;
		/* Another sender may take what is left. */
		if (p->head)
			pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
		send_batch(p, s, batch, k);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int rn_publisher_new(struct rn_publisher **out, struct rn_client *c, const char *topic,
		     const struct rn_publisher_opts *o)
{
	struct rn_publisher_opts def;
	if (!out || !c)
		return errors_set(RN_EINVAL, "out or client is NULL");
	*out = NULL;
	rn_publisher_opts_init(&def);
	if (!o)
		o = &def;
	if (o->max_batch_messages > CLIENT_MAX_BATCH || o->max_batch_bytes > BROKER_MAX_BYTES ||
	    o->max_latency_ms < 0 || o->max_inflight_batches < 0 ||
	    o->max_inflight_batches > MAX_INFLIGHT)
		return errors_set(RN_EINVAL,
				  "Invalid publisher options (max_batch_messages <= %d, "
				  "max_batch_bytes <= %d, max_latency_ms >= 0, "
				  "max_inflight_batches 0..%d)",
				  CLIENT_MAX_BATCH, BROKER_MAX_BYTES, MAX_INFLIGHT);
	struct rn_publisher *p = calloc(1, sizeof(*p));
	if (!p)
		return errors_set(RN_ENOMEM, "Out of memory");
	int rv = client_resolve(c->project, "topics", topic, p->topic, sizeof(p->topic));
	if (rv) {
		free(p);
		return rv;
	}
	p->c = c;
	p->max_msgs = o->max_batch_messages ? o->max_batch_messages : DEFAULT_BATCH_MESSAGES;
	p->max_bytes = o->max_batch_bytes ? o->max_batch_bytes : DEFAULT_BATCH_BYTES;
	/* 0 is a real setting here: no waiting, a batch leaves as soon as a
	 * sender is free (batches then form only while all senders are busy). */
	p->latency_ms = o->max_latency_ms;
	p->max_outstanding = o->max_outstanding ? o->max_outstanding : DEFAULT_OUTSTANDING;
	p->nsenders = o->max_inflight_batches ? o->max_inflight_batches : DEFAULT_INFLIGHT;
	pthread_mutex_init(&p->mu, NULL);
	client_cond_init(&p->work);
	client_cond_init(&p->space);
	client_cond_init(&p->done);
	p->senders = calloc((size_t)p->nsenders, sizeof(*p->senders));
	if (!p->senders) {
		p->nsenders = 0;
		rn_publisher_free(p);
		return errors_set(RN_ENOMEM, "Out of memory");
	}
	int started = 0;
	for (; started < p->nsenders; started++) {
		p->senders[started].p = p;
		if (pthread_create(&p->senders[started].thread, NULL, sender_main,
				   &p->senders[started]) != 0)
			break;
	}
	if (started < p->nsenders) {
		p->nsenders = started;
		rn_publisher_free(p);
		return errors_set(RN_ENOMEM, "Cannot start the publisher threads");
	}
	*out = p;
	return 0;
}

int rn_publish_async(struct rn_publisher *p, const struct rn_pubmsg *m, rn_publish_cb cb, void *arg)
{
	if (!p)
		return errors_set(RN_EINVAL, "publisher is NULL");
	struct pub_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return errors_set(RN_ENOMEM, "Out of memory");
	int rv = message_pub_json(m, &e->msg, &e->bytes);
	if (rv) {
		free(e);
		return rv;
	}
	const json_t *k = json_object_get(e->msg, "orderingKey");
	e->okey = k ? json_string_value(k) : "";
	e->cb = cb;
	e->arg = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->closing && p->outstanding >= p->max_outstanding)
		pthread_cond_wait(&p->space, &p->mu);
	if (p->closing) {
		pthread_mutex_unlock(&p->mu);
		json_decref(e->msg);
		free(e);
		return errors_set(RN_ECLOSED, "The publisher is closing");
	}
	e->seq = p->next_seq++;
	e->enq_ms = client_now_ms();
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->outstanding++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int rn_publisher_flush(struct rn_publisher *p)
{
	if (!p)
		return errors_set(RN_EINVAL, "publisher is NULL");
	pthread_mutex_lock(&p->mu);
	uint64_t target = p->next_seq, from = lowest_pending(p);
	p->flushing++;
	pthread_cond_broadcast(&p->work);
	while (lowest_pending(p) < target)
		pthread_cond_wait(&p->done, &p->mu);
	p->flushing--;
	int rv = 0;
	uint64_t best = UINT64_MAX;
	uint64_t n = p->nerrs < ERR_RING ? p->nerrs : ERR_RING;
	for (uint64_t i = 0; i < n; i++) {
		const struct pub_err *pe = &p->errs[i];
		if (pe->last >= from && pe->first < target && pe->first < best) {
			best = pe->first;
			rv = pe->err;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (rv)
		errors_set(rv, "A message of the flush failed: %s", rn_strerror(rv));
	return rv;
}

void rn_publisher_free(struct rn_publisher *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->space);
	pthread_mutex_unlock(&p->mu);
	/* The senders drain the queue before they exit. */
	for (int i = 0; i < p->nsenders; i++)
		pthread_join(p->senders[i].thread, NULL);
	free(p->senders);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->space);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
