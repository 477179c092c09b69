/* wake.h - publish wake-ups as observers. Whoever stores messages (publish,
 * seek, ingest, the Redis subscriber for other brokers' publishes) calls
 * wake_topic; whoever waits for messages (parked pulls, push workers)
 * registers an observer. The publishers do not know the waiters. */
#ifndef RN_WAKE_H
#define RN_WAKE_H

struct broker;

/* Messages were published to topic "project/topic" (NULL: any topic). */
typedef void (*wake_fn)(void *arg, const char *topic);

#define WAKE_MAX_OBSERVERS 8

/* Creates b->wake. Loop thread. */
void wake_init(struct broker *b);
void wake_cleanup(struct broker *b);

/* Adds an observer, called in registration order. Returns 0, or -1 when
 * the table is full (a wiring bug: logged). */
int wake_observe(struct broker *b, wake_fn fn, void *arg);

/* Tells every observer. Loop thread. */
void wake_topic(struct broker *b, const char *topic);

#endif
