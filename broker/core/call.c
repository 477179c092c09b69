/* call.c - answering a call, whatever transport it came from. */
#include "call.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct call *call_new(struct broker *b, const struct call_ops *ops, void *srv, void *conn)
{
	struct call *c = mem_calloc(1, sizeof(*c));
	c->b = b;
	c->ops = ops;
	c->srv = srv;
	c->conn = conn;
	c->start_ms = broker_now_ms();
	b->inflight++;
	return c;
}

static void call_free(struct call *c)
{
	struct broker *b = c->b;
	if (c->state_free)
		c->state_free(c->state);
	json_decref(c->body);
	mem_free(c);
	b->inflight--;
}

/* Every answer goes out here: counted, handed to the transport, logged. */
static void send_and_free(struct call *c, int status, char *text, size_t len)
{
	if (status >= 100 && status < 600)
		metrics.responses_by_class[status / 100]++;
	if (c->b->call_done)
		c->b->call_done(c, status, text, len);
	c->ops->send(c, status, text, len);
	log_debug("%s%s %s -> %d", c->ops->log_prefix ? c->ops->log_prefix : "",
		  c->route ? c->route->name : "-", c->uri, status);
	call_free(c);
}

void call_reply_messages(struct call *c, const struct call_msg *m, size_t n)
{
	metrics.responses_by_class[2]++;
	/* The audit step sees a 200 (Data Access entries hold no response). */
	if (c->b->call_done)
		c->b->call_done(c, 200, "{}", 2);
	c->ops->send_messages(c, m, n);
	log_debug("%s%s %s -> 200 (%zu messages)", c->ops->log_prefix ? c->ops->log_prefix : "",
		  c->route ? c->route->name : "-", c->uri, n);
	call_free(c);
}

void call_reply(struct call *c, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		call_error(c, ERR_INTERNAL, "could not encode the response");
		return;
	}
	send_and_free(c, status, text, strlen(text));
}

void call_reply_owned(struct call *c, int status, char *text, size_t len)
{
	send_and_free(c, status, text, len);
}

void call_reply_text(struct call *c, int status, const char *text, size_t len)
{
	send_and_free(c, status, mem_strndup(text, len), len);
}

/* Pub/Sub's error body {"error":{code,message,status[,details]}} for e;
 * details (taken) is NULL or the "details" array. */
static void error_reply(struct call *c, enum err e, const char *msg, json_t *details)
{
	int http = errors_http_status(e);
	json_t *o = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", http, "message", msg, "status",
			      errors_status_name(e));
	if (o && details)
		json_object_set_new(json_object_get(o, "error"), "details", details);
	else
		json_decref(details);
	if (http >= 500)
		log_warn("%s %s -> %d: %s", c->route ? c->route->name : "-", c->uri, http, msg);
	if (o == NULL) { /* msg was not valid UTF-8: keep the status */
		static const char fallback[] = "{\"error\":{\"code\":%d,\"message\":\"(message "
					       "not valid UTF-8)\",\"status\":\"%s\"}}";
		char buf[256];
		int n = snprintf(buf, sizeof(buf), fallback, http, errors_status_name(e));
		call_reply_text(c, http, buf, (size_t)n);
		return;
	}
	call_reply(c, http, o);
}

void call_error(struct call *c, enum err e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_reply(c, e, msg, NULL);
}

void call_error_info(struct call *c, enum err e, const char *reason, const char *domain,
		     json_t *metadata, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_reply(c, e, msg,
		    json_pack("[{s:s,s:s,s:s,s:o}]", "@type",
			      "type.googleapis.com/google.rpc.ErrorInfo", "reason", reason,
			      "domain", domain, "metadata", metadata));
}

void call_not_found(struct call *c, const char *id)
{
	call_error(c, ERR_NOT_FOUND, "Resource not found (resource=%s).", id);
}

void call_unavailable(struct call *c)
{
	call_error(c, ERR_UNAVAILABLE,
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
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid JSON payload received. %s (line %d, "
			   "column %d)",
			   je.text, je.line, je.column);
		return -1;
	}
	if (!json_is_object(c->body)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid JSON payload received. Expected an "
			   "object.");
		return -1;
	}
	return 0;
}

const char *call_header(struct call *c, const char *name)
{
	return c->ops->header ? c->ops->header(c, name) : NULL;
}

void call_set_header(struct call *c, const char *name, const char *value)
{
	if (c->ops->set_header)
		c->ops->set_header(c, name, value);
}

void call_peer(struct call *c, char *buf, size_t n)
{
	if (c->ops->peer)
		c->ops->peer(c, buf, n);
	else
		snprintf(buf, n, "?");
}
