/* grpc.c - the gRPC endpoint: HTTP/2 without TLS (h2c, what the client
 * libraries speak to PUBSUB_EMULATOR_HOST) served by nghttp2 on the
 * broker's loop. Each unary call is transcoded to its REST route
 * (grpc_rpc.c) and runs through the same gate and handler as a REST call;
 * the JSON answer becomes the response message (pbjson.c), an error the
 * grpc-status and grpc-message of its Pub/Sub status word. docs/grpc.md. */
#include "grpc_internal.h"

#include "base64.h"
#include "broker.h"
#include "call.h"
#include "gate.h"
#include "grpc_rpc.h"
#include "log.h"
#include "mem.h"
#include "pbjson.h"
#include "router.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <google/rpc/error_details.pb-c.h>
#include <google/rpc/status.pb-c.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	st->conn = NULL;
}

static void stream_free(struct h2stream *st)
{
	stream_unlink(st);
	if (st->timer)
		event_free(st->timer);
	if (st->sp)
		grpc_spull_free(st);
	if (st->in)
		evbuffer_free(st->in);
	if (st->out)
		evbuffer_free(st->out);
	mem_free(st->details);
	mem_free(st);
}

void grpc_stream_unref(struct h2stream *st)
{
	if (--st->refs == 0 && st->conn == NULL)
		stream_free(st);
}

/* The stream is done on the wire (closed, or its connection went away):
 * it is freed now, or by the last call that still points at it. */
/* ---- request bytes held: HTTP/2 flow control ----------------------------
 *
 * nghttp2 is told that request bytes were consumed (and so reopens the
 * client's windows) only while a connection holds at most GRPC_CONN_HELD of
 * them: past that, the windows stay shut until requests are taken. So one
 * connection holds at most GRPC_CONN_HELD + GRPC_CONN_WINDOW of requests,
 * whatever its number of streams. */

static void consume(struct h2conn *h, struct h2stream *st, size_t n)
{
	if (n == 0 || h->s == NULL)
		return;
	nghttp2_session_consume(h->s, st ? st->id : 0, n);
}

/* Reopens the windows of streams that were held back, while there is room. */
static void refill(struct h2conn *h)
{
	for (struct h2stream *st = h->streams; st && h->held <= GRPC_CONN_HELD; st = st->next) {
		if (st->unconsumed) {
			consume(h, st, st->unconsumed);
			st->unconsumed = 0;
		}
	}
}

void grpc_stream_release_input(struct h2stream *st, size_t n)
{
	struct h2conn *h = st->conn;
	if (n > st->held)
		n = st->held;
	st->held -= n;
	if (h == NULL)
		return;
	h->held -= n;
	if (st->held == 0 && st->unconsumed) { /* its bytes are taken: its window reopens */
		consume(h, st, st->unconsumed);
		st->unconsumed = 0;
	}
	refill(h);
}

static void stream_gone(struct h2stream *st, int broken)
{
	struct h2conn *h = st->conn;
	if (h) {
		h->held -= st->held;
		st->held = 0;
		/* The connection's window gets back what the stream kept. */
		if (st->unconsumed && h->s)
			nghttp2_session_consume_connection(h->s, st->unconsumed);
		st->unconsumed = 0;
	}
	stream_unlink(st);
	if (st->timer)
		event_del(st->timer);
	if (st->unary_call) /* a parked Pull nobody will read takes nothing more */
		st->unary_call->cancelled = 1;
	if (st->sp)
		grpc_spull_closed(st, broken);
	if (st->refs == 0)
		stream_free(st);
}

/* ---- the answer --------------------------------------------------------- */

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *user)
{
	struct h2stream *st = src->ptr;
	(void)user;
	size_t have = evbuffer_get_length(st->out);
	if (have == 0 && !st->answered)
		return NGHTTP2_ERR_DEFERRED; /* a StreamingPull between messages */
	int n = evbuffer_remove(st->out, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(st->out) == 0) {
		if (!st->answered) {
			if (st->sp)
				grpc_spull_drained(st);
			return n;
		}
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		char code[16];
		snprintf(code, sizeof(code), "%d", st->status);
		nghttp2_nv tr[3] = {
			{ (uint8_t *)"grpc-status", (uint8_t *)code, 11, strlen(code),
			  NGHTTP2_NV_FLAG_NONE },
		};
		size_t ntr = 1;
		if (st->message[0])
			tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-message", (uint8_t *)st->message,
						  12, strlen(st->message), NGHTTP2_NV_FLAG_NONE };
		if (st->details)
			tr[ntr++] = (nghttp2_nv){ (uint8_t *)"grpc-status-details-bin",
						  (uint8_t *)st->details, 23, strlen(st->details),
						  NGHTTP2_NV_FLAG_NONE };
		if (nghttp2_submit_trailer(s, id, tr, ntr) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return n;
}

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

static const nghttp2_nv response_headers[] = {
	{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
	{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
	{ (uint8_t *)"grpc-accept-encoding", (uint8_t *)"identity", 20, 8, NGHTTP2_NV_FLAG_NONE },
};

/* Queues one framed message and, the first time, the response headers;
 * the caller flushes. */
static void queue_message(struct h2stream *st, const uint8_t *msg, size_t len)
{
	struct h2conn *h = st->conn;
	uint8_t pre[5] = { 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len };
	evbuffer_add(st->out, pre, 5);
	evbuffer_add(st->out, msg, len);
	if (!st->headers_sent) {
		st->headers_sent = 1;
		nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_body };
		nghttp2_submit_response(h->s, st->id, response_headers, 3, &prd);
	} else {
		nghttp2_session_resume_data(h->s, st->id);
	}
}

void grpc_send_message(struct h2stream *st, const uint8_t *msg, size_t len)
{
	if (st->conn == NULL || st->answered)
		return;
	queue_message(st, msg, len);
	grpc_conn_flush(st->conn);
}

void grpc_send_headers(struct h2stream *st)
{
	struct h2conn *h = st->conn;
	if (h == NULL || st->answered || st->headers_sent)
		return;
	st->headers_sent = 1;
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = read_body };
	nghttp2_submit_response(h->s, st->id, response_headers, 3, &prd);
	grpc_conn_flush(h);
}

void grpc_finish(struct h2stream *st, int code, const char *message)
{
	struct h2conn *h = st->conn;
	if (h == NULL || st->answered)
		return;
	st->answered = 1;
	st->status = code;
	encode_message(message ? message : "", st->message, sizeof(st->message));
	if (st->timer)
		event_del(st->timer);
	if (st->headers_sent) {
		nghttp2_session_resume_data(h->s, st->id);
	} else {
		/* Trailers-only: one HEADERS frame that ends the stream. */
		char c[16];
		snprintf(c, sizeof(c), "%d", code);
		nghttp2_nv all[5] = {
			response_headers[0],
			response_headers[1],
			{ (uint8_t *)"grpc-status", (uint8_t *)c, 11, strlen(c),
			  NGHTTP2_NV_FLAG_NONE },
		};
		size_t nall = 3;
		if (st->message[0])
			all[nall++] =
				(nghttp2_nv){ (uint8_t *)"grpc-message", (uint8_t *)st->message, 12,
					      strlen(st->message), NGHTTP2_NV_FLAG_NONE };
		if (st->details)
			all[nall++] = (nghttp2_nv){ (uint8_t *)"grpc-status-details-bin",
						    (uint8_t *)st->details, 23, strlen(st->details),
						    NGHTTP2_NV_FLAG_NONE };
		st->headers_sent = 1;
		nghttp2_submit_response(h->s, st->id, all, nall, NULL);
	}
	grpc_conn_flush(h);
}

/* Answers a unary stream: the message (NULL: none) and the status. */
static void respond(struct h2stream *st, const uint8_t *msg, size_t len, int code,
		    const char *message)
{
	if (msg && st->conn && !st->answered)
		queue_message(st, msg, len); /* grpc_finish flushes both */
	grpc_finish(st, code, message);
}

char *grpc_status_details(int code, const char *msg, json_t *answer)
{
	json_t *d = json_array_get(json_object_get(json_object_get(answer, "error"), "details"), 0);
	const char *type = json_string_value(json_object_get(d, "@type"));
	if (type == NULL || strcmp(type, "type.googleapis.com/google.rpc.ErrorInfo") != 0)
		return NULL;
	json_t *md = json_object_get(d, "metadata");
	size_t n = json_object_size(md), i = 0;
	Google__Rpc__ErrorInfo ei = GOOGLE__RPC__ERROR_INFO__INIT;
	const char *reason = json_string_value(json_object_get(d, "reason"));
	const char *domain = json_string_value(json_object_get(d, "domain"));
	ei.reason = (char *)(reason ? reason : "");
	ei.domain = (char *)(domain ? domain : "");
	Google__Rpc__ErrorInfo__MetadataEntry *e = mem_calloc(n ? n : 1, sizeof(*e));
	Google__Rpc__ErrorInfo__MetadataEntry **ep = mem_calloc(n ? n : 1, sizeof(*ep));
	const char *k;
	json_t *v;
	json_object_foreach(md, k, v)
	{
		google__rpc__error_info__metadata_entry__init(&e[i]);
		e[i].key = (char *)k;
		e[i].value = (char *)(json_string_value(v) ? json_string_value(v) : "");
		ep[i] = &e[i];
		i++;
	}
	ei.n_metadata = i;
	ei.metadata = ep;
	size_t eilen = google__rpc__error_info__get_packed_size(&ei);
	uint8_t *eibuf = mem_alloc(eilen ? eilen : 1);
	google__rpc__error_info__pack(&ei, eibuf);
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = (char *)type;
	any.value.data = eibuf;
	any.value.len = eilen;
	Google__Protobuf__Any *anyp = &any;
	Google__Rpc__Status s = GOOGLE__RPC__STATUS__INIT;
	s.code = code;
	s.message = (char *)msg;
	s.n_details = 1;
	s.details = &anyp;
	size_t slen = google__rpc__status__get_packed_size(&s);
	uint8_t *sbuf = mem_alloc(slen ? slen : 1);
	google__rpc__status__pack(&s, sbuf);
	char *out = mem_alloc(base64_encoded_len(slen) + 1);
	out[base64_encode(sbuf, slen, out)] = '\0';
	mem_free(sbuf);
	mem_free(eibuf);
	mem_free(ep);
	mem_free(e);
	return out;
}

/* The gRPC code of a REST error answer ({"error":{"status":"NOT_FOUND"}}). */
static int code_of(const char *status_word)
{
	for (int e = 0; e < ERR_COUNT; e++)
		if (status_word && strcmp(errors_status_name((enum err)e), status_word) == 0)
			return errors_grpc_code((enum err)e);
	return 2; /* UNKNOWN */
}

int grpc_code_of_answer(int status, json_t *v, const char **msg)
{
	json_t *e = json_object_get(v, "error");
	const char *word = json_string_value(json_object_get(e, "status"));
	*msg = json_string_value(json_object_get(e, "message"));
	if (*msg == NULL)
		*msg = "";
	/* A transcoded path without a REST route: a method not served yet. */
	if (status == 404 && strncmp(*msg, "The requested URL", 17) == 0) {
		*msg = "This method is not implemented by regnotifyd yet (docs/grpc.md).";
		return 12;
	}
	return code_of(word);
}

static void op_send(struct call *c, int status, char *text, size_t len)
{
	struct h2stream *st = c->conn;
	st->unary_call = NULL;
	if (st->conn == NULL || st->answered) { /* gone, or its grpc-timeout ran out */
		mem_free(text);
		grpc_stream_unref(st);
		return;
	}
	const struct grpc_rpc *r = grpc_rpc_find(st->path);
	json_t *v = json_loadb(text, len, 0, NULL);
	mem_free(text);
	if (status < 200 || status >= 300) {
		const char *msg;
		int code = grpc_code_of_answer(status, v, &msg);
		mem_free(st->details);
		st->details = grpc_status_details(code, msg, v);
		respond(st, NULL, 0, code, msg);
		json_decref(v);
		grpc_stream_unref(st);
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
		grpc_stream_unref(st);
		return;
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = mem_alloc(n ? n : 1);
	protobuf_c_message_pack(m, buf);
	protobuf_c_message_free_unpacked(m, NULL);
	respond(st, buf, n, 0, NULL);
	mem_free(buf);
	grpc_stream_unref(st);
}

const char *grpc_stream_header(struct h2stream *st, const char *name)
{
	if (strcasecmp(name, "Authorization") == 0)
		return st->auth[0] ? st->auth : NULL;
	if (strcasecmp(name, "User-Agent") == 0)
		return st->ua[0] ? st->ua : NULL;
	return NULL;
}

void grpc_stream_peer(struct h2stream *st, char *buf, size_t n)
{
	snprintf(buf, n, "%s", st->conn ? st->conn->peer : "?");
}

static const char *op_header(struct call *c, const char *name)
{
	return grpc_stream_header(c->conn, name);
}

static void op_peer(struct call *c, char *buf, size_t n)
{
	grpc_stream_peer(c->conn, buf, n);
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

/* 1 when the REST route a unary method is transcoded to exists (decided
 * at start from the route table: the snapshot methods and detach have
 * none yet), so the others are refused at their headers. */
static int served(const struct grpc_srv *srv, const struct grpc_rpc *r)
{
	size_t n;
	const struct grpc_rpc *t = grpc_rpc_table(&n);
	return r->streaming || srv->served[r - t];
}

static void find_served(struct grpc_srv *srv)
{
	size_t n;
	const struct grpc_rpc *t = grpc_rpc_table(&n);
	for (size_t i = 0; i < n && i < GRPC_MAX_RPCS; i++) {
		char path[512];
		const struct route *rt = NULL;
		char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
		srv->served[i] = !t[i].streaming &&
				 grpc_rpc_probe_path(&t[i], path, sizeof(path)) == 0 &&
				 router_match(srv->b->routes, srv->b->nroutes, t[i].method, path,
					      &rt, params) == ROUTE_OK &&
				 (rt->via == 0 || (rt->via & VIA_GRPC));
	}
}

/* grpc-timeout: 1 to 8 digits and a unit (the gRPC HTTP/2 protocol), in
 * milliseconds (at least 1). */
static int parse_timeout(const uint8_t *v, size_t n, int64_t *ms)
{
	if (n < 2 || n > 9)
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	switch (v[n - 1]) {
	case 'H': x *= 3600000; break;
	case 'M': x *= 60000; break;
	case 'S': x *= 1000; break;
	case 'm': break;
	case 'u': x /= 1000; break;
	case 'n': x /= 1000000; break;
	default: return -1;
	}
	*ms = x > 0 ? x : 1;
	return 0;
}

static void dispatch(struct h2conn *h, struct h2stream *st)
{
	const struct grpc_rpc *r = grpc_rpc_find(st->path);
	st->dispatched = 1;
	if (st->bad_type) {
		respond(st, NULL, 0, 3, "content-type must be application/grpc");
		return;
	}
	if (r == NULL) {
		respond(st, NULL, 0, 12, "Method not found");
		return;
	}
	if (!served(h->srv, r)) {
		respond(st, NULL, 0, 12,
			"This method is not implemented by regnotifyd yet (docs/grpc.md).");
		return;
	}
	if (st->bad_timeout) {
		respond(st, NULL, 0, 3,
			"grpc-timeout does not parse (1 to 8 digits and H M S m u n)");
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
	st->refs++;
	st->unary_call = c;
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
	grpc_stream_release_input(st, st->held); /* unpacked: the request is taken */
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
	h->last_send_ms = broker_now_ms();
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
	st->out = evbuffer_new();
	st->bad_type = 1; /* until a content-type application/grpc comes */
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
	/* What SETTINGS_MAX_HEADER_LIST_SIZE says (RFC 9113 counts 32 a field). */
	st->header_bytes += namelen + valuelen + 32;
	if (st->header_bytes > GRPC_HEADER_LIST_MAX)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
#define IS(n) (namelen == sizeof(n) - 1 && memcmp(name, n, namelen) == 0)
	if (IS(":path"))
		snprintf(st->path, sizeof(st->path), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("authorization") && valuelen < sizeof(st->auth))
		snprintf(st->auth, sizeof(st->auth), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("user-agent"))
		snprintf(st->ua, sizeof(st->ua), "%.*s", (int)valuelen, (const char *)value);
	else if (IS("content-type"))
		st->bad_type = !(valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0);
	else if (IS("grpc-timeout"))
		st->bad_timeout = parse_timeout(value, valuelen, &st->timeout_ms) != 0;
#undef IS
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	(void)flags;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, id);
	struct h2conn *h = user;
	if (st == NULL || st->too_large || st->answered) { /* dropped */
		nghttp2_session_consume(s, id, len);
		return 0;
	}
	if (evbuffer_get_length(st->in) + len > GRPC_MAX_REQUEST) {
		st->too_large = 1;
		evbuffer_drain(st->in, evbuffer_get_length(st->in));
		nghttp2_session_consume(s, id, len);
		grpc_stream_release_input(st, st->held);
		return 0;
	}
	evbuffer_add(st->in, data, len);
	st->held += len;
	h->held += len;
	if (h->held <= GRPC_CONN_HELD && st->unconsumed == 0)
		nghttp2_session_consume(s, id, len);
	else
		st->unconsumed += len;
	return 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h2stream *st = arg;
	(void)fd;
	(void)what;
	if (st->conn == NULL || st->answered)
		return;
	if (st->sp)
		grpc_spull_timeout(st);
	else /* the call goes on; its answer is dropped (op_send) */
		respond(st, NULL, 0, 4, "Deadline Exceeded");
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct h2conn *h = user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL || (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA))
		return 0;
	int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST &&
	    !st->dispatched && st->sp == NULL) {
		/* A method that is not served is refused at its headers, before
		 * its messages: a stream the client keeps open never hangs. */
		const struct grpc_rpc *r = grpc_rpc_find(st->path);
		if (st->bad_type || st->bad_timeout || r == NULL || !served(h->srv, r)) {
			dispatch(h, st);
			return 0;
		}
		if (st->timeout_ms > 0 && st->timer == NULL) {
			st->timer = evtimer_new(h->srv->b->base, on_timeout, st);
			struct timeval tv = { (time_t)(st->timeout_ms / 1000),
					      (suseconds_t)(st->timeout_ms % 1000) * 1000 };
			evtimer_add(st->timer, &tv);
		}
		if (r->streaming) {
			st->dispatched = 1;
			grpc_spull_open(st);
			if (end && st->conn)
				grpc_spull_data(st, 1);
			return 0;
		}
	}
	if (st->sp) {
		if (f->hd.type == NGHTTP2_DATA)
			grpc_spull_data(st, end);
		return 0;
	}
	if (end && !st->dispatched && !st->answered) /* answered: its grpc-timeout ran out */
		dispatch(h, st);
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)user;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	stream_gone(st, code != NGHTTP2_NO_ERROR); /* RST_STREAM: the client cancelled */
	return 0;
}

/* ---- the connection ----------------------------------------------------- */

static void conn_free(struct h2conn *h)
{
	struct grpc_srv *srv = h->srv;
	while (h->streams) {
		struct h2stream *st = h->streams;
		if (h->s)
			nghttp2_session_set_stream_user_data(h->s, st->id, NULL);
		stream_gone(st, 1); /* the connection went away */
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

void grpc_conn_flush(struct h2conn *h)
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
	if (!h->got_data) {
		h->got_data = 1;
		bufferevent_set_timeouts(bev, NULL, NULL); /* streams may idle for long */
	}
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
	grpc_conn_flush(h);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct h2conn *h = arg;
	(void)bev;
	grpc_conn_flush(h);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

/* A connection that sends nothing (no preface, no TLS handshake) in this
 * long is closed. */
#define GRPC_HANDSHAKE_SECS 10

void grpc_serve(struct grpc_srv *srv, evutil_socket_t fd, const struct sockaddr *sa, SSL *ssl,
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
	if (ssl) {
		h->bev = bufferevent_openssl_socket_new(
			srv->b->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (h->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(h->bev, 1);
	} else {
		h->bev = bufferevent_socket_new(srv->b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (h->bev == NULL) {
		log_error("grpc: %s: cannot set up the connection", h->peer);
		if (ssl)
			SSL_free(ssl);
		evutil_closesocket(fd);
		mem_free(h);
		return;
	}
	if (already_len == 0) {
		struct timeval hs = { GRPC_HANDSHAKE_SECS, 0 };
		bufferevent_set_timeouts(h->bev, &hs, NULL);
	} else {
		h->got_data = 1;
	}
	nghttp2_session_callbacks *cbs;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
	nghttp2_option *opt;
	nghttp2_option_new(&opt);
	nghttp2_option_set_no_auto_window_update(opt, 1); /* consume(): held bytes */
	nghttp2_session_server_new2(&h->s, cbs, h, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	/* Windows: 1 MiB per stream (a 10 MB publish is not held to 64 KiB
	 * per round trip), 16 MiB per connection (what one client can have
	 * in flight towards the broker, whatever its number of streams). */
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_HEADER_LIST_MAX },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_STREAM_WINDOW },
	};
	nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, GRPC_CONN_WINDOW);
	h->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = h;
	srv->conns = h;
	bufferevent_setcb(h->bev, on_read, on_write, on_event, h);
	bufferevent_enable(h->bev, EV_READ | EV_WRITE);
	if (already_len) { /* not through the input buffer: libevent freezes its end */
		h->in_recv = 1;
		ssize_t n = nghttp2_session_mem_recv(h->s, already, already_len);
		h->in_recv = 0;
		if (n < 0) {
			log_debug("grpc: %s: %s", h->peer, nghttp2_strerror((int)n));
			conn_free(h);
			return;
		}
	}
	grpc_conn_flush(h);
}

/* ---- the module --------------------------------------------------------- */

/* Every second: a PING on connections quiet for GRPC_KEEPALIVE_MS with
 * streams open (NATs and proxies drop silent connections), and
 * StreamingPull's bookkeeping. */
#define GRPC_KEEPALIVE_MS 30000

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_srv *srv = arg;
	(void)fd;
	(void)what;
	int64_t now = broker_now_ms();
	for (struct h2conn *h = srv->conns, *next; h; h = next) {
		next = h->next;
		if (h->streams && now - h->last_send_ms >= GRPC_KEEPALIVE_MS) {
			h->last_send_ms = now;
			nghttp2_submit_ping(h->s, NGHTTP2_FLAG_NONE, NULL);
			grpc_conn_flush(h);
		}
	}
	grpc_streams_tick(srv);
}

static void quiesce(void *state)
{
	struct grpc_srv *srv = state;
	grpc_accept_quiesce(srv);
	/* StreamingPulls end with UNAVAILABLE (clients reconnect elsewhere);
	 * GOAWAY, and the unary calls in flight are answered. */
	for (struct h2conn *h = srv->conns; h; h = h->next)
		h->in_recv = 1; /* no send, no free while the list is walked */
	grpc_spull_shutdown(srv);
	for (struct h2conn *h = srv->conns, *next; h; h = next) {
		next = h->next;
		h->in_recv = 0;
		nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(h->s),
				      NGHTTP2_NO_ERROR, NULL, 0);
		grpc_conn_flush(h);
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
	grpc_accept_stop(srv);
	while (srv->conns)
		conn_free(srv->conns);
	grpc_streams_free(srv);
	event_free(srv->tick);
	srv->b->grpc = NULL;
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
	struct grpc_srv *srv = mem_calloc(1, sizeof(*srv));
	srv->b = b;
	b->grpc = srv;
	srv->tick = event_new(b->base, -1, EV_PERSIST, on_tick, srv);
	struct timeval tv = { 1, 0 };
	event_add(srv->tick, &tv);
	grpc_streams_init(srv);
	find_served(srv);
	broker_add_module(b, &grpc_module, srv);
	return grpc_accept_start(srv);
}
