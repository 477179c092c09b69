/* nng_server.h - the client-library listener: regnotify's nng req/rep
 * protocol (docs/protocol.md, framing in client/wire.h). Each request is a
 * REST call (method, path, JSON body) answered by the same handlers as
 * HTTP. nng's threads only queue requests; the loop runs them. */
#ifndef RN_NNG_SERVER_H
#define RN_NNG_SERVER_H

#include <stddef.h>

struct broker;
struct call;
struct nng_slot;

/* Listens on b->cfg.nng_listen (nothing when empty). Returns 0, or -1
 * after logging why. Loop thread, before the loop runs. */
int nng_server_start(struct broker *b);

/* Sends the reply of the call that came in on slot: the header with
 * status, then len bytes of body (copied). Loop thread. */
void nng_server_reply(struct nng_slot *slot, int status, const char *body, size_t len);

/* Replies queued to nng whose send has not completed (shutdown waits for
 * them). Any thread. */
long nng_server_unsent(struct broker *b);

/* Closes the socket (pending requests are dropped; clients resend them
 * elsewhere) and frees everything. Loop thread, after the loop ended. */
void nng_server_free(struct broker *b);

#endif
