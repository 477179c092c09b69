/* grpc_flow.h - what grpc_stream.c (the StreamingPull protocol) and
 * grpc_flow.c (its flow control) share: a stream's state and its client's.
 * Loop thread only. */
#ifndef RN_GRPC_FLOW_H
#define RN_GRPC_FLOW_H

#include "grpc_internal.h"
#include "names.h"

/* Outstanding messages per client, whatever its flow control asks. */
#define SP_MAX_OUTSTANDING 10000

/* A message sent on a stream and not yet acked or nacked. */
struct lease_ent {
	struct lease_ent *hnext;       /* srv->leases chain */
	struct lease_ent *prev, *next; /* the client's list */
	struct sp_client *cl;
	struct h2stream *st; /* the stream that sent it; NULL once it closed */
	int64_t expiry_ms;
	size_t bytes;
	int confirmed; /* a modack with a deadline was seen: the client has it */
	char ack_id[];
};

/* The streams of one client share its flow control: the streams of a
 * subscription with one clientId, or - without one, as the Node client
 * sends them - those on one HTTP/2 connection (the client's 5 streams
 * carry one limit meant for all of them). */
struct sp_client {
	struct sp_client *next; /* srv->clients */
	char sub[NAMES_KEY_MAX];
	char id[128];
	struct h2conn *conn; /* without a clientId; NULL once its streams left */
	struct spull *streams;
	long max_msgs;       /* the first stream's, capped; 0: SP_MAX_OUTSTANDING */
	long long max_bytes; /* 0: none */
	long outstanding;
	long long out_bytes;
	long reserved;    /* asked for by the pulls in flight */
	double avg_bytes; /* of the messages sent so far */
	struct lease_ent *ents;
};

struct spull {
	char name[NAMES_NAME_MAX + 1]; /* projects/P/subscriptions/S */
	char pull_path[2048];          /* the REST paths of its calls */
	char ack_path[2048];
	char modack_path[2048];
	long deadline_s;
	int sub_flags; /* the last pull's CALL_SUB_*: subscriptionProperties */
	struct sp_client *cl;
	struct spull *cnext, *cprev; /* cl->streams */
	struct h2stream *st;
	long asked;             /* the pull in flight's maxMessages (cl->reserved) */
	struct call *pull_call; /* that pull */
	int opened;             /* the first request was taken */
	int checked;            /* the first pull answered: the response headers went */
	int pulling;
	int queued; /* on srv's kick list */
	int ended_by_server;
	int ended_by_client; /* it half-closed */
	struct grpc_srv *srv;
	struct h2stream *kick_next; /* srv->kick_list */
};

/* Indexes a message sent on st (bytes: its encoded size) until expiry_ms. */
void grpc_flow_lease_add(struct grpc_srv *srv, struct h2stream *st, const char *ack_id,
			 size_t bytes, int64_t expiry_ms);
void grpc_flow_lease_drop(struct grpc_srv *srv, struct lease_ent *e);

/* The client of a stream that opens (found, or new with these limits;
 * 0: none), and the stream leaving it (a client with no stream and
 * nothing outstanding is freed). */
struct sp_client *grpc_flow_join(struct grpc_srv *srv, struct spull *sp, const char *sub,
				 const char *client_id, long long max_msgs, long long max_bytes);
void grpc_flow_leave(struct grpc_srv *srv, struct spull *sp);
void grpc_flow_maybe_free(struct grpc_srv *srv, struct sp_client *cl);

/* Registers b->lease_seen; frees every client (stop). */
void grpc_flow_init(struct grpc_srv *srv);
void grpc_flow_free(struct grpc_srv *srv);

/* grpc_stream.c: the client's streams may pull (room came free). */
void grpc_flow_kick(struct grpc_srv *srv, struct sp_client *cl);

#endif
