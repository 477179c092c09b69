/* rngrpc: a C gRPC load generator for regnotifyd's StreamingPull (the
 * broker's ceiling, where Google's Node client is itself the bottleneck).
 *
 *   rngrpc drain [-p PORT] [-n N=100000] [-s SIZE=300] [-m MAXOUT=0]
 *       Over ONE HTTP/2 connection (h2c, prior knowledge, as
 *       PUBSUB_EMULATOR_HOST clients): creates a topic and a subscription,
 *       pre-fills N messages of SIZE bytes with Publish calls of 1000
 *       (untimed), then times one StreamingPull draining them the way the
 *       client libraries do: the stream delivers, and every response's
 *       ackIds go out at once as a unary Acknowledge on the same
 *       connection (multiplexed). Timed from the stream's first request
 *       until the last Acknowledge is answered. MAXOUT is the stream's
 *       maxOutstandingMessages (0: none). Each payload carries its index:
 *       duplicates and losses are counted.
 *
 * 127.0.0.1 only; bounded by N and a 120 s deadline. Output: one
 * "key=value ..." line, as rnbench. Builds against the broker's CMake
 * build (its generated protobuf-c code, librn_pb.a): bench/Makefile. */
#define _GNU_SOURCE
#include "google/pubsub/v1/pubsub.pb-c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 120

static int g_fd = -1;
static nghttp2_session *g_s;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "rngrpc: %s\n", what);
	exit(1);
}

/* ---- a stream: what it sends and what came back ------------------------ */

struct stream {
	int32_t id;
	uint8_t *out; /* framed request messages still to send */
	size_t out_len, out_off;
	int out_end; /* END_STREAM after out */
	uint8_t *in; /* response bytes */
	size_t in_len, in_cap;
	int status; /* grpc-status, -1 until the trailers */
	int closed;
	void (*on_message)(struct stream *st, const uint8_t *m, size_t n);
};

static void frame(struct stream *st, const uint8_t *m, size_t n)
{
	st->out = realloc(st->out, st->out_len + n + 5);
	uint8_t *p = st->out + st->out_len;
	p[0] = 0;
	p[1] = (uint8_t)(n >> 24);
	p[2] = (uint8_t)(n >> 16);
	p[3] = (uint8_t)(n >> 8);
	p[4] = (uint8_t)n;
	memcpy(p + 5, m, n);
	st->out_len += n + 5;
}

static ssize_t read_out(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *user)
{
	struct stream *st = src->ptr;
	(void)s;
	(void)id;
	(void)user;
	size_t left = st->out_len - st->out_off;
	if (left == 0) {
		if (st->out_end) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		}
		return NGHTTP2_ERR_DEFERRED;
	}
	size_t n = left < len ? left : len;
	memcpy(buf, st->out + st->out_off, n);
	st->out_off += n;
	if (st->out_off == st->out_len) {
		st->out_off = st->out_len = 0;
		if (st->out_end)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
	}
	return (ssize_t)n;
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
	(void)s;
	(void)flags;
	(void)user;
	size_t o = 0;
	while (o < len) {
		ssize_t w = send(g_fd, data + o, len - o, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		o += (size_t)w;
	}
	return (ssize_t)len;
}

static int on_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t n,
		    void *user)
{
	(void)flags;
	(void)user;
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL)
		return 0;
	if (st->in_len + n > st->in_cap) {
		st->in_cap = (st->in_len + n) * 2;
		st->in = realloc(st->in, st->in_cap);
	}
	memcpy(st->in + st->in_len, d, n);
	st->in_len += n;
	size_t o = 0;
	while (st->on_message && st->in_len - o >= 5) {
		const uint8_t *p = st->in + o;
		size_t m = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | p[4];
		if (st->in_len - o < 5 + m)
			break;
		st->on_message(st, p + 5, m);
		o += 5 + m;
	}
	if (o) {
		memmove(st->in, st->in + o, st->in_len - o);
		st->in_len -= o;
	}
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
		     const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
	(void)flags;
	(void)user;
	(void)vl;
	struct stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st && nl == 11 && memcmp(name, "grpc-status", 11) == 0)
		st->status = atoi((const char *)value);
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)code;
	(void)user;
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st)
		st->closed = 1;
	return 0;
}

static struct stream *call(const char *path, const uint8_t *m, size_t n, int end)
{
	struct stream *st = calloc(1, sizeof(*st));
	st->status = -1;
	frame(st, m, n);
	st->out_end = end;
	nghttp2_nv h[] = {
#define NV(a, b) { (uint8_t *)a, (uint8_t *)b, sizeof(a) - 1, strlen(b), NGHTTP2_NV_FLAG_NONE }
		NV(":method", "POST"),
		NV(":scheme", "http"),
		NV(":authority", "127.0.0.1"),
		NV(":path", path),
		NV("content-type", "application/grpc"),
		NV("te", "trailers"),
#undef NV
	};
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_out };
	st->id = nghttp2_submit_request(g_s, NULL, h, 6, &prd, st);
	if (st->id < 0)
		die("submit_request");
	return st;
}

static void pump(int wait_ms)
{
	if (nghttp2_session_send(g_s) != 0)
		die("session_send");
	struct pollfd p = { g_fd, POLLIN, 0 };
	if (poll(&p, 1, wait_ms) > 0) {
		uint8_t buf[1 << 16];
		ssize_t r = recv(g_fd, buf, sizeof(buf), 0);
		if (r <= 0)
			die("connection closed");
		if (nghttp2_session_mem_recv(g_s, buf, (size_t)r) < 0)
			die("mem_recv");
	}
	if (nghttp2_session_send(g_s) != 0)
		die("session_send");
}

static int unary(const char *path, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n + 1);
	protobuf_c_message_pack(m, b);
	struct stream *st = call(path, b, n, 1);
	free(b);
	double end = now_s() + 30;
	while (!st->closed && now_s() < end)
		pump(100);
	int s = st->closed ? st->status : -2;
	free(st->out);
	free(st->in);
	free(st);
	return s;
}

/* ---- drain ------------------------------------------------------------- */

static long g_n, g_got, g_dups, g_acks_pending, g_acked;
static unsigned char *g_seen;
static char g_sub[256];
static struct stream *g_acks[4096];
static int g_nacks;

static void on_pull(struct stream *st, const uint8_t *m, size_t n)
{
	(void)st;
	Google__Pubsub__V1__StreamingPullResponse *r =
		google__pubsub__v1__streaming_pull_response__unpack(NULL, n, m);
	if (r == NULL)
		die("a StreamingPullResponse does not parse");
	Google__Pubsub__V1__AcknowledgeRequest a = GOOGLE__PUBSUB__V1__ACKNOWLEDGE_REQUEST__INIT;
	a.subscription = g_sub;
	a.n_ack_ids = r->n_received_messages;
	a.ack_ids = malloc(sizeof(char *) * (a.n_ack_ids + 1));
	for (size_t i = 0; i < r->n_received_messages; i++) {
		Google__Pubsub__V1__ReceivedMessage *rm = r->received_messages[i];
		a.ack_ids[i] = rm->ack_id;
		long idx = -1;
		if (rm->message && rm->message->data.len >= 8)
			memcpy(&idx, rm->message->data.data, sizeof(idx));
		if (idx >= 0 && idx < g_n) {
			if (g_seen[idx])
				g_dups++;
			else
				g_got++;
			g_seen[idx] = 1;
		}
	}
	size_t len = google__pubsub__v1__acknowledge_request__get_packed_size(&a);
	uint8_t *b = malloc(len + 1);
	google__pubsub__v1__acknowledge_request__pack(&a, b);
	if (g_nacks == (int)(sizeof(g_acks) / sizeof(g_acks[0])))
		die("too many acks in flight");
	g_acks[g_nacks++] = call("/google.pubsub.v1.Subscriber/Acknowledge", b, len, 1);
	g_acks_pending++;
	free(b);
	free(a.ack_ids);
	google__pubsub__v1__streaming_pull_response__free_unpacked(r, NULL);
}

static void reap_acks(void)
{
	int k = 0;
	for (int i = 0; i < g_nacks; i++) {
		struct stream *st = g_acks[i];
		if (!st->closed) {
			g_acks[k++] = st;
			continue;
		}
		if (st->status == 0)
			g_acked++;
		g_acks_pending--;
		free(st->out);
		free(st->in);
		free(st);
	}
	g_nacks = k;
}

static int drain(int port, long n, size_t size, long maxout)
{
	char project[64], topic[160];
	snprintf(project, sizeof(project), "rngrpc%ld", (long)getpid());
	snprintf(topic, sizeof(topic), "projects/%s/topics/drain", project);
	snprintf(g_sub, sizeof(g_sub), "projects/%s/subscriptions/drain", project);
	Google__Pubsub__V1__Topic t = GOOGLE__PUBSUB__V1__TOPIC__INIT;
	t.name = topic;
	if (unary("/google.pubsub.v1.Publisher/CreateTopic", &t.base) != 0)
		die("CreateTopic failed");
	Google__Pubsub__V1__Subscription s = GOOGLE__PUBSUB__V1__SUBSCRIPTION__INIT;
	s.name = g_sub;
	s.topic = topic;
	s.ack_deadline_seconds = 60;
	if (unary("/google.pubsub.v1.Subscriber/CreateSubscription", &s.base) != 0)
		die("CreateSubscription failed");
	/* Fill, untimed: Publish calls of 1000. */
	uint8_t *payload = calloc(1, size < 8 ? 8 : size);
	Google__Pubsub__V1__PubsubMessage msgs[1000], *ptrs[1000];
	for (long i = 0; i < n; i += 1000) {
		Google__Pubsub__V1__PublishRequest p = GOOGLE__PUBSUB__V1__PUBLISH_REQUEST__INIT;
		p.topic = topic;
		size_t k = 0;
		uint8_t *bodies = malloc(1000 * (size < 8 ? 8 : size));
		for (long j = i; j < n && j < i + 1000; j++, k++) {
			google__pubsub__v1__pubsub_message__init(&msgs[k]);
			uint8_t *d = bodies + k * (size < 8 ? 8 : size);
			memcpy(d, payload, size < 8 ? 8 : size);
			memcpy(d, &j, sizeof(j));
			msgs[k].data.data = d;
			msgs[k].data.len = size < 8 ? 8 : size;
			ptrs[k] = &msgs[k];
		}
		p.n_messages = k;
		p.messages = ptrs;
		int st = unary("/google.pubsub.v1.Publisher/Publish", &p.base);
		free(bodies);
		if (st != 0)
			die("Publish failed");
	}
	free(payload);
	g_n = n;
	g_seen = calloc(1, (size_t)n);
	/* Drain, timed. */
	double t0 = now_s();
	Google__Pubsub__V1__StreamingPullRequest q =
		GOOGLE__PUBSUB__V1__STREAMING_PULL_REQUEST__INIT;
	q.subscription = g_sub;
	q.stream_ack_deadline_seconds = 60;
	q.max_outstanding_messages = maxout;
	size_t ql = google__pubsub__v1__streaming_pull_request__get_packed_size(&q);
	uint8_t *qb = malloc(ql + 1);
	google__pubsub__v1__streaming_pull_request__pack(&q, qb);
	struct stream *sp = call("/google.pubsub.v1.Subscriber/StreamingPull", qb, ql, 0);
	free(qb);
	sp->on_message = on_pull;
	double end = t0 + DEADLINE_S;
	while ((g_got < n || g_acks_pending > 0) && now_s() < end && !sp->closed) {
		pump(50);
		reap_acks();
	}
	double secs = now_s() - t0;
	printf("mode=drain n=%ld size=%zu maxout=%ld got=%ld dups=%ld acked_calls=%ld secs=%.3f "
	       "msgs_per_s=%.0f stream_status=%d\n",
	       n, size, maxout, g_got, g_dups, g_acked, secs, (double)g_got / secs,
	       sp->closed ? sp->status : -1);
	return g_got == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "drain") != 0) {
		fprintf(stderr, "usage: rngrpc drain [-p PORT] [-n N] [-s SIZE] [-m MAXOUT]\n");
		return 2;
	}
	int port = 8085;
	long n = 100000, maxout = 0;
	size_t size = 300;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-p") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-n") == 0)
			n = atol(argv[i + 1]);
		else if (strcmp(argv[i], "-s") == 0)
			size = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "-m") == 0)
			maxout = atol(argv[i + 1]);
	}
	g_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(g_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect");
	int one = 1;
	setsockopt(g_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	nghttp2_session_callbacks *cb;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_chunk);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_client_new(&g_s, cb, NULL);
	nghttp2_session_callbacks_del(cb);
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16 << 20 } };
	nghttp2_submit_settings(g_s, NGHTTP2_FLAG_NONE, iv, 1);
	nghttp2_session_set_local_window_size(g_s, NGHTTP2_FLAG_NONE, 0, 64 << 20);
	return drain(port, n, size, maxout);
}
