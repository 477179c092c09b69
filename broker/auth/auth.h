/* auth.h - access control (docs/security.md): who a call is (authn: a
 * service account's self-signed JWT, a token of POST /token, an ingest
 * token) and what it may do (authz: the route's IAM permission on its
 * resource under the union of the global, project and resource policies).
 * Both run as the gate's access-control steps (core/gate.h). Keys,
 * accounts and policies are cached and follow the store's IAM change
 * notices, so the common call costs no Redis round trip. Loop thread. */
#ifndef RN_AUTH_H
#define RN_AUTH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct call;

/* The principal of a call that carried one of ingest_tokens: it holds
 * regnotify.registry.notify everywhere and nothing else. */
#define AUTH_INGEST_PRINCIPAL "ingestToken:static"

/* The broker's access tokens: iss is its token endpoint (public_url +
 * "/token"), aud this constant - every broker sharing the store accepts
 * them whatever its own URL, and a token the broker signs for someone
 * else (a push endpoint's OIDC token) is never one. */
#define AUTH_ISSUER_SUFFIX "/token"
#define AUTH_ACCESS_AUDIENCE "regnotify:access"

/* Builds b->auth, registers the gate steps, watches the store's IAM
 * changes and, once Redis is ready, loads (or creates) the signing keys
 * and runs the admin bootstrap (--admin-key-file). A module. */
void auth_start(struct broker *b);

/* An access token for email signed with the broker's current key
 * (lifetime token_lifetime), as POST /token returns it; malloc'd, NULL
 * when no signing key is loaded yet. *expires_in gets the seconds left. */
char *auth_issue_token(struct broker *b, const char *email, long *expires_in);

/* An OIDC token for a push request (pushConfig.oidcToken), as Pub/Sub
 * sends them: ES256 with the broker's current key, claims iss (public_url),
 * aud, azp, email, email_verified, sub (the account), iat, exp (1 h);
 * malloc'd, NULL when no signing key is loaded yet. *exp_s gets exp. */
char *auth_sign_oidc(struct broker *b, const char *email, const char *aud, long long *exp_s);

/* {"keys":[JWK...]} of the broker's signing keys (/.well-known/jwks.json). */
json_t *auth_jwks(struct broker *b);

/* Verifies an RFC 7523 assertion for POST /token: a JWT signed with a key
 * of its iss (= sub) account, aud = the token endpoint. Calls done(arg,
 * email, NULL) or done(arg, NULL, why) once. */
typedef void (*auth_assertion_cb)(void *arg, const char *email, const char *why);
void auth_check_assertion(struct broker *b, const char *jwt, size_t len, auth_assertion_cb done,
			  void *arg);

/* The IAM permission check the gate runs, for handlers that need one on
 * another resource (subscriptions.create: attachSubscription on the topic):
 * resource_name "projects/P", "projects/P/topics/T" or
 * "projects/P/subscriptions/S". Calls done(c, allowed) once. */
void auth_check(struct call *c, const char *perm, const char *resource_name,
		void (*done)(struct call *c, int allowed));

/* Data Access logs (audit_config.c): whether project's policy turns on
 * log_type ("ADMIN_READ", "DATA_READ", "DATA_WRITE") of service for
 * principal (auditConfigs with exemptedMembers). done(arg, on) runs once,
 * now when the policy is cached, else after it was read (off when Redis
 * cannot be reached: then nothing can be written anyway). */
typedef void (*auth_audit_cb)(void *arg, int on);
void auth_audit_enabled(struct broker *b, const char *project, const char *service,
			const char *log_type, const char *principal, auth_audit_cb done, void *arg);
/* 1 when the cached policy of project has no auditConfigs: a caller can
 * skip building an entry that would not be written. */
int auth_audit_off(struct broker *b, const char *project);

/* This broker made an IAM change ("sa:E", "key:E/K", "policy:R"): its
 * own cache forgets it at once (the store's notice reaches every broker,
 * this one included, a moment later), so that the caller's next call
 * sees it. */
void auth_changed(struct broker *b, const char *what);

#endif
