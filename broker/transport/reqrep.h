/* reqrep.h - the client-library transport: regnotify's nng req/rep
 * protocol (docs/protocol.md, framing in client/common/wire.h). Each
 * request is a REST call (method, path, token, JSON body) that becomes a
 * struct call for the same gate and handlers as HTTP. nng's threads only
 * queue requests; the loop runs them. */
#ifndef RN_REQREP_H
#define RN_REQREP_H

struct broker;

/* Listens on b->cfg.nng_listen (nothing when empty) and registers the
 * module (unflushed: replies queued to nng; stop: close and free). Returns
 * 0, or -1 after logging why. Loop thread, before the loop runs. */
int reqrep_start(struct broker *b);

#endif
