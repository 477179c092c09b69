/* grpc_internal.h - what grpc.c (connections, framing, unary calls) and
 * grpc_stream.c (StreamingPull) share. Loop thread only. */
#ifndef RN_GRPC_INTERNAL_H
#define RN_GRPC_INTERNAL_H

#include "grpc.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>

struct call;
struct spull;
struct lease_ent;
struct ssl_st;
struct sp_client;
struct sp_pending;

/* A request message may be as large as Pub/Sub's request limit, with room
 * for the framing and the message's own fields. */
#define GRPC_MAX_REQUEST (10 * 1024 * 1024 + 64 * 1024)
/* Output queued to one connection before nghttp2 is told to wait. */
#define GRPC_OUT_HIGH (4 * 1024 * 1024)
#define GRPC_MAX_STREAMS 1000
#define GRPC_HEADER_MAX 8192
#define GRPC_HEADER_LIST_MAX (64 * 1024)
#define GRPC_MAX_RPCS 64
#define GRPC_STREAM_WINDOW (1024 * 1024)
#define GRPC_CONN_WINDOW (16 * 1024 * 1024)
/* Request bytes one connection holds before its windows stay shut. */
#define GRPC_CONN_HELD (64 * 1024 * 1024)
/* StreamingPull's outstanding-message index (grpc_stream.c). */
#define GRPC_LEASE_BUCKETS 4096

struct grpc_srv {
	struct broker *b;
	struct evconnlistener *lis;
	struct ssl_ctx_st *tls; /* grpc_tls_cert_key: the listener speaks TLS */
	struct h2conn *conns;
	struct event *kick;         /* runs grpc_stream_kick on the next loop turn */
	struct event *tick;         /* 1 s: leases that ran out, keepalive pings */
	struct h2stream *kick_list; /* StreamingPulls that may pull (grpc_stream.c) */
	struct sp_client *clients;  /* their flow-control groups */
	struct sp_pending *pending; /* releases waiting to be sent */
	struct lease_ent *leases[GRPC_LEASE_BUCKETS];
	unsigned char served[GRPC_MAX_RPCS]; /* per grpc_rpc_table entry */
	long nleases;
};

struct h2conn {
	struct grpc_srv *srv;
	struct bufferevent *bev;
	nghttp2_session *s;
	char peer[64];
	struct h2stream *streams;
	struct h2conn *prev, *next;
	int in_recv;          /* inside nghttp2_session_mem_recv: no send, no free */
	int got_data;         /* the handshake timeout is off once bytes came */
	size_t held;          /* request bytes of its streams not yet taken */
	int64_t last_send_ms; /* keepalive: a PING after a quiet while */
};

struct h2stream {
	struct h2conn *conn; /* NULL: the connection or stream went away */
	int32_t id;
	char path[256];
	char auth[GRPC_HEADER_MAX];
	char ua[512];
	int bad_type;        /* content-type is not application/grpc */
	size_t header_bytes; /* of the header list so far */
	size_t held;         /* request bytes received and not yet taken */
	size_t unconsumed;   /* of those, not yet given back to the window */
	int bad_timeout;     /* grpc-timeout does not parse */
	int64_t timeout_ms;  /* grpc-timeout, 0: none */
	struct event *timer; /* fires at timeout_ms */
	struct evbuffer *in;
	int too_large;
	int refs;                /* calls in flight that point at it (freed at 0, once closed) */
	struct call *unary_call; /* its unary call in flight */
	int dispatched;          /* its request went to the gate (or was refused) */
	int answered;            /* the final status is queued: nothing more is sent */
	/* The answer: framed messages, then the trailers. */
	struct evbuffer *out;
	int headers_sent;
	int status;
	char message[1024];
	char *details;    /* grpc-status-details-bin (base64 google.rpc.Status), or NULL */
	struct spull *sp; /* StreamingPull's state (grpc_stream.c), or NULL */
	struct h2stream *prev, *next;
};

/* Queues one response message (len bytes, framed here); the response
 * headers go first. */
void grpc_send_message(struct h2stream *st, const uint8_t *msg, size_t len);

/* Sends the response headers now (a StreamingPull that was accepted). */
void grpc_send_headers(struct h2stream *st);

/* Ends the stream with status code and message (after the messages
 * queued). Once per stream. */
void grpc_finish(struct h2stream *st, int code, const char *message);

/* Sends what nghttp2 has queued; may free the connection. */
void grpc_conn_flush(struct h2conn *h);

/* n request bytes of st were taken (unpacked): the windows may reopen. */
void grpc_stream_release_input(struct h2stream *st, size_t n);

/* The gRPC status code and message of a REST answer that failed. */
int grpc_code_of_answer(int status, json_t *v, const char **msg);

/* grpc-status-details-bin of a failed REST answer that carries an
 * ErrorInfo in "details" (exactly-once ack failures): base64 of a packed
 * google.rpc.Status {code, msg, [Any ErrorInfo]}; NULL otherwise.
 * Ownership: mem_free. */
char *grpc_status_details(int code, const char *msg, json_t *answer);

/* Drops a reference the stream's calls held (stream_free at the last). */
void grpc_stream_unref(struct h2stream *st);

/* The call_ops header and peer of a call whose conn is the stream. */
const char *grpc_stream_header(struct h2stream *st, const char *name);
void grpc_stream_peer(struct h2stream *st, char *buf, size_t n);

/* Serves an accepted socket (ssl: TLS, taken) as HTTP/2, the bytes already
 * read first. */
void grpc_serve(struct grpc_srv *srv, evutil_socket_t fd, const struct sockaddr *sa,
		struct ssl_st *ssl, const void *already, size_t already_len);

/* grpc_accept.c ---------------------------------------------------------- */

/* The listener of grpc_listen (with its TLS context), and the REST port's
 * handoff. Returns 0, or -1 after logging why. */
int grpc_accept_start(struct grpc_srv *srv);
void grpc_accept_quiesce(struct grpc_srv *srv); /* stops accepting */
void grpc_accept_stop(struct grpc_srv *srv);

/* grpc_stream.c ---------------------------------------------------------- */

void grpc_streams_init(struct grpc_srv *srv);
void grpc_streams_free(struct grpc_srv *srv);
/* Every second: leases that ran out free flow-control room. */
void grpc_streams_tick(struct grpc_srv *srv);
/* Frees st->sp (the stream is being freed). */
void grpc_spull_free(struct h2stream *st);
/* The headers of a StreamingPull arrived. */
void grpc_spull_open(struct h2stream *st);
/* More of its request messages arrived in st->in (end: the client
 * half-closed). */
void grpc_spull_data(struct h2stream *st, int end);
/* The stream closed: broken (RST_STREAM, connection lost) or after its
 * trailers. */
void grpc_spull_closed(struct h2stream *st, int broken);
/* Ends every StreamingPull with UNAVAILABLE (broker shutdown). */
void grpc_spull_shutdown(struct grpc_srv *srv);
/* grpc-timeout ran out. */
void grpc_spull_timeout(struct h2stream *st);
/* The stream's queued output went to nghttp2: it may pull more. */
void grpc_spull_drained(struct h2stream *st);

#endif
