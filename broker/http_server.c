/* http_server.c - the evhttp front end. Every request becomes a struct call
 * that a handler answers exactly once, possibly later from a Redis reply
 * callback. libevent 2.1 keeps such a deferred request alive when the peer
 * goes away (evcon set to NULL) and frees it on evhttp_send_reply, so a
 * late reply is always safe. */
#include "http_server.h"

#include "broker.h"
#include "ingest.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "nng_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* evhttp refuses bodies above this before any handler runs (with its own
 * 413); route limits below it answer a JSON 413. */
#define HTTP_HARD_BODY_MAX (16u * 1024 * 1024 + 4096)
#define HTTP_PATH_MAX 2048

static const struct {
	int http;
	const char *name;
} rpc_codes[] = {
	[RPC_INVALID_ARGUMENT] = { 400, "INVALID_ARGUMENT" },
	[RPC_NOT_FOUND] = { 404, "NOT_FOUND" },
	[RPC_ALREADY_EXISTS] = { 409, "ALREADY_EXISTS" },
	[RPC_UNAVAILABLE] = { 503, "UNAVAILABLE" },
	[RPC_INTERNAL] = { 500, "INTERNAL" },
	[RPC_UNIMPLEMENTED] = { 501, "UNIMPLEMENTED" },
	[RPC_METHOD_NOT_ALLOWED] = { 405, "UNIMPLEMENTED" },
	[RPC_PAYLOAD_TOO_LARGE] = { 413, "INVALID_ARGUMENT" },
	[RPC_UNAUTHENTICATED] = { 401, "UNAUTHENTICATED" },
	[RPC_ABORTED] = { 409, "ABORTED" },
};

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void call_free(struct call *c)
{
	struct broker *b = c->b;
	if (c->state_free)
		c->state_free(c->state);
	json_decref(c->body);
	mem_free(c);
	b->inflight--;
	broker_request_done(b);
}

static void free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static void free_mem(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	mem_free((void *)data);
}

/* The reply's bytes have left the output buffer (see broker.h). */
static void on_reply_written(struct evhttp_request *req, void *arg)
{
	(void)req;
	struct broker *b = arg;
	b->unflushed--;
}

static void send_text(struct call *c, int status, char *text, size_t len, int owned)
{
	if (status >= 100 && status < 600)
		metrics.http_by_class[status / 100]++;
	if (c->nslot) {
		nng_server_reply(c->nslot, status, text, len);
		if (owned == 1)
			free(text);
		else if (owned == 2)
			mem_free(text);
		log_debug("nng %s %s -> %d", c->route ? c->route->name : "-", c->uri, status);
		return;
	}
	struct evhttp_request *req = c->req;
	if (evhttp_request_get_connection(req)) {
		c->b->unflushed++;
		evhttp_request_set_on_complete_cb(req, on_reply_written, c->b);
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type", "application/json; charset=UTF-8");
	if (c->b->shutting_down)
		evhttp_add_header(h, "Connection", "close");
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	if (owned == 1)
		evbuffer_add_reference(out, text, len, free_text, NULL);
	else if (owned == 2)
		evbuffer_add_reference(out, text, len, free_mem, NULL);
	else
		evbuffer_add(out, text, len);
	evhttp_send_reply(req, status, reason(status), NULL);
	log_debug("%s %s -> %d", c->route ? c->route->name : "-", c->uri, status);
}

void call_reply(struct call *c, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		call_error(c, RPC_INTERNAL, "could not encode the response");
		return;
	}
	send_text(c, status, text, strlen(text), 1);
	call_free(c);
}

void call_reply_owned(struct call *c, int status, char *text, size_t len)
{
	send_text(c, status, text, len, 2);
	call_free(c);
}

void call_reply_text(struct call *c, int status, const char *text, size_t len)
{
	send_text(c, status, (char *)text, len, 0);
	call_free(c);
}

void call_error(struct call *c, enum rpc_code code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *e = json_object();
	json_object_set_new(e, "code", json_integer(rpc_codes[code].http));
	json_object_set_new(e, "message", json_string(msg));
	json_object_set_new(e, "status", json_string(rpc_codes[code].name));
	json_t *o = json_object();
	json_object_set_new(o, "error", e);
	if (rpc_codes[code].http >= 500)
		log_warn("%s %s -> %d: %s", c->route ? c->route->name : "-", c->uri,
			 rpc_codes[code].http, msg);
	call_reply(c, rpc_codes[code].http, o);
}

void call_not_found(struct call *c, const char *id)
{
	call_error(c, RPC_NOT_FOUND, "Resource not found (resource=%s).", id);
}

void call_unavailable(struct call *c)
{
	call_error(c, RPC_UNAVAILABLE,
		   "The service is currently unavailable: the message store "
		   "(Redis) is not reachable. Retry with backoff.");
}

const char *call_query(struct call *c, const char *key, char *buf, size_t buflen)
{
	if (c->query == NULL)
		return NULL;
	struct evkeyvalq q;
	const char *res = NULL;
	if (evhttp_parse_query_str(c->query, &q) != 0)
		return NULL;
	const char *v = evhttp_find_header(&q, key);
	if (v) {
		snprintf(buf, buflen, "%s", v);
		res = buf;
	}
	evhttp_clear_headers(&q);
	return res;
}

int call_parse_body_or_reply(struct call *c)
{
	json_error_t je;
	c->body = json_loadb(c->raw, c->raw_len, 0, &je);
	if (c->body == NULL) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid JSON payload received. %s (line %d, "
			   "column %d)",
			   je.text, je.line, je.column);
		return -1;
	}
	if (!json_is_object(c->body)) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid JSON payload received. Expected an "
			   "object.");
		return -1;
	}
	return 0;
}

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

struct call *call_new(struct broker *b)
{
	struct call *c = mem_calloc(1, sizeof(*c));
	c->b = b;
	c->start_ms = broker_now_ms();
	b->inflight++;
	return c;
}

void call_dispatch(struct call *c, int method, const char *path, const char *body, size_t len)
{
	struct broker *b = c->b;
	if (b->shutting_down) {
		call_error(c, RPC_UNAVAILABLE,
			   "The broker is shutting down; retry on another instance");
		return;
	}
	const struct route *r = NULL;
	enum route_result rr =
		router_match(router_table, router_table_len, method, path, &r, c->params);
	if (rr == ROUTE_OK && c->nslot && (r->flags & ROUTE_HTTP_ONLY))
		rr = ROUTE_NOT_FOUND;
	if (rr == ROUTE_NOT_FOUND) {
		call_error(c, RPC_NOT_FOUND,
			   "The requested URL %.200s was not found on this server.", path);
		return;
	}
	if (rr == ROUTE_BAD_METHOD || method == 0) {
		call_error(c, RPC_METHOD_NOT_ALLOWED, "Method not allowed for %.200s", path);
		return;
	}
	c->route = r;
	if ((r->flags & ROUTE_INGEST_AUTH) && ingest_auth_or_reply(c) != 0)
		return;
	if (r->body_limit && len > 0) {
		if (len > r->body_limit) {
			call_error(c, RPC_PAYLOAD_TOO_LARGE,
				   "Request payload size exceeds the limit: "
				   "%zu bytes.",
				   r->body_limit);
			return;
		}
		c->raw = body;
		c->raw_len = len;
		if (!(r->flags & ROUTE_RAW_BODY) && call_parse_body_or_reply(c) != 0)
			return;
	}
	r->handler(c);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct call *c = call_new(arg);
	c->req = req;
	c->uri = evhttp_request_get_uri(req);
	const char *q = strchr(c->uri, '?');
	size_t plen = q ? (size_t)(q - c->uri) : strlen(c->uri);
	char path[HTTP_PATH_MAX];
	if (plen >= sizeof(path)) {
		call_error(c, RPC_INVALID_ARGUMENT, "Request path too long");
		return;
	}
	memcpy(path, c->uri, plen);
	path[plen] = '\0';
	c->query = q ? q + 1 : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : NULL;
	call_dispatch(c, method_of(evhttp_request_get_command(req)), path, body, len);
}

int http_server_start(struct broker *b, const char *host, int port)
{
	b->http = evhttp_new(b->base);
	if (b->http == NULL)
		return -1;
	evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	evhttp_set_max_body_size(b->http, HTTP_HARD_BODY_MAX);
	evhttp_set_timeout(b->http, 120);
	evhttp_set_gencb(b->http, on_request, b);
	b->listener = evhttp_bind_socket_with_handle(b->http, host, (ev_uint16_t)port);
	if (b->listener == NULL) {
		log_error("cannot listen on %s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	/* evhttp never sets TCP_NODELAY, and a response larger than one
	 * bufferevent write (16 KB: a pull of a few dozen messages) would then
	 * wait ~40 ms for the client's delayed ACK before its tail is sent.
	 * Accepted sockets inherit the option from the listening socket. */
	int one = 1;
	setsockopt(evhttp_bound_socket_get_fd(b->listener), IPPROTO_TCP, TCP_NODELAY, &one,
		   sizeof(one));
	return 0;
}

void http_server_stop_accepting(struct broker *b)
{
	/* Closes the listening socket; open connections stay until their
	 * in-flight requests are answered. */
	if (b->http && b->listener)
		evhttp_del_accept_socket(b->http, b->listener);
	b->listener = NULL;
}

void http_server_free(struct broker *b)
{
	if (b->http)
		evhttp_free(b->http);
	b->http = NULL;
}
