/* call.h - one request from a transport to its single answer, the same
 * whatever carried it. Each transport (transport/http.c, transport/reqrep.c,
 * later gRPC) fills a static call_ops table, as h2o's connection callbacks
 * or Redis' ConnectionType: the layers below never ask which one it is. */
#ifndef RN_CALL_H
#define RN_CALL_H

#include "errors.h"
#include "router.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct call;

/* "serviceAccount:" + an email of at most 254 bytes. */
#define CALL_PRINCIPAL_MAX 272

/* One leased message of a pull answer, for a transport that encodes it
 * itself (gRPC: protobuf, no JSON and no base64 on the way). Pointers
 * into the store's reply, valid during send_messages. */
struct call_msg {
	const char *ack_id; /* "ms-seq:attempt:tag", NUL-terminated */
	const char *data;   /* the raw bytes */
	size_t data_len;
	const char *attrs; /* compact JSON object text; attrs_len 0: none */
	size_t attrs_len;
	const char *key; /* orderingKey; key_len 0: none */
	size_t key_len;
	unsigned long long message_id;
	int64_t publish_ms;
	long delivery_attempt; /* 0: not reported (no dead-letter policy) */
};

struct call_ops {
	const char *name; /* "http", "nng": for logs */
	/* Before the route in the debug line of each answer: NULL for HTTP
	 * ("topics.list URI -> 200", docs/config.md), "nng " for nng. */
	const char *log_prefix;
	unsigned transport; /* one VIA_* bit: which routes it may serve */
	/* Sends the answer (once). Ownership: text (len bytes, from mem_alloc
	 * or jansson, which allocates through mem) is taken. */
	void (*send)(struct call *c, int status, char *text, size_t len);
	/* A request header, or NULL (also where the transport has none). */
	const char *(*header)(struct call *c, const char *name);
	/* Adds a response header; ignored where the transport has none. */
	void (*set_header)(struct call *c, const char *name, const char *value);
	/* The peer as "ip:port" (or the transport's form) into buf. */
	void (*peer)(struct call *c, char *buf, size_t n);
	/* Optional: a pull's answer with messages, taken in place of send's
	 * JSON (call_reply_messages). */
	void (*send_messages)(struct call *c, const struct call_msg *m, size_t n);
};

/* Owned by the loop; freed by the reply functions below, never by handlers. */
struct call {
	struct broker *b;
	const struct call_ops *ops;
	void *srv;         /* the transport's listener state */
	void *conn;        /* the transport's request (evhttp_request, nng slot) */
	const char *uri;   /* path?query, for logs; borrowed from the transport */
	const char *query; /* raw query string or NULL; borrowed */
	/* The credential the request carried - HTTP "Authorization: Bearer X",
	 * the nng frame's token - or NULL; borrowed from the transport. */
	const char *credential;
	size_t credential_len;
	/* Who the gate's authn step found: "serviceAccount:EMAIL", or "" for
	 * an anonymous call (and the ingest-token principal, see auth/). */
	char principal[CALL_PRINCIPAL_MAX];
	/* auth/: the call creates an ephemeral subscription through
	 * regnotify.subscriptions.tail (not subscriptions.create): the
	 * creator gets roles/pubsub.editor on it, to consume and delete it. */
	int grant_creator;
	void *auth_extra; /* auth/authz.c: the checks still to run */
	/* auth/authz.c, for a refused call's Policy Denied entry: the
	 * permission it lacked and the resource it was checked on. */
	const char *denied_permission;
	char denied_resource[600];
	int authorized; /* core/gate.c: every check passed, the handler ran */
	const struct route *route;
	int gate_step;         /* core/gate.c: the next step to run */
	const char *gate_body; /* the body the transport handed to the gate */
	size_t gate_len;
	char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX]; /* project, id */
	json_t *body;    /* parsed JSON body or NULL; owned by the call */
	const char *raw; /* raw_body routes: the unparsed body (the transport's) */
	size_t raw_len;
	int64_t start_ms;
	void *state; /* handler state, freed with state_free */
	void (*state_free)(void *);
	struct call *next; /* parked pulls (api/pull.c) */
	int tries;         /* read-modify-write retries (patches) */
	/* transport/grpc_stream.c: a StreamingPull's pull leases for the
	 * stream's ack deadline, not the subscription's (0). */
	long lease_ms;
	/* Set by the transport when the client went away (an HTTP/2 stream
	 * reset): a parked pull is answered {} instead of taking messages
	 * nobody would get (api/pull.c). */
	int cancelled;
	/* Set by api/pull.c before send_messages: the subscription's
	 * CALL_SUB_* properties (StreamingPull's subscriptionProperties). */
	int sub_flags;
};
#define CALL_SUB_ORDERED 1
#define CALL_SUB_EXACTLY_ONCE 2

/* A new call counted in b->inflight. srv and conn are the transport's
 * listener and request, for its ops. Loop thread. */
struct call *call_new(struct broker *b, const struct call_ops *ops, void *srv, void *conn);

/* Answers 200 (or status) with body as JSON, then frees the call. body is
 * stolen (decref'd). Loop thread. */
void call_reply(struct call *c, int status, json_t *body);

/* Answers with text from mem_alloc, which the reply takes over (no copy),
 * then frees the call. */
void call_reply_owned(struct call *c, int status, char *text, size_t len);

/* Answers a pull with n messages through ops->send_messages (which the
 * transport must have), then frees the call. */
void call_reply_messages(struct call *c, const struct call_msg *m, size_t n);

/* Answers with a copy of a ready-made JSON text (len bytes), then frees
 * the call. */
void call_reply_text(struct call *c, int status, const char *text, size_t len);

/* Answers {"error":{"code","message","status"}} with e's HTTP status and
 * frees the call. Loop thread. */
void call_error(struct call *c, enum err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "Resource not found (resource=ID)." for the call's resource ID. */
void call_not_found(struct call *c, const char *id);

/* As call_error, with Pub/Sub's google.rpc.ErrorInfo in the error's
 * "details" (REST) or grpc-status-details-bin (gRPC): reason, domain and
 * metadata (an object of strings, taken). */
void call_error_info(struct call *c, enum err e, const char *reason, const char *domain,
		     json_t *metadata, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* 503 UNAVAILABLE because Redis did not answer. */
void call_unavailable(struct call *c);

/* Parses c->raw into c->body (raw_body routes that need the tree);
 * replies 400 and returns -1 when it is not a JSON object. */
int call_parse_body_or_reply(struct call *c);

/* Returns the value of a query parameter (decoded into buf), or NULL. */
const char *call_query(struct call *c, const char *key, char *buf, size_t buflen);

/* A request header through the transport (NULL when absent). */
const char *call_header(struct call *c, const char *name);

/* Adds a response header through the transport. */
void call_set_header(struct call *c, const char *name, const char *value);

/* The peer's address through the transport. */
void call_peer(struct call *c, char *buf, size_t n);

#endif
