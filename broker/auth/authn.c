/* authn.c - who a call is: an ingest token, a self-signed service-account
 * JWT (RS256, as Google's libraries make them from a key file), or an
 * access token of POST /token (ES256, signed by a broker). Keys and
 * account states come from the cache, else from the store (one round trip,
 * then cached). Every rejection says why. */
#include "auth.h"
#include "auth_internal.h"
#include "cache.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "jwt.h"
#include "keyfile.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <openssl/sha.h>
#include <string.h>

/* The longest token life (the clock skew tolerated on iat and exp is
 * token_clock_skew, 5 minutes by default). */
#define MAX_LIFETIME_S 3600

enum vkind { V_SELF, V_BROKER, V_ASSERTION };

struct verify {
	struct auth *a;
	unsigned char sha[32]; /* of the token, for the memo (calls only) */
	struct jwt j;
	enum vkind kind;
	char email[256];
	void (*done)(struct verify *v, const char *why);
	void *arg;
};

static const char *const google_audiences[] = { "https://pubsub.googleapis.com/",
						"https://pubsub.googleapis.com" };

static int has_scope(const char *scope)
{
	static const char *const ok[] = { "https://www.googleapis.com/auth/pubsub",
					  "https://www.googleapis.com/auth/cloud-platform" };
	if (scope == NULL)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(ok[i]);
		for (const char *p = strstr(scope, ok[i]); p; p = strstr(p + 1, ok[i]))
			if ((p == scope || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
				return 1;
	}
	return 0;
}

/* The audience of a self-signed token: Pub/Sub's, or this broker's URL. */
static int audience_ok(struct auth *a, const char *aud)
{
	char url[600];
	config_public_url(&a->b->cfg, url, sizeof(url));
	size_t n = strlen(url);
	if (strncmp(aud, url, n) == 0 && (aud[n] == '\0' || strcmp(aud + n, "/") == 0))
		return 1;
	for (size_t i = 0; i < sizeof(google_audiences) / sizeof(google_audiences[0]); i++)
		if (strcmp(aud, google_audiences[i]) == 0)
			return 1;
	return 0;
}

/* The claims every token needs, by kind. Returns NULL or why not. */
static const char *claims_why(struct verify *v)
{
	const struct jwt *j = &v->j;
	long long now = broker_now_ms() / 1000, iat = jwt_claim_int(j, "iat"),
		  exp = jwt_claim_int(j, "exp"), skew = v->a->b->cfg.token_clock_skew_ms / 1000;
	const char *iss = jwt_claim_str(j, "iss"), *sub = jwt_claim_str(j, "sub"),
		   *aud = jwt_claim_str(j, "aud");
	if (exp < 0 || iat < 0)
		return "the token has no exp or iat claim";
	if (exp <= iat || exp - iat > MAX_LIFETIME_S)
		return "the token's lifetime (exp - iat) is not within 1 hour";
	if (now > exp + skew)
		return "the token has expired";
	if (iat > now + skew)
		return "the token is not valid yet (iat is in the future beyond the clock skew)";
	if (v->kind == V_BROKER) {
		if (iss == NULL || aud == NULL || strcmp(aud, AUTH_ACCESS_AUDIENCE) != 0)
			return "the token is not an access token of this broker (aud)";
		if (sub == NULL || strlen(sub) >= sizeof(v->email))
			return "the token has no sub claim";
		snprintf(v->email, sizeof(v->email), "%s", sub);
		return NULL;
	}
	if (iss == NULL || strlen(iss) >= sizeof(v->email) || strchr(iss, '@') == NULL)
		return "the token's iss is not a service account";
	if (sub && strcmp(sub, iss) != 0)
		return "the token's sub differs from its iss";
	snprintf(v->email, sizeof(v->email), "%s", iss);
	if (v->j.kid[0] == '\0')
		return "the token has no kid (key ID) header";
	if (v->kind == V_ASSERTION)
		return aud && strcmp(aud, v->a->issuer) == 0
			       ? NULL
			       : "the assertion's aud is not this broker's token endpoint";
	if (aud ? !audience_ok(v->a, aud) : !has_scope(jwt_claim_str(j, "scope")))
		return "the token's audience is neither Pub/Sub nor this broker";
	return NULL;
}

/* With the entry of the key (or account) known: the last checks. */
static void finish(struct verify *v, struct key_entry *e)
{
	const char *why = NULL;
	if (!e->found)
		why = v->kind == V_BROKER ? "the token's service account does not exist"
					  : "the token's key is unknown or was deleted";
	else if (e->disabled)
		why = "the service account is disabled";
	else if (v->kind != V_BROKER && e->valid_before_ms && broker_now_ms() > e->valid_before_ms)
		why = "the token's key has expired";
	else if (v->kind != V_BROKER && jwt_verify(&v->j, e->pkey) != 0)
		why = "the token's signature does not verify";
	v->done(v, why);
}

/* store_key_lookup: {'OK', pem, valid_before_ms, disabled} | {'NOT_FOUND'}. */
static void on_key(redisReply *r, void *arg)
{
	struct verify *v = arg;
	const char *st = store_status(r);
	if (st == NULL) {
		v->done(v, r ? "the key store answered an error" : "");
		return;
	}
	struct key_entry *e = cache_key_put(v->a, v->email, v->j.kid);
	if (strcmp(st, "OK") == 0 && r->elements == 4) {
		e->pkey = key_from_public_pem(r->element[1]->str, r->element[1]->len);
		e->found = e->pkey != NULL;
		e->valid_before_ms = r->element[2]->str ? strtoll(r->element[2]->str, NULL, 10) : 0;
		e->disabled = r->element[3]->str && strcmp(r->element[3]->str, "1") == 0;
	}
	finish(v, e);
}

/* store_sa_get: the account's hash, flat (empty: none). */
static void on_account(redisReply *r, void *arg)
{
	struct verify *v = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		v->done(v, r ? "the key store answered an error" : "");
		return;
	}
	struct key_entry *e = cache_key_put(v->a, v->email, "");
	e->found = r->elements > 0;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (strcmp(r->element[i]->str, "disabled") == 0)
			e->disabled = strcmp(r->element[i + 1]->str, "1") == 0;
	finish(v, e);
}

/* Parses and checks the token; finishes now (cached) or after one store
 * round trip. done runs exactly once; why "" means the store is down. */
static void verify_start(struct verify *v, const char *token, size_t len)
{
	const char *why = NULL;
	if (jwt_parse(token, len, &v->j, &why) != 0) {
		v->done(v, why);
		return;
	}
	struct signing_key *sk = v->kind == V_SELF ? cache_signing(v->a, v->j.kid) : NULL;
	if (sk) {
		v->kind = V_BROKER;
		if (jwt_verify(&v->j, sk->key) != 0) {
			v->done(v, "the token's signature does not verify");
			return;
		}
	}
	if ((why = claims_why(v)) != NULL) {
		v->done(v, why);
		return;
	}
	const char *kid = v->kind == V_BROKER ? "" : v->j.kid;
	struct key_entry *e = cache_key_get(v->a, v->email, kid);
	if (e) {
		finish(v, e);
		return;
	}
	struct link *l = v->a->b->link;
	int rc = v->kind == V_BROKER ? store_sa_get(l, v->email, on_account, v)
				     : store_key_lookup(l, v->email, kid, on_key, v);
	if (rc != 0)
		v->done(v, "");
}

static void verify_free(struct verify *v)
{
	jwt_free(&v->j);
	mem_free(v);
}

/* The gate's authn step. */
static void on_call_verified(struct verify *v, const char *why)
{
	struct call *c = v->arg;
	if (why == NULL) {
		struct token_memo *m = memo_slot(v->a, v->sha);
		memcpy(m->sha, v->sha, sizeof(m->sha));
		snprintf(m->email, sizeof(m->email), "%s", v->email);
		m->exp_s = jwt_claim_int(&v->j, "exp");
		m->used = 1;
		snprintf(c->principal, sizeof(c->principal), "serviceAccount:%s", v->email);
		verify_free(v);
		gate_resume(c);
		return;
	}
	verify_free(v);
	if (why[0] == '\0') {
		call_unavailable(c);
		return;
	}
	char peer[128];
	call_peer(c, peer, sizeof(peer));
	log_info("authn: %s %s refused from %s: %s", c->route->name, c->uri, peer, why);
	call_set_header(c, "WWW-Authenticate",
			"Bearer realm=\"regnotify\", error=\"invalid_token\"");
	call_error(c, ERR_UNAUTHENTICATED,
		   "Request had invalid authentication credentials. Expected OAuth 2 access token, "
		   "login cookie or other valid authentication credential (%s).",
		   why);
}

void auth_authenticate(struct call *c)
{
	struct auth *a = c->b->auth;
	if (c->credential == NULL) {
		gate_resume(c);
		return;
	}
	if (gate_ingest_token_matches(c)) {
		snprintf(c->principal, sizeof(c->principal), "%s", AUTH_INGEST_PRINCIPAL);
		gate_resume(c);
		return;
	}
	/* A registry's static token that is not one of ingest_tokens: the
	 * ingest answer, as before access control (no JWT diagnosis). */
	if (c->route->authn == AUTHN_INGEST_TOKEN &&
	    memchr(c->credential, '.', c->credential_len) == NULL) {
		if (c->b->cfg.ingest_tokens.n > 0 || c->b->cfg.auth_required)
			gate_refuse_ingest(c);
		else
			gate_resume(c); /* no tokens, no access control: open, as before */
		return;
	}
	/* A token seen before (the common case: a client reuses its token
	 * for up to an hour) costs a hash, not a signature check. */
	unsigned char sha[32];
	SHA256((const unsigned char *)c->credential, c->credential_len, sha);
	struct token_memo *m = memo_slot(a, sha);
	if (m->used && memcmp(m->sha, sha, sizeof(sha)) == 0 &&
	    broker_now_ms() / 1000 <= m->exp_s + c->b->cfg.token_clock_skew_ms / 1000) {
		a->memo_hits++;
		snprintf(c->principal, sizeof(c->principal), "serviceAccount:%s", m->email);
		gate_resume(c);
		return;
	}
	a->memo_misses++;
	struct verify *v = mem_calloc(1, sizeof(*v));
	memcpy(v->sha, sha, sizeof(sha));
	v->a = a;
	v->kind = V_SELF;
	v->done = on_call_verified;
	v->arg = c;
	verify_start(v, c->credential, c->credential_len);
}

/* POST /token's assertion. */
struct assertion {
	auth_assertion_cb cb;
	void *arg;
};

static void on_assertion_verified(struct verify *v, const char *why)
{
	struct assertion *as = v->arg;
	char email[256];
	snprintf(email, sizeof(email), "%s", v->email);
	verify_free(v);
	as->cb(as->arg, why ? NULL : email, why);
	mem_free(as);
}

void auth_check_assertion(struct broker *b, const char *jwt, size_t len, auth_assertion_cb done,
			  void *arg)
{
	struct verify *v = mem_calloc(1, sizeof(*v));
	struct assertion *as = mem_calloc(1, sizeof(*as));
	as->cb = done;
	as->arg = arg;
	v->a = b->auth;
	v->kind = V_ASSERTION;
	v->done = on_assertion_verified;
	v->arg = as;
	verify_start(v, jwt, len);
}
