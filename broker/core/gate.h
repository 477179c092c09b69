/* gate.h - the one request gate. Every call of every transport passes
 * here, and every check a route row asks for runs here, in this order,
 * before its handler (as Redis' processCommand: auth, then ACL, then the
 * cluster redirect):
 *
 *   shutdown -> route (path, method, transport) -> authn -> limits (body
 *   size) -> body parse -> [authz: access control] -> handler -> [audit]
 *
 * The bracketed steps are where access control and audit logs plug in. */
#ifndef RN_GATE_H
#define RN_GATE_H

#include <stddef.h>

struct call;

/* Routes the call on c->b->routes (method: enum http_method, 0 when the
 * transport's method has none; path without the query) and runs its
 * handler, or answers the failed check. body (len bytes, may be NULL) must
 * stay valid until the call is answered. Loop thread. */
void gate_dispatch(struct call *c, int method, const char *path, const char *body, size_t len);

#endif
