/* grpc_flow.c - StreamingPull's flow control: which messages a client
 * (grpc_flow.h) has outstanding, found by ackId when an acknowledge or a
 * modifyAckDeadline of it is seen anywhere in the broker (b->lease_seen),
 * and dropped when its lease runs out. grpc_stream.c asks it for room
 * before each pull. Loop thread. */
#include "grpc_flow.h"

#include "broker.h"
#include "mem.h"

#include <stdio.h>
#include <string.h>

/* ---- the outstanding-message index -------------------------------------- */

static unsigned bucket_of(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % GRPC_LEASE_BUCKETS;
}

static struct lease_ent **lease_slot(struct grpc_srv *srv, const char *ack_id)
{
	struct lease_ent **p = &srv->leases[bucket_of(ack_id)];
	while (*p && strcmp((*p)->ack_id, ack_id) != 0)
		p = &(*p)->hnext;
	return p;
}

void grpc_flow_lease_add(struct grpc_srv *srv, struct h2stream *st, const char *ack_id,
			 size_t bytes, int64_t expiry_ms)
{
	struct lease_ent **slot = lease_slot(srv, ack_id);
	if (*slot)
		return; /* ackIds are unique (id:attempt:tag) */
	size_t n = strlen(ack_id);
	struct lease_ent *e = mem_calloc(1, sizeof(*e) + n + 1);
	memcpy(e->ack_id, ack_id, n + 1);
	struct sp_client *cl = st->sp->cl;
	e->cl = cl;
	e->st = st;
	e->bytes = bytes;
	e->expiry_ms = expiry_ms;
	*slot = e;
	e->next = cl->ents;
	if (cl->ents)
		cl->ents->prev = e;
	cl->ents = e;
	cl->outstanding++;
	cl->out_bytes += (long long)bytes;
	srv->nleases++;
}

void grpc_flow_lease_drop(struct grpc_srv *srv, struct lease_ent *e)
{
	struct lease_ent **slot = lease_slot(srv, e->ack_id);
	if (*slot == e)
		*slot = e->hnext;
	struct sp_client *cl = e->cl;
	if (e->prev)
		e->prev->next = e->next;
	else
		cl->ents = e->next;
	if (e->next)
		e->next->prev = e->prev;
	cl->outstanding--;
	cl->out_bytes -= (long long)e->bytes;
	srv->nleases--;
	mem_free(e);
}

/* The client of a stream that opens: found, or new with its limits. */
struct sp_client *grpc_flow_join(struct grpc_srv *srv, struct spull *sp, const char *sub,
				 const char *client_id, long long max_msgs, long long max_bytes)
{
	const char *id = client_id ? client_id : "";
	struct h2conn *conn = id[0] ? NULL : sp->st->conn;
	struct sp_client *cl;
	for (cl = srv->clients; cl; cl = cl->next)
		if (strcmp(cl->sub, sub) == 0 &&
		    (id[0] ? strncmp(cl->id, id, sizeof(cl->id) - 1) == 0 : cl->conn == conn))
			break;
	if (cl == NULL) {
		cl = mem_calloc(1, sizeof(*cl));
		snprintf(cl->sub, sizeof(cl->sub), "%s", sub);
		snprintf(cl->id, sizeof(cl->id), "%s", id);
		cl->conn = conn;
		cl->max_msgs = max_msgs > SP_MAX_OUTSTANDING ? SP_MAX_OUTSTANDING
			       : max_msgs > 0                ? (long)max_msgs
							     : 0;
		cl->max_bytes = max_bytes > 0 ? max_bytes : 0;
		cl->next = srv->clients;
		srv->clients = cl;
	}
	sp->cl = cl;
	sp->cnext = cl->streams;
	if (cl->streams)
		cl->streams->cprev = sp;
	cl->streams = sp;
	return cl;
}

/* Frees a client with no stream and nothing outstanding. */
void grpc_flow_maybe_free(struct grpc_srv *srv, struct sp_client *cl)
{
	if (cl->streams || cl->ents)
		return;
	for (struct sp_client **p = &srv->clients; *p; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	}
	mem_free(cl);
}

void grpc_flow_leave(struct grpc_srv *srv, struct spull *sp)
{
	struct sp_client *cl = sp->cl;
	if (cl == NULL)
		return;
	if (sp->cprev)
		sp->cprev->cnext = sp->cnext;
	else
		cl->streams = sp->cnext;
	if (sp->cnext)
		sp->cnext->cprev = sp->cprev;
	sp->cnext = sp->cprev = NULL;
	sp->cl = NULL;
	cl->reserved -= sp->asked; /* a pull in flight: its room is the others' */
	sp->asked = 0;
	if (cl->streams == NULL)
		cl->conn = NULL; /* a later connection at that address is another client */
	grpc_flow_maybe_free(srv, cl);
}

/* ---- acks and modacks seen anywhere ------------------------------------- */

static void lease_seen(void *arg, const char *sub, const char *ack_id, long deadline_s)
{
	struct grpc_srv *srv = arg;
	struct lease_ent *e = *lease_slot(srv, ack_id);
	if (e == NULL || strcmp(e->cl->sub, sub) != 0)
		return;
	if (deadline_s > 0) {
		e->expiry_ms = broker_now_ms() + deadline_s * 1000;
		e->confirmed = 1;
		return;
	}
	struct sp_client *cl = e->cl;
	grpc_flow_lease_drop(srv, e);
	grpc_flow_kick(srv, cl);
	grpc_flow_maybe_free(srv, cl);
}

void grpc_streams_tick(struct grpc_srv *srv)
{
	int64_t now = broker_now_ms();
	for (struct sp_client *cl = srv->clients, *cnext; cl; cl = cnext) {
		cnext = cl->next;
		int dropped = 0;
		for (struct lease_ent *e = cl->ents, *next; e; e = next) {
			next = e->next;
			if (e->expiry_ms <= now) { /* its lease ran out */
				grpc_flow_lease_drop(srv, e);
				dropped = 1;
			}
		}
		if (dropped) {
			grpc_flow_kick(srv, cl);
			grpc_flow_maybe_free(srv, cl);
		}
	}
}

void grpc_flow_init(struct grpc_srv *srv)
{
	srv->b->lease_seen = lease_seen;
	srv->b->lease_seen_arg = srv;
}

void grpc_flow_free(struct grpc_srv *srv)
{
	srv->b->lease_seen = NULL;
	while (srv->clients) { /* messages clients held when their streams closed */
		struct sp_client *cl = srv->clients;
		while (cl->ents)
			grpc_flow_lease_drop(srv, cl->ents);
		srv->clients = cl->next;
		mem_free(cl);
	}
}
