/* auth_internal.h - what auth/'s files share: the gate steps and the
 * ingest-token refusal. */
#ifndef RN_AUTH_INTERNAL_H
#define RN_AUTH_INTERNAL_H

struct call;
struct auth;

void auth_authenticate(struct call *c); /* authn.c */
void auth_authorize(struct call *c);    /* authz.c */

/* A store_policy_get reply [json, etag, audit] as the cached policy: the
 * bindings with auditConfigs merged in; NULL when there is none. New
 * reference (audit_config.c). */
#include <hiredis/hiredis.h>
#include <jansson.h>
json_t *auth_policy_of_reply(const redisReply *r);

/* The broker's signing keys (signing.c): loads them from the store,
 * creating or rotating one as needed, and runs the admin bootstrap. */
void signing_refresh(struct auth *a);

#endif
