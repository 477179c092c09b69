/* http.c - the evhttp transport. Every request becomes a struct call that
 * a handler answers exactly once, possibly later from a Redis reply
 * callback. libevent 2.1 keeps such a deferred request alive when the peer
 * goes away (evcon set to NULL) and frees it on evhttp_send_reply, so a
 * late reply is always safe. */
#include "http.h"

#include "grpc.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "log.h"
#include "mem.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* evhttp refuses bodies above this before any handler runs (with its own
 * 413); route limits below it answer a JSON 413. */
#define HTTP_HARD_BODY_MAX (16u * 1024 * 1024 + 4096)
#define HTTP_PATH_MAX 2048

struct http {
	struct broker *b;
	const struct call_ops *ops; /* http_ops, or metrics_ops on --metrics-listen */
	struct evhttp *evh;
	struct evhttp_bound_socket *listener;
	long unflushed; /* answers not yet fully written to their socket */
};

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	mem_free((void *)data);
}

/* The reply's bytes have left the output buffer. */
static void on_reply_written(struct evhttp_request *req, void *arg)
{
	(void)req;
	struct http *h = arg;
	h->unflushed--;
}

static void op_send(struct call *c, int status, char *text, size_t len)
{
	struct evhttp_request *req = c->conn;
	struct http *h = c->srv;
	if (evhttp_request_get_connection(req)) {
		h->unflushed++;
		evhttp_request_set_on_complete_cb(req, on_reply_written, h);
	}
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	if (evhttp_find_header(hd, "Content-Type") == NULL)
		evhttp_add_header(hd, "Content-Type", "application/json; charset=UTF-8");
	if (c->b->shutting_down)
		evhttp_add_header(hd, "Connection", "close");
	evbuffer_add_reference(evhttp_request_get_output_buffer(req), text, len, free_text, NULL);
	evhttp_send_reply(req, status, reason(status), NULL);
}

static const char *op_header(struct call *c, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(c->conn), name);
}

static void op_set_header(struct call *c, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(c->conn), name, value);
}

static void op_peer(struct call *c, char *buf, size_t n)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->conn);
	if (evcon)
		evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(buf, n, "%s:%u", addr ? addr : "?", (unsigned)port);
}

static const struct call_ops http_ops = {
	.name = "http",
	.transport = VIA_HTTP,
	.send = op_send,
	.header = op_header,
	.set_header = op_set_header,
	.peer = op_peer,
};

/* The --metrics-listen listener: loopback only (config.c), it serves the
 * routes marked VIA_METRICS (/metrics) and the gate skips their
 * permission there. */
static const struct call_ops metrics_ops = {
	.name = "http-metrics",
	.transport = VIA_METRICS,
	.send = op_send,
	.header = op_header,
	.set_header = op_set_header,
	.peer = op_peer,
};

static int method_of(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return M_GET;
	case EVHTTP_REQ_PUT: return M_PUT;
	case EVHTTP_REQ_POST: return M_POST;
	case EVHTTP_REQ_PATCH: return M_PATCH;
	case EVHTTP_REQ_DELETE: return M_DELETE;
	default: return 0;
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	struct call *c = call_new(h->b, h->ops, h, req);
	c->uri = evhttp_request_get_uri(req);
	const char *auth = op_header(c, "Authorization");
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		c->credential = auth + 7;
		c->credential_len = strlen(c->credential);
	}
	const char *q = strchr(c->uri, '?');
	size_t plen = q ? (size_t)(q - c->uri) : strlen(c->uri);
	char path[HTTP_PATH_MAX];
	if (plen >= sizeof(path)) {
		call_error(c, ERR_INVALID_ARGUMENT, "Request path too long");
		return;
	}
	memcpy(path, c->uri, plen);
	path[plen] = '\0';
	c->query = q ? q + 1 : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : NULL;
	gate_dispatch(c, method_of(evhttp_request_get_command(req)), path, body, len);
}

/* Closes the listening socket; open connections stay until their in-flight
 * requests are answered. */
static void quiesce(void *state)
{
	struct http *h = state;
	if (h->listener)
		evhttp_del_accept_socket(h->evh, h->listener);
	h->listener = NULL;
}

static long unflushed(void *state)
{
	return ((struct http *)state)->unflushed;
}

static void stop(void *state)
{
	struct http *h = state;
	evhttp_free(h->evh);
	mem_free(h);
}

static const struct module_ops http_module = {
	.name = "http",
	.quiesce = quiesce,
	.unflushed = unflushed,
	.stop = stop,
};

static int listen_on(struct broker *b, const char *host, int port, const struct call_ops *ops)
{
	struct http *h = mem_calloc(1, sizeof(*h));
	h->b = b;
	h->ops = ops;
	h->evh = evhttp_new(b->base);
	if (h->evh == NULL) {
		mem_free(h);
		return -1;
	}
	broker_add_module(b, &http_module, h);
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
						   EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
						   EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	evhttp_set_max_body_size(h->evh, HTTP_HARD_BODY_MAX);
	evhttp_set_timeout(h->evh, 120);
	evhttp_set_gencb(h->evh, on_request, h);
	/* PUBSUB_EMULATOR_HOST: gRPC's HTTP/2 on the API port (docs/grpc.md). */
	if (ops == &http_ops && b->grpc)
		evhttp_set_bevcb(h->evh, grpc_h2c_bev, b->grpc);
	h->listener = evhttp_bind_socket_with_handle(h->evh, host, (ev_uint16_t)port);
	if (h->listener == NULL) {
		log_error("cannot listen on %s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	/* evhttp never sets TCP_NODELAY, and a response larger than one
	 * bufferevent write (16 KB: a pull of a few dozen messages) would then
	 * wait ~40 ms for the client's delayed ACK before its tail is sent.
	 * Accepted sockets inherit the option from the listening socket. */
	int one = 1;
	setsockopt(evhttp_bound_socket_get_fd(h->listener), IPPROTO_TCP, TCP_NODELAY, &one,
		   sizeof(one));
	return 0;
}

int http_start(struct broker *b)
{
	if (listen_on(b, b->cfg.listen_host, b->cfg.listen_port, &http_ops) != 0)
		return -1;
	if (b->cfg.metrics_port > 0 &&
	    listen_on(b, b->cfg.metrics_host, b->cfg.metrics_port, &metrics_ops) != 0)
		return -1;
	return 0;
}
