/* pull.h - subscriptions.pull's parked (long-polling) pulls. */
#ifndef RN_PULL_H
#define RN_PULL_H

struct broker;

/* Creates b->waiters and its retry timer, observes wake-ups and registers
 * the module (quiesce and stop answer every parked pull with {}). Loop
 * thread, before the loop runs. */
void pull_start(struct broker *b);

#endif
