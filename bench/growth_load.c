/* growth_load: the load and probe client of bench/growth.sh ("how cost
 * grows", issue 14). 127.0.0.1 only, HTTP/1.1 keep-alive, Content-Length
 * bodies (as evhttp sends them); one epoll thread drives C connections.
 * Names: topic = PREFIX<i> (i < NT), subscription = PREFIX<i>-s<j> (j < K).
 * A sample of S topics is i = k*NT/S (k < S).
 *
 *   growth_load create -p PORT -P PROJ -T PREFIX -n NT -k K [-c CONNS=16]
 *       PUT every topic, then every subscription (ackDeadlineSeconds 600),
 *       CONNS requests in flight. -> created=.. topics_s=.. subs_s=.. errors=..
 *   growth_load fill -p PORT -P PROJ -T PREFIX -n NT [-S SAMPLE] -q PER_TOPIC
 *                    [-b BATCH=1000] [-c CONNS=4]
 *       Publish exactly PER_TOPIC messages of 300 B (bench/publish.lua's
 *       payload) to each sampled topic, BATCH per request.
 *   growth_load drain -p PORT -P PROJ -T PREFIX -n NT [-S SAMPLE] -k K -q TOTAL
 *                     [-m MAXMSG=100] [-c CONNS=8] [-A]
 *       Deliver TOTAL messages spread evenly over the S*K subscriptions of the
 *       sample (TOTAL/(S*K) each; a subscription's share is cut into pieces of
 *       at most 10 pulls, and into at least CONNS/(S*K) pieces, handed out
 *       round robin over the subscriptions to whichever connection is free).
 *       Each connection: pull (maxMessages min(MAXMSG, left), returnImmediately)
 *       then acknowledge exactly the ackIds received, then the next pull.
 *       Timed from the first pull to the last ack reply. -A: no acks (the
 *       messages stay leased: what a lease costs in Redis).
 *       -> delivered=.. secs=.. msgs_s=.. pulls=.. empty=.. short=..
 *   growth_load lat -p PORT -P PROJ -t TOPIC [-s SUB] -m MODE [-N COUNT=2000]
 *                   [-w WARMUP=200] [-d SECS] [-u NNG_URL]
 *       One connection, sequential requests, each timed (CLOCK_MONOTONIC):
 *       MODE pub (one 300-B message per publish), pubnng (the same over nng
 *       req/rep, docs/protocol.md), pull1 / pull1000 (pull of 1 / 1000 with
 *       returnImmediately; its ack follows, untimed). -d SECS: run for SECS
 *       instead of COUNT requests (the sweep probe).
 *       -> n=.. p50_us=.. p90_us=.. p99_us=.. max_us=.. slow10ms=.. first_us=..
 *       (first_us: from the connect to the first reply, warm-up included)
 *   growth_load idle-http -p PORT -n N [-H HOLD_SECS=120] [-G GIVEUP_SECS=60]
 *                         [-o STATUSFILE]
 *       Open N keep-alive connections (at most 64 connects in flight), send
 *       GET /healthz on each and read the reply (connections without a reply
 *       after GIVEUP_SECS count as failed); write "ready open=.." to
 *       STATUSFILE; hold them idle until SIGTERM or HOLD_SECS, then print
 *       "open=.. failed=.. closed_by_peer=..".
 *   growth_load idle-nng -u URL -n N [-H HOLD_SECS=120] [-G GIVEUP_SECS=60] [-o STATUSFILE]
 *       N req0 sockets, each dialing URL once (synchronous dial: one pipe
 *       each, as N libregnotify clients would hold) and sending one GET
 *       /healthz frame (reply timeout min(10 s, GIVEUP_SECS)); stops at the
 *       first pipe that gets no reply; then held as idle-http.
 *
 * Built by bench/growth.sh: cc -O2 -o BIN/growth_load bench/growth_load.c -lnng -lpthread
 * (-DNO_NNG without libnng-dev: the nng modes then fail with a message).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifndef NO_NNG
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#endif

static int g_port = 8085;
static const char *g_proj = "growth";
static const char *g_prefix = "t";
static long g_nt = 1, g_sample = 0, g_k = 1;
static volatile sig_atomic_t g_stop;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "growth_load: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static long sample_index(long k)
{
	long s = g_sample > 0 && g_sample < g_nt ? g_sample : g_nt;
	return s == g_nt ? k : (long)((double)k * (double)g_nt / (double)s);
}

static long sample_count(void)
{
	return g_sample > 0 && g_sample < g_nt ? g_sample : g_nt;
}

/* ------------------------------------------------------------ payload */
static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char g_data[512]; /* base64 of the 300-B payload of bench/publish.lua */

static void make_data(void)
{
	const char *head = "{\"type\":\"registry.event\",\"source\":\"bench\",\"data\":\"";
	const char *tail = "\"}";
	unsigned char p[300];
	size_t h = strlen(head), t = strlen(tail), o = 0;
	memcpy(p, head, h);
	memset(p + h, 'x', 300 - h - t);
	memcpy(p + 300 - t, tail, t);
	for (size_t i = 0; i + 2 < 300; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		g_data[o++] = b64c[v >> 18];
		g_data[o++] = b64c[(v >> 12) & 63];
		g_data[o++] = b64c[(v >> 6) & 63];
		g_data[o++] = b64c[v & 63];
	}
	g_data[o] = 0;
}

/* {"messages":[{"data":"..."},...]} of n messages */
static char *publish_body(long n, size_t *len)
{
	size_t one = strlen(g_data) + 12, cap = 16 + (size_t)n * (one + 1);
	char *b = xmalloc(cap);
	size_t o = (size_t)sprintf(b, "{\"messages\":[");
	for (long i = 0; i < n; i++)
		o += (size_t)sprintf(b + o, "%s{\"data\":\"%s\"}", i ? "," : "", g_data);
	o += (size_t)sprintf(b + o, "]}");
	*len = o;
	return b;
}

/* ------------------------------------------------------------ HTTP bits */
struct buf {
	char *p;
	size_t len, cap, off;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void buf_request(struct buf *b, const char *method, const char *path, const char *body,
			size_t blen)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 method, path, blen);
	b->len = b->off = 0;
	buf_add(b, head, (size_t)n);
	if (blen)
		buf_add(b, body, blen);
}

/* A complete response in in[0..len)? -> its total size, status and body. */
static size_t http_complete(const char *in, size_t len, int *status, const char **body,
			    size_t *blen)
{
	const char *e = memmem(in, len, "\r\n\r\n", 4);
	if (!e)
		return 0;
	size_t hl = (size_t)(e - in) + 4;
	if (len < 12)
		return 0;
	*status = atoi(in + 9);
	size_t cl = 0;
	for (const char *l = in; l < e;) {
		const char *nl = memmem(l, (size_t)(e - l), "\r\n", 2);
		if (!nl)
			nl = e;
		if ((size_t)(nl - l) > 15 && strncasecmp(l, "Content-Length:", 15) == 0)
			cl = (size_t)strtoul(l + 15, NULL, 10);
		l = nl + 2;
	}
	if (len < hl + cl)
		return 0;
	*body = in + hl;
	*blen = cl;
	return hl + cl;
}

static int tcp_connect(int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------ engine */
/* Each connection: write req, read the whole response, call on_reply, which
 * builds the next request in c->out or returns 0 (the connection is done). */
struct conn {
	int fd, id, done, connecting;
	struct buf out, in;
	void *task;
	long left, got;
	uint64_t t0;
};

typedef int (*next_fn)(struct conn *c); /* build the first request */
typedef int (*reply_fn)(struct conn *c, int status, const char *body, size_t blen);

static long g_errors;
static char g_errsample[200];

static void note_error(int status, const char *body, size_t blen)
{
	if (g_errors++ == 0) {
		snprintf(g_errsample, sizeof(g_errsample), "%d:%.*s", status,
			 (int)(blen > 120 ? 120 : blen), body);
		for (char *p = g_errsample; *p; p++)
			if (*p == ' ' || *p == '\n')
				*p = '_';
	}
}

static void run_engine(struct conn *cs, int nc, next_fn first, reply_fn on_reply, double deadline_s)
{
	int ep = epoll_create1(0);
	int active = 0;
	for (int i = 0; i < nc; i++) {
		struct conn *c = &cs[i];
		c->id = i;
		if (!first(c)) {
			c->done = 1;
			continue;
		}
		c->fd = tcp_connect(1);
		if (c->fd < 0)
			die("connect: %s", strerror(errno));
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		active++;
	}
	uint64_t end = now_ns() + (uint64_t)(deadline_s * 1e9);
	struct epoll_event evs[256];
	while (active > 0) {
		if (now_ns() > end) {
			fprintf(stderr, "growth_load: deadline reached with %d connections busy\n",
				active);
			break;
		}
		int n = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->done)
				continue;
			if (c->out.off < c->out.len) {
				ssize_t w = write(c->fd, c->out.p + c->out.off,
						  c->out.len - c->out.off);
				if (w < 0 && errno != EAGAIN)
					die("write: %s", strerror(errno));
				if (w > 0)
					c->out.off += (size_t)w;
				if (c->out.off == c->out.len) {
					struct epoll_event ev = { .events = EPOLLIN,
								  .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			for (;;) {
				if (c->in.cap - c->in.len < 65536) {
					c->in.cap = c->in.cap * 2 + 65536;
					c->in.p = xrealloc(c->in.p, c->in.cap);
				}
				ssize_t r =
					read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
				if (r == 0)
					die("connection %d closed by the broker", c->id);
				if (r < 0) {
					if (errno == EAGAIN)
						break;
					die("read: %s", strerror(errno));
				}
				c->in.len += (size_t)r;
			}
			int st;
			const char *body;
			size_t blen, tot = http_complete(c->in.p, c->in.len, &st, &body, &blen);
			if (tot == 0)
				continue;
			if (tot != c->in.len)
				die("unexpected bytes after a response");
			c->in.len = 0;
			if (!on_reply(c, st, body, blen)) {
				c->done = 1;
				active--;
				close(c->fd);
				continue;
			}
			c->out.off = 0;
			ssize_t w = write(c->fd, c->out.p, c->out.len);
			if (w > 0)
				c->out.off = (size_t)w;
			if (c->out.off < c->out.len) {
				struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
							  .data.ptr = c };
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
	}
	close(ep);
}

/* ------------------------------------------------------------ create */
static long g_next, g_total, g_done_n;
static int g_phase; /* 0 topics, 1 subs */

static int create_next(struct conn *c)
{
	if (g_next >= g_total)
		return 0;
	long x = g_next++;
	char path[512], body[512];
	if (g_phase == 0) {
		snprintf(path, sizeof(path), "/v1/projects/%s/topics/%s%ld", g_proj, g_prefix, x);
		buf_request(&c->out, "PUT", path, "{}", 2);
	} else {
		long i = x / g_k, j = x % g_k;
		snprintf(path, sizeof(path), "/v1/projects/%s/subscriptions/%s%ld-s%ld", g_proj,
			 g_prefix, i, j);
		int n = snprintf(
			body, sizeof(body),
			"{\"topic\":\"projects/%s/topics/%s%ld\",\"ackDeadlineSeconds\":600}",
			g_proj, g_prefix, i);
		buf_request(&c->out, "PUT", path, body, (size_t)n);
	}
	return 1;
}

static int create_reply(struct conn *c, int st, const char *body, size_t blen)
{
	if (st != 200)
		note_error(st, body, blen);
	else
		g_done_n++;
	return create_next(c);
}

static int do_create(int nconn)
{
	double secs[2];
	long made[2];
	for (g_phase = 0; g_phase < 2; g_phase++) {
		g_next = 0;
		g_done_n = 0;
		g_total = g_phase == 0 ? g_nt : g_nt * g_k;
		struct conn *cs = calloc((size_t)nconn, sizeof(*cs));
		uint64_t t0 = now_ns();
		run_engine(cs, nconn, create_next, create_reply, 1800);
		secs[g_phase] = (double)(now_ns() - t0) / 1e9;
		made[g_phase] = g_done_n;
		free(cs);
	}
	printf("topics=%ld subs=%ld topics_s=%.0f subs_s=%.0f create_secs=%.2f errors=%ld%s%s\n",
	       made[0], made[1], (double)made[0] / secs[0], (double)made[1] / secs[1],
	       secs[0] + secs[1], g_errors, g_errors ? " error_sample=" : "",
	       g_errors ? g_errsample : "");
	return g_errors ? 1 : 0;
}

/* ------------------------------------------------------------ fill */
static long g_per_topic, g_batch;
static char *g_pub_full, *g_pub_last;
static size_t g_pub_full_len, g_pub_last_len;
static long g_msgs_done;

static int fill_next(struct conn *c)
{
	/* work item x: topic sample index x / reqs_per_topic */
	long reqs = (g_per_topic + g_batch - 1) / g_batch;
	if (g_next >= g_total)
		return 0;
	long x = g_next++;
	long t = sample_index(x / reqs), r = x % reqs;
	char path[512];
	snprintf(path, sizeof(path), "/v1/projects/%s/topics/%s%ld:publish", g_proj, g_prefix, t);
	int last = r == reqs - 1 && g_per_topic % g_batch;
	if (last)
		buf_request(&c->out, "POST", path, g_pub_last, g_pub_last_len);
	else
		buf_request(&c->out, "POST", path, g_pub_full, g_pub_full_len);
	c->left = last ? g_per_topic % g_batch : g_batch;
	return 1;
}

static int fill_reply(struct conn *c, int st, const char *body, size_t blen)
{
	if (st != 200)
		note_error(st, body, blen);
	else
		g_msgs_done += c->left;
	return fill_next(c);
}

static int do_fill(int nconn)
{
	if (g_batch > g_per_topic)
		g_batch = g_per_topic;
	g_pub_full = publish_body(g_batch, &g_pub_full_len);
	g_pub_last =
		publish_body(g_per_topic % g_batch ? g_per_topic % g_batch : 1, &g_pub_last_len);
	g_next = 0;
	g_total = sample_count() * ((g_per_topic + g_batch - 1) / g_batch);
	struct conn *cs = calloc((size_t)nconn, sizeof(*cs));
	uint64_t t0 = now_ns();
	run_engine(cs, nconn, fill_next, fill_reply, 1800);
	double s = (double)(now_ns() - t0) / 1e9;
	printf("published=%ld fill_secs=%.2f fill_msgs_s=%.0f errors=%ld%s%s\n", g_msgs_done, s,
	       (double)g_msgs_done / s, g_errors, g_errors ? " error_sample=" : "",
	       g_errors ? g_errsample : "");
	return g_errors ? 1 : 0;
}

/* ------------------------------------------------------------ drain */
struct task {
	long sub_topic, sub_j, quota, got;
};
static struct task *g_tasks;
static long g_ntasks, g_task_next, g_maxmsg, g_pulls, g_empty, g_short, g_delivered;
static int g_noack;
static double g_giveup = 60;
struct dstate {
	int acking, empties;
	struct task *t;
	long want;
};

static void sub_path(char *path, size_t n, struct task *t, const char *verb)
{
	snprintf(path, n, "/v1/projects/%s/subscriptions/%s%ld-s%ld:%s", g_proj, g_prefix,
		 t->sub_topic, t->sub_j, verb);
}

static int drain_pull(struct conn *c)
{
	struct dstate *d = c->task;
	while (d->t == NULL || d->t->got >= d->t->quota) {
		if (g_task_next >= g_ntasks)
			return 0;
		d->t = &g_tasks[g_task_next++];
		d->empties = 0;
	}
	long want = d->t->quota - d->t->got;
	if (want > g_maxmsg)
		want = g_maxmsg;
	char path[512], body[128];
	sub_path(path, sizeof(path), d->t, "pull");
	int n = snprintf(body, sizeof(body), "{\"maxMessages\":%ld,\"returnImmediately\":true}",
			 want);
	buf_request(&c->out, "POST", path, body, (size_t)n);
	d->acking = 0;
	g_pulls++;
	return 1;
}

static int drain_first(struct conn *c)
{
	c->task = calloc(1, sizeof(struct dstate));
	return drain_pull(c);
}

static int drain_reply(struct conn *c, int st, const char *body, size_t blen)
{
	struct dstate *d = c->task;
	if (st != 200) {
		note_error(st, body, blen);
		if (g_errors > 100)
			die("too many errors: %s", g_errsample);
		return drain_pull(c);
	}
	if (d->acking)
		return drain_pull(c);
	/* collect the ackIds */
	struct buf ab = { 0 };
	buf_add(&ab, "{\"ackIds\":[", 11);
	long got = 0;
	const char *p = body, *end = body + blen;
	const char key[] = "\"ackId\"";
	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1)) != NULL) {
		p += sizeof(key) - 1;
		while (p < end && (*p == ' ' || *p == ':'))
			p++;
		if (p >= end || *p != '"')
			break;
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (!q)
			break;
		if (got)
			buf_add(&ab, ",", 1);
		buf_add(&ab, p, (size_t)(q - p + 1));
		got++;
		p = q + 1;
	}
	buf_add(&ab, "]}", 2);
	if (got == 0) {
		g_empty++;
		free(ab.p);
		if (++d->empties >= 20) { /* the backlog is shorter than the quota */
			g_short += d->t->quota - d->t->got;
			d->t->got = d->t->quota;
		} else {
			usleep(1000);
		}
		return drain_pull(c);
	}
	d->empties = 0;
	d->t->got += got;
	g_delivered += got;
	if (g_noack) {
		free(ab.p);
		return drain_pull(c);
	}
	char path[512];
	sub_path(path, sizeof(path), d->t, "acknowledge");
	buf_request(&c->out, "POST", path, ab.p, ab.len);
	free(ab.p);
	d->acking = 1;
	return 1;
}

static int do_drain(long total, int nconn)
{
	long nsubs = sample_count() * g_k;
	long per = total / nsubs;
	if (per < 1)
		per = 1;
	/* split a subscription's share when there are fewer subscriptions than connections */
	long split = nsubs >= nconn ? 1 : (nconn + nsubs - 1) / nsubs;
	/* and into pieces of at most 10 pulls, taken by whichever connection is
	 * free: no long tail with one connection left on a big share */
	long chunk = 10 * g_maxmsg, pieces = (per + chunk - 1) / chunk;
	if (pieces > split)
		split = pieces;
	g_ntasks = nsubs * split;
	g_tasks = calloc((size_t)g_ntasks, sizeof(*g_tasks));
	long x = 0;
	for (long s = 0; s < split; s++)
		for (long k = 0; k < sample_count(); k++)
			for (long j = 0; j < g_k; j++) {
				struct task *t = &g_tasks[x++];
				t->sub_topic = sample_index(k);
				t->sub_j = j;
				t->quota = per / split + (s < per % split ? 1 : 0);
			}
	struct conn *cs = calloc((size_t)nconn, sizeof(*cs));
	uint64_t t0 = now_ns();
	run_engine(cs, nconn, drain_first, drain_reply, 600);
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("subs=%ld per_sub=%ld delivered=%ld secs=%.3f msgs_s=%.0f pulls=%ld empty=%ld "
	       "short=%ld errors=%ld%s%s\n",
	       nsubs, per, g_delivered, secs, (double)g_delivered / secs, g_pulls, g_empty, g_short,
	       g_errors, g_errors ? " error_sample=" : "", g_errors ? g_errsample : "");
	return g_errors ? 1 : 0;
}

/* ------------------------------------------------------------ lat */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void blocking_rt(int fd, struct buf *out, struct buf *in, int *st, const char **body,
			size_t *blen)
{
	size_t o = 0;
	while (o < out->len) {
		ssize_t w = write(fd, out->p + o, out->len - o);
		if (w <= 0)
			die("write: %s", strerror(errno));
		o += (size_t)w;
	}
	in->len = 0;
	for (;;) {
		if (in->cap - in->len < 65536) {
			in->cap = in->cap * 2 + 65536;
			in->p = xrealloc(in->p, in->cap);
		}
		ssize_t r = read(fd, in->p + in->len, in->cap - in->len - 1);
		if (r <= 0)
			die("read: %s", r ? strerror(errno) : "closed by the broker");
		in->len += (size_t)r;
		if (http_complete(in->p, in->len, st, body, blen))
			return;
	}
}

#ifndef NO_NNG
static nng_msg *nng_frame(int method, const char *path, const char *body, size_t blen)
{
	nng_msg *m;
	if (nng_msg_alloc(&m, 0) != 0)
		die("nng_msg_alloc");
	size_t pl = strlen(path);
	unsigned char h[8] = {
		'R', 'N', 1, (unsigned char)method, (unsigned char)(pl >> 8), (unsigned char)pl,
		0,   0
	};
	nng_msg_append(m, h, 8);
	nng_msg_append(m, path, pl);
	if (blen)
		nng_msg_append(m, body, blen);
	return m;
}

static int nng_status(nng_msg *m)
{
	unsigned char *b = nng_msg_body(m);
	if (nng_msg_len(m) < 8 || b[0] != 'R' || b[1] != 'N')
		return -1;
	return b[4] << 8 | b[5];
}
#endif

static int do_lat(const char *mode, const char *topic, const char *sub, long count, long warm,
		  double dur, const char *url)
{
	int is_nng = strcmp(mode, "pubnng") == 0;
	long pullmax = !strcmp(mode, "pull1") ? 1 : !strcmp(mode, "pull1000") ? 1000 : 0;
	if (!is_nng && !pullmax && strcmp(mode, "pub") != 0)
		die("lat: mode pub, pubnng, pull1 or pull1000");
	char path[512], apath[512];
	const char *body;
	size_t blen, pblen;
	char *pbody = NULL, pullb[128];
	if (pullmax) {
		snprintf(path, sizeof(path), "/v1/projects/%s/subscriptions/%s:pull", g_proj, sub);
		snprintf(apath, sizeof(apath), "/v1/projects/%s/subscriptions/%s:acknowledge",
			 g_proj, sub);
		pblen = (size_t)snprintf(pullb, sizeof(pullb),
					 "{\"maxMessages\":%ld,\"returnImmediately\":true}",
					 pullmax);
		pbody = pullb;
	} else {
		snprintf(path, sizeof(path), "/v1/projects/%s/topics/%s:publish", g_proj, topic);
		pbody = publish_body(1, &pblen);
	}
	long cap = dur > 0 ? 20000000 : count + warm;
	uint64_t *lat = xmalloc(sizeof(uint64_t) * (size_t)(dur > 0 ? 1000000 : cap));
	long n = 0, slow = 0, got = 0;
	struct buf out = { 0 }, in = { 0 }, ab = { 0 };
	int fd = -1, st;
	uint64_t tc0 = now_ns(), first = 0; /* connect + first reply */
#ifndef NO_NNG
	nng_socket s;
	if (is_nng) {
		if (nng_req0_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0)
			die("nng: cannot dial %s", url);
		nng_setopt_ms(s, NNG_OPT_RECVTIMEO, 30000);
	}
#else
	(void)url;
	if (is_nng)
		die("built without nng (-DNO_NNG)");
#endif
	if (!is_nng)
		fd = tcp_connect(0);
	if (!is_nng && fd < 0)
		die("connect: %s", strerror(errno));
	uint64_t tend = now_ns() + (uint64_t)(dur * 1e9);
	for (long i = 0; dur > 0 ? now_ns() < tend : i < cap; i++) {
		uint64_t t0 = now_ns();
		if (is_nng) {
#ifndef NO_NNG
			nng_msg *m = nng_frame(3, path, pbody, pblen), *r;
			if (nng_sendmsg(s, m, 0) != 0 || nng_recvmsg(s, &r, 0) != 0)
				die("nng request failed");
			st = nng_status(r);
			nng_msg_free(r);
#endif
		} else {
			buf_request(&out, "POST", path, pbody, pblen);
			blocking_rt(fd, &out, &in, &st, &body, &blen);
		}
		uint64_t el = now_ns() - t0;
		if (i == 0)
			first = now_ns() - tc0;
		if (st != 200)
			die("status %d on %s", st, path);
		if (pullmax) { /* ack what came, untimed */
			ab.len = 0;
			buf_add(&ab, "{\"ackIds\":[", 11);
			long k = 0;
			const char *p = body, *end = body + blen;
			while ((p = memmem(p, (size_t)(end - p), "\"ackId\":\"", 9)) != NULL) {
				p += 8;
				const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
				if (k++)
					buf_add(&ab, ",", 1);
				buf_add(&ab, p, (size_t)(q - p + 1));
				p = q + 1;
			}
			buf_add(&ab, "]}", 2);
			got += k;
			if (k == 0)
				die("pull at the head returned no message");
			buf_request(&out, "POST", apath, ab.p, ab.len);
			blocking_rt(fd, &out, &in, &st, &body, &blen);
		}
		if (i < warm && dur <= 0)
			continue;
		if (n < 1000000)
			lat[n++] = el;
		if (el > 10000000)
			slow++;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
#define PCT(p) ((double)lat[(size_t)((double)(n - 1) * (p))] / 1e3)
	printf("n=%ld p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f slow10ms=%ld first_us=%.0f%s",
	       n, PCT(0.5), PCT(0.9), PCT(0.99), (double)lat[n - 1] / 1e3, slow,
	       (double)first / 1e3, pullmax ? "" : "\n");
	if (pullmax)
		printf(" msgs_per_pull=%.1f\n", (double)got / (double)(n + (dur > 0 ? 0 : warm)));
	return 0;
}

/* ------------------------------------------------------------ idle */
static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void write_status(const char *file, const char *fmt, ...)
{
	char tmp[600];
	va_list ap;
	if (!file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s", tmp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	rename(tmp, file);
}

#ifndef NO_NNG
static void hold(double secs)
{
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	while (!g_stop && now_ns() < end)
		usleep(50000);
}
#endif

static int do_idle_http(long n, double holds, const char *status)
{
	int ep = epoll_create1(0);
	int *fds = xmalloc(sizeof(int) * (size_t)n);
	char *state = calloc((size_t)n, 1); /* 0 not yet, 1 in flight, 2 open, 3 failed, 4 closed */
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	long started = 0, open = 0, failed = 0, inflight = 0, closed = 0;
	uint64_t t0 = now_ns(), give_up = t0 + (uint64_t)(g_giveup * 1e9);
	struct epoll_event evs[256];
	while (open + failed < n && now_ns() < give_up && !g_stop) {
		while (started < n && inflight < 64) {
			long i = started++;
			fds[i] = tcp_connect(1);
			if (fds[i] < 0) {
				state[i] = 3;
				failed++;
				if (failed == 1)
					fprintf(stderr, "growth_load: connect %ld: %s\n", i,
						strerror(errno));
				continue;
			}
			state[i] = 1;
			inflight++;
			struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
			epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
		}
		int k = epoll_wait(ep, evs, 256, 100);
		for (int e = 0; e < k; e++) {
			long i = (long)evs[e].data.u64;
			if (state[i] != 1)
				continue;
			if (evs[e].events & EPOLLOUT) {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &el);
				if (err || write(fds[i], req, sizeof(req) - 1) !=
						   (ssize_t)sizeof(req) - 1) {
					state[i] = 3, failed++, inflight--;
					close(fds[i]);
					continue;
				}
				struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
							  .data.u64 = (uint64_t)i };
				epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev);
				continue;
			}
			char b[4096];
			ssize_t r = read(fds[i], b, sizeof(b));
			if (r > 12 && memcmp(b + 9, "200", 3) == 0) {
				state[i] = 2, open++, inflight--;
			} else {
				state[i] = 3, failed++, inflight--;
				close(fds[i]);
			}
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	/* connects that never completed count as failed */
	for (long i = 0; i < n; i++)
		if (state[i] == 1 || state[i] == 0) {
			if (state[i] == 1)
				close(fds[i]);
			state[i] = 3, failed++;
		}
	write_status(status, "ready open=%ld failed=%ld open_secs=%.2f\n", open, failed, secs);
	uint64_t end = now_ns() + (uint64_t)(holds * 1e9);
	while (!g_stop && now_ns() < end) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int e = 0; e < k; e++) {
			long i = (long)evs[e].data.u64;
			if (state[i] != 2)
				continue;
			char b[4096];
			ssize_t r = read(fds[i], b, sizeof(b));
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				state[i] = 4, closed++;
				epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
				close(fds[i]);
			}
		}
	}
	printf("open=%ld failed=%ld open_secs=%.2f closed_by_peer=%ld\n", open, failed, secs,
	       closed);
	return 0;
}

static int do_idle_nng(long n, const char *url, double holds, const char *status)
{
#ifdef NO_NNG
	(void)n, (void)url, (void)holds, (void)status;
	die("built without nng (-DNO_NNG)");
	return 1;
#else
	nng_socket *ss = xmalloc(sizeof(*ss) * (size_t)n);
	long open = 0, failed = 0;
	uint64_t t0 = now_ns();
	for (long i = 0; i < n && !g_stop; i++) {
		int rv;
		if ((rv = nng_req0_open(&ss[open])) != 0) {
			if (!failed++)
				fprintf(stderr, "growth_load: nng_req0_open %ld: %s\n", i,
					nng_strerror(rv));
			continue;
		}
		nng_setopt_ms(ss[open], NNG_OPT_RECVTIMEO,
			      g_giveup < 10 ? (nng_duration)(g_giveup * 1000) : 10000);
		nng_setopt_ms(ss[open], NNG_OPT_RECONNMINT, 1000);
		nng_setopt_ms(ss[open], NNG_OPT_RECONNMAXT, 5000);
		nng_msg *m = nng_frame(1, "/healthz", NULL, 0), *r = NULL;
		if ((rv = nng_dial(ss[open], url, NULL, 0)) != 0 ||
		    (rv = nng_sendmsg(ss[open], m, 0)) != 0 ||
		    (rv = nng_recvmsg(ss[open], &r, 0)) != 0 || nng_status(r) != 200) {
			if (!failed++)
				fprintf(stderr, "growth_load: nng pipe %ld: %s\n", i,
					rv ? nng_strerror(rv) : "status not 200");
			if (r)
				nng_msg_free(r);
			nng_close(ss[open]);
			break;
		}
		nng_msg_free(r);
		open++;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	write_status(status, "ready open=%ld failed=%ld open_secs=%.2f\n", open, failed, secs);
	hold(holds);
	printf("open=%ld failed=%ld open_secs=%.2f\n", open, failed, secs);
	/* exit without closing: the kernel closes the fds at once */
	return 0;
#endif
}

/* ------------------------------------------------------------ main */
int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: growth_load create|fill|drain|lat|idle-http|idle-nng [options] (see the header of bench/growth_load.c)");
	const char *mode = argv[1];
	const char *topic = "t0", *sub = "t0-s0", *lmode = "pub", *url = "", *status = NULL;
	long n = 0, q = 0, count = 2000, warm = 200;
	int nconn = 0;
	double dur = 0, holds = 120;
	g_maxmsg = 100;
	g_batch = 1000;
	int o;
	optind = 2;
	while ((o = getopt(argc, argv, "p:P:T:n:k:S:q:b:m:c:t:s:N:w:d:u:o:H:G:A")) != -1) {
		switch (o) {
		case 'p': g_port = atoi(optarg); break;
		case 'P': g_proj = optarg; break;
		case 'T': g_prefix = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'k': g_k = atol(optarg); break;
		case 'S': g_sample = atol(optarg); break;
		case 'q': q = atol(optarg); break;
		case 'b': g_batch = atol(optarg); break;
		case 'm':
			lmode = optarg;
			g_maxmsg = atol(optarg) > 0 ? atol(optarg) : 100;
			break;
		case 'c': nconn = atoi(optarg); break;
		case 't': topic = optarg; break;
		case 's': sub = optarg; break;
		case 'N': count = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'u': url = optarg; break;
		case 'o': status = optarg; break;
		case 'H': holds = atof(optarg); break;
		case 'G': g_giveup = atof(optarg); break;
		case 'A': g_noack = 1; break;
		default: die("bad option (see the header of bench/growth_load.c)");
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (!strncmp(mode, "idle-", 5)) { /* only the idle modes wait for SIGTERM to stop */
		signal(SIGTERM, on_term);
		signal(SIGINT, on_term);
	}
	make_data();
	if (!strcmp(mode, "create")) {
		g_nt = n > 0 ? n : 1;
		return do_create(nconn > 0 ? nconn : 16);
	}
	if (!strcmp(mode, "fill")) {
		g_nt = n > 0 ? n : 1;
		g_per_topic = q;
		if (q <= 0 || g_batch <= 0)
			die("fill: -q PER_TOPIC > 0");
		return do_fill(nconn > 0 ? nconn : 4);
	}
	if (!strcmp(mode, "drain")) {
		g_nt = n > 0 ? n : 1;
		if (q <= 0)
			die("drain: -q TOTAL > 0");
		return do_drain(q, nconn > 0 ? nconn : 8);
	}
	if (!strcmp(mode, "lat"))
		return do_lat(lmode, topic, sub, count, warm, dur, url);
	if (!strcmp(mode, "idle-http"))
		return do_idle_http(n, holds, status);
	if (!strcmp(mode, "idle-nng"))
		return do_idle_nng(n, url, holds, status);
	die("unknown mode %s", mode);
	return 1;
}
