/* broker.h - the broker: one libevent loop that owns every piece of state
 * below, and the lifecycle of the modules wired into it (main.c). Nothing
 * here is touched from another thread.
 *
 * Layers (docs/architecture.md): transport -> core (call, gate) -> api ->
 * model / store -> deliver. struct broker lives in core so that every
 * layer can reach the loop, the configuration and the store link without
 * including a layer above it; the modules above core are opaque here. */
#ifndef RN_BROKER_H
#define RN_BROKER_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;
struct route;
struct link;
struct sweeper;
struct pull_waiters;
struct wake;
struct gate_auth;
struct call;
struct auth;

/* What the lifecycle needs of a module (transport, delivery, sweeper...),
 * instead of broker.c reaching into each. Every member may be NULL. */
struct module_ops {
	const char *name;
	/* Shutdown begins: stop accepting new work; work in flight goes on. */
	void (*quiesce)(void *state);
	/* Work the shutdown waits for (push deliveries in flight...). */
	long (*pending)(void *state);
	/* Answers accepted but not yet fully written to their peers. */
	long (*unflushed)(void *state);
	/* After the loop ended: abort what is left and free state. */
	void (*stop)(void *state);
};

#define BROKER_MAX_MODULES 16

struct broker {
	struct config cfg;
	struct event_base *base;
	/* The route table the gate dispatches on (api/routes.c, set by main). */
	const struct route *routes;
	size_t nroutes;
	struct link *link;                 /* store/: the Redis link */
	struct sweeper *sweeper;           /* deliver/sweeper.c (NULL when stopped) */
	struct pull_waiters *waiters;      /* api/pull.c: parked long-poll pulls */
	struct wake *wake;                 /* core/wake.c: publish observers */
	const struct gate_auth *gate_auth; /* core/gate.c: the access-control steps */
	struct auth *auth;                 /* auth/: keys, tokens and policies */
	struct grpc_srv *grpc;             /* transport/grpc.c: HTTP/2 connections */
	/* api/audit.c: sees every answer before it is sent (audit entries
	 * of failed, refused and Data Access calls); NULL: none. */
	void (*call_done)(struct call *c, int status, const char *text, size_t len);
	/* transport/grpc_stream.c: sees each well-formed ackId of an
	 * acknowledge (deadline_s -1) or modifyAckDeadline of subscription
	 * sub ("p/s"), for StreamingPull's flow control; NULL: none. */
	void (*lease_seen)(void *arg, const char *sub, const char *ack_id, long deadline_s);
	void *lease_seen_arg;
	struct {
		const struct module_ops *ops;
		void *state;
	} modules[BROKER_MAX_MODULES];
	int nmodules;
	char **argv; /* for SIGHUP: the command line is read again */
	int argc;
	struct event *shutdown_timer;
	int shutting_down;
	int64_t shutdown_deadline_ms;
	int64_t idle_since_ms; /* shutdown: when nothing was left in flight */
	long inflight;         /* calls accepted and not yet answered (every transport) */
	int exit_code;
};

/* Milliseconds since the Unix epoch (wall clock: publish times, leases). */
int64_t broker_now_ms(void);

/* Registers a module; its ops run in registration order at quiesce and in
 * reverse order at stop. ops is borrowed (static). Loop thread. */
void broker_add_module(struct broker *b, const struct module_ops *ops, void *state);

/* Runs every module's stop, last registered first. Loop thread, after the
 * loop ended. */
void broker_stop_modules(struct broker *b);

/* Starts the graceful shutdown: every module quiesces (listeners stop
 * accepting, parked pulls are answered), and the loop is left once every
 * call is answered and written and no module has work pending (at most
 * shutdown_timeout). exit_code is what main returns. Loop thread. */
void broker_shutdown(struct broker *b, int exit_code);

#endif
