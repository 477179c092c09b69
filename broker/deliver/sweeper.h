/* sweeper.h - periodic housekeeping in Redis: retention trimming of topic
 * streams and expiry of inactive subscriptions. Every broker sweeps; the
 * scripts are idempotent, so several brokers sweeping at once is harmless. */
#ifndef RN_SWEEPER_H
#define RN_SWEEPER_H

struct broker;

/* Starts the timer (every cfg.retention_interval_ms) and registers the
 * module (stop: free). Loop thread. */
int sweeper_start(struct broker *b);

#endif
