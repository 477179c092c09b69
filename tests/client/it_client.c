/* it_client.c - integration test driver of libregnotify, run by
 * tests/integration/test_client_lib.py against a real broker.
 *
 *   it_client URL PROJECT COMMAND ARGS...
 *
 * Every command prints "key=value" result lines on stdout (one JSON object
 * per line for messages) and exits 0, or prints "FAIL ..." on stderr and
 * exits 1. Every wait is bounded. */
#include <regnotify/client.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *url, *project;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FAIL ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (last error: %s)\n", rn_last_error_message());
	exit(1);
}

static void check(int rv, const char *what)
{
	if (rv != 0)
		fail("%s: %d %s", what, rv, rn_strerror(rv));
}

static long num(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		fail("not a number: %s", s);
	return v;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void log_cb(void *arg, enum rn_log_level level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "log[%d] %s\n", (int)level, msg);
}

static struct rn_client *connect_client(void)
{
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = url;
	o.project = project;
	o.request_timeout_ms = 20000;
	o.reconnect_max_ms = 500;
	o.log = log_cb;
	o.log_level = RN_LOG_WARN;
	/* tls+tcp:// runs take their CA (and server name) from the environment. */
	o.tls_ca_file = getenv("RN_IT_TLS_CA");
	o.tls_server_name = getenv("RN_IT_TLS_SERVER_NAME");
	/* Runs against --auth required sign with a key file (test_auth.py). */
	o.key_file = getenv("RN_IT_KEY_FILE");
	if (getenv("RN_IT_TOKEN_LIFETIME"))
		o.token_lifetime_s = atoi(getenv("RN_IT_TOKEN_LIFETIME"));
	struct rn_client *c;
	check(rn_client_new(&c, &o), "rn_client_new");
	return c;
}

/* Prints a message as one JSON line: id, hex data, attributes. */
static void print_message(const struct rn_message *m)
{
	size_t len;
	const unsigned char *d = rn_message_data(m, &len);
	printf("{\"id\":\"%s\",\"hex\":\"", rn_message_id(m));
	for (size_t i = 0; i < len; i++)
		printf("%02x", d[i]);
	printf("\",\"attrs\":{");
	for (size_t i = 0; i < rn_message_attr_count(m); i++) {
		const char *k, *v;
		if (rn_message_attr_at(m, i, &k, &v) != 0)
			fail("attr_at %zu", i);
		if (strcmp(rn_message_attr(m, k), v) != 0)
			fail("rn_message_attr(%s)", k);
		printf("%s\"%s\":\"%s\"", i ? "," : "", k, v);
	}
	printf("},\"ordering_key\":\"%s\",\"publish_ms\":%" PRId64 ",\"attempt\":%d}\n",
	       rn_message_ordering_key(m), rn_message_publish_time_ms(m),
	       rn_message_delivery_attempt(m));
}

/* One rn_pull of up to 100 messages from sub (waiting with wait), each
 * printed when print, then acked with rn_ack. Returns how many came. */
static size_t pull_and_ack(struct rn_client *c, const char *sub, int wait, bool print)
{
	struct rn_message **msgs;
	size_t k;
	check(rn_pull(c, sub, 100, wait, &msgs, &k), "rn_pull");
	if (k) {
		const char **ids = calloc(k, sizeof(char *));
		if (!ids)
			fail("out of memory");
		for (size_t i = 0; i < k; i++) {
			if (print)
				print_message(msgs[i]);
			ids[i] = rn_message_ack_id(msgs[i]);
		}
		check(rn_ack(c, sub, ids, k), "rn_ack");
		free(ids);
	}
	rn_messages_free(msgs, k);
	return k;
}

/* ------------------------------------------------------------------ */
/* resources TOPIC SUB: the resource calls and their errors. */

static int cmd_resources(struct rn_client *c, char **argv)
{
	char *js = NULL;
	check(rn_topic_create(c, argv[0], "{\"labels\":{\"team\":\"it\"}}", &js), "topic create");
	printf("topic_create=%s\n", js);
	rn_free(js);
	printf("topic_create_again=%d\n", rn_topic_create(c, argv[0], NULL, NULL));
	printf("topic_create_again_msg=%s\n", rn_last_error_message());
	check(rn_topic_get(c, argv[0], &js), "topic get");
	printf("topic_get=%s\n", js);
	rn_free(js);
	printf("topic_get_missing=%d\n", rn_topic_get(c, "missing-topic", &js));
	printf("topic_get_missing_msg=%s\n", rn_last_error_message());
	printf("topic_bad_name=%d\n", rn_topic_get(c, "a/b", &js));
	printf("topic_bad_config=%d\n", rn_topic_create(c, "other-topic", "[1]", NULL));
	printf("topic_unknown_field=%d\n", rn_topic_create(c, "other-topic", "{\"x\":1}", NULL));
	struct rn_subscription_opts so = { .ack_deadline_s = 20, .expiration_ttl_s = -1 };
	check(rn_subscription_create(c, argv[1], argv[0], &so, &js), "sub create");
	printf("sub_create=%s\n", js);
	rn_free(js);
	printf("sub_create_missing_topic=%d\n",
	       rn_subscription_create(c, "sub-x", "missing-topic", NULL, NULL));
	struct rn_subscription_opts fo = { .filter = "attributes.a = \"b\"" };
	check(rn_subscription_create(c, "sub-y", argv[0], &fo, &js), "filtered sub create");
	printf("sub_create_filter=%s\n", js);
	rn_free(js);
	struct rn_subscription_opts bad = { .filter = "attributes.a = b" };
	printf("sub_create_bad_filter=%d\n",
	       rn_subscription_create(c, "sub-z", argv[0], &bad, NULL));
	printf("sub_create_bad_filter_msg=%s\n", rn_last_error_message());
	/* Enough topics for three pages of the list. */
	for (int i = 0; i < 2100; i++) {
		char name[64];
		snprintf(name, sizeof(name), "page-topic-%04d", i);
		check(rn_topic_create(c, name, NULL, NULL), "page topic");
	}
	check(rn_topic_list(c, NULL, &js), "topic list");
	printf("topic_list=%s\n", js);
	rn_free(js);
	check(rn_subscription_list(c, project, &js), "sub list");
	printf("sub_list=%s\n", js);
	rn_free(js);
	check(rn_subscription_get(c, argv[1], &js), "sub get");
	printf("sub_get=%s\n", js);
	rn_free(js);
	printf("seek=%d\n", rn_subscription_seek(c, argv[1], 1700000000123));
	check(rn_subscription_delete(c, argv[1]), "sub delete");
	printf("sub_delete_again=%d\n", rn_subscription_delete(c, argv[1]));
	check(rn_topic_delete(c, argv[0]), "topic delete");
	printf("topic_delete_again=%d\n", rn_topic_delete(c, argv[0]));
	return 0;
}

/* ------------------------------------------------------------------ */
/* publish TOPIC N: N messages in one rn_publish, binary data and
 * attributes; prints the ids. */

static int cmd_publish(struct rn_client *c, char **argv)
{
	long n = num(argv[1]);
	struct rn_pubmsg *msgs = calloc((size_t)n, sizeof(*msgs));
	unsigned char(*data)[4] = calloc((size_t)n, 4);
	char(*idx)[24] = calloc((size_t)n, 24);
	char **ids = calloc((size_t)n, sizeof(char *));
	struct rn_attr attrs[2] = { { "kind", "binary" }, { "idx", NULL } };
	struct rn_attr *per = calloc((size_t)n * 2, sizeof(*per));
	for (long i = 0; i < n; i++) {
		data[i][0] = 0;
		data[i][1] = 0xff;
		data[i][2] = (unsigned char)i;
		data[i][3] = '\n';
		snprintf(idx[i], 24, "%ld", i);
		per[2 * i] = attrs[0];
		per[2 * i + 1] = (struct rn_attr){ "idx", idx[i] };
		msgs[i] = (struct rn_pubmsg){
			.data = data[i], .len = 4, .attrs = &per[2 * i], .nattrs = 2
		};
	}
	check(rn_publish(c, argv[0], msgs, (size_t)n, ids), "rn_publish");
	for (long i = 0; i < n; i++) {
		printf("id=%s\n", ids[i]);
		rn_free(ids[i]);
	}
	struct rn_pubmsg empty = { 0 };
	printf("publish_empty=%d\n", rn_publish(c, argv[0], &empty, 1, NULL));
	printf("publish_missing=%d\n", rn_publish(c, "missing-topic", msgs, 1, NULL));
	free(msgs);
	free(data);
	free(idx);
	free(ids);
	free(per);
	return 0;
}

/* ------------------------------------------------------------------ */
/* pull SUB N: rn_pull until N messages came (20 s at most), prints them,
 * acks them with rn_ack, then checks that nothing is left. */

static int cmd_pull(struct rn_client *c, char **argv)
{
	long n = num(argv[1]);
	long got = 0;
	int64_t deadline = now_ms() + 20000;
	while (got < n && now_ms() < deadline)
		got += (long)pull_and_ack(c, argv[0], 1, true);
	struct rn_message **msgs;
	size_t k;
	check(rn_pull(c, argv[0], 10, 0, &msgs, &k), "rn_pull after ack");
	rn_messages_free(msgs, k);
	printf("pulled=%ld left=%zu\n", got, k);
	printf("pull_missing=%d\n", rn_pull(c, "missing-sub", 1, 0, &msgs, &k));
	const char *bad[] = { "not-an-ack-id" };
	printf("ack_bad=%d\n", rn_ack(c, argv[0], bad, 1));
	printf("modack_range=%d\n", rn_modify_ack_deadline(c, argv[0], bad, 1, 601));
	return 0;
}

/* ------------------------------------------------------------------ */
/* big TOPIC SUB BYTES: publishes one message of BYTES bytes with rn_publish
 * and pulls it back with rn_pull: replies larger than nng's default 1 MB
 * receive limit must arrive intact. Prints big_equal=1 and big_left=0. */

static int cmd_big(struct rn_client *c, char **argv)
{
	size_t n = (size_t)num(argv[2]);
	unsigned char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	struct rn_pubmsg m = { .data = data, .len = n };
	check(rn_publish(c, argv[0], &m, 1, NULL), "rn_publish big");
	struct rn_message **msgs = NULL;
	size_t k = 0;
	int64_t deadline = now_ms() + 20000;
	while (k == 0 && now_ms() < deadline) {
		rn_messages_free(msgs, k);
		check(rn_pull(c, argv[1], 1, 1, &msgs, &k), "rn_pull big");
	}
	size_t len = 0;
	const void *got = k ? rn_message_data(msgs[0], &len) : NULL;
	printf("big_len=%zu\n", len);
	printf("big_equal=%d\n", got && len == n && memcmp(got, data, n) == 0);
	if (k) {
		const char *id = rn_message_ack_id(msgs[0]);
		check(rn_ack(c, argv[1], &id, 1), "rn_ack big");
	}
	rn_messages_free(msgs, k);
	check(rn_pull(c, argv[1], 1, 0, &msgs, &k), "rn_pull after ack");
	printf("big_left=%zu\n", k);
	rn_messages_free(msgs, k);
	free(data);
	return 0;
}

/* ------------------------------------------------------------------ */
/* async_publish TOPIC N: rn_publish_async with callbacks, then flush. */

struct pubstate {
	pthread_mutex_t mu;
	long ok, errors;
	char **ids;
};

struct pubref {
	struct pubstate *st;
	long i;
};

static void pub_cb(void *arg, int err, const char *id)
{
	struct pubref *r = arg;
	pthread_mutex_lock(&r->st->mu);
	if (err)
		r->st->errors++;
	else {
		r->st->ok++;
		r->st->ids[r->i] = strdup(id);
	}
	pthread_mutex_unlock(&r->st->mu);
}

static int cmd_async_publish(struct rn_client *c, char **argv)
{
	long n = num(argv[1]);
	struct rn_publisher_opts po;
	rn_publisher_opts_init(&po);
	po.max_batch_messages = 10;
	po.max_outstanding = 50;
	po.max_inflight_batches = 3;
	struct rn_publisher *p;
	check(rn_publisher_new(&p, c, argv[0], &po), "rn_publisher_new");
	struct pubstate st = { .ids = calloc((size_t)n, sizeof(char *)) };
	pthread_mutex_init(&st.mu, NULL);
	struct pubref *refs = calloc((size_t)n, sizeof(*refs));
	for (long i = 0; i < n; i++) {
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "async-%ld", i);
		struct rn_attr a = { "okey", i % 2 ? "odd" : "even" };
		struct rn_pubmsg m = { .data = buf,
				       .len = (size_t)len,
				       .attrs = &a,
				       .nattrs = 1,
				       .ordering_key = i % 3 == 0 ? "k3" : NULL };
		refs[i] = (struct pubref){ &st, i };
		check(rn_publish_async(p, &m, pub_cb, &refs[i]), "rn_publish_async");
	}
	struct rn_pubmsg bad = { 0 };
	printf("async_invalid=%d\n", rn_publish_async(p, &bad, pub_cb, NULL));
	int frv = rn_publisher_flush(p);
	pthread_mutex_lock(&st.mu);
	long ok = st.ok, errors = st.errors;
	pthread_mutex_unlock(&st.mu);
	printf("flush=%d ok=%ld errors=%ld\n", frv, ok, errors);
	long distinct = 0;
	for (long i = 0; i < n; i++) {
		bool dup = false;
		for (long j = 0; j < i && st.ids[i]; j++)
			if (st.ids[j] && strcmp(st.ids[i], st.ids[j]) == 0)
				dup = true;
		if (st.ids[i] && !dup)
			distinct++;
	}
	printf("distinct_ids=%ld\n", distinct);
	rn_publisher_free(p);
	/* A publisher on a missing topic: the error reaches callback and flush. */
	check(rn_publisher_new(&p, c, "missing-topic", &po), "rn_publisher_new missing");
	struct pubstate st2 = { .ids = calloc(1, sizeof(char *)) };
	pthread_mutex_init(&st2.mu, NULL);
	struct pubref r2 = { &st2, 0 };
	struct rn_pubmsg m = { .data = "x", .len = 1 };
	check(rn_publish_async(p, &m, pub_cb, &r2), "rn_publish_async missing");
	int frv2 = rn_publisher_flush(p);
	pthread_mutex_lock(&st2.mu);
	printf("flush_missing=%d errors_missing=%ld\n", frv2, st2.errors);
	pthread_mutex_unlock(&st2.mu);
	rn_publisher_free(p);
	for (long i = 0; i < n; i++)
		free(st.ids[i]);
	free(st.ids);
	free(st2.ids);
	free(refs);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Streaming: a shared record of what the callbacks saw. */

#define MAX_SEEN 4096

struct seen {
	pthread_mutex_t mu;
	char *ids[MAX_SEEN];
	int count[MAX_SEEN];
	int nids;
	long total;
	int sleep_ms; /* each callback sleeps this long before acking */
	int hold_ms;  /* lease test: held this long by another thread */
	bool verbose; /* print every message */
	int statuses[64];
	int nstatus;
};

static struct seen seen = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Records m's id; returns how often it was seen. */
static int record(const struct rn_message *m)
{
	pthread_mutex_lock(&seen.mu);
	seen.total++;
	int i;
	for (i = 0; i < seen.nids; i++)
		if (strcmp(seen.ids[i], rn_message_id(m)) == 0)
			break;
	if (i == seen.nids && seen.nids < MAX_SEEN)
		seen.ids[seen.nids++] = strdup(rn_message_id(m));
	int n = i < MAX_SEEN ? ++seen.count[i] : 0;
	if (seen.verbose) {
		size_t len;
		const char *d = rn_message_data(m, &len);
		printf("got %.*s id=%s n=%d\n", (int)len, d, rn_message_id(m), n);
		fflush(stdout);
	}
	pthread_mutex_unlock(&seen.mu);
	return n;
}

static int distinct(void)
{
	pthread_mutex_lock(&seen.mu);
	int n = seen.nids;
	pthread_mutex_unlock(&seen.mu);
	return n;
}

static void status_cb(void *arg, int err)
{
	(void)arg;
	pthread_mutex_lock(&seen.mu);
	if (seen.nstatus < 64)
		seen.statuses[seen.nstatus++] = err;
	pthread_mutex_unlock(&seen.mu);
}

static void ack_cb(void *arg, struct rn_message *m)
{
	(void)arg;
	record(m);
	if (seen.sleep_ms)
		sleep_ms(seen.sleep_ms);
	rn_message_ack(m);
}

static struct rn_subscriber *subscribe(struct rn_client *c, const char *sub,
				       struct rn_subscriber_opts *o, rn_message_cb cb)
{
	o->status = status_cb;
	struct rn_subscriber *s;
	check(rn_subscriber_new(&s, c, sub, o, cb, NULL), "rn_subscriber_new");
	return s;
}

static void print_stats(struct rn_subscriber *s)
{
	struct rn_subscriber_stats st;
	rn_subscriber_stats(s, &st);
	printf("received=%" PRIu64 " acked=%" PRIu64 " nacked=%" PRIu64 " extensions=%" PRIu64
	       " reconnects=%" PRIu64 " outstanding=%zu max_outstanding_seen=%zu\n",
	       st.received, st.acked, st.nacked, st.extensions, st.reconnects, st.outstanding,
	       st.max_outstanding_seen);
	pthread_mutex_lock(&seen.mu);
	printf("distinct=%d total=%ld statuses=", seen.nids, seen.total);
	for (int i = 0; i < seen.nstatus; i++)
		printf("%s%d", i ? "," : "", seen.statuses[i]);
	printf("\n");
	pthread_mutex_unlock(&seen.mu);
	fflush(stdout);
}

static void wait_distinct(int n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	while (distinct() < n && now_ms() < deadline)
		sleep_ms(20);
}

static void free_seen(void)
{
	for (int i = 0; i < seen.nids; i++)
		free(seen.ids[i]);
	seen.nids = 0;
}

/* Stops s and prints its stats and what the callbacks saw. */
static void stream_stop(struct rn_subscriber *s)
{
	rn_subscriber_stop(s);
	print_stats(s);
}

/* Frees s and the record of what was seen. */
static void stream_end(struct rn_subscriber *s)
{
	rn_subscriber_free(s);
	free_seen();
}

/* stream SUB N MAX_OUTSTANDING SLEEP_MS: slow callbacks under flow
 * control; waits until N distinct messages were acked. */
static int cmd_stream(struct rn_client *c, char **argv)
{
	int n = (int)num(argv[1]);
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.max_outstanding_messages = (size_t)num(argv[2]);
	o.threads = 4;
	o.pullers = 2;
	seen.sleep_ms = (int)num(argv[3]);
	struct rn_subscriber *s = subscribe(c, argv[0], &o, ack_cb);
	wait_distinct(n, 60000);
	stream_stop(s);
	stream_end(s);
	return 0;
}

/* restart SUB N: like stream, printing each message as it comes, for the
 * broker-restart test; 90 s at most. */
static int cmd_restart(struct rn_client *c, char **argv)
{
	int n = (int)num(argv[1]);
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.max_outstanding_messages = 10;
	seen.verbose = true;
	struct rn_subscriber *s = subscribe(c, argv[0], &o, ack_cb);
	printf("ready\n");
	fflush(stdout);
	wait_distinct(n, 90000);
	stream_stop(s);
	stream_end(s);
	return 0;
}

/* lease SUB N HOLD_MS: each message is held by the callback for HOLD_MS,
 * then acked; the run lasts HOLD_MS + 5 s so a redelivery would show. */
static void hold_cb(void *arg, struct rn_message *m)
{
	(void)arg;
	record(m);
	sleep_ms(seen.hold_ms);
	rn_message_ack(m);
}

static int cmd_lease(struct rn_client *c, char **argv)
{
	int n = (int)num(argv[1]);
	seen.hold_ms = (int)num(argv[2]);
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.threads = n;
	o.lease_s = 30;
	struct rn_subscriber *s = subscribe(c, argv[0], &o, hold_cb);
	wait_distinct(n, 20000);
	sleep_ms(seen.hold_ms + 4000);
	stream_stop(s);
	pthread_mutex_lock(&seen.mu);
	for (int i = 0; i < seen.nids; i++)
		printf("deliveries %s=%d\n", seen.ids[i], seen.count[i]);
	pthread_mutex_unlock(&seen.mu);
	stream_end(s);
	return 0;
}

/* many_ackers SUB N THREADS: one callback thread collects the messages,
 * THREADS threads ack them all at once. */
static struct rn_message *collected[MAX_SEEN];
static atomic_int ncollected;
static atomic_int go;
static int nackers;

static void collect_cb(void *arg, struct rn_message *m)
{
	(void)arg;
	record(m);
	int i = atomic_fetch_add(&ncollected, 1);
	if (i < MAX_SEEN)
		collected[i] = m;
	else
		rn_message_ack(m);
}

static void *acker_main(void *arg)
{
	long k = (long)arg;
	while (!atomic_load(&go))
		sleep_ms(1);
	int n = atomic_load(&ncollected);
	for (int i = (int)k; i < n && i < MAX_SEEN; i += nackers)
		rn_message_ack(collected[i]);
	return NULL;
}

static int cmd_many_ackers(struct rn_client *c, char **argv)
{
	int n = (int)num(argv[1]);
	nackers = (int)num(argv[2]);
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.threads = 1;
	o.lease_s = 10;
	struct rn_subscriber *s = subscribe(c, argv[0], &o, collect_cb);
	pthread_t *t = calloc((size_t)nackers, sizeof(pthread_t));
	for (long i = 0; i < nackers; i++)
		pthread_create(&t[i], NULL, acker_main, (void *)i);
	int64_t deadline = now_ms() + 20000;
	while (atomic_load(&ncollected) < n && now_ms() < deadline)
		sleep_ms(10);
	atomic_store(&go, 1);
	for (int i = 0; i < nackers; i++)
		pthread_join(t[i], NULL);
	free(t);
	stream_stop(s);
	stream_end(s);
	return 0;
}

/* stop_nack SUB MAX_OUTSTANDING: the callback keeps the first message and
 * blocks until stop began; stop must nack the queued rest, which a second
 * client then pulls at once. The held message is acked after stop. */
static struct rn_message *held;
static atomic_int release_cb;

static void block_cb(void *arg, struct rn_message *m)
{
	(void)arg;
	record(m);
	if (!held) {
		held = m;
		for (int i = 0; i < 1000 && !atomic_load(&release_cb); i++)
			sleep_ms(10);
	} else {
		rn_message_ack(m);
	}
}

static void *stopper_main(void *arg)
{
	rn_subscriber_stop(arg);
	return NULL;
}

static int cmd_stop_nack(struct rn_client *c, char **argv)
{
	size_t max = (size_t)num(argv[1]);
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.threads = 1;
	o.max_outstanding_messages = max;
	struct rn_subscriber *s = subscribe(c, argv[0], &o, block_cb);
	struct rn_subscriber_stats st;
	int64_t deadline = now_ms() + 20000;
	do {
		sleep_ms(10);
		rn_subscriber_stats(s, &st);
	} while (st.received < max && now_ms() < deadline);
	pthread_t stopper;
	pthread_create(&stopper, NULL, stopper_main, s);
	sleep_ms(300); /* stop is now waiting for the running callback */
	atomic_store(&release_cb, 1);
	pthread_join(stopper, NULL);
	int64_t stopped = now_ms();
	print_stats(s);
	/* A second client pulls what stop gave back. */
	struct rn_client *c2 = connect_client();
	size_t repulled = 0;
	deadline = now_ms() + 3000;
	while (now_ms() < deadline) {
		repulled += pull_and_ack(c2, argv[0], 0, false);
		if (repulled + 1 >= max)
			break;
		sleep_ms(50);
	}
	printf("repulled=%zu within_ms=%" PRId64 "\n", repulled, now_ms() - stopped);
	/* Acking after stop is allowed. */
	rn_message_ack(held);
	rn_subscriber_free(s);
	printf("held_acked=1\n");
	free_seen();
	rn_client_free(c2);
	return 0;
}

/* connect_refused: a client to a URL nobody listens on (or, with
 * RN_IT_TLS_CA, a TLS broker whose certificate that CA did not sign). */
static int cmd_connect_refused(struct rn_client *unused, char **argv)
{
	(void)unused;
	(void)argv;
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = url;
	o.connect_timeout_ms = 500;
	o.tls_ca_file = getenv("RN_IT_TLS_CA");
	struct rn_client *c = NULL;
	int64_t t0 = now_ms();
	int rv = rn_client_new(&c, &o);
	printf("connect=%d elapsed_ms=%" PRId64 "\n", rv, now_ms() - t0);
	rn_client_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	/* Each command gets its arguments and, with connect, a client that
	 * main frees after it. */
	static const struct {
		const char *name;
		int nargs; /* -1: any */
		const char *usage;
		bool connect;
		int (*fn)(struct rn_client *c, char **argv);
	} cmds[] = {
		{ "resources", 2, "resources TOPIC SUB", true, cmd_resources },
		{ "publish", 2, "publish TOPIC N", true, cmd_publish },
		{ "pull", 2, "pull SUB N", true, cmd_pull },
		{ "big", 3, "big TOPIC SUB BYTES", true, cmd_big },
		{ "async_publish", 2, "async_publish TOPIC N", true, cmd_async_publish },
		{ "stream", 4, "stream SUB N MAX_OUTSTANDING SLEEP_MS", true, cmd_stream },
		{ "restart", 2, "restart SUB N", true, cmd_restart },
		{ "lease", 3, "lease SUB N HOLD_MS", true, cmd_lease },
		{ "many_ackers", 3, "many_ackers SUB N THREADS", true, cmd_many_ackers },
		{ "stop_nack", 2, "stop_nack SUB MAX_OUTSTANDING", true, cmd_stop_nack },
		{ "connect_refused", -1, "connect_refused", false, cmd_connect_refused },
	};
	if (argc < 4) {
		fprintf(stderr, "usage: it_client URL PROJECT COMMAND ARGS...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	url = argv[1];
	project = argv[2];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[3], cmds[i].name) != 0)
			continue;
		if (cmds[i].nargs >= 0 && argc - 4 != cmds[i].nargs)
			fail("usage: %s", cmds[i].usage);
		struct rn_client *c = cmds[i].connect ? connect_client() : NULL;
		int rc = cmds[i].fn(c, argv + 4);
		rn_client_free(c);
		return rc;
	}
	fprintf(stderr, "unknown command %s\n", argv[3]);
	return 2;
}
