/* rnsub: benchmarks of libregnotify over nng (streaming subscriber).
 *
 *   rnsub drain -u URL [-n N=100000] [-s SIZE=300] [-P PROJECT]
 *       Pre-fills N messages of SIZE bytes with synchronous publishes of
 *       1000 (untimed), then times one streaming subscriber (library
 *       defaults: 2 long-poll pullers, 4 callback threads, 1000 outstanding)
 *       whose callback acks at once: from rn_subscriber_new until every
 *       message was handed to the callback and the subscriber's ack count
 *       reached N. Every payload carries its index: duplicates are counted
 *       and losses fail the run (a pull at the end checks nothing is left).
 *
 *   rnsub e2e -u URL [-n N=50000] [-r RATE=5000] [-m async|sync] [-t THREADS]
 *             [-P PROJECT]
 *       Open loop: message i is due at t0 + i/RATE (CLOCK_MONOTONIC,
 *       clock_nanosleep TIMER_ABSTIME). -m async (default): one thread hands
 *       each message at its due time to an rn_publisher with
 *       max_latency_ms 0 and THREADS (default 2) sender threads, so a
 *       message leaves at once when a sender is free and batches form only
 *       while all are busy; publish-ack = the publisher's callback. -m sync:
 *       THREADS (default 4) threads take every THREADS-th slot and publish it
 *       alone with rn_publish. The payload carries the due time; the
 *       streaming subscriber (its own connection) records callback time - due
 *       time, so a late publisher counts against the broker (no coordinated
 *       omission), and acks. Prints e2e (due -> callback) and publish-ack
 *       percentiles and the schedule lag, as rnbench e2e does.
 *
 * Output: one "key=value ..." line (latencies in microseconds). Bounded by N
 * and a deadline. Build: make -C bench (needs the CMake build of the
 * library, BUILD=../build by default). */
#define _GNU_SOURCE
#include <regnotify/client.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 180

static const char *g_url = "tcp://127.0.0.1:8086";
static const char *g_project = "benchproj";
static long g_n = 0, g_rate = 5000, g_size = 300;
static int g_pubthreads = 0; /* -t; default by mode */
static int g_async = 1;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "rnsub: %s: %s %s\n", what, rn_strerror(rc), rn_last_error_message());
	exit(1);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, long n, double p)
{
	if (n == 0)
		return -1;
	long i = (long)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void print_pcts(const char *key, int64_t *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	printf(" %s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f", key,
	       (double)pct(v, n, 0.50) / 1e3, key, (double)pct(v, n, 0.99) / 1e3, key,
	       (double)pct(v, n, 0.999) / 1e3, key, n ? (double)v[n - 1] / 1e3 : -1.0);
}

/* A client of g_url in g_project; exits when the broker cannot be reached. */
static struct rn_client *connect_or_die(void)
{
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = g_url;
	o.project = g_project;
	struct rn_client *c;
	int rc = rn_client_new(&c, &o);
	if (rc)
		die("connect", rc);
	return c;
}

/* A unique topic and subscription for this run. */
static void setup(struct rn_client *c, char *topic, char *sub, size_t n)
{
	unsigned tag = (unsigned)(now_ns() ^ getpid());
	snprintf(topic, n, "bench-t-%08x", tag);
	snprintf(sub, n, "bench-s-%08x", tag);
	int rc = rn_topic_create(c, topic, NULL, NULL);
	if (rc)
		die("topic create", rc);
	struct rn_subscription_opts so = { .ack_deadline_s = 60 };
	rc = rn_subscription_create(c, sub, topic, &so, NULL);
	if (rc)
		die("subscription create", rc);
}

/* ---------------------------------------------------------------- drain */

struct drain {
	atomic_long got, dups;
	unsigned char *seen;
};

static void on_drain(void *arg, struct rn_message *m)
{
	struct drain *d = arg;
	size_t len;
	const char *p = rn_message_data(m, &len);
	long idx = -1;
	if (len >= 12)
		idx = strtol(p, NULL, 10);
	if (idx >= 0 && idx < g_n) {
		/* one callback per message at a time; the byte write races only
		 * with a duplicate of the same message, counted either way */
		if (__atomic_exchange_n(&d->seen[idx], 1, __ATOMIC_RELAXED))
			atomic_fetch_add(&d->dups, 1);
		else
			atomic_fetch_add(&d->got, 1);
	}
	rn_message_ack(m);
}

static int run_drain(struct rn_client *c)
{
	char topic[64], sub[64];
	setup(c, topic, sub, sizeof(topic));
	char *bufs = malloc((size_t)g_n * (size_t)g_size);
	struct rn_pubmsg *msgs = calloc(1000, sizeof(*msgs));
	for (long i = 0; i < g_n; i += 1000) {
		long k = g_n - i < 1000 ? g_n - i : 1000;
		for (long j = 0; j < k; j++) {
			char *b = bufs + (size_t)(i + j) * (size_t)g_size;
			memset(b, 'x', (size_t)g_size);
			char idx[16];
			int w = snprintf(idx, sizeof(idx), "%011ld ", i + j);
			memcpy(b, idx, (size_t)w);
			msgs[j] = (struct rn_pubmsg){ .data = b, .len = (size_t)g_size };
		}
		int rc = rn_publish(c, topic, msgs, (size_t)k, NULL);
		if (rc)
			die("prefill publish", rc);
	}
	free(msgs);
	free(bufs);
	struct drain d = { .seen = calloc((size_t)g_n, 1) };
	atomic_init(&d.got, 0);
	atomic_init(&d.dups, 0);
	struct rn_subscriber *s;
	int64_t t0 = now_ns();
	int rc = rn_subscriber_new(&s, c, sub, NULL, on_drain, &d);
	if (rc)
		die("subscriber", rc);
	struct rn_subscriber_stats st;
	int64_t deadline = t0 + (int64_t)DEADLINE_S * 1000000000;
	for (;;) {
		rn_subscriber_stats(s, &st);
		if ((atomic_load(&d.got) >= g_n && st.acked >= (uint64_t)g_n) ||
		    now_ns() > deadline)
			break;
		usleep(200);
	}
	int64_t t1 = now_ns();
	rn_subscriber_free(s);
	struct rn_message **left;
	size_t nleft = 0;
	rc = rn_pull(c, sub, 1000, 0, &left, &nleft);
	if (rc == 0)
		rn_messages_free(left, nleft);
	long got = atomic_load(&d.got);
	printf("mode=drain n=%ld size=%ld received=%ld dups=%ld left=%zu elapsed_s=%.3f msgs_s=%.0f "
	       "max_outstanding=%zu reconnects=%llu%s\n",
	       g_n, g_size, got, atomic_load(&d.dups), nleft, (double)(t1 - t0) / 1e9,
	       (double)got / ((double)(t1 - t0) / 1e9), st.max_outstanding_seen,
	       (unsigned long long)st.reconnects, got < g_n ? " failed=1" : "");
	rn_topic_delete(c, topic);
	rn_subscription_delete(c, sub);
	free(d.seen);
	return got < g_n;
}

/* ---------------------------------------------------------------- e2e */

struct e2e {
	struct rn_client *c;
	char topic[64];
	int64_t t0;
	int64_t *lat;    /* by message index: due -> callback, ns; 0 = not yet */
	int64_t *publat; /* by index: publish-ack latency from the due time */
	int64_t *lag;    /* by index: how late the publish started */
	atomic_long got, dups, puberr;
};

struct pubthread {
	struct e2e *e;
	int id;
	pthread_t t;
};

struct pubcb {
	struct e2e *e;
	long i;
};

static struct pubcb *g_cbs;

static void on_published(void *arg, int err, const char *id)
{
	(void)id;
	struct pubcb *pc = arg;
	struct e2e *e = pc->e;
	if (err)
		atomic_fetch_add(&e->puberr, 1);
	e->publat[pc->i] = now_ns() - (e->t0 + pc->i * (1000000000 / g_rate));
}

/* -m async: one thread hands every message to the batching publisher at
 * its due time; rn_publish_async copies it and returns at once. */
static void *async_publisher(void *arg)
{
	struct e2e *e = arg;
	struct rn_publisher_opts po;
	rn_publisher_opts_init(&po);
	po.max_latency_ms = 0;
	po.max_inflight_batches = g_pubthreads;
	struct rn_publisher *p;
	int rc = rn_publisher_new(&p, e->c, e->topic, &po);
	if (rc)
		die("publisher", rc);
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < g_n; i++) {
		int64_t due = e->t0 + i * (1000000000 / g_rate);
		struct timespec ts = { (time_t)(due / 1000000000), (long)(due % 1000000000) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
			;
		e->lag[i] = now_ns() - due;
		int w = snprintf(buf, sizeof(buf), "%011ld %019lld ", i, (long long)due);
		buf[w] = 'x';
		struct rn_pubmsg m = { .data = buf, .len = (size_t)g_size };
		g_cbs[i] = (struct pubcb){ e, i };
		rc = rn_publish_async(p, &m, on_published, &g_cbs[i]);
		if (rc)
			die("publish", rc);
	}
	rc = rn_publisher_flush(p);
	if (rc)
		fprintf(stderr, "rnsub: flush: %s\n", rn_strerror(rc));
	rn_publisher_free(p);
	return NULL;
}

static void *publisher(void *arg)
{
	struct pubthread *pt = arg;
	struct e2e *e = pt->e;
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	for (long i = pt->id; i < g_n; i += g_pubthreads) {
		int64_t due = e->t0 + i * (1000000000 / g_rate);
		struct timespec ts = { (time_t)(due / 1000000000), (long)(due % 1000000000) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
			;
		int64_t start = now_ns();
		int w = snprintf(buf, sizeof(buf), "%011ld %019lld ", i, (long long)due);
		buf[w] = 'x';
		struct rn_pubmsg m = { .data = buf, .len = (size_t)g_size };
		int rc = rn_publish(e->c, e->topic, &m, 1, NULL);
		int64_t end = now_ns();
		if (rc)
			atomic_fetch_add(&e->puberr, 1);
		e->publat[i] = end - due;
		e->lag[i] = start - due;
	}
	return NULL;
}

static void on_e2e(void *arg, struct rn_message *m)
{
	int64_t t = now_ns();
	struct e2e *e = arg;
	size_t len;
	const char *p = rn_message_data(m, &len);
	if (len >= 32) {
		char *end;
		long idx = strtol(p, &end, 10);
		long long due = strtoll(end, NULL, 10);
		if (idx >= 0 && idx < g_n) {
			if (__atomic_load_n(&e->lat[idx], __ATOMIC_RELAXED)) {
				atomic_fetch_add(&e->dups, 1);
			} else {
				__atomic_store_n(&e->lat[idx], t - due, __ATOMIC_RELAXED);
				atomic_fetch_add(&e->got, 1);
			}
		}
	}
	rn_message_ack(m);
}

static int run_e2e(struct rn_client *c)
{
	char sub[64];
	struct e2e e = { .c = c };
	setup(c, e.topic, sub, sizeof(sub));
	if (g_size < 40)
		g_size = 40;
	e.lat = calloc((size_t)g_n, sizeof(int64_t));
	e.publat = calloc((size_t)g_n, sizeof(int64_t));
	e.lag = calloc((size_t)g_n, sizeof(int64_t));
	atomic_init(&e.got, 0);
	atomic_init(&e.dups, 0);
	atomic_init(&e.puberr, 0);
	/* The subscriber gets a connection of its own, as a consumer process
	 * would have (and the publishers do not contend with it in nng). */
	struct rn_client *sc = connect_or_die();
	struct rn_subscriber *s;
	int rc = rn_subscriber_new(&s, sc, sub, NULL, on_e2e, &e);
	if (rc)
		die("subscriber", rc);
	usleep(300000); /* the pullers are parked before the first publish */
	e.t0 = now_ns() + 10000000;
	struct pubthread *pts = calloc((size_t)g_pubthreads, sizeof(*pts));
	g_cbs = calloc((size_t)g_n, sizeof(*g_cbs));
	if (g_async) {
		pthread_t t;
		pthread_create(&t, NULL, async_publisher, &e);
		pthread_join(t, NULL);
	} else {
		for (int i = 0; i < g_pubthreads; i++) {
			pts[i] = (struct pubthread){ .e = &e, .id = i };
			pthread_create(&pts[i].t, NULL, publisher, &pts[i]);
		}
		for (int i = 0; i < g_pubthreads; i++)
			pthread_join(pts[i].t, NULL);
	}
	int64_t deadline = now_ns() + 30LL * 1000000000;
	while (atomic_load(&e.got) < g_n && now_ns() < deadline)
		usleep(1000);
	rn_subscriber_free(s);
	rn_client_free(sc);
	long got = atomic_load(&e.got);
	long n = 0;
	for (long i = 0; i < g_n; i++)
		if (e.lat[i])
			e.lat[n++] = e.lat[i];
	printf("mode=e2e n=%ld rate=%ld size=%ld pubthreads=%d received=%ld dups=%ld puberr=%ld",
	       g_n, g_rate, g_size, g_pubthreads, got, atomic_load(&e.dups),
	       atomic_load(&e.puberr));
	print_pcts("e2e", e.lat, n);
	print_pcts("pub", e.publat, g_n);
	print_pcts("schedlag", e.lag, g_n);
	printf("%s\n", got < g_n ? " failed=1" : "");
	rn_subscription_delete(c, sub);
	rn_topic_delete(c, e.topic);
	free(e.lat);
	free(e.publat);
	free(e.lag);
	free(pts);
	free(g_cbs);
	return got < g_n;
}

static int usage(void)
{
	fprintf(stderr, "usage: rnsub drain|e2e [-u URL] [-P PROJECT] [-n N] [-s SIZE] [-r RATE] "
			"[-m async|sync] [-t THREADS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	int opt;
	optind = 2;
	while ((opt = getopt(argc, argv, "u:P:n:s:r:t:m:")) != -1) {
		switch (opt) {
		case 'u': g_url = optarg; break;
		case 'P': g_project = optarg; break;
		case 'n': g_n = strtol(optarg, NULL, 10); break;
		case 's': g_size = strtol(optarg, NULL, 10); break;
		case 'r': g_rate = strtol(optarg, NULL, 10); break;
		case 't': g_pubthreads = (int)strtol(optarg, NULL, 10); break;
		case 'm':
			if (strcmp(optarg, "async") != 0 && strcmp(optarg, "sync") != 0)
				return usage();
			g_async = strcmp(optarg, "async") == 0;
			break;
		default: return usage();
		}
	}
	if (g_pubthreads == 0)
		g_pubthreads = g_async ? 2 : 4;
	if (g_size < 16 || g_size > 4096 || g_rate < 1 || g_pubthreads < 1 || g_n < 0)
		return usage();
	struct rn_client *c = connect_or_die();
	int rc;
	if (strcmp(mode, "drain") == 0) {
		if (g_n == 0)
			g_n = 100000;
		rc = run_drain(c);
	} else if (strcmp(mode, "e2e") == 0) {
		if (g_n == 0)
			g_n = 50000;
		rc = run_e2e(c);
	} else {
		rn_client_free(c);
		return usage();
	}
	rn_client_free(c);
	return rc;
}
