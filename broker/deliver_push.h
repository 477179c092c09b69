/* deliver_push.h - push subscriptions: every broker runs a worker per push
 * subscription that leases messages with the same atomic pull script as
 * pull clients (so several brokers share the work without delivering a
 * message twice beyond at-least-once), POSTs each one, and acks or nacks it
 * by the endpoint's answer. */
#ifndef RN_DELIVER_PUSH_H
#define RN_DELIVER_PUSH_H

struct broker;
struct evbuffer;

/* Starts the workers' refresh (push subscriptions are discovered in Redis
 * every second). Loop thread. */
int deliver_push_start(struct broker *b);

/* Stops taking new messages (graceful shutdown); in-flight requests
 * finish. */
void deliver_push_quiesce(struct broker *b);

/* Requests in flight, for the shutdown to wait on. */
int deliver_push_inflight(const struct broker *b);

/* Aborts what is left and frees everything. */
void deliver_push_stop(struct broker *b);

/* Messages were published to topic "project/topic" (NULL: any). */
void deliver_push_wake(struct broker *b, const char *topic);

/* Appends the per-subscription push metrics (Prometheus text). */
void deliver_push_metrics(struct broker *b, struct evbuffer *out);

#endif
