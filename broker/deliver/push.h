/* push.h - push subscriptions: every broker runs a worker per push
 * subscription that leases messages with the same atomic pull script as
 * pull clients (so several brokers share the work without delivering a
 * message twice beyond at-least-once), POSTs each one, and acks or nacks it
 * by the endpoint's answer. */
#ifndef RN_PUSH_H
#define RN_PUSH_H

struct broker;

/* Starts the workers' refresh (push subscriptions are discovered in Redis
 * every second), observes wake-ups, registers the per-subscription metrics
 * and the module (quiesce: take no new messages; pending: requests in
 * flight; stop: abort them, nacked, and free). Loop thread. */
int push_start(struct broker *b);

#endif
