/* http_server.h - evhttp front end: accepts requests, routes them, reads
 * and parses the JSON body, and answers in Pub/Sub's JSON shapes. */
#ifndef RN_HTTP_SERVER_H
#define RN_HTTP_SERVER_H

#include "router.h"

#include <jansson.h>
#include <stdint.h>

struct broker;
struct evhttp_request;
struct nng_slot;

/* google.rpc.Code values used by the REST surface, with their HTTP status. */
enum rpc_code {
	RPC_INVALID_ARGUMENT,
	RPC_NOT_FOUND,
	RPC_ALREADY_EXISTS,
	RPC_UNAVAILABLE,
	RPC_INTERNAL,
	RPC_UNIMPLEMENTED,
	RPC_METHOD_NOT_ALLOWED, /* 405 has no rpc code of its own */
	RPC_PAYLOAD_TOO_LARGE,
	RPC_UNAUTHENTICATED,
	RPC_ABORTED,
};

/* One REST call from routing to reply, from HTTP (req) or nng (nslot).
 * Owned by the loop; freed by the reply functions below, never by
 * handlers. */
struct call {
	struct broker *b;
	struct evhttp_request *req; /* HTTP: the request, else NULL */
	struct nng_slot *nslot;     /* nng: the context to answer on, else NULL */
	const char *uri;            /* path?query, for logs; borrowed from req/nslot */
	const struct route *route;
	char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX]; /* project, id */
	json_t *body;    /* parsed JSON body or NULL; owned by the call */
	const char *raw; /* ROUTE_RAW_BODY routes: the unparsed body (in req) */
	size_t raw_len;
	const char *query; /* raw query string or NULL; borrowed from req */
	int64_t start_ms;
	void *state; /* handler state, freed with state_free */
	void (*state_free)(void *);
	struct call *next; /* parked pulls (pull.c) */
	int tries;         /* read-modify-write retries (patches) */
};

/* Starts listening on host:port. Returns 0 or -1 (logged). Loop thread. */
int http_server_start(struct broker *b, const char *host, int port);

/* Stops accepting new connections (graceful shutdown). */
void http_server_stop_accepting(struct broker *b);

/* Frees the listener and connections. */
void http_server_free(struct broker *b);

/* A new call counted in b->inflight; the caller sets req or nslot, uri
 * and query, then calls call_dispatch. Loop thread. */
struct call *call_new(struct broker *b);

/* Routes the call (method: enum http_method, path without the query) and
 * runs its handler, or answers the routing error. body (len bytes, may be
 * NULL) must stay valid until the call is answered. Loop thread. */
void call_dispatch(struct call *c, int method, const char *path, const char *body, size_t len);

/* Answers 200 (or status) with body as JSON, then frees the call. body is
 * stolen (decref'd). Loop thread. */
void call_reply(struct call *c, int status, json_t *body);

/* Answers with text allocated by mem_alloc, which the reply takes over (no
 * copy), then frees the call. */
void call_reply_owned(struct call *c, int status, char *text, size_t len);

/* Answers with a ready-made JSON text (len bytes), then frees the call. */
void call_reply_text(struct call *c, int status, const char *text, size_t len);

/* Answers {"error":{"code","message","status"}} with code's HTTP status
 * and frees the call. Loop thread. */
void call_error(struct call *c, enum rpc_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "Resource not found (resource=ID)." for the call's resource ID. */
void call_not_found(struct call *c, const char *id);

/* 503 UNAVAILABLE because Redis did not answer. */
void call_unavailable(struct call *c);

/* Parses c->raw into c->body (ROUTE_RAW_BODY routes that need the tree);
 * replies 400 and returns -1 when it is not a JSON object. */
int call_parse_body_or_reply(struct call *c);

/* Returns the value of a query parameter (decoded into buf), or NULL. */
const char *call_query(struct call *c, const char *key, char *buf, size_t buflen);

#endif
