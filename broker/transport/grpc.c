/* grpc.c - the gRPC endpoint: HTTP/2 without TLS (h2c, what the client
 * libraries speak to PUBSUB_EMULATOR_HOST) served by nghttp2 on the
 * broker's loop. Each unary call is transcoded to its REST route
 * (grpc_rpc.c) and runs through the same gate and handler as a REST call;
 * the JSON answer becomes the response message (pbjson.c), an error the
 * grpc-status and grpc-message of its Pub/Sub status word. docs/grpc.md. */
#include "grpc.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "grpc_rpc.h"
#include "log.h"
#include "mem.h"
#include "pbjson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A request message may be as large as Pub/Sub's request limit, with room
 * for the framing and the message's own fields. */
#define GRPC_MAX_REQUEST (10 * 1024 * 1024 + 64 * 1024)
/* Output queued to one connection before nghttp2 is told to wait. */
#define GRPC_OUT_HIGH (4 * 1024 * 1024)
#define GRPC_MAX_STREAMS 1000
#define GRPC_HEADER_MAX 8192

struct grpc_srv {
	struct broker *b;
	struct evconnlistener *lis;
	struct h2conn *conns;
	long unflushed;
};

struct h2conn {
	struct grpc_srv *srv;
	struct bufferevent *bev;
	nghttp2_session *s;
	char peer[64];
	struct h2stream *streams;
	struct h2conn *prev, *next;
	int in_recv; /* inside nghttp2_session_mem_recv: no send, no free */
};

struct h2stream {
	struct h2conn *conn; /* NULL: the connection went away (call in flight) */
	int32_t id;
	char path[256];
	char auth[GRPC_HEADER_MAX];
	char ua[512];
	int bad_type; /* content-type is not application/grpc */
	struct evbuffer *in;
	int too_large;
	struct call *call; /* in flight */
	/* The answer: the framed message, then the trailers. */
	struct evbuffer *out;
	int status;
	char message[1024];
	struct h2stream *prev, *next;
};

static void stream_unlink(struct h2stream *st)
{
	struct h2conn *h = st->conn;
	if (h == NULL)
		return;
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->prev = st->next = NULL;
}

static void stream_free(struct h2stream *st)
{
	stream_unlink(st);
	if (st->in)
		evbuffer_free(st->in);
	if (st->out)
		evbuffer_free(st->out);
	mem_free(st);
}

/* ---- the answer --------------------------------------------------------- */

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *user)
{
	struct h2stream *st = src->ptr;
	(void)user;
	int n = evbuffer_remove(st->out, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(st->out) == 0) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		char code[16];
		snprintf(code, sizeof(code), "%d", st->status);
		nghttp2_nv tr[] = {
			{ (uint8_t *)"grpc-status", (uint8_t *)code, 11, strlen(code),
			  NGHTTP2_NV_FLAG_NONE },
			{ (uint8_t *)"grpc-message", (uint8_t *)st->message, 12,
			  strlen(st->message), NGHTTP2_NV_FLAG_NONE },
		};
		if (nghttp2_submit_trailer(s, id, tr, st->message[0] ? 2 : 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return n;
}

static void conn_flush(struct h2conn *h);

/* grpc-message: percent-encoded outside printable ASCII and '%' (the gRPC
 * HTTP/2 protocol). */
static void encode_message(const char *m, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *m && o + 4 < n; m++) {
		unsigned char ch = (unsigned char)*m;
		if (ch >= 0x20 && ch <= 0x7e && ch != '%') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* Answers stream st: the message (NULL: none) and status code + message. */
static void respond(struct h2stream *st, const uint8_t *msg, size_t len, int code,
		    const char *message)
{
	struct h2conn *h = st->conn;
	st->status = code;
	encode_message(message ? message : "", st->message, sizeof(st->message));
	st->out = evbuffer_new();
	if (msg) {
		uint8_t pre[5] = { 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
				   (uint8_t)(len >> 8), (uint8_t)len };
		evbuffer_add(st->out, pre, 5);
		evbuffer_add(st->out, msg, len);
	}
	nghttp2_nv hdrs[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"grpc-accept-encoding", (uint8_t *)"identity", 20, 8,
		  NGHTTP2_NV_FLAG_NONE },
	};
	if (msg == NULL) {
		/* Trailers-only: one HEADERS frame that ends the stream. */
		char c[16];
		snprintf(c, sizeof(c), "%d", code);
		nghttp2_nv all[] = {
			hdrs[0],
			hdrs[1],
			{ (uint8_t *)"grpc-status", (uint8_t *)c, 11, strlen(c),
			  NGHTTP2_NV_FLAG_NONE },
			{ (uint8_t *)"grpc-message", (uint8_t *)st->message, 12,
			  strlen(st->message), NGHTTP2_NV_FLAG_NONE },
		};
		nghttp2_submit_response(h->s, st->id, all, st->message[0] ? 4 : 3, NULL);
	} else {
		nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_body };
		nghttp2_submit_response(h->s, st->id, hdrs, 3, &prd);
	}
	conn_flush(h);
}

/* The gRPC code of a REST error answer ({"error":{"status":"NOT_FOUND"}}). */
static int code_of(const char *status_word)
{
	for (int e = 0; e < ERR_COUNT; e++)
		if (status_word && strcmp(errors_status_name((enum err)e), status_word) == 0)
			return errors_grpc_code((enum err)e);
	return 2; /* UNKNOWN */
}

static void op_send(struct call *c, int status, char *text, size_t len)
{
	struct h2stream *st = c->conn;
	st->call = NULL;
	if (st->conn == NULL) { /* the client went away meanwhile */
		mem_free(text);
		stream_free(st);
		return;
	}
	const struct grpc_rpc *r = grpc_rpc_find(st->path);
	json_t *v = json_loadb(text, len, 0, NULL);
	mem_free(text);
	if (status < 200 || status >= 300) {
		json_t *e = json_object_get(v, "error");
		const char *word = json_string_value(json_object_get(e, "status"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		int code = code_of(word);
		/* A transcoded path without a REST route: a method not served yet. */
		if (status == 404 && msg && strncmp(msg, "The requested URL", 17) == 0) {
			code = 12;
			msg = "This method is not implemented by regnotifyd yet (docs/grpc.md).";
		}
		respond(st, NULL, 0, code, msg ? msg : "");
		json_decref(v);
		return;
	}
	char err[256];
	ProtobufCMessage *m =
		r ? pbjson_to_message(r->response, v ? v : json_object(), err, sizeof(err)) : NULL;
	json_decref(v);
	if (m == NULL) {
		log_error("grpc: %s: the answer does not convert to its message: %s", st->path,
			  r ? err : "no method");
		respond(st, NULL, 0, 13, "The broker's answer could not be encoded.");
		return;
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = mem_alloc(n ? n : 1);
	protobuf_c_message_pack(m, buf);
	protobuf_c_message_free_unpacked(m, NULL);
	respond(st, buf, n, 0, NULL);
	mem_free(buf);
}

static const char *op_header(struct call *c, const char *name)
{
	struct h2stream *st = c->conn;
	if (strcasecmp(name, "Authorization") == 0)
		return st->auth[0] ? st->auth : NULL;
	if (strcasecmp(name, "User-Agent") == 0)
		return st->ua[0] ? st->ua : NULL;
	return NULL;
}

static void op_peer(struct call *c, char *buf, size_t n)
{
	struct h2stream *st = c->conn;
	snprintf(buf, n, "%s", st->conn ? st->conn->peer : "?");
}

static const struct call_ops grpc_ops = {
	.name = "grpc",
	.log_prefix = "grpc ",
	.transport = VIA_GRPC,
	.send = op_send,
	.header = op_header,
	.peer = op_peer,
};

/* ---- a request ---------------------------------------------------------- */

static void dispatch(struct h2conn *h, struct h2stream *st)
{
	const struct grpc_rpc *r = grpc_rpc_find(st->path);
	if (st->bad_type) {
		respond(st, NULL, 0, 3, "content-type must be application/grpc");
		return;
	}
	if (r == NULL) {
		respond(st, NULL, 0, 12, "Method not found");
		return;
	}
	if (r->streaming) {
		respond(st, NULL, 0, 12,
			"StreamingPull is not served by regnotifyd yet; use Pull (docs/grpc.md)");
		return;
	}
	if (st->too_large) {
		respond(st, NULL, 0, 3, "Request payload size exceeds the limit: 10485760 bytes.");
		return;
	}
	size_t len = evbuffer_get_length(st->in);
	uint8_t *p = evbuffer_pullup(st->in, -1);
	if (len < 5 ||
	    (((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | p[4]) != len - 5) {
		respond(st, NULL, 0, 13, "A unary request carries exactly one message.");
		return;
	}
	if (p[0] != 0) {
		respond(st, NULL, 0, 12, "Compressed messages are not supported (grpc-encoding)");
		return;
	}
	ProtobufCMessage *m = protobuf_c_message_unpack(r->request, NULL, len - 5, p + 5);
	if (m == NULL) {
		respond(st, NULL, 0, 13, "The request message does not parse.");
		return;
	}
	json_t *req = pbjson_from_message(m);
	protobuf_c_message_free_unpacked(m, NULL);
	char path[2048], err[256];
	if (grpc_rpc_rest_path(r, req, path, sizeof(path), err, sizeof(err)) != 0) {
		json_decref(req);
		respond(st, NULL, 0, 3, err);
		return;
	}
	if (r->body)
		grpc_rpc_strip_path_fields(r, req);
	char *body = r->body ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	struct call *c = call_new(h->srv->b, &grpc_ops, h->srv, st);
	st->call = c;
	/* Static: the call logs it after the answer, when the stream may be gone. */
	c->uri = r->path;
	if (strncasecmp(st->auth, "Bearer ", 7) == 0) {
		c->credential = st->auth + 7;
		c->credential_len = strlen(c->credential);
	}
	/* The gate keeps pointers into path and body until the handler has
	 * run (it may wait for Redis): they live in the stream's buffer. */
	size_t plen = strcspn(path, "?");
	evbuffer_drain(st->in, len);
	evbuffer_add(st->in, path, strlen(path) + 1);
	if (body) {
		evbuffer_add(st->in, body, strlen(body) + 1);
		mem_free(body);
	}
	char *keep = (char *)evbuffer_pullup(st->in, -1);
	keep[plen] = '\0';
	c->query = path[plen] == '?' ? keep + plen + 1 : NULL;
	const char *b = body ? keep + strlen(path) + 1 : NULL;
	gate_dispatch(c, r->method, keep, b, b ? strlen(b) : 0);
}

/* ---- nghttp2 callbacks -------------------------------------------------- */

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
	struct h2conn *h = user;
	(void)s;
	(void)flags;
	if (evbuffer_get_length(bufferevent_get_output(h->bev)) > GRPC_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	bufferevent_write(h->bev, data, len);
	return (ssize_t)len;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2conn *h = user;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct h2stream *st = mem_calloc(1, sizeof(*st));
	st->conn = h;
	st->id = f->hd.stream_id;
	st->in = evbuffer_new();
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	(void)flags;
	(void)user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL || f->hd.type != NGHTTP2_HEADERS)
		return 0;
#define IS(n) (namelen == sizeof(n) - 1 && memcmp(name, n, namelen) == 0)
	if (IS(":path"))
		snprintf(st->path, sizeof(st->path), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("authorization") && valuelen < sizeof(st->auth))
		snprintf(st->auth, sizeof(st->auth), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("user-agent"))
		snprintf(st->ua, sizeof(st->ua), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("content-type"))
		st->bad_type = !(valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0);
#undef IS
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	(void)flags;
	(void)user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL || st->too_large)
		return 0;
	if (evbuffer_get_length(st->in) + len > GRPC_MAX_REQUEST) {
		st->too_large = 1;
		evbuffer_drain(st->in, evbuffer_get_length(st->in));
		return 0;
	}
	evbuffer_add(st->in, data, len);
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2conn *h = user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st && f->hd.type == NGHTTP2_HEADERS && st->call == NULL && st->out == NULL) {
		/* A method that is not served is refused at its headers, before
		 * its messages: a stream the client keeps open never hangs. */
		const struct grpc_rpc *r = grpc_rpc_find(st->path);
		if (st->bad_type || r == NULL || r->streaming) {
			dispatch(h, st);
			return 0;
		}
	}
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if (st && st->call == NULL && st->out == NULL)
		dispatch(h, st);
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)code;
	(void)user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	if (st->call) { /* answered later: op_send frees it */
		stream_unlink(st);
		st->conn = NULL;
		return 0;
	}
	stream_free(st);
	return 0;
}

/* ---- the connection ----------------------------------------------------- */

static void conn_free(struct h2conn *h)
{
	struct grpc_srv *srv = h->srv;
	while (h->streams) {
		struct h2stream *st = h->streams;
		if (st->call) {
			stream_unlink(st);
			st->conn = NULL;
		} else {
			stream_free(st);
		}
	}
	if (h->prev)
		h->prev->next = h->next;
	else
		srv->conns = h->next;
	if (h->next)
		h->next->prev = h->prev;
	nghttp2_session_del(h->s);
	bufferevent_free(h->bev);
	mem_free(h);
}

static void conn_flush(struct h2conn *h)
{
	if (h->in_recv)
		return; /* on_read sends when the input is processed */
	if (nghttp2_session_send(h->s) != 0) {
		conn_free(h);
		return;
	}
	if (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s) &&
	    evbuffer_get_length(bufferevent_get_output(h->bev)) == 0)
		conn_free(h);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct h2conn *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	uint8_t *data = evbuffer_pullup(in, -1);
	h->in_recv = 1;
	ssize_t n = nghttp2_session_mem_recv(h->s, data, len);
	h->in_recv = 0;
	if (n < 0) {
		log_debug("grpc: %s: %s", h->peer, nghttp2_strerror((int)n));
		conn_free(h);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	conn_flush(h);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct h2conn *h = arg;
	(void)bev;
	conn_flush(h);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

void grpc_serve_socket(struct grpc_srv *srv, evutil_socket_t fd, const struct sockaddr *sa,
		       const void *already, size_t already_len)
{
	struct h2conn *h = mem_calloc(1, sizeof(*h));
	h->srv = srv;
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(h->peer, sizeof(h->peer), "%s:%d", ip, port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(h->peer, sizeof(h->peer), "[%s]:%d", ip, port);
	} else {
		snprintf(h->peer, sizeof(h->peer), "?");
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->bev = bufferevent_socket_new(srv->b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	nghttp2_session_callbacks *cbs;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
	nghttp2_session_server_new(&h->s, cbs, h);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024 },
	};
	nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	h->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = h;
	srv->conns = h;
	bufferevent_setcb(h->bev, on_read, on_write, on_event, h);
	bufferevent_enable(h->bev, EV_READ | EV_WRITE);
	if (already_len)
		evbuffer_add(bufferevent_get_input(h->bev), already, already_len);
	if (already_len)
		on_read(h->bev, h);
	else
		conn_flush(h);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	(void)lis;
	(void)salen;
	grpc_serve_socket(arg, fd, sa, NULL, 0);
}

/* ---- the module --------------------------------------------------------- */

static void quiesce(void *state)
{
	struct grpc_srv *srv = state;
	if (srv->lis)
		evconnlistener_free(srv->lis);
	srv->lis = NULL;
	/* Clients reconnect elsewhere: GOAWAY, in-flight calls are answered. */
	for (struct h2conn *h = srv->conns; h; h = h->next) {
		nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(h->s),
				      NGHTTP2_NO_ERROR, NULL, 0);
		nghttp2_session_send(h->s);
	}
}

static long unflushed(void *state)
{
	struct grpc_srv *srv = state;
	long n = 0;
	for (struct h2conn *h = srv->conns; h; h = h->next)
		n += (long)evbuffer_get_length(bufferevent_get_output(h->bev)) > 0;
	return n;
}

static void stop(void *state)
{
	struct grpc_srv *srv = state;
	if (srv->lis)
		evconnlistener_free(srv->lis);
	while (srv->conns)
		conn_free(srv->conns);
	mem_free(srv);
}

static const struct module_ops grpc_module = {
	.name = "grpc",
	.quiesce = quiesce,
	.unflushed = unflushed,
	.stop = stop,
};

int grpc_start(struct broker *b)
{
	if (b->cfg.grpc_port == 0)
		return 0;
	struct grpc_srv *srv = mem_calloc(1, sizeof(*srv));
	srv->b = b;
	broker_add_module(b, &grpc_module, srv);
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char spec[300];
	snprintf(spec, sizeof(spec), strchr(b->cfg.grpc_host, ':') ? "[%s]:%d" : "%s:%d",
		 b->cfg.grpc_host, b->cfg.grpc_port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sl) != 0) {
		log_error("grpc: cannot listen on %s: not an address", spec);
		return -1;
	}
	srv->lis = evconnlistener_new_bind(b->base, on_accept, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					   (struct sockaddr *)&ss, sl);
	if (srv->lis == NULL) {
		log_error("grpc: cannot listen on %s: %s", spec, strerror(errno));
		return -1;
	}
	log_info("grpc: listening on %s (h2c)", spec);
	return 0;
}
