/* broker.h - the broker: one libevent loop that owns every piece of state
 * below. Nothing here is touched from another thread. */
#ifndef RN_BROKER_H
#define RN_BROKER_H

#include "config.h"

#include <stdint.h>

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct redis_conn;
struct redis_embed;
struct pull_waiters;
struct sweeper;
struct deliver;
struct nng_server;

struct broker {
	struct config cfg;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	struct redis_conn *redis;
	struct redis_embed *embed;
	struct pull_waiters *waiters;
	struct sweeper *sweeper;
	struct deliver *deliver;
	struct nng_server *nng;
	struct event *sigterm_ev, *sigint_ev, *sigchld_ev, *shutdown_timer;
	int shutting_down;
	int64_t shutdown_deadline_ms;
	int64_t idle_since_ms; /* shutdown: when nothing was left in flight */
	long inflight;         /* HTTP and nng requests accepted and not yet answered */
	long unflushed;        /* answers not yet fully written to their socket */
	int exit_code;
};

/* Milliseconds since the Unix epoch (wall clock: publish times, leases). */
int64_t broker_now_ms(void);

/* Called whenever an HTTP request is answered. Loop thread. */
void broker_request_done(struct broker *b);

/* Starts the graceful shutdown: stop accepting, answer parked pulls, and
 * leave the loop once every in-flight request is answered and written (at
 * most shutdown_timeout). exit_code is what main returns. Loop thread. */
void broker_shutdown(struct broker *b, int exit_code);

#endif
