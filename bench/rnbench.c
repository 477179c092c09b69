/* rnbench: load generator for regnotifyd's Pub/Sub v1 REST API.
 *
 *   rnbench drain [-p PORT] [-n N=100000] [-s SIZE=300] [-b PULLMAX=1000]
 *       Creates a topic and a subscription, pre-fills N messages of SIZE
 *       bytes with batched publishes (1000 per request, 2 connections,
 *       untimed), then times ONE client draining them: pull (maxMessages
 *       PULLMAX, returnImmediately true) on connection A, acknowledge of the
 *       whole batch on connection B. As soon as a pull reply is read the next
 *       pull is sent on A, then the ack of the batch just read goes out on B,
 *       so the ack of batch k runs while the pull for batch k+1 is in flight
 *       (the async-client pattern of xstream_bench consume PIPE=1). Timed
 *       from the first pull until the last ack is answered. Every message
 *       carries its index in the payload: duplicates and losses are counted;
 *       a final pull checks that nothing is left.
 *
 *   rnbench e2e [-p PORT] [-n N=50000] [-r RATE=5000] [-c PUBCONNS=8] [-l PULLS=2]
 *       Open-loop publisher: single-message publishes at absolute-time slots
 *       (clock_nanosleep TIMER_ABSTIME), each written at its slot to the
 *       first idle connection of a pool of PUBCONNS keep-alive connections,
 *       never waiting for earlier replies (normally 2-4 connections carry the
 *       load; conns_used reports how many were ever needed; only if all are
 *       busy is the request pipelined on the least-loaded one, counted as
 *       "pipelined"); a reader thread reads the replies (publish-ack
 *       latency). The payload carries the CLOCK_MONOTONIC send time.
 *       Subscriber thread: PULLS outstanding long-polling pulls
 *       (returnImmediately false, maxMessages 1000), each re-issued as soon
 *       as its reply is read, and acks in batches on a separate connection
 *       (ids that arrive while an ack is in flight go into the next one).
 *       Prints publish-ack, end-to-end (send -> pull reply read) and the
 *       publisher's own schedule lag as p50/p99/p999/max in microseconds,
 *       the same method and keys as bench/anchors/redis/xstream_bench e2e.
 *
 *   rnbench pub [-p PORT] [-n N=20000] [-s SIZE] [-k BATCH=1]
 *       Closed-loop single connection publish (sanity/debug aid).
 *
 * 127.0.0.1 only, HTTP/1.1 keep-alive with a minimal request writer and
 * response parser (Content-Length bodies, as evhttp sends them). Every mode
 * is bounded by N and by a deadline. Output: one "key=value ..." line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int g_port = 8085;
static const char *g_project = "benchproj";
static char g_topic[96], g_sub[96];
static int g_size = 300;
/* drain -f K: every message carries the attribute m, "1" on every K-th
 * (0: no attributes); -F: the subscription has the filter attributes.m =
 * "1", so it receives those only (docs/performance.md "Filters"). */
static long g_every = 0;
static int g_filter = 0;
/* drain -K N: the subscription orders (enableMessageOrdering) and each
 * publish request carries one of N orderingKeys, round robin; -E: the
 * subscription has exactly-once delivery. */
static long g_keys = 0;
static int g_eod = 0;
static long g_req_no = 0; /* publish requests built so far (the key of the next) */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "rnbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
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

/* ------------------------------------------------------------------ base64 */
static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64c[v >> 18];
		out[o++] = b64c[(v >> 12) & 63];
		out[o++] = b64c[(v >> 6) & 63];
		out[o++] = b64c[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64c[v >> 18];
		out[o++] = b64c[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static int b64v(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decodes the first n chars (n multiple of 4, no padding inside). -1 on bad input. */
static long b64_decode(const char *in, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i + 3 < n; i += 4) {
		int a = b64v(in[i]), b = b64v(in[i + 1]), c = b64v(in[i + 2]), d = b64v(in[i + 3]);
		if (a < 0 || b < 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		if (in[i + 2] == '=')
			break;
		if (c < 0)
			return -1;
		out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		if (in[i + 3] == '=')
			break;
		if (d < 0)
			return -1;
		out[o++] = (unsigned char)((c & 3) << 6 | d);
	}
	return (long)o;
}

/* 300-byte (g_size) JSON-ish payload: {"t":<send ns>,"i":<index>,...xxx"} */
static void make_payload(unsigned char *buf, uint64_t t, long idx)
{
	memset(buf, 'x', (size_t)g_size);
	int k = snprintf((char *)buf, (size_t)g_size,
			 "{\"t\":%llu,\"i\":%ld,\"type\":\"registry.event\",\"data\":\"",
			 (unsigned long long)t, idx);
	buf[k] = 'x';
	buf[g_size - 2] = '"';
	buf[g_size - 1] = '}';
}

/* Reads t and i back from the base64 data of a pulled message. */
static int payload_fields(const char *b64, size_t len, uint64_t *t, long *idx)
{
	unsigned char tmp[64];
	size_t n = len < 64 ? len & ~(size_t)3 : 64;
	long dl = b64_decode(b64, n, tmp);
	if (dl < 12)
		return -1;
	tmp[dl < 63 ? dl : 63] = '\0';
	unsigned long long tv;
	long iv;
	if (sscanf((const char *)tmp, "{\"t\":%llu,\"i\":%ld,", &tv, &iv) != 2)
		return -1;
	*t = tv;
	*idx = iv;
	return 0;
}

/* --------------------------------------------------------- growable buffer */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_need(struct sb *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t c = b->cap ? b->cap : 4096;
	while (c < b->len + extra)
		c *= 2;
	b->p = xrealloc(b->p, c);
	b->cap = c;
}

static void sb_add(struct sb *b, const char *s, size_t n)
{
	sb_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* ---------------------------------------------- HTTP/1.1 keep-alive client */
struct hc {
	int fd;
	char *buf;
	size_t off, len, cap; /* unread data is buf[off..len) */
	/* the parsed response at buf+off (valid after hc_parse returned 1) */
	int status;
	const char *body;
	size_t blen, rlen;
};

static void hc_open(struct hc *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect 127.0.0.1:%d: %s", g_port, strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->cap = 1 << 16;
	c->buf = xmalloc(c->cap);
}

static void hc_close(struct hc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static void write_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t w = writev(fd, iov, cnt);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write: %s", strerror(errno));
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/* Formats the request head for METHOD PATH with a body of blen bytes. */
static int req_head(char *out, size_t cap, const char *method, const char *path, size_t blen)
{
	return snprintf(out, cap,
			"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\n\r\n",
			method, path, g_port, blen);
}

static void hc_send(struct hc *c, const char *method, const char *path, const char *body,
		    size_t blen)
{
	char head[512];
	int hl = req_head(head, sizeof(head), method, path, blen);
	struct iovec iov[2] = { { head, (size_t)hl }, { (void *)body, blen } };
	write_all(c->fd, iov, blen ? 2 : 1);
}

/* Reads once (blocking unless the caller knows data is there). */
static void hc_fill(struct hc *c)
{
	if (c->off == c->len) {
		c->off = c->len = 0;
	} else if (c->off > 0 && c->len + 65536 > c->cap) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->cap - c->len < 65536) {
		c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r > 0) {
			c->len += (size_t)r;
			return;
		}
		if (r < 0 && errno == EINTR)
			continue;
		die("connection closed by the server (%s)", r == 0 ? "EOF" : strerror(errno));
	}
}

/* 1 when a whole response is at buf+off (fields set), 0 when more is needed. */
static int hc_parse(struct hc *c)
{
	const char *p = c->buf + c->off;
	size_t avail = c->len - c->off;
	const char *eoh = memmem(p, avail, "\r\n\r\n", 4);
	if (!eoh) {
		if (avail > 65536)
			die("response head too long");
		return 0;
	}
	if (avail < 12 || memcmp(p, "HTTP/1.", 7) != 0)
		die("bad status line: %.40s", p);
	c->status = atoi(p + 9);
	long clen = -1;
	int close_conn = 0;
	const char *line = (const char *)memchr(p, '\n', (size_t)(eoh + 2 - p)) + 1;
	while (line < eoh) {
		const char *nl = memchr(line, '\n', (size_t)(eoh + 2 - line));
		if (!nl)
			break;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			die("chunked responses are not supported by this client");
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
			 strncasecmp(line + 11, " close", 6) == 0)
			close_conn = 1;
		line = nl + 1;
	}
	if (clen < 0)
		die("response without Content-Length (status %d)", c->status);
	size_t hlen = (size_t)(eoh + 4 - p);
	if (avail < hlen + (size_t)clen)
		return 0;
	c->body = p + hlen;
	c->blen = (size_t)clen;
	c->rlen = hlen + (size_t)clen;
	if (close_conn)
		die("server closed the keep-alive connection (status %d: %.*s)", c->status,
		    (int)(c->blen > 300 ? 300 : c->blen), c->body);
	return 1;
}

static void hc_consume(struct hc *c)
{
	c->off += c->rlen;
}

static void hc_recv(struct hc *c)
{
	while (!hc_parse(c))
		hc_fill(c);
}

static void expect_2xx(struct hc *c, const char *what)
{
	if (c->status < 200 || c->status > 299)
		die("%s: HTTP %d: %.*s", what, c->status, (int)(c->blen > 400 ? 400 : c->blen),
		    c->body);
}

/* ------------------------------------------------------------- API helpers */
static char path_topic[200], path_sub[200], path_publish[256], path_pull[256], path_ack[256];

static void set_names(const char *prefix)
{
	/* unique per process so reruns against one broker never collide */
	snprintf(g_topic, sizeof(g_topic), "%s-t-%d-%llu", prefix, (int)getpid(),
		 (unsigned long long)(now_ns() / 1000000 % 1000000000));
	snprintf(g_sub, sizeof(g_sub), "%s-s-%d-%llu", prefix, (int)getpid(),
		 (unsigned long long)(now_ns() / 1000000 % 1000000000));
	snprintf(path_topic, sizeof(path_topic), "/v1/projects/%s/topics/%s", g_project, g_topic);
	snprintf(path_publish, sizeof(path_publish), "%s:publish", path_topic);
	snprintf(path_sub, sizeof(path_sub), "/v1/projects/%s/subscriptions/%s", g_project, g_sub);
	snprintf(path_pull, sizeof(path_pull), "%s:pull", path_sub);
	snprintf(path_ack, sizeof(path_ack), "%s:acknowledge", path_sub);
}

static void setup_topic_sub(void)
{
	struct hc c;
	hc_open(&c);
	hc_send(&c, "PUT", path_topic, "", 0);
	hc_recv(&c);
	if (c.status != 409)
		expect_2xx(&c, "create topic");
	hc_consume(&c);
	char body[512];
	int bl = snprintf(body, sizeof(body),
			  "{\"topic\":\"projects/%s/topics/%s\",\"ackDeadlineSeconds\":600%s%s%s}",
			  g_project, g_topic,
			  g_filter ? ",\"filter\":\"attributes.m = \\\"1\\\"\"" : "",
			  g_keys ? ",\"enableMessageOrdering\":true" : "",
			  g_eod ? ",\"enableExactlyOnceDelivery\":true" : "");
	hc_send(&c, "PUT", path_sub, body, (size_t)bl);
	hc_recv(&c);
	if (c.status != 409)
		expect_2xx(&c, "create subscription");
	hc_consume(&c);
	hc_close(&c);
}

/* Appends {"messages":[...]} for payload indices [from, from+k) at time t. */
static void build_publish(struct sb *b, long from, long k, uint64_t t)
{
	unsigned char *pl = xmalloc((size_t)g_size);
	size_t el = ((size_t)g_size + 2) / 3 * 4;
	b->len = 0;
	sb_str(b, "{\"messages\":[");
	for (long i = 0; i < k; i++) {
		/* With -f K the n matching messages keep the indices 0..n-1 the
		 * drain counts; the others get n_total + i (a bad index if one
		 * were ever delivered). */
		long idx = from + i, match = 1;
		if (g_every > 1) {
			match = idx % g_every == 0;
			idx = match ? idx / g_every : idx + 1000000000L;
		}
		make_payload(pl, t, idx);
		sb_str(b, i ? ",{\"data\":\"" : "{\"data\":\"");
		sb_need(b, el);
		b->len += b64_encode(pl, (size_t)g_size, b->p + b->len);
		if (g_every > 0)
			sb_str(b, match ? "\",\"attributes\":{\"m\":\"1\"}"
					: "\",\"attributes\":{\"m\":\"0\"}");
		else
			sb_str(b, "\"");
		if (g_keys > 0) {
			char kb[48];
			snprintf(kb, sizeof(kb), ",\"orderingKey\":\"k%ld\"", g_req_no % g_keys);
			sb_str(b, kb);
		}
		sb_str(b, "}");
	}
	sb_str(b, "]}");
	g_req_no++;
	free(pl);
}

/* One pulled message as found in the reply text. */
struct msgref {
	const char *ack, *data;
	size_t acklen, dlen;
};

/* Scans a receivedMessages reply. Values are ack ids ("ms-seq:n") and base64,
 * which never contain quotes or escapes, so a scan is exact here. */
static size_t parse_pull(const char *body, size_t blen, struct msgref **out, size_t *cap)
{
	const char *p = body, *end = body + blen;
	size_t n = 0;
	for (;;) {
		const char *a = memmem(p, (size_t)(end - p), "\"ackId\":\"", 9);
		if (!a)
			break;
		a += 9;
		const char *ae = memchr(a, '"', (size_t)(end - a));
		if (!ae)
			die("truncated ackId");
		const char *d = memmem(ae, (size_t)(end - ae), "\"data\":\"", 8);
		const char *na = memmem(ae, (size_t)(end - ae), "\"ackId\":\"", 9);
		if (!d || (na && na < d))
			die("pulled message without data");
		d += 8;
		const char *de = memchr(d, '"', (size_t)(end - d));
		if (!de)
			die("truncated data");
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*out = xrealloc(*out, *cap * sizeof(**out));
		}
		(*out)[n].ack = a;
		(*out)[n].acklen = (size_t)(ae - a);
		(*out)[n].data = d;
		(*out)[n].dlen = (size_t)(de - d);
		n++;
		p = de + 1;
	}
	if (n == 0 && memmem(body, blen, "receivedMessages", 16) != NULL)
		die("could not parse pull reply: %.*s", (int)(blen > 200 ? 200 : blen), body);
	return n;
}

static const char *pull_body(int max, int ret_imm, size_t *len)
{
	static __thread char b[96];
	*len = (size_t)snprintf(b, sizeof(b), "{\"maxMessages\":%d,\"returnImmediately\":%s}", max,
				ret_imm ? "true" : "false");
	return b;
}

static void ack_begin(struct sb *b)
{
	b->len = 0;
	sb_str(b, "{\"ackIds\":[");
}

static void ack_add(struct sb *b, int first, const char *id, size_t n)
{
	sb_need(b, n + 4);
	if (!first)
		b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, id, n);
	b->len += n;
	b->p[b->len++] = '"';
}

static void ack_end(struct sb *b)
{
	sb_str(b, "]}");
}

static int cmpu64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void pct(const char *name, uint64_t *v, size_t n)
{
	if (n == 0) {
		printf("%s_p50_us=nan %s_p99_us=nan %s_p999_us=nan %s_max_us=nan ", name, name,
		       name, name);
		return;
	}
	qsort(v, n, sizeof(*v), cmpu64);
	printf("%s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f ", name,
	       v[n / 2] / 1e3, name, v[(size_t)((double)n * 0.99)] / 1e3, name,
	       v[(size_t)((double)n * 0.999)] / 1e3, name, v[n - 1] / 1e3);
}

/* --------------------------------------------------------------- fill/pub */
static double fill(long n, int per_req, int conns)
{
	struct hc *c = xmalloc(sizeof(*c) * (size_t)conns);
	struct sb b = { 0 };
	for (int i = 0; i < conns; i++)
		hc_open(&c[i]);
	long nreq = (n + per_req - 1) / per_req;
	uint64_t t0 = now_ns();
	for (long r = 0; r < nreq + conns; r++) {
		struct hc *x = &c[r % conns];
		if (r >= conns) { /* reply of request r - conns */
			hc_recv(x);
			expect_2xx(x, "fill publish");
			hc_consume(x);
		}
		if (r < nreq) {
			long from = r * per_req, k = n - from < per_req ? n - from : per_req;
			build_publish(&b, from, k, 0);
			hc_send(x, "POST", path_publish, b.p, b.len);
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	for (int i = 0; i < conns; i++)
		hc_close(&c[i]);
	free(c);
	free(b.p);
	return secs;
}

static int do_pub(long n, int batch)
{
	set_names("pub");
	setup_topic_sub();
	struct hc c;
	struct sb b = { 0 };
	hc_open(&c);
	uint64_t *lat = xmalloc(sizeof(uint64_t) * (size_t)(n / batch + 1));
	long req = 0;
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i += batch, req++) {
		uint64_t s = now_ns();
		build_publish(&b, i, n - i < batch ? n - i : batch, s);
		hc_send(&c, "POST", path_publish, b.p, b.len);
		hc_recv(&c);
		expect_2xx(&c, "publish");
		hc_consume(&c);
		lat[req] = now_ns() - s;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("pub n=%ld batch=%d reqs=%ld secs=%.3f msgs_s=%.0f ", n, batch, req, secs,
	       (double)n / secs);
	pct("req", lat, (size_t)req);
	printf("\n");
	hc_close(&c);
	free(b.p);
	free(lat);
	return 0;
}

/* -------------------------------------------------------------------- drain */
static int do_drain(long n, int pullmax)
{
	set_names("drain");
	setup_topic_sub();
	/* Ordered: 10 messages per request, so the keys interleave in the stream
	 * and pulls see batches of many keys, and keys still held. */
	double fill_secs = fill(g_every > 1 ? n * g_every : n, g_keys ? 10 : 1000, 2);
	unsigned char *seen = calloc((size_t)n, 1);
	struct hc A, B;
	hc_open(&A);
	hc_open(&B);
	struct sb ack = { 0 };
	struct msgref *m = NULL;
	size_t mcap = 0;
	size_t pbl;
	const char *pb = pull_body(pullmax, 1, &pbl);
	long got = 0, dups = 0, bad = 0, acked = 0, pulls = 0, empty = 0, acks = 0;
	int ack_inflight = 0;
	uint64_t t0 = now_ns(), deadline = t0 + 120ull * 1000000000ull;
	hc_send(&A, "POST", path_pull, pb, pbl);
	pulls++;
	for (;;) {
		hc_recv(&A);
		expect_2xx(&A, "pull");
		size_t k = parse_pull(A.body, A.blen, &m, &mcap);
		for (size_t i = 0; i < k; i++) {
			uint64_t t;
			long idx;
			if (payload_fields(m[i].data, m[i].dlen, &t, &idx) || idx < 0 || idx >= n)
				bad++;
			else if (seen[idx])
				dups++;
			else {
				seen[idx] = 1;
				got++;
			}
		}
		/* An ordered subscription answers a pull that comes before the
		 * previous batch's ack with nothing (its keys are held): empty
		 * pulls in a row end the drain only well after that. */
		int more = got < n && now_ns() < deadline && empty < (g_keys ? 200 : 3);
		if (k == 0)
			empty++;
		else if (g_keys)
			empty = 0;
		if (more) { /* next pull goes out before this batch's ack */
			hc_send(&A, "POST", path_pull, pb, pbl);
			pulls++;
		}
		if (k > 0) {
			ack_begin(&ack);
			for (size_t i = 0; i < k; i++)
				ack_add(&ack, i == 0, m[i].ack, m[i].acklen);
			ack_end(&ack);
		}
		hc_consume(&A);
		if (k > 0) {
			if (ack_inflight) {
				hc_recv(&B);
				expect_2xx(&B, "acknowledge");
				hc_consume(&B);
			}
			hc_send(&B, "POST", path_ack, ack.p, ack.len);
			ack_inflight = 1;
			acks++;
			acked += (long)k;
		}
		if (!more)
			break;
	}
	if (ack_inflight) {
		hc_recv(&B);
		expect_2xx(&B, "acknowledge");
		hc_consume(&B);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	/* nothing may be left: one more immediate pull must come back empty */
	hc_send(&A, "POST", path_pull, pb, pbl);
	hc_recv(&A);
	expect_2xx(&A, "final pull");
	long left = (long)parse_pull(A.body, A.blen, &m, &mcap);
	hc_consume(&A);
	printf("drain n=%ld batch=%d got=%ld dups=%ld bad=%ld acked=%ld left_after=%ld pulls=%ld "
	       "acks=%ld fill_secs=%.3f fill_msgs_s=%.0f secs=%.3f msgs_s=%.0f\n",
	       n, pullmax, got, dups, bad, acked, left, pulls, acks, fill_secs,
	       (double)n / fill_secs, secs, (double)got / secs);
	hc_close(&A);
	hc_close(&B);
	free(seen);
	free(m);
	free(ack.p);
	return got == n && dups == 0 && bad == 0 && left == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------- e2e */
struct pubconn {
	struct hc hc;
	long *ring; /* slot indices in send order */
	_Atomic long head, tail;
};

static long e2e_n, e2e_rate;
static int n_pubconns = 8, n_pulls = 2;
static struct pubconn *pcs;
static uint64_t *sent_at, *lat_pub, *lat_e2e, *lat_lag;
static uint64_t t_start, t_deadline;
static long pub_errors, pipelined;
static int conns_used;
static long got_e2e, dups_e2e, bad_e2e, pulls_done, empty_pulls, acks_sent, max_batch;

static void *pub_reader(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	for (int i = 0; i < n_pubconns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, pcs[i].hc.fd, &ev);
	}
	long done = 0;
	while (done < e2e_n) {
		struct epoll_event evs[16];
		int k = epoll_wait(ep, evs, 16, 1000);
		if (k < 0 && errno != EINTR)
			die("epoll: %s", strerror(errno));
		if (now_ns() > t_deadline)
			die("e2e: deadline hit with %ld of %ld publish replies", done, e2e_n);
		for (int e = 0; e < k; e++) {
			struct pubconn *pc = &pcs[evs[e].data.u32];
			hc_fill(&pc->hc);
			uint64_t t = now_ns();
			while (hc_parse(&pc->hc)) {
				long h = atomic_load_explicit(&pc->head, memory_order_relaxed);
				if (h == atomic_load_explicit(&pc->tail, memory_order_acquire))
					die("reply without a request");
				long idx = pc->ring[h];
				lat_pub[idx] = t - sent_at[idx];
				if (pc->hc.status != 200) {
					if (pub_errors++ < 3)
						fprintf(stderr, "publish: HTTP %d: %.*s\n",
							pc->hc.status,
							(int)(pc->hc.blen > 300 ? 300
										: pc->hc.blen),
							pc->hc.body);
				}
				hc_consume(&pc->hc);
				atomic_store_explicit(&pc->head, h + 1, memory_order_release);
				done++;
			}
		}
	}
	close(ep);
	return NULL;
}

static void *publisher(void *arg)
{
	(void)arg;
	unsigned char *pl = xmalloc((size_t)g_size);
	char body[4096], head[512];
	size_t el = ((size_t)g_size + 2) / 3 * 4;
	if (el + 64 > sizeof(body))
		die("payload too large for e2e");
	for (long i = 0; i < e2e_n; i++) {
		uint64_t target = t_start + (uint64_t)((double)i * 1e9 / (double)e2e_rate);
		struct timespec ts = { (time_t)(target / 1000000000ull),
				       (long)(target % 1000000000ull) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) {
		}
		uint64_t sent = now_ns();
		lat_lag[i] = sent - target;
		sent_at[i] = sent;
		make_payload(pl, sent, i);
		size_t bl = (size_t)snprintf(body, sizeof(body), "{\"messages\":[{\"data\":\"");
		bl += b64_encode(pl, (size_t)g_size, body + bl);
		memcpy(body + bl, "\"}]}", 4);
		bl += 4;
		int hl = req_head(head, sizeof(head), "POST", path_publish, bl);
		/* the first idle connection of the pool (like an HTTP/1.1 client
		 * pool: a few connections carry the load, more are used only while
		 * those are busy); pipelining only when all are busy */
		int pick = -1;
		long best = 0;
		for (int q = 0; q < n_pubconns; q++) {
			long out = atomic_load_explicit(&pcs[q].tail, memory_order_relaxed) -
				   atomic_load_explicit(&pcs[q].head, memory_order_acquire);
			if (pick < 0 || out < best) {
				pick = q;
				best = out;
			}
			if (out == 0)
				break;
		}
		if (pick + 1 > conns_used)
			conns_used = pick + 1;
		if (best > 0)
			pipelined++;
		struct pubconn *pc = &pcs[pick];
		long t = atomic_load_explicit(&pc->tail, memory_order_relaxed);
		pc->ring[t] = i;
		atomic_store_explicit(&pc->tail, t + 1, memory_order_release);
		struct iovec iov[2] = { { head, (size_t)hl }, { body, bl } };
		write_all(pc->hc.fd, iov, 2);
		if (now_ns() > t_deadline)
			die("e2e: deadline hit while publishing");
	}
	free(pl);
	return NULL;
}

static void *subscriber(void *arg)
{
	(void)arg;
	unsigned char *seen = calloc((size_t)e2e_n, 1);
	struct hc *pc = xmalloc(sizeof(*pc) * (size_t)n_pulls), ackc;
	int ep = epoll_create1(0);
	size_t pbl;
	const char *pb = pull_body(1000, 0, &pbl);
	for (int i = 0; i < n_pulls; i++) {
		hc_open(&pc[i]);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, pc[i].fd, &ev);
		hc_send(&pc[i], "POST", path_pull, pb, pbl);
	}
	hc_open(&ackc);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)n_pulls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ackc.fd, &ev);
	struct sb pend = { 0 }; /* ack body being collected */
	long npend = 0;
	int ack_inflight = 0;
	struct msgref *m = NULL;
	size_t mcap = 0;
	ack_begin(&pend);
	while (!(got_e2e >= e2e_n && !ack_inflight && npend == 0)) {
		if (now_ns() > t_deadline) {
			fprintf(stderr, "e2e: subscriber deadline hit with %ld of %ld messages\n",
				got_e2e, e2e_n);
			break;
		}
		struct epoll_event evs[8];
		int k = epoll_wait(ep, evs, 8, 200);
		if (k < 0 && errno != EINTR)
			die("epoll: %s", strerror(errno));
		for (int e = 0; e < k; e++) {
			uint32_t id = evs[e].data.u32;
			struct hc *c = id == (uint32_t)n_pulls ? &ackc : &pc[id];
			hc_fill(c);
			uint64_t t = now_ns();
			while (hc_parse(c)) {
				if (c == &ackc) {
					expect_2xx(c, "acknowledge");
					ack_inflight = 0;
					hc_consume(c);
					continue;
				}
				expect_2xx(c, "pull");
				size_t nm = parse_pull(c->body, c->blen, &m, &mcap);
				pulls_done++;
				if (nm == 0)
					empty_pulls++;
				if ((long)nm > max_batch)
					max_batch = (long)nm;
				for (size_t i = 0; i < nm; i++) {
					uint64_t ts;
					long idx;
					if (payload_fields(m[i].data, m[i].dlen, &ts, &idx) ||
					    idx < 0 || idx >= e2e_n) {
						bad_e2e++;
					} else if (seen[idx]) {
						dups_e2e++;
					} else {
						seen[idx] = 1;
						lat_e2e[got_e2e++] = t - ts;
					}
					ack_add(&pend, npend == 0, m[i].ack, m[i].acklen);
					npend++;
				}
				hc_consume(c);
				if (got_e2e < e2e_n) /* keep PULLS long polls outstanding */
					hc_send(c, "POST", path_pull, pb, pbl);
			}
		}
		if (!ack_inflight && npend > 0) {
			ack_end(&pend);
			hc_send(&ackc, "POST", path_ack, pend.p, pend.len);
			ack_inflight = 1;
			acks_sent++;
			npend = 0;
			ack_begin(&pend);
		}
	}
	/* parked pulls are left to the broker: closing drops them */
	for (int i = 0; i < n_pulls; i++)
		hc_close(&pc[i]);
	free(pc);
	hc_close(&ackc);
	close(ep);
	free(seen);
	free(pend.p);
	free(m);
	return NULL;
}

static int do_e2e(long n, long rate)
{
	e2e_n = n;
	e2e_rate = rate;
	set_names("e2e");
	setup_topic_sub();
	sent_at = calloc((size_t)n, sizeof(uint64_t));
	lat_pub = calloc((size_t)n, sizeof(uint64_t));
	lat_e2e = calloc((size_t)n, sizeof(uint64_t));
	lat_lag = calloc((size_t)n, sizeof(uint64_t));
	pcs = calloc((size_t)n_pubconns, sizeof(*pcs));
	for (int i = 0; i < n_pubconns; i++) {
		hc_open(&pcs[i].hc);
		pcs[i].ring = xmalloc(sizeof(long) * (size_t)n);
	}
	pthread_t sub, rd, pub;
	t_start = now_ns() + 300000000ull; /* 300 ms: connections and pulls are set up */
	t_deadline = t_start + (uint64_t)((double)n * 1e9 / (double)rate) + 20000000000ull;
	pthread_create(&sub, NULL, subscriber, NULL);
	pthread_create(&rd, NULL, pub_reader, NULL);
	pthread_create(&pub, NULL, publisher, NULL);
	pthread_join(pub, NULL);
	pthread_join(rd, NULL);
	pthread_join(sub, NULL);
	printf("e2e n=%ld rate=%ld conns=%d pulls=%d got=%ld dups=%ld bad=%ld pub_errors=%ld "
	       "conns_used=%d pipelined=%ld pull_replies=%ld empty_pulls=%ld acks=%ld max_batch=%ld ",
	       n, rate, n_pubconns, n_pulls, got_e2e, dups_e2e, bad_e2e, pub_errors, conns_used,
	       pipelined, pulls_done, empty_pulls, acks_sent, max_batch);
	pct("pub", lat_pub, (size_t)n);
	pct("e2e", lat_e2e, (size_t)got_e2e);
	pct("schedlag", lat_lag, (size_t)n);
	printf("\n");
	for (int i = 0; i < n_pubconns; i++) {
		hc_close(&pcs[i].hc);
		free(pcs[i].ring);
	}
	free(pcs);
	free(sent_at);
	free(lat_pub);
	free(lat_e2e);
	free(lat_lag);
	return got_e2e == n && dups_e2e == 0 && bad_e2e == 0 && pub_errors == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------- main */
static void usage(void)
{
	fprintf(stderr,
		"usage: rnbench drain|e2e|pub [-p PORT] [-P PROJECT] [-n N] [-s SIZE]\n"
		"  drain: [-b PULLMAX=1000]            (default -n 100000)\n"
		"         [-f K [-F]]: attribute m=\"1\" on every K-th message (K > 1: K x N\n"
		"         published), -F: the subscription filters attributes.m = \"1\"\n"
		"         [-K KEYS]: ordered subscription, one of KEYS orderingKeys per\n"
		"         publish request; [-E]: exactly-once delivery\n"
		"  e2e:   [-r RATE=5000] [-c PUBCONNS=8] [-l PULLS=2] (default -n 50000)\n"
		"  pub:   [-k BATCH=1]                 (default -n 20000)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *mode = argv[1];
	long n = -1, rate = 5000;
	int pullmax = 1000, batch = 1;
	int opt;
	optind = 2;
	while ((opt = getopt(argc, argv, "p:P:n:s:b:r:c:l:k:f:FK:E")) != -1) {
		switch (opt) {
		case 'p': g_port = atoi(optarg); break;
		case 'P': g_project = optarg; break;
		case 'n': n = atol(optarg); break;
		case 's': g_size = atoi(optarg); break;
		case 'b': pullmax = atoi(optarg); break;
		case 'r': rate = atol(optarg); break;
		case 'c': n_pubconns = atoi(optarg); break;
		case 'l': n_pulls = atoi(optarg); break;
		case 'k': batch = atoi(optarg); break;
		case 'f': g_every = atol(optarg); break;
		case 'F': g_filter = 1; break;
		case 'K': g_keys = atol(optarg); break;
		case 'E': g_eod = 1; break;
		default: usage();
		}
	}
	if (g_size < 80 || g_size > 2000 || n_pubconns < 1 || n_pulls < 1 || rate < 1 ||
	    pullmax < 1 || batch < 1 || batch > 1000 || g_every < 0 || g_every > 1000 ||
	    g_keys < 0 || g_keys > 100000 || (g_every > 1 && !g_filter))
		usage();
	if (!strcmp(mode, "drain"))
		return do_drain(n > 0 ? n : 100000, pullmax);
	if (!strcmp(mode, "e2e"))
		return do_e2e(n > 0 ? n : 50000, rate);
	if (!strcmp(mode, "pub"))
		return do_pub(n > 0 ? n : 20000, batch);
	usage();
	return 2;
}
