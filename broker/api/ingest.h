/* ingest.h - registry notification endpoints: Distribution envelopes and
 * the native format become messages on the ingest topic (default gcr). */
#ifndef RN_INGEST_H
#define RN_INGEST_H

struct broker;

/* Registers the ingest metrics (regnotify_ingest_*). Loop thread. */
void ingest_start(struct broker *b);

#endif
