/* gate.h - the one request gate. Every call of every transport passes
 * here, and every check a route row asks for runs here, in this order,
 * before its handler (as Redis' processCommand: auth, then ACL, then the
 * cluster redirect):
 *
 *   shutdown -> route (path, method, transport) -> authn -> limits (body
 *   size) -> body parse -> authz -> handler -> [audit]
 *
 * authn and authz are the access-control layer's (auth/, registered with
 * gate_set_auth); each may finish later (a key or policy fetched from the
 * store) and then calls gate_resume. Without them the gate checks only
 * the ingest tokens of AUTHN_INGEST_TOKEN routes (core alone, its unit
 * test). The bracketed step is where audit logs plug in. */
#ifndef RN_GATE_H
#define RN_GATE_H

#include <stddef.h>

struct broker;
struct call;

/* The access-control steps. Each either answers the call (401, 403, 503)
 * or calls gate_resume(c) once it is done, now or from a store callback. */
struct gate_auth {
	/* From c->credential: sets c->principal, or answers 401. */
	void (*authenticate)(struct call *c);
	/* c->route->permission on c->route->resource for c->principal, or
	 * answers 403 / 401. The body is parsed by then. */
	void (*authorize)(struct call *c);
};

/* Registers the access-control steps (static ops). Loop thread. */
void gate_set_auth(struct broker *b, const struct gate_auth *auth);

/* Runs the gate from the step after the one that just finished. */
void gate_resume(struct call *c);

/* 1 when the call's credential is one of ingest_tokens (constant time). */
int gate_ingest_token_matches(const struct call *c);

/* Answers 401 "missing or invalid bearer token for registry ingest" (and
 * logs it, without the token). */
void gate_refuse_ingest(struct call *c);

/* Routes the call on c->b->routes (method: enum http_method, 0 when the
 * transport's method has none; path without the query) and runs its
 * handler, or answers the failed check. body (len bytes, may be NULL) must
 * stay valid until the call is answered. Loop thread. */
void gate_dispatch(struct call *c, int method, const char *path, const char *body, size_t len);

#endif
