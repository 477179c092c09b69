/* ingest.h - registry notification endpoints: Distribution envelopes and
 * the native format become messages on the ingest topic (default gcr). */
#ifndef RN_INGEST_H
#define RN_INGEST_H

struct call;

/* POST /v1/registry/distribution, POST /v1/registry/events. */
void ingest_distribution(struct call *c);
void ingest_native(struct call *c);

/* GET /v1/projects/{p}/images:recentlyPulled?within=DURATION */
void ingest_recently_pulled(struct call *c);

/* Checks "Authorization: Bearer <token>" against ingest_tokens (always
 * passes when none are configured: config refuses that off loopback).
 * Replies 401 and returns -1 on a missing or wrong token. Loop thread. */
int ingest_auth_or_reply(struct call *c);

#endif
