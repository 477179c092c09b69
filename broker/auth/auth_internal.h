/* auth_internal.h - what auth/'s files share: the gate steps and the
 * ingest-token refusal. */
#ifndef RN_AUTH_INTERNAL_H
#define RN_AUTH_INTERNAL_H

struct call;
struct auth;

void auth_authenticate(struct call *c); /* authn.c */
void auth_authorize(struct call *c);    /* authz.c */

/* The broker's signing keys (signing.c): loads them from the store,
 * creating or rotating one as needed, and runs the admin bootstrap. */
void signing_refresh(struct auth *a);

#endif
