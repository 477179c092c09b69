/* it_h2.c - a hostile HTTP/2 client of regnotifyd's gRPC endpoint, for
 * tests/integration/test_grpc_wire.py: nghttp2's client API (or raw bytes)
 * over a plain socket to 127.0.0.1, one scenario per run, one JSON line of
 * what it observed (grpc-status, grpc-message, HTTP/2 error codes, counts).
 * Exit 0 when the scenario could run, 1 when it could not (no connection),
 * 2 on bad usage. Every wait is bounded; an alarm ends a run that hangs.
 *
 * Usage: it_h2 PORT SCENARIO [ARGS] - the scenarios are listed in usage(). */
#define _POSIX_C_SOURCE 200809L

#include <nghttp2/nghttp2.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PUB "/google.pubsub.v1.Publisher/"
#define SUBR "/google.pubsub.v1.Subscriber/"
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static int port;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- bytes -------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void b_put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			fprintf(stderr, "it_h2: out of memory\n");
			exit(3);
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = 0; /* text stays terminated */
}

static void b_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void b_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		b_put(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		exit(3);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b_put(b, big, (size_t)n);
	free(big);
}

static void b_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* A JSON string (bytes outside printable ASCII as \u00XX). */
static void jstr(struct buf *o, const char *s, size_t n)
{
	b_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			b_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch > 0x7e)
			b_printf(o, "\\u%04x", ch);
		else
			b_put(o, &ch, 1);
	}
	b_put(o, "\"", 1);
}

/* ---- protobuf and gRPC framing ------------------------------------------ */

static void pb_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		uint8_t c = (uint8_t)(v | 0x80);
		b_put(b, &c, 1);
		v >>= 7;
	}
	uint8_t c = (uint8_t)v;
	b_put(b, &c, 1);
}

static void pb_bytes(struct buf *b, unsigned field, const void *d, size_t n)
{
	pb_varint(b, (field << 3) | 2);
	pb_varint(b, n);
	b_put(b, d, n);
}

static void pb_int(struct buf *b, unsigned field, uint64_t v)
{
	pb_varint(b, field << 3);
	pb_varint(b, v);
}

/* Appends msg to out as one length-prefixed message. */
static void grpc_frame(struct buf *out, const struct buf *msg, uint8_t flag)
{
	uint32_t n = (uint32_t)msg->len;
	uint8_t pre[5] = { flag, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			   (uint8_t)n };
	b_put(out, pre, 5);
	b_put(out, msg->p, msg->len);
}

/* GetTopicRequest { topic = 1 } */
static void msg_get_topic(struct buf *m, const char *topic)
{
	pb_bytes(m, 1, topic, strlen(topic));
}

/* PublishRequest { topic = 1; repeated PubsubMessage messages = 2 { bytes data = 1 } } */
static void msg_publish(struct buf *m, const char *topic, int n, size_t size)
{
	pb_bytes(m, 1, topic, strlen(topic));
	uint8_t *data = malloc(size ? size : 1);
	if (data == NULL)
		exit(3);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)('a' + i % 26);
	for (int k = 0; k < n; k++) {
		struct buf pm = { 0 };
		if (size)
			data[0] = (uint8_t)('0' + k % 10);
		pb_bytes(&pm, 1, data, size);
		pb_bytes(m, 2, pm.p, pm.len);
		b_free(&pm);
	}
	free(data);
}

/* PullRequest { subscription = 1; return_immediately = 2; max_messages = 3 } */
static void msg_pull(struct buf *m, const char *sub, int ri, int max)
{
	pb_bytes(m, 1, sub, strlen(sub));
	if (ri)
		pb_int(m, 2, 1);
	pb_int(m, 3, (uint64_t)max);
}

/* StreamingPullRequest { subscription = 1; stream_ack_deadline_seconds = 5 } */
static void msg_spull(struct buf *m, const char *sub, int deadline)
{
	if (sub)
		pb_bytes(m, 1, sub, strlen(sub));
	if (deadline)
		pb_int(m, 5, (uint64_t)deadline);
}

static int pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* The number of field-1 entries of a message (-1: it does not parse); the
 * first one is copied to first (if not NULL). */
static long pb_count_f1(const uint8_t *p, size_t n, char *first, size_t firstn)
{
	const uint8_t *end = p + n;
	long count = 0;
	while (p < end) {
		uint64_t tag, v;
		if (pb_read_varint(&p, end, &tag) != 0)
			return -1;
		switch (tag & 7) {
		case 0:
			if (pb_read_varint(&p, end, &v) != 0)
				return -1;
			break;
		case 1:
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		case 2:
			if (pb_read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
				return -1;
			if ((tag >> 3) == 1) {
				if (count == 0 && first)
					snprintf(first, firstn, "%.*s", (int)v, (const char *)p);
				count++;
			}
			p += v;
			break;
		default: return -1;
		}
	}
	return count;
}

/* What a response body (its DATA) holds. */
struct reply {
	long msgs;      /* complete length-prefixed messages */
	long f1;        /* field-1 entries of all of them (messageIds, receivedMessages) */
	int bad;        /* a message that does not parse, or a compressed one */
	size_t rest;    /* bytes after the last complete message */
	char name[256]; /* the first field-1 string of the first message (Topic.name) */
};

static void parse_reply(const struct buf *r, struct reply *out)
{
	memset(out, 0, sizeof(*out));
	size_t off = 0;
	while (off + 5 <= r->len) {
		const uint8_t *q = r->p + off;
		size_t n = ((size_t)q[1] << 24) | ((size_t)q[2] << 16) | ((size_t)q[3] << 8) | q[4];
		if (off + 5 + n > r->len)
			break;
		long c =
			pb_count_f1(q + 5, n, out->msgs == 0 ? out->name : NULL, sizeof(out->name));
		if (c < 0 || q[0] != 0)
			out->bad = 1;
		else
			out->f1 += c;
		out->msgs++;
		off += 5 + n;
	}
	out->rest = r->len - off;
}

/* ---- the connection and its calls --------------------------------------- */

struct conn;

struct call {
	struct conn *k;
	const char *label;
	char path[256];
	const char *ctype;   /* content-type (NULL: none sent) */
	const char *timeout; /* grpc-timeout (NULL: none sent) */
	struct buf body;
	size_t off;
	size_t chunk; /* most bytes per DATA frame (0: as nghttp2 likes) */
	int hold;     /* send no more than stop_at bytes until released */
	size_t stop_at;
	int keep_open; /* no END_STREAM after the body */
	int trailers;  /* the body is followed by a trailer HEADERS frame (END_STREAM) */
	int no_body;   /* HEADERS with END_STREAM */
	int32_t id;
	int data_frames; /* DATA frames sent */
	int data_at_end; /* ... when the server ended its side */
	int http;        /* :status */
	int status;      /* grpc-status, -1: none */
	int status_in_headers, status_in_trailer;
	char message[512];
	int header_frames;
	struct buf resp; /* the DATA received */
	int end;         /* the server ended its side (END_STREAM) */
	int closed;
	uint32_t close_code;
	int rst; /* the RST_STREAM code received, -1: none */
	double t0, t_end;
};

struct conn {
	int fd;
	nghttp2_session *s;
	struct call **calls;
	size_t ncalls;
	struct buf pend; /* bytes nghttp2 gave and the socket did not take yet */
	size_t pend_off;
	int slow; /* this many first bytes go one per write, with a pause */
	int eof, reset, wr_dead, h2err;
	int goaway;
	uint32_t goaway_code;
	int32_t goaway_last;
	int settings, settings_acked;
	int headers_sent;
	long rst_frames;
	size_t rcvd;
};

static struct call *call_new(struct conn *k, const char *label, const char *path)
{
	struct call *c = calloc(1, sizeof(*c));
	struct call **v = realloc(k->calls, sizeof(*v) * (k->ncalls + 1));
	if (c == NULL || v == NULL)
		exit(3);
	k->calls = v;
	k->calls[k->ncalls++] = c;
	c->k = k;
	c->label = label;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->ctype = "application/grpc";
	c->status = -1;
	c->rst = -1;
	return c;
}

static ssize_t provide(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
		       nghttp2_data_source *src, void *user)
{
	struct call *c = src->ptr;
	(void)user;
	size_t limit = c->hold ? c->stop_at : c->body.len;
	if (limit > c->body.len)
		limit = c->body.len;
	if (c->off >= limit) {
		if (c->hold || c->keep_open)
			return NGHTTP2_ERR_DEFERRED;
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	size_t n = limit - c->off;
	if (c->chunk && n > c->chunk)
		n = c->chunk;
	if (n > len)
		n = len;
	memcpy(buf, c->body.p + c->off, n);
	c->off += n;
	if (c->off == c->body.len && !c->hold && !c->keep_open) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (c->trailers) {
			nghttp2_nv tr[] = { { (uint8_t *)"x-it-trailer", (uint8_t *)"1", 12, 1,
					      NGHTTP2_NV_FLAG_NONE } };
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(s, id, tr, 1);
		}
	}
	return (ssize_t)n;
}

static int call_submit(struct conn *k, struct call *c)
{
	char auth[64];
	snprintf(auth, sizeof(auth), "127.0.0.1:%d", port);
	nghttp2_nv nv[10];
	size_t n = 0;
#define NV(a, b)                                                                                   \
	nv[n++] = (nghttp2_nv){ (uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b),              \
				NGHTTP2_NV_FLAG_NONE }
	NV(":method", "POST");
	NV(":scheme", "http");
	NV(":path", c->path);
	NV(":authority", auth);
	if (c->ctype)
		NV("content-type", c->ctype);
	NV("te", "trailers");
	NV("user-agent", "it_h2");
	if (c->timeout)
		NV("grpc-timeout", c->timeout);
#undef NV
	nghttp2_data_provider prd = { .source.ptr = c, .read_callback = provide };
	c->t0 = now_ms();
	c->id = nghttp2_submit_request(k->s, NULL, nv, n, c->no_body ? NULL : &prd, c);
	return c->id < 0 ? -1 : 0;
}

/* Lets a held or kept-open body go on (and end, unless keep_open). */
static void call_release(struct call *c)
{
	c->hold = 0;
	if (c->id > 0)
		nghttp2_session_resume_data(c->k->s, c->id);
}

static int cb_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	(void)flags;
	(void)user;
	struct call *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (c == NULL || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	char v[32];
	snprintf(v, sizeof(v), "%.*s", (int)(valuelen < 31 ? valuelen : 31), (const char *)value);
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		c->http = atoi(v);
	} else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
		c->status = atoi(v);
		if (f->headers.cat == NGHTTP2_HCAT_HEADERS)
			c->status_in_trailer = 1;
		else
			c->status_in_headers = 1;
	} else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		snprintf(c->message, sizeof(c->message), "%.*s", (int)valuelen,
			 (const char *)value);
	}
	return 0;
}

static int cb_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct conn *k = user;
	struct call *c =
		f->hd.stream_id ? nghttp2_session_get_stream_user_data(s, f->hd.stream_id) : NULL;
	switch (f->hd.type) {
	case NGHTTP2_SETTINGS:
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			k->settings_acked = 1;
		else
			k->settings = 1;
		break;
	case NGHTTP2_GOAWAY:
		k->goaway = 1;
		k->goaway_code = f->goaway.error_code;
		k->goaway_last = f->goaway.last_stream_id;
		break;
	case NGHTTP2_RST_STREAM:
		k->rst_frames++;
		if (c)
			c->rst = (int)f->rst_stream.error_code;
		break;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		if (c == NULL)
			break;
		if (f->hd.type == NGHTTP2_HEADERS)
			c->header_frames++;
		if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
			c->end = 1;
			c->t_end = now_ms();
			c->data_at_end = c->data_frames;
		}
		break;
	default: break;
	}
	return 0;
}

static int cb_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	(void)flags;
	(void)user;
	struct call *c = nghttp2_session_get_stream_user_data(s, id);
	if (c)
		b_put(&c->resp, data, len);
	return 0;
}

static int cb_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)user;
	struct call *c = nghttp2_session_get_stream_user_data(s, id);
	if (c == NULL)
		return 0;
	c->closed = 1;
	c->close_code = code;
	if (c->t_end == 0)
		c->t_end = now_ms();
	return 0;
}

static int cb_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct conn *k = user;
	if (f->hd.type == NGHTTP2_HEADERS)
		k->headers_sent++;
	if (f->hd.type == NGHTTP2_DATA) {
		struct call *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
		if (c)
			c->data_frames++;
	}
	return 0;
}

static int tcp_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "it_h2: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

struct conn_opts {
	int slow;
	const nghttp2_settings_entry *iv;
	size_t niv;
	uint32_t peer_max_streams; /* assumed before the server's SETTINGS (0: nghttp2's 100) */
	int no_auto_window_update;
	int32_t conn_window; /* the connection's receive window (0: 65535) */
};

static struct conn *conn_open(const struct conn_opts *o)
{
	static const struct conn_opts none = { 0 };
	if (o == NULL)
		o = &none;
	int fd = tcp_connect();
	if (fd < 0)
		exit(1);
	struct conn *k = calloc(1, sizeof(*k));
	if (k == NULL)
		exit(3);
	k->fd = fd;
	k->slow = o->slow;
	nghttp2_session_callbacks *cbs;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, cb_frame_send);
	nghttp2_option *opt;
	nghttp2_option_new(&opt);
	if (o->peer_max_streams)
		nghttp2_option_set_peer_max_concurrent_streams(opt, o->peer_max_streams);
	if (o->no_auto_window_update)
		nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_session_client_new2(&k->s, cbs, k, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(k->s, NGHTTP2_FLAG_NONE, o->iv, o->niv);
	if (o->conn_window)
		nghttp2_session_set_local_window_size(k->s, NGHTTP2_FLAG_NONE, 0, o->conn_window);
	return k;
}

static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

static void conn_free(struct conn *k)
{
	conn_close(k);
	nghttp2_session_del(k->s);
	for (size_t i = 0; i < k->ncalls; i++) {
		b_free(&k->calls[i]->body);
		b_free(&k->calls[i]->resp);
		free(k->calls[i]);
	}
	free(k->calls);
	b_free(&k->pend);
	free(k);
}

static int conn_dead(const struct conn *k)
{
	return k->eof || k->wr_dead || k->h2err;
}

typedef int (*done_fn)(struct conn *k, void *arg);

/* Moves bytes both ways (only out with no_read) until done(k, arg) or
 * timeout_ms; 1 if done. Returns early when nothing more can happen. */
static int pump(struct conn *k, done_fn done, void *arg, int timeout_ms, int no_read)
{
	double end = now_ms() + timeout_ms;
	static uint8_t rbuf[256 * 1024];
	for (;;) {
		if (done && done(k, arg))
			return 1;
		if (k->pend_off == k->pend.len && !k->wr_dead && !k->h2err) {
			k->pend_off = k->pend.len = 0;
			while (k->pend.len < 1024 * 1024) {
				const uint8_t *d;
				ssize_t n = nghttp2_session_mem_send(k->s, &d);
				if (n < 0) {
					k->h2err = (int)n;
					break;
				}
				if (n == 0)
					break;
				b_put(&k->pend, d, (size_t)n);
			}
		}
		double left = end - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = k->fd, .events = 0, .revents = 0 };
		if (!no_read && !k->eof && !k->h2err)
			p.events |= POLLIN;
		if (k->pend_off < k->pend.len && !k->wr_dead)
			p.events |= POLLOUT;
		if (p.events == 0)
			return done ? done(k, arg) : 0;
		int r = poll(&p, 1, left > 50 ? 50 : (int)left + 1);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		if (p.revents & POLLOUT) {
			size_t n = k->pend.len - k->pend_off;
			if (k->slow > 0)
				n = 1;
			ssize_t w = send(k->fd, k->pend.p + k->pend_off, n, MSG_NOSIGNAL);
			if (w > 0) {
				k->pend_off += (size_t)w;
				if (k->slow > 0) {
					k->slow--;
					sleep_ms(15);
				}
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				k->wr_dead = 1;
				k->reset |= errno == ECONNRESET;
			}
		}
		if (no_read) {
			if (p.revents & (POLLHUP | POLLERR))
				k->eof = 1;
			continue;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(k->fd, rbuf, sizeof(rbuf), 0);
			if (n == 0) {
				k->eof = 1;
			} else if (n < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					k->eof = 1;
					k->reset |= errno == ECONNRESET;
				}
			} else {
				k->rcvd += (size_t)n;
				ssize_t m = nghttp2_session_mem_recv(k->s, rbuf, (size_t)n);
				if (m < 0)
					k->h2err = (int)m;
			}
		}
	}
}

static int call_done(const struct call *c)
{
	return c->end || c->closed || c->rst >= 0;
}

static int done_call(struct conn *k, void *arg)
{
	return call_done(arg) || conn_dead(k);
}

static int done_closed(struct conn *k, void *arg)
{
	struct call *c = arg;
	return c->closed || conn_dead(k);
}

static int done_all(struct conn *k, void *arg)
{
	(void)arg;
	if (conn_dead(k))
		return 1;
	for (size_t i = 0; i < k->ncalls; i++)
		if (!call_done(k->calls[i]))
			return 0;
	return 1;
}

static int done_headers(struct conn *k, void *arg)
{
	struct call *c = arg;
	return c->header_frames > 0 || call_done(c) || conn_dead(k);
}

static int done_settings(struct conn *k, void *arg)
{
	(void)arg;
	/* the server's SETTINGS, and our ACK of them written */
	return (k->settings && k->settings_acked && k->pend_off == k->pend.len &&
		!nghttp2_session_want_write(k->s)) ||
	       conn_dead(k);
}

struct nsent {
	int n;
};

static int done_headers_sent(struct conn *k, void *arg)
{
	struct nsent *w = arg;
	return (k->headers_sent >= w->n && k->pend_off == k->pend.len) || conn_dead(k);
}

/* Submits c and waits (timeout_ms at most) until the server ended it. */
static void run_call(struct conn *k, struct call *c, int timeout_ms)
{
	if (call_submit(k, c) != 0) {
		fprintf(stderr, "it_h2: submit %s failed: %d\n", c->label, c->id);
		return;
	}
	pump(k, done_call, c, timeout_ms, 0);
}

/* ---- the report ---------------------------------------------------------- */

static void out_call(struct buf *o, const struct call *c)
{
	struct reply r;
	parse_reply(&c->resp, &r);
	b_printf(o, "{\"label\":");
	jstr(o, c->label, strlen(c->label));
	b_printf(o, ",\"id\":%d,\"http\":%d,\"status\":", c->id, c->http);
	if (c->status >= 0)
		b_printf(o, "%d", c->status);
	else
		b_printf(o, "null");
	b_printf(o, ",\"message\":");
	jstr(o, c->message, strlen(c->message));
	b_printf(o,
		 ",\"trailers_only\":%d,\"trailer\":%d,\"header_frames\":%d,\"msgs\":%ld,"
		 "\"f1\":%ld,\"bad\":%d,\"rest\":%zu,\"bytes\":%zu,\"name\":",
		 c->status_in_headers, c->status_in_trailer, c->header_frames, r.msgs, r.f1, r.bad,
		 r.rest, c->resp.len);
	jstr(o, r.name, strlen(r.name));
	b_printf(o,
		 ",\"rst\":%d,\"end\":%d,\"closed\":%d,\"close_code\":%u,\"data_frames\":%d,"
		 "\"data_at_end\":%d",
		 c->rst, c->end, c->closed, c->close_code, c->data_frames, c->data_at_end);
	if (c->t_end > 0)
		b_printf(o, ",\"ms\":%.1f", c->t_end - c->t0);
	else
		b_printf(o, ",\"ms\":null");
	b_printf(o, "}");
}

static void out_conn(struct buf *o, const struct conn *k)
{
	b_printf(o,
		 "\"goaway\":%d,\"goaway_code\":%u,\"eof\":%d,\"reset\":%d,\"h2err\":%d,"
		 "\"settings\":%d,\"max_streams\":%u,\"rst_frames\":%ld",
		 k->goaway, k->goaway_code, k->eof, k->reset, k->h2err, k->settings,
		 nghttp2_session_get_remote_settings(k->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
		 k->rst_frames);
}

/* Prints {"scenario", the connection, "calls": [...] (all, or none when
 * the scenario reports them itself), extra} and frees the connection. */
static void report(const char *scenario, struct conn *k, int with_calls, const char *extra)
{
	struct buf o = { 0 };
	b_printf(&o, "{\"scenario\":");
	jstr(&o, scenario, strlen(scenario));
	b_printf(&o, ",");
	out_conn(&o, k);
	if (with_calls) {
		b_printf(&o, ",\"calls\":[");
		for (size_t i = 0; i < k->ncalls; i++) {
			if (i)
				b_printf(&o, ",");
			out_call(&o, k->calls[i]);
		}
		b_printf(&o, "]");
	}
	if (extra)
		b_printf(&o, "%s", extra);
	b_printf(&o, "}\n");
	fwrite(o.p, 1, o.len, stdout);
	fflush(stdout);
	b_free(&o);
	conn_free(k);
}

/* ---- request helpers ----------------------------------------------------- */

static struct call *get_topic_call(struct conn *k, const char *label, const char *topic)
{
	struct call *c = call_new(k, label, PUB "GetTopic");
	struct buf m = { 0 };
	msg_get_topic(&m, topic);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	return c;
}

static struct call *spull_call(struct conn *k, const char *label, const char *sub, int deadline)
{
	struct call *c = call_new(k, label, SUBR "StreamingPull");
	struct buf m = { 0 };
	msg_spull(&m, sub, deadline);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	c->keep_open = 1;
	return c;
}

static struct call *pull_call(struct conn *k, const char *label, const char *sub, int ri)
{
	struct call *c = call_new(k, label, SUBR "Pull");
	struct buf m = { 0 };
	msg_pull(&m, sub, ri, 10);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	return c;
}

/* ---- scenarios ----------------------------------------------------------- */

/* get TOPIC: one plain GetTopic (is the endpoint serving?). */
static int sc_get(char **a)
{
	struct conn *k = conn_open(NULL);
	run_call(k, get_topic_call(k, "get", a[0]), 10000);
	report("get", k, 1, NULL);
	return 0;
}

/* slow_preface TOPIC: the preface and the SETTINGS frame's header one byte
 * per write (15 ms apart), then a GetTopic. */
static int sc_slow_preface(char **a)
{
	struct conn_opts o = { .slow = 33 };
	struct conn *k = conn_open(&o);
	run_call(k, get_topic_call(k, "get", a[0]), 15000);
	report("slow_preface", k, 1, NULL);
	return 0;
}

/* split TOPIC: a GetTopic in 1-byte DATA frames, then a Publish of 3
 * messages in 7-byte ones. */
static int sc_split(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = get_topic_call(k, "get_1byte", a[0]);
	c->chunk = 1;
	run_call(k, c, 15000);
	c = call_new(k, "publish_7byte", PUB "Publish");
	struct buf m = { 0 };
	msg_publish(&m, a[0], 3, 40);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	c->chunk = 7;
	run_call(k, c, 15000);
	report("split", k, 1, NULL);
	return 0;
}

/* framing TOPIC: unary bodies that are not exactly one message, each on
 * the same connection, then a good GetTopic there. */
static int sc_framing(char **a)
{
	struct conn *k = conn_open(NULL);
	struct buf m = { 0 };
	msg_get_topic(&m, a[0]);

	struct call *c = call_new(k, "two_messages", PUB "GetTopic");
	grpc_frame(&c->body, &m, 0);
	grpc_frame(&c->body, &m, 0);
	run_call(k, c, 10000);

	c = call_new(k, "headers_only", PUB "GetTopic");
	c->no_body = 1;
	run_call(k, c, 10000);

	c = call_new(k, "empty_data", PUB "GetTopic");
	run_call(k, c, 10000);

	c = call_new(k, "truncated_prefix", PUB "GetTopic");
	b_put(&c->body, "\0\0\0", 3);
	run_call(k, c, 10000);

	c = call_new(k, "short_body", PUB "GetTopic");
	uint32_t n = (uint32_t)m.len + 10;
	uint8_t pre[5] = { 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			   (uint8_t)n };
	b_put(&c->body, pre, 5);
	b_put(&c->body, m.p, m.len);
	run_call(k, c, 10000);

	c = call_new(k, "junk_message", PUB "GetTopic");
	struct buf junk = { 0 };
	b_put(&junk, "\xff\xff\xff", 3);
	grpc_frame(&c->body, &junk, 0);
	b_free(&junk);
	run_call(k, c, 10000);

	c = get_topic_call(k, "ok", a[0]);
	run_call(k, c, 10000);
	b_free(&m);
	report("framing", k, 1, NULL);
	return 0;
}

/* oversize TOPIC: a Publish of one 11 MiB message, then a GetTopic on the
 * same connection. */
static int sc_oversize(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = call_new(k, "publish_11MiB", PUB "Publish");
	struct buf m = { 0 };
	msg_publish(&m, a[0], 1, 11u * 1024 * 1024);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	run_call(k, c, 60000);
	run_call(k, get_topic_call(k, "get_after", a[0]), 10000);
	report("oversize", k, 1, NULL);
	return 0;
}

/* refusals TOPIC SUB: requests refused for what they are, each on the same
 * connection, then a good GetTopic there. */
static int sc_refusals(char **a)
{
	struct conn *k = conn_open(NULL);
	struct buf m = { 0 };
	msg_get_topic(&m, a[0]);

	struct call *c = call_new(k, "compressed", PUB "GetTopic");
	grpc_frame(&c->body, &m, 1);
	run_call(k, c, 10000);

	c = get_topic_call(k, "text_plain", a[0]);
	c->ctype = "text/plain";
	run_call(k, c, 10000);

	c = get_topic_call(k, "no_content_type", a[0]);
	c->ctype = NULL;
	run_call(k, c, 10000);

	/* Answered at the headers: the body is held (3 s at most) until the
	 * answer came, then sent. */
	const char *unknown[][2] = { { "unknown_method", PUB "Nope" },
				     { "unknown_service", "/foo.v1.Bar/Baz" },
				     { "no_path_method", PUB } };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		c = call_new(k, unknown[i][0], unknown[i][1]);
		grpc_frame(&c->body, &m, 0);
		c->hold = 1;
		run_call(k, c, 3000);
		call_release(c);
		pump(k, done_closed, c, 5000, 0);
	}

	/* StreamingPull: an 11 MiB length prefix, no more bytes sent. */
	c = call_new(k, "spull_huge_prefix", SUBR "StreamingPull");
	uint32_t big = 11u * 1024 * 1024;
	uint8_t pre[5] = { 0, (uint8_t)(big >> 24), (uint8_t)(big >> 16), (uint8_t)(big >> 8),
			   (uint8_t)big };
	b_put(&c->body, pre, 5);
	c->keep_open = 1;
	run_call(k, c, 10000);

	struct buf sm = { 0 };
	msg_spull(&sm, a[1], 10);
	c = call_new(k, "spull_compressed", SUBR "StreamingPull");
	grpc_frame(&c->body, &sm, 1);
	c->keep_open = 1;
	run_call(k, c, 10000);
	b_free(&sm);

	c = spull_call(k, "spull_no_subscription", NULL, 10);
	run_call(k, c, 10000);

	c = spull_call(k, "spull_deadline_5", a[1], 5);
	run_call(k, c, 10000);

	c = call_new(k, "spull_junk", SUBR "StreamingPull");
	struct buf junk = { 0 };
	b_put(&junk, "\xff\xff\xff", 3);
	grpc_frame(&c->body, &junk, 0);
	b_free(&junk);
	c->keep_open = 1;
	run_call(k, c, 10000);

	c = call_new(k, "spull_no_request", SUBR "StreamingPull");
	c->no_body = 1;
	run_call(k, c, 10000);

	run_call(k, get_topic_call(k, "ok", a[0]), 10000);
	b_free(&m);
	report("refusals", k, 1, NULL);
	return 0;
}

/* timeout SUB: a long-polling Pull with grpc-timeout 300m, then a
 * StreamingPull with 500m. */
static int sc_timeout(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = pull_call(k, "pull_300m", a[0], 0);
	c->timeout = "300m";
	run_call(k, c, 20000);
	c = spull_call(k, "spull_500m", a[0], 10);
	c->timeout = "500m";
	run_call(k, c, 20000);
	report("timeout", k, 1, NULL);
	return 0;
}

/* bad_timeout TOPIC: GetTopics with grpc-timeout values that do not parse,
 * and one that does. */
static int sc_bad_timeout(char **a)
{
	struct conn *k = conn_open(NULL);
	const char *v[][2] = { { "abc", "abc" },
			       { "nine_digits", "123456789S" },
			       { "no_unit", "5" },
			       { "bad_unit", "5x" },
			       { "valid_1H", "1H" } };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct call *c = get_topic_call(k, v[i][0], a[0]);
		c->timeout = v[i][1];
		run_call(k, c, 10000);
	}
	report("bad_timeout", k, 1, NULL);
	return 0;
}

/* field1 PATH VALUE [VALUE2] [hold]: a unary call whose message is field 1
 * = VALUE (field 2 = VALUE2 unless "-"), e.g. DeleteTopicRequest.topic or
 * CreateSnapshotRequest.name + subscription; with hold the body waits
 * (3 s at most) for an answer at the headers. */
static int sc_field1(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = call_new(k, "call", a[0]);
	struct buf m = { 0 };
	pb_bytes(&m, 1, a[1], strlen(a[1]));
	if (a[2] && strcmp(a[2], "-") != 0 && strcmp(a[2], "hold") != 0)
		pb_bytes(&m, 2, a[2], strlen(a[2]));
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	c->hold =
		(a[2] && strcmp(a[2], "hold") == 0) || (a[2] && a[3] && strcmp(a[3], "hold") == 0);
	run_call(k, c, c->hold ? 3000 : 10000);
	if (c->hold) {
		call_release(c);
		pump(k, done_call, c, 10000, 0);
	}
	report("field1", k, 1, NULL);
	return 0;
}

/* trailers TOPIC TIMEOUT SUB N: N GetTopics, one after the other, with
 * grpc-timeout TIMEOUT, each message followed by a trailer HEADERS frame
 * (END_STREAM: a second HEADERS on a unary stream); right after them, on
 * the same connection, N long-polling Pulls of SUB without grpc-timeout,
 * watched for 2 s (past TIMEOUT); then another GetTopic. */
static int sc_trailers(char **a)
{
	int n = atoi(a[3]);
	struct conn *k = conn_open(NULL);
	for (int i = 0; i < n; i++) {
		struct call *c = get_topic_call(k, "with_trailers", a[0]);
		c->timeout = a[1];
		c->trailers = 1;
		run_call(k, c, 10000);
	}
	for (int i = 0; i < n; i++)
		call_submit(k, pull_call(k, "pull_no_timeout", a[2], 0));
	pump(k, done_all, NULL, 2000, 0);
	run_call(k, get_topic_call(k, "get_after", a[0]), 10000);
	report("trailers", k, 1, NULL);
	return 0;
}

/* late_body TOPIC TIMEOUT MS: a Publish (one 4-byte message "late") with
 * grpc-timeout TIMEOUT whose body is held MS ms after its headers. */
static int sc_late_body(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = call_new(k, "publish", PUB "Publish");
	struct buf m = { 0 }, pm = { 0 };
	pb_bytes(&m, 1, a[0], strlen(a[0]));
	pb_bytes(&pm, 1, "late", 4);
	pb_bytes(&m, 2, pm.p, pm.len);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	b_free(&pm);
	c->timeout = a[1];
	c->hold = 1;
	call_submit(k, c);
	pump(k, NULL, NULL, atoi(a[2]), 0);
	int answered_before = call_done(c);
	call_release(c);
	pump(k, done_closed, c, 5000, 0);
	pump(k, NULL, NULL, 300, 0);
	struct buf extra = { 0 };
	b_printf(&extra, ",\"answered_before_body\":%d", answered_before);
	report("late_body", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* ---- raw bytes ------------------------------------------------------------ */

static void frame_hd(struct buf *b, uint32_t len, uint8_t type, uint8_t flags, uint32_t id)
{
	uint8_t h[9] = {
		(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,       type,       flags,
		(uint8_t)(id >> 24),  (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id
	};
	b_put(b, h, 9);
}

/* Sends bytes on a fresh connection (no HTTP/2 state), reads what comes
 * back until EOF or 5 s, and reports the frames (the first 20 types, a
 * GOAWAY's code). */
static int raw_exchange2(const char *scenario, const struct buf *bytes, int read_after);

static int raw_exchange(const char *scenario, const struct buf *bytes)
{
	return raw_exchange2(scenario, bytes, 0);
}

/* With read_after, nothing is read before all was sent (or 5 s passed). */
static int raw_exchange2(const char *scenario, const struct buf *bytes, int read_after)
{
	int fd = tcp_connect();
	if (fd < 0)
		return 1;
	double t0 = now_ms(), end = t0 + 5000;
	size_t off = 0;
	int wr_err = 0, eof = 0, reset = 0;
	struct buf in = { 0 };
	uint8_t rb[65536];
	while (now_ms() < end && !eof) {
		struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
		if (read_after && off < bytes->len && !wr_err)
			p.events = 0;
		if (off < bytes->len && !wr_err)
			p.events |= POLLOUT;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (p.revents & POLLOUT) {
			ssize_t w = send(fd, bytes->p + off, bytes->len - off, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				wr_err = errno;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, rb, sizeof(rb), 0);
			if (n == 0) {
				eof = 1;
			} else if (n < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					eof = 1;
					reset = errno == ECONNRESET;
				}
			} else {
				b_put(&in, rb, (size_t)n);
			}
		}
	}
	double t = now_ms() - t0;
	close(fd);
	struct buf o = { 0 };
	b_printf(&o, "{\"scenario\":");
	jstr(&o, scenario, strlen(scenario));
	b_printf(&o, ",\"sent\":%zu,\"of\":%zu,\"write_error\":%d,\"eof\":%d,\"reset\":%d", off,
		 bytes->len, wr_err, eof, reset);
	int goaway = 0;
	uint32_t code = 0;
	b_printf(&o, ",\"frames\":[");
	size_t pos = 0, nframes = 0;
	int first = 1;
	while (pos + 9 <= in.len) {
		const uint8_t *h = in.p + pos;
		size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
		if (pos + 9 + len > in.len)
			break;
		if (h[3] == NGHTTP2_GOAWAY && len >= 8) {
			goaway = 1;
			code = ((uint32_t)h[13] << 24) | ((uint32_t)h[14] << 16) |
			       ((uint32_t)h[15] << 8) | h[16];
		}
		if (nframes++ < 20) {
			b_printf(&o, "%s%d", first ? "" : ",", h[3]);
			first = 0;
		}
		pos += 9 + len;
	}
	b_printf(&o,
		 "],\"nframes\":%zu,\"goaway\":%d,\"goaway_code\":%u,\"received\":%zu,"
		 "\"ms\":%.1f}\n",
		 nframes, goaway, code, in.len, t);
	fwrite(o.p, 1, o.len, stdout);
	fflush(stdout);
	b_free(&o);
	b_free(&in);
	return 0;
}

static void raw_settings(struct buf *b)
{
	b_put(b, PREFACE, 24);
	frame_hd(b, 0, NGHTTP2_SETTINGS, 0, 0);
}

/* garbage: the preface, then bytes that are no frame (not SETTINGS first). */
static int sc_garbage(char **a)
{
	(void)a;
	struct buf b = { 0 };
	b_put(&b, PREFACE, 24);
	const char *g = "this is not an HTTP/2 frame, only garbage after a good preface\r\n";
	b_put(&b, g, strlen(g));
	int rc = raw_exchange("garbage", &b);
	b_free(&b);
	return rc;
}

/* bigframe: a HEADERS frame of 16385 bytes (SETTINGS_MAX_FRAME_SIZE is 16384). */
static int sc_bigframe(char **a)
{
	(void)a;
	struct buf b = { 0 };
	raw_settings(&b);
	frame_hd(&b, 16385, NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, 1);
	uint8_t *z = calloc(1, 16385);
	if (z == NULL)
		exit(3);
	b_put(&b, z, 16385);
	free(z);
	int rc = raw_exchange("bigframe", &b);
	b_free(&b);
	return rc;
}

/* badhpack: a HEADERS frame whose block indexes far past both tables. */
static int sc_badhpack(char **a)
{
	(void)a;
	struct buf b = { 0 };
	raw_settings(&b);
	const uint8_t block[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	frame_hd(&b, sizeof(block), NGHTTP2_HEADERS,
		 NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1);
	b_put(&b, block, sizeof(block));
	int rc = raw_exchange("badhpack", &b);
	b_free(&b);
	return rc;
}

/* badmagic: HTTP/1.1 where the preface belongs (for the --grpc-listen port). */
static int sc_badmagic(char **a)
{
	(void)a;
	struct buf b = { 0 };
	const char *r = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	b_put(&b, r, strlen(r));
	int rc = raw_exchange("badmagic", &b);
	b_free(&b);
	return rc;
}

/* A literal header field without indexing, new name (HPACK 6.2.2), for
 * names and values shorter than 127 bytes. */
static void hpack_literal(struct buf *b, const char *name, const char *value)
{
	uint8_t h[2] = { 0x00, (uint8_t)strlen(name) };
	b_put(b, h, 2);
	b_put(b, name, strlen(name));
	h[0] = (uint8_t)strlen(value);
	b_put(b, h, 1);
	b_put(b, value, strlen(value));
}

/* Whether the bytes received hold a complete frame of type on stream id. */
static int has_frame(const struct buf *in, uint8_t type, uint32_t id)
{
	for (size_t pos = 0; pos + 9 <= in->len;) {
		const uint8_t *h = in->p + pos;
		size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
		uint32_t sid = ((uint32_t)(h[5] & 0x7f) << 24) | ((uint32_t)h[6] << 16) |
			       ((uint32_t)h[7] << 8) | h[8];
		if (pos + 9 + len > in->len)
			return 0;
		if (h[3] == type && sid == id)
			return 1;
		pos += 9 + len;
	}
	return 0;
}

/* continuation KB [end]: a GetTopic's HEADERS without END_HEADERS, then
 * CONTINUATION frames of 16000 bytes of padding headers for KB KiB or
 * until the server stops it (with end, the HEADERS ends the stream and the
 * last CONTINUATION the headers, and the answer is awaited); reports the frames that came
 * back (types, RST_STREAM and GOAWAY codes). */
static int sc_continuation(char **a)
{
	size_t total = (size_t)strtoul(a[0], NULL, 10) * 1024;
	int with_end = a[1] && strcmp(a[1], "end") == 0;
	int fd = tcp_connect();
	if (fd < 0)
		return 1;
	struct buf out = { 0 }, blk = { 0 };
	raw_settings(&out);
	b_put(&blk, "\x83\x86", 2);
	hpack_literal(&blk, ":path", PUB "GetTopic");
	hpack_literal(&blk, ":authority", "127.0.0.1");
	hpack_literal(&blk, "content-type", "application/grpc");
	frame_hd(&out, (uint32_t)blk.len, NGHTTP2_HEADERS, with_end ? NGHTTP2_FLAG_END_STREAM : 0,
		 1);
	b_put(&out, blk.p, blk.len);
	b_free(&blk);
	char val[101];
	memset(val, 'v', 100);
	val[100] = '\0';
	struct buf cont = { 0 };
	while (cont.len < 16000) {
		char name[16];
		snprintf(name, sizeof(name), "x-pad-%zu", cont.len);
		hpack_literal(&cont, name, val);
	}
	double t0 = now_ms(), end = t0 + (with_end ? 3000 : 10000);
	size_t sent = 0, off = 0, frames = 0;
	int eof = 0, reset = 0, wr_err = 0, ended = 0;
	struct buf in = { 0 };
	uint8_t rb[65536];
	while (now_ms() < end && !eof && !wr_err) {
		if (off == out.len && sent < total && !(with_end && ended)) {
			out.len = 0;
			off = 0;
			int last = with_end && sent + out.len + cont.len >= total;
			frame_hd(&out, (uint32_t)cont.len, NGHTTP2_CONTINUATION,
				 last ? NGHTTP2_FLAG_END_HEADERS : 0, 1);
			b_put(&out, cont.p, cont.len);
			frames++;
			ended = last;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
		if (off < out.len)
			p.events |= POLLOUT;
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (p.revents & POLLOUT) {
			ssize_t w = send(fd, out.p + off, out.len - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
				sent += (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				wr_err = errno;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, rb, sizeof(rb), 0);
			if (n == 0) {
				eof = 1;
			} else if (n < 0) {
				if (errno != EAGAIN && errno != EINTR) {
					eof = 1;
					reset = errno == ECONNRESET;
				}
			} else {
				b_put(&in, rb, (size_t)n);
				if (ended && has_frame(&in, NGHTTP2_HEADERS, 1))
					break; /* answered */
			}
		}
	}
	close(fd);
	int goaway = 0, rst = -1, headers = 0;
	uint32_t code = 0;
	for (size_t pos = 0; pos + 9 <= in.len;) {
		const uint8_t *h = in.p + pos;
		size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
		if (pos + 9 + len > in.len)
			break;
		if (h[3] == NGHTTP2_GOAWAY && len >= 8) {
			goaway = 1;
			code = ((uint32_t)h[13] << 24) | ((uint32_t)h[14] << 16) |
			       ((uint32_t)h[15] << 8) | h[16];
		}
		if (h[3] == NGHTTP2_RST_STREAM && len >= 4)
			rst = (int)(((uint32_t)h[9] << 24) | ((uint32_t)h[10] << 16) |
				    ((uint32_t)h[11] << 8) | h[12]);
		headers += h[3] == NGHTTP2_HEADERS;
		pos += 9 + len;
	}
	printf("{\"scenario\":\"continuation\",\"sent\":%zu,\"of\":%zu,\"frames\":%zu,"
	       "\"write_error\":%d,\"eof\":%d,\"reset\":%d,\"goaway\":%d,\"goaway_code\":%u,"
	       "\"rst\":%d,\"headers\":%d,\"ended\":%d,\"ms\":%.1f}\n",
	       sent, total, frames, wr_err, eof, reset, goaway, code, rst, headers, ended,
	       now_ms() - t0);
	fflush(stdout);
	b_free(&out);
	b_free(&cont);
	b_free(&in);
	return 0;
}

/* bigheaders TOPIC KB: a GetTopic with KB padding headers of 1000 bytes. */
static int sc_bigheaders(char **a)
{
	int kb = atoi(a[1]);
	if (kb < 0 || kb > 10000)
		kb = 10000;
	struct conn *k = conn_open(NULL);
	struct call *c = get_topic_call(k, "get", a[0]);
	nghttp2_nv *nv = calloc((size_t)kb + 8, sizeof(*nv));
	char(*names)[24] = calloc((size_t)kb + 1, 24);
	static char val[1001];
	memset(val, 'v', 1000);
	if (nv == NULL || names == NULL)
		exit(3);
	char auth[64];
	snprintf(auth, sizeof(auth), "127.0.0.1:%d", port);
	const char *fixed[][2] = { { ":method", "POST" },
				   { ":scheme", "http" },
				   { ":path", PUB "GetTopic" },
				   { ":authority", auth },
				   { "content-type", "application/grpc" },
				   { "te", "trailers" } };
	size_t n = 0;
	for (size_t i = 0; i < 6; i++)
		nv[n++] = (nghttp2_nv){ (uint8_t *)fixed[i][0], (uint8_t *)fixed[i][1],
					strlen(fixed[i][0]), strlen(fixed[i][1]),
					NGHTTP2_NV_FLAG_NO_INDEX };
	for (int i = 0; i < kb; i++) {
		snprintf(names[i], 24, "x-pad-%d", i);
		nv[n++] = (nghttp2_nv){ (uint8_t *)names[i], (uint8_t *)val, strlen(names[i]), 1000,
					NGHTTP2_NV_FLAG_NO_INDEX };
	}
	nghttp2_data_provider prd = { .source.ptr = c, .read_callback = provide };
	c->t0 = now_ms();
	c->id = nghttp2_submit_request(k->s, NULL, nv, n, &prd, c);
	free(nv);
	free(names);
	pump(k, done_call, c, 10000, 0);
	run_call(k, get_topic_call(k, "get_after", a[0]), 10000);
	report("bigheaders", k, 1, NULL);
	return 0;
}

/* pingflood N [noread]: N PING frames after the preface, written as fast
 * as the socket takes them while what comes back is read (with noread:
 * read only once all was written, or after 5 s). */
static int sc_pingflood(char **a)
{
	long n = strtol(a[0], NULL, 10);
	struct buf b = { 0 };
	raw_settings(&b);
	for (long i = 0; i < n; i++) {
		frame_hd(&b, 8, NGHTTP2_PING, 0, 0);
		b_put(&b, "pingping", 8);
	}
	int rc = raw_exchange2("pingflood", &b, a[1] && strcmp(a[1], "noread") == 0);
	b_free(&b);
	return rc;
}

/* rapid_reset TOPIC N: N GetTopic streams, each sent whole (HEADERS and
 * DATA with END_STREAM) and reset (RST_STREAM CANCEL) right after, 100 at
 * a time; then a GetTopic on the same connection if it is still open. */
static int sc_rapid_reset(char **a)
{
	long n = strtol(a[1], NULL, 10);
	struct conn_opts o = { .peer_max_streams = 1000 };
	struct conn *k = conn_open(&o);
	double t0 = now_ms();
	long sent = 0;
	while (sent < n && !conn_dead(k) && now_ms() - t0 < 20000) {
		struct call *batch[100];
		int nb = 0;
		for (; nb < 100 && sent + nb < n; nb++) {
			batch[nb] = get_topic_call(k, "r", a[0]);
			if (call_submit(k, batch[nb]) != 0)
				break;
		}
		struct nsent w = { k->headers_sent + nb };
		pump(k, done_headers_sent, &w, 5000, 0);
		for (int i = 0; i < nb; i++)
			nghttp2_submit_rst_stream(k->s, NGHTTP2_FLAG_NONE, batch[i]->id,
						  NGHTTP2_CANCEL);
		pump(k, NULL, NULL, 1, 0);
		sent += nb;
		/* the calls are kept for the report: free their buffers */
		for (int i = 0; i < nb; i++) {
			b_free(&batch[i]->body);
			b_free(&batch[i]->resp);
		}
	}
	double took = now_ms() - t0;
	pump(k, NULL, NULL, 500, 0);
	long answered = 0;
	for (size_t i = 0; i < k->ncalls; i++)
		answered += k->calls[i]->status >= 0;
	struct call *g = NULL;
	if (!conn_dead(k)) {
		g = get_topic_call(k, "get_after", a[0]);
		run_call(k, g, 10000);
	}
	struct buf extra = { 0 };
	b_printf(&extra, ",\"reset_streams\":%ld,\"answered\":%ld,\"send_ms\":%.0f", sent, answered,
		 took);
	if (g) {
		b_printf(&extra, ",\"get_after\":");
		out_call(&extra, g);
	}
	report("rapid_reset", k, 0, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* ---- concurrency ---------------------------------------------------------- */

/* A HEADERS block for a GetTopic, literal header fields without indexing
 * only (the server's HPACK table is left as nghttp2's encoder knows it). */
static void raw_request_block(struct buf *b)
{
	char auth[32];
	snprintf(auth, sizeof(auth), "127.0.0.1:%d", port);
	const char *path = PUB "GetTopic";
	b_put(b, "\x83\x86", 2); /* :method POST, :scheme http (static 3, 6) */
	uint8_t h = 0x04;        /* :path (static 4), literal without indexing */
	b_put(b, &h, 1);
	h = (uint8_t)strlen(path);
	b_put(b, &h, 1);
	b_put(b, path, strlen(path));
	h = 0x01; /* :authority (static 1) */
	b_put(b, &h, 1);
	h = (uint8_t)strlen(auth);
	b_put(b, &h, 1);
	b_put(b, auth, strlen(auth));
	b_put(b, "\x0f\x10", 2); /* content-type (static 31) */
	h = 16;
	b_put(b, &h, 1);
	b_put(b, "application/grpc", 16);
	b_put(b, "\x00\x02te\x08trailers", 12);
}

/* streams TOPIC [acked]: 1000 GetTopic streams opened (their HEADERS, the
 * bodies held) before anything is read, and a 1001st; then the 1000
 * bodies. Without "acked" all goes before the server's SETTINGS are
 * read (the limit is not acknowledged yet); with it, after, the 1001st
 * written raw past nghttp2's own limit. */
static int sc_streams(char **a)
{
	int acked = a[1] && strcmp(a[1], "acked") == 0;
	struct conn_opts o = { .peer_max_streams = 100000 };
	struct conn *k = conn_open(&o);
	struct buf extra = { 0 };
	if (acked && !pump(k, done_settings, NULL, 10000, 0)) {
		report("streams_acked", k, 0, ",\"error\":\"no SETTINGS from the server\"");
		return 0;
	}
	for (int i = 0; i < 1000; i++) {
		struct call *c = get_topic_call(k, "s", a[0]);
		c->hold = 1;
		if (call_submit(k, c) != 0)
			break;
	}
	struct call *c1001 = NULL;
	if (!acked) {
		c1001 = get_topic_call(k, "s1001", a[0]);
		call_submit(k, c1001);
	}
	struct nsent want = { acked ? 1000 : 1001 };
	int all_sent = pump(k, done_headers_sent, &want, 20000, !acked);
	int32_t raw_id = 0;
	if (acked && all_sent && !conn_dead(k)) {
		raw_id = nghttp2_session_get_next_stream_id(k->s);
		nghttp2_session_set_next_stream_id(k->s, raw_id + 2);
		struct buf blk = { 0 }, fr = { 0 };
		raw_request_block(&blk);
		frame_hd(&fr, (uint32_t)blk.len, NGHTTP2_HEADERS,
			 NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, (uint32_t)raw_id);
		b_put(&fr, blk.p, blk.len);
		size_t off = 0;
		double end = now_ms() + 5000;
		while (off < fr.len && now_ms() < end) {
			ssize_t w = send(k->fd, fr.p + off, fr.len - off, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				break;
			else
				sleep_ms(1);
		}
		b_free(&blk);
		b_free(&fr);
	}
	int headers_sent = k->headers_sent;
	double t0 = now_ms();
	for (size_t i = 0; i < 1000 && i < k->ncalls; i++)
		call_release(k->calls[i]);
	pump(k, done_all, NULL, 30000, 0);
	if (acked) /* what the server does after the refusal */
		pump(k, NULL, NULL, 1000, 0);
	long ok = 0, other = 0, open = 0, refused = 0;
	for (size_t i = 0; i < 1000 && i < k->ncalls; i++) {
		struct call *c = k->calls[i];
		if (c->status == 0 && c->status_in_trailer && strcmp(c->message, "") == 0) {
			struct reply r;
			parse_reply(&c->resp, &r);
			if (r.msgs == 1 && strcmp(r.name, a[0]) == 0)
				ok++;
			else
				other++;
		} else if (c->rst == NGHTTP2_REFUSED_STREAM) {
			refused++;
		} else if (call_done(c)) {
			other++;
		} else {
			open++;
		}
	}
	b_printf(&extra,
		 ",\"acked\":%d,\"headers_sent\":%d,\"all_headers_sent\":%d,\"ok\":%ld,"
		 "\"other\":%ld,\"unanswered\":%ld,\"refused\":%ld,\"answer_ms\":%.1f",
		 acked, headers_sent, all_sent, ok, other, open, refused, now_ms() - t0);
	if (c1001) {
		b_printf(&extra, ",\"s1001\":");
		out_call(&extra, c1001);
	} else {
		b_printf(&extra, ",\"raw_id\":%d", raw_id);
	}
	report(acked ? "streams_acked" : "streams", k, 0, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* ---- StreamingPull -------------------------------------------------------- */

/* stuck SUB WINDOW: a StreamingPull with SETTINGS_INITIAL_WINDOW_SIZE
 * WINDOW (and as large a connection window past 65535) that, once its
 * response headers came, reads nothing and sends nothing. Prints
 * {"phase":"ready"}, waits for a line on stdin (150 s at most), closes the
 * socket, prints {"phase":"closed"}. */
static int sc_stuck(char **a)
{
	uint32_t win = (uint32_t)strtoul(a[1], NULL, 10);
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, win } };
	struct conn_opts o = { .iv = iv,
			       .niv = 1,
			       .no_auto_window_update = 1,
			       .conn_window = win > 65535 ? (int32_t)win : 0 };
	struct conn *k = conn_open(&o);
	struct call *c = spull_call(k, "stuck", a[0], 60);
	call_submit(k, c);
	pump(k, done_headers, c, 10000, 0);
	struct buf line = { 0 };
	b_printf(&line, "{\"phase\":\"ready\",\"http\":%d,\"status\":%d,\"end\":%d,\"eof\":%d}\n",
		 c->http, c->status, c->end, k->eof);
	fwrite(line.p, 1, line.len, stdout);
	fflush(stdout);
	b_free(&line);
	/* Nothing read, nothing sent, until told. */
	double t0 = now_ms();
	char cmd[64] = "";
	struct pollfd p = { .fd = 0, .events = POLLIN, .revents = 0 };
	while (now_ms() - t0 < 150000) {
		if (poll(&p, 1, 500) > 0) {
			ssize_t n = read(0, cmd, sizeof(cmd) - 1);
			cmd[n > 0 ? n : 0] = '\0';
			break;
		}
	}
	int unread = 0;
	ioctl(k->fd, FIONREAD, &unread);
	conn_close(k);
	struct buf extra = { 0 };
	b_printf(&extra,
		 ",\"phase\":\"closed\",\"waited_ms\":%.0f,\"unread\":%d,\"read_before\":%zu,"
		 "\"data_read\":%zu",
		 now_ms() - t0, unread, k->rcvd, c->resp.len);
	report("stuck", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

static int done_all_headers(struct conn *k, void *arg)
{
	(void)arg;
	if (conn_dead(k))
		return 1;
	for (size_t i = 0; i < k->ncalls; i++)
		if (k->calls[i]->header_frames == 0 && !call_done(k->calls[i]))
			return 0;
	return 1;
}

/* spulls SUB N [MAXMSGS [OPEN_MS [END_MS]]]: N StreamingPulls of SUB on one
 * connection (with maxOutstandingMessages MAXMSGS unless 0, as the Node
 * client sends its flowControl.maxMessages: 1000 by default); once all are
 * open (their response headers came; OPEN_MS at most, 20 s), a
 * DeleteSubscription of SUB on the same connection; then each stream's
 * end is awaited (END_MS at most, 20 s). */
static int sc_spulls(char **a)
{
	long n = strtol(a[1], NULL, 10);
	long maxmsgs = a[2] ? strtol(a[2], NULL, 10) : 0;
	int open_ms = a[2] && a[3] ? atoi(a[3]) : 20000;
	int end_ms = a[2] && a[3] && a[4] ? atoi(a[4]) : 20000;
	struct conn *k = conn_open(NULL);
	for (long i = 0; i < n; i++) {
		struct call *c = call_new(k, "spull", SUBR "StreamingPull");
		struct buf m = { 0 };
		msg_spull(&m, a[0], 10);
		if (maxmsgs > 0) /* max_outstanding_messages = 7 */
			pb_int(&m, 7, (uint64_t)maxmsgs);
		grpc_frame(&c->body, &m, 0);
		b_free(&m);
		c->keep_open = 1;
		call_submit(k, c);
	}
	double t0 = now_ms();
	pump(k, done_all_headers, NULL, open_ms, 0);
	long open = 0;
	for (size_t i = 0; i < k->ncalls; i++)
		open += k->calls[i]->header_frames > 0 && !call_done(k->calls[i]);
	double t_open = now_ms() - t0;
	struct call *del = call_new(k, "delete", SUBR "DeleteSubscription");
	struct buf m = { 0 };
	pb_bytes(&m, 1, a[0], strlen(a[0]));
	grpc_frame(&del->body, &m, 0);
	b_free(&m);
	t0 = now_ms();
	call_submit(k, del);
	pump(k, done_all, NULL, end_ms, 0);
	long by_status[20] = { 0 }, unended = 0, unended_open = 0;
	for (size_t i = 0; i + 1 < k->ncalls; i++) {
		struct call *c = k->calls[i];
		if (!call_done(c))
			unended++, unended_open += c->header_frames > 0;
		else if (c->status >= 0 && c->status < 20)
			by_status[c->status]++;
	}
	struct buf extra = { 0 };
	b_printf(&extra,
		 ",\"streams\":%ld,\"opened\":%ld,\"open_ms\":%.0f,\"end_ms\":%.0f,"
		 "\"unended\":%ld,\"by_status\":{",
		 n, open, t_open, now_ms() - t0, unended);
	int first = 1;
	for (int i = 0; i < 20; i++) {
		if (by_status[i] == 0)
			continue;
		b_printf(&extra, "%s\"%d\":%ld", first ? "" : ",", i, by_status[i]);
		first = 0;
	}
	b_printf(&extra, "},\"delete\":");
	out_call(&extra, del);
	report("spulls", k, 0, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

struct want_msgs {
	struct call *c;
	long n;
};

static int done_msgs(struct conn *k, void *arg)
{
	struct want_msgs *w = arg;
	struct reply r;
	parse_reply(&w->c->resp, &r);
	return r.f1 >= w->n || call_done(w->c) || conn_dead(k);
}

/* spull_break SUB TOPIC N MODE: a StreamingPull (deadline 60 s) that gets
 * N messages and is then broken by the client - MODE rst (RST_STREAM
 * CANCEL), halfclose (END_STREAM) or drop (the socket closed) - without
 * acking or modacking anything; then (not after drop) a GetTopic on the
 * same connection. */
static int sc_spull_break(char **a)
{
	long n = strtol(a[2], NULL, 10);
	const char *mode = a[3];
	struct conn *k = conn_open(NULL);
	struct call *c = spull_call(k, "spull", a[0], 60);
	call_submit(k, c);
	struct want_msgs w = { c, n };
	int got = pump(k, done_msgs, &w, 15000, 0);
	struct reply r;
	parse_reply(&c->resp, &r);
	long before = r.f1;
	int ended_before = call_done(c);
	if (strcmp(mode, "rst") == 0) {
		nghttp2_submit_rst_stream(k->s, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_CANCEL);
		pump(k, NULL, NULL, 300, 0);
		run_call(k, get_topic_call(k, "get_after", a[1]), 10000);
	} else if (strcmp(mode, "halfclose") == 0) {
		c->keep_open = 0;
		call_release(c);
		pump(k, done_call, c, 10000, 0);
		run_call(k, get_topic_call(k, "get_after", a[1]), 10000);
	} else {
		pump(k, NULL, NULL, 100, 0);
		conn_close(k);
	}
	struct buf extra = { 0 };
	b_printf(&extra, ",\"mode\":");
	jstr(&extra, mode, strlen(mode));
	b_printf(&extra, ",\"got_n\":%d,\"received_before\":%ld,\"ended_before\":%d", got, before,
		 ended_before);
	report("spull_break", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* room_after_cancel SUB TOPIC: two StreamingPulls of SUB on one connection
 * (one client: they share maxOutstandingMessages 10). The first one's long
 * poll holds all the room; it is cancelled (RST_STREAM); then 5 messages
 * are published: the second stream must get them (the room the cancelled
 * pull held is free again). */
static int sc_room_after_cancel(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *s1 = NULL, *s2 = NULL;
	for (int i = 0; i < 2; i++) {
		struct call *c = call_new(k, i ? "second" : "first", SUBR "StreamingPull");
		struct buf m = { 0 };
		msg_spull(&m, a[0], 60);
		pb_int(&m, 7, 10); /* max_outstanding_messages */
		grpc_frame(&c->body, &m, 0);
		b_free(&m);
		c->keep_open = 1;
		call_submit(k, c);
		pump(k, NULL, NULL, 500, 0); /* the first one's long poll starts first */
		if (i)
			s2 = c;
		else
			s1 = c;
	}
	nghttp2_submit_rst_stream(k->s, NGHTTP2_FLAG_NONE, s1->id, NGHTTP2_CANCEL);
	pump(k, NULL, NULL, 300, 0);
	struct call *pub = call_new(k, "publish", PUB "Publish");
	struct buf m = { 0 };
	msg_publish(&m, a[1], 5, 16);
	grpc_frame(&pub->body, &m, 0);
	b_free(&m);
	run_call(k, pub, 10000);
	struct want_msgs w = { s2, 5 };
	int got = pump(k, done_msgs, &w, 8000, 0);
	struct reply r;
	parse_reply(&s2->resp, &r);
	struct buf extra = { 0 };
	b_printf(&extra, ",\"got_n\":%d,\"second_received\":%ld", got, r.f1);
	report("room_after_cancel", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* close_all SUB N M GAP_MS: N StreamingPulls of SUB on one connection
 * (deadline 60 s) take M messages between them, then are cancelled one by
 * one GAP_MS apart, as a client library closes (the Node client cancels
 * its 5 streams together), without confirming anything. */
static int sc_close_all(char **a)
{
	long n = strtol(a[1], NULL, 10), want = strtol(a[2], NULL, 10);
	int gap = atoi(a[3]);
	struct conn *k = conn_open(NULL);
	struct call *s[16];
	if (n > 16)
		n = 16;
	for (long i = 0; i < n; i++) {
		s[i] = spull_call(k, "spull", a[0], 60);
		call_submit(k, s[i]);
	}
	double t0 = now_ms();
	long got = 0;
	while (got < want && now_ms() - t0 < 10000) {
		pump(k, NULL, NULL, 50, 0);
		got = 0;
		for (long i = 0; i < n; i++) {
			struct reply r;
			parse_reply(&s[i]->resp, &r);
			got += r.f1;
		}
	}
	for (long i = 0; i < n; i++) {
		nghttp2_submit_rst_stream(k->s, NGHTTP2_FLAG_NONE, s[i]->id, NGHTTP2_CANCEL);
		pump(k, NULL, NULL, gap, 0);
	}
	struct buf extra = { 0 };
	b_printf(&extra, ",\"received\":%ld", got);
	report("close_all", k, 0, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* cancel_pull SUB TOPIC: a long-polling unary Pull, RST_STREAM CANCEL after
 * 700 ms, then a GetTopic on the same connection. */
static int sc_cancel_pull(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *c = pull_call(k, "pull", a[0], 0);
	call_submit(k, c);
	pump(k, done_call, c, 700, 0);
	int answered_before = call_done(c);
	nghttp2_submit_rst_stream(k->s, NGHTTP2_FLAG_NONE, c->id, NGHTTP2_CANCEL);
	pump(k, NULL, NULL, 300, 0);
	run_call(k, get_topic_call(k, "get_after", a[1]), 10000);
	struct buf extra = { 0 };
	b_printf(&extra, ",\"answered_before_cancel\":%d", answered_before);
	report("cancel_pull", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* drop_mid SUB TOPIC: a long-polling Pull of SUB and a 1 MiB Publish to
 * TOPIC of which half was sent, then the socket closed. */
static int sc_drop_mid(char **a)
{
	struct conn *k = conn_open(NULL);
	struct call *p = pull_call(k, "pull", a[0], 0);
	call_submit(k, p);
	struct call *c = call_new(k, "publish_half", PUB "Publish");
	struct buf m = { 0 };
	msg_publish(&m, a[1], 1, 1024 * 1024);
	grpc_frame(&c->body, &m, 0);
	b_free(&m);
	c->hold = 1;
	c->stop_at = c->body.len / 2;
	call_submit(k, c);
	pump(k, NULL, NULL, 700, 0);
	struct buf extra = { 0 };
	b_printf(&extra, ",\"sent_of_publish\":%zu,\"publish_len\":%zu,\"pull_done\":%d", c->off,
		 c->body.len, call_done(p));
	conn_close(k);
	report("drop_mid", k, 1, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

/* pulls SUB N: N long-polling unary Pulls on one connection, the socket
 * closed after 1 s with all of them in flight. */
static int sc_pulls(char **a)
{
	long n = strtol(a[1], NULL, 10);
	struct conn *k = conn_open(NULL);
	for (long i = 0; i < n; i++)
		call_submit(k, pull_call(k, "pull", a[0], 0));
	pump(k, NULL, NULL, 1000, 0);
	long answered = 0;
	for (size_t i = 0; i < k->ncalls; i++)
		answered += call_done(k->calls[i]);
	conn_close(k);
	struct buf extra = { 0 };
	b_printf(&extra, ",\"pulls\":%ld,\"answered\":%ld", n, answered);
	report("pulls", k, 0, (const char *)extra.p);
	b_free(&extra);
	return 0;
}

static int done_bodies_sent(struct conn *k, void *arg)
{
	(void)arg;
	if (conn_dead(k))
		return 1;
	for (size_t i = 0; i < k->ncalls; i++)
		if (k->calls[i]->off < k->calls[i]->body.len)
			return 0;
	return k->pend_off == k->pend.len;
}

/* bodies TOPIC N KB: N Publish streams on one connection, each sending a
 * message of KB KiB but never END_STREAM; what the broker lets through
 * within 20 s is sent. Prints {"phase":"sent"}, waits for a line on stdin
 * (150 s at most) without reading or sending, closes the socket, prints
 * {"phase":"closed"}. */
static int sc_bodies(char **a)
{
	int n = atoi(a[1]);
	size_t kb = (size_t)strtoul(a[2], NULL, 10);
	struct conn *k = conn_open(NULL);
	struct buf m = { 0 };
	msg_publish(&m, a[0], 1, kb * 1024);
	for (int i = 0; i < n; i++) {
		struct call *c = call_new(k, "publish_open", PUB "Publish");
		grpc_frame(&c->body, &m, 0);
		c->keep_open = 1;
		call_submit(k, c);
	}
	b_free(&m);
	double t0 = now_ms();
	int all = pump(k, done_bodies_sent, NULL, 20000, 0);
	size_t sent = 0, total = 0;
	for (size_t i = 0; i < k->ncalls; i++) {
		sent += k->calls[i]->off;
		total += k->calls[i]->body.len;
	}
	printf("{\"phase\":\"sent\",\"all\":%d,\"sent\":%zu,\"of\":%zu,\"ms\":%.0f,\"eof\":%d}\n",
	       all && !conn_dead(k), sent, total, now_ms() - t0, k->eof);
	fflush(stdout);
	char cmd[64];
	struct pollfd p = { .fd = 0, .events = POLLIN, .revents = 0 };
	for (double w0 = now_ms(); now_ms() - w0 < 150000;) {
		if (poll(&p, 1, 500) > 0) {
			ssize_t r = read(0, cmd, sizeof(cmd) - 1);
			(void)r;
			break;
		}
	}
	conn_close(k);
	report("bodies", k, 0, ",\"phase\":\"closed\"");
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static const struct scenario {
	const char *name;
	int nargs;
	int (*run)(char **args);
	const char *usage;
} scenarios[] = {
	{ "get", 1, sc_get, "TOPIC" },
	{ "slow_preface", 1, sc_slow_preface, "TOPIC" },
	{ "split", 1, sc_split, "TOPIC" },
	{ "framing", 1, sc_framing, "TOPIC" },
	{ "oversize", 1, sc_oversize, "TOPIC" },
	{ "refusals", 2, sc_refusals, "TOPIC SUB" },
	{ "timeout", 1, sc_timeout, "SUB" },
	{ "bad_timeout", 1, sc_bad_timeout, "TOPIC" },
	{ "trailers", 4, sc_trailers, "TOPIC TIMEOUT SUB N" },
	{ "late_body", 3, sc_late_body, "TOPIC TIMEOUT MS" },
	{ "field1", 2, sc_field1, "PATH VALUE [VALUE2|-] [hold]" },
	{ "garbage", 0, sc_garbage, "" },
	{ "bigframe", 0, sc_bigframe, "" },
	{ "badhpack", 0, sc_badhpack, "" },
	{ "badmagic", 0, sc_badmagic, "" },
	{ "streams", 1, sc_streams, "TOPIC [acked]" },
	{ "stuck", 2, sc_stuck, "SUB WINDOW" },
	{ "spull_break", 4, sc_spull_break, "SUB TOPIC N rst|halfclose|drop" },
	{ "cancel_pull", 2, sc_cancel_pull, "SUB TOPIC" },
	{ "room_after_cancel", 2, sc_room_after_cancel, "SUB TOPIC" },
	{ "close_all", 4, sc_close_all, "SUB N M GAP_MS" },
	{ "drop_mid", 2, sc_drop_mid, "SUB TOPIC" },
	{ "pulls", 2, sc_pulls, "SUB N" },
	{ "bodies", 3, sc_bodies, "TOPIC N KB" },
	{ "spulls", 2, sc_spulls, "SUB N [MAXMSGS [OPEN_MS [END_MS]]]" },
	{ "pingflood", 1, sc_pingflood, "N [noread]" },
	{ "rapid_reset", 2, sc_rapid_reset, "TOPIC N" },
	{ "continuation", 1, sc_continuation, "KB [end]" },
	{ "bigheaders", 2, sc_bigheaders, "TOPIC KB" },
};

static int usage(void)
{
	fprintf(stderr, "usage: it_h2 PORT SCENARIO [ARGS]\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, "  %s %s\n", scenarios[i].name, scenarios[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	port = atoi(argv[1]);
	signal(SIGPIPE, SIG_IGN);
	alarm(200); /* no run outlives this */
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[2], scenarios[i].name) != 0)
			continue;
		if (argc - 3 < scenarios[i].nargs)
			return usage();
		char *args[8] = { 0 };
		for (int k = 3; k < argc && k - 3 < 7; k++)
			args[k - 3] = argv[k];
		return scenarios[i].run(args);
	}
	return usage();
}
