/* embed.h - the embedded default: with no Redis configured,
 * regnotifyd runs its own redis-server child (AOF on, data in data_dir,
 * unix socket only) and stops it on exit. */
#ifndef RN_REDIS_EMBED_H
#define RN_REDIS_EMBED_H

#include <stddef.h>

struct config;
struct embed;

/* Starts redis-server for cfg (data_dir, redis_server_bin, durability),
 * waits until it accepts connections, and points cfg's redis fields at its
 * socket. Returns 0 with the child in *out (stopped with embed_stop), or -1
 * with the reason logged. Main thread, before the loop runs (it blocks for
 * up to 10 s). */
int embed_start(struct config *cfg, struct embed **out);

/* Reaps the child if it exited (call on SIGCHLD). Returns 1 and a
 * description in why when it is gone, 0 while it runs. Loop thread. */
int embed_reap(struct embed *e, char *why, size_t n);

/* Stops the child (SIGTERM; Redis flushes its AOF), waits for it (SIGKILL
 * after 10 s). Accepts NULL. */
void embed_stop(struct embed *e);

#endif
