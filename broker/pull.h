/* pull.h - subscriptions.pull/acknowledge/modifyAckDeadline and the parked
 * (long-polling) pulls waiting for messages. */
#ifndef RN_PULL_H
#define RN_PULL_H

struct broker;

/* Creates the waiter list and its retry timer. Loop thread. */
int pull_init(struct broker *b);
void pull_cleanup(struct broker *b);

/* Messages were published to topic "project/topic": retry the parked pulls
 * that wait on it. Loop thread. */
void pull_wake_topic(struct broker *b, const char *topic);

/* Answers every parked pull with an empty response (shutdown). */
void pull_flush_all(struct broker *b);

#endif
