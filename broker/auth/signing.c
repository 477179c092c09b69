/* signing.c - the broker's own keys (ES256, P-256): shared through the
 * store so that every broker verifies every other's tokens, rotated daily
 * (a key signs for 24 h and is kept 2 h longer, past the last token it
 * signed); the tokens of POST /token and the JWKS. Also the bootstrap of
 * the first administrator (--admin-key-file). */
#include "auth.h"
#include "auth_internal.h"
#include "cache.h"

#include "broker.h"
#include "jwt.h"
#include "keyfile.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#include <event2/event.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROTATE_MS (24LL * 3600 * 1000)
#define KEEP_MS (ROTATE_MS + 2LL * 3600 * 1000)

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (RAND_bytes(r, (int)bytes) != 1)
		abort(); /* no randomness: no keys worth having */
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The reply of signing_ensure / signing_get: kid -> {"pem","created_ms"}. */
static void load_keys(struct auth *a, const redisReply *r)
{
	for (int i = 0; i < a->nsigning; i++)
		EVP_PKEY_free(a->signing[i].key);
	a->nsigning = 0;
	for (size_t i = 0; i + 1 < r->elements && a->nsigning < SIGNING_MAX; i += 2) {
		json_t *js = json_loadb(r->element[i + 1]->str, r->element[i + 1]->len, 0, NULL);
		const char *pem = json_string_value(json_object_get(js, "pem"));
		EVP_PKEY *k = pem ? key_from_private_pem(pem, strlen(pem)) : NULL;
		if (k && r->element[i]->len < sizeof(a->signing[0].kid)) {
			struct signing_key *s = &a->signing[a->nsigning++];
			snprintf(s->kid, sizeof(s->kid), "%s", r->element[i]->str);
			s->key = k;
			s->created_ms = json_integer_value(json_object_get(js, "created_ms"));
		} else {
			EVP_PKEY_free(k);
			log_warn("auth: signing key %s in Redis is unreadable; skipped",
				 r->element[i]->str);
		}
		json_decref(js);
	}
}

static void bootstrap(struct auth *a);

static void on_signing(redisReply *r, void *arg)
{
	struct auth *a = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		log_warn("auth: cannot load the signing keys (%s); retrying",
			 r && r->str ? r->str : "Redis not answering");
		return;
	}
	int had = a->nsigning;
	load_keys(a, r);
	if (had == 0 && a->nsigning)
		log_info("auth: %d signing key%s loaded", a->nsigning, a->nsigning == 1 ? "" : "s");
	if (!a->bootstrapped)
		bootstrap(a);
}

void signing_refresh(struct auth *a)
{
	struct broker *b = a->b;
	if (!store_ready(b->link))
		return;
	int64_t now = broker_now_ms(), newest = 0;
	for (int i = 0; i < a->nsigning; i++)
		if (a->signing[i].created_ms > newest)
			newest = a->signing[i].created_ms;
	if (a->nsigning && now - newest < ROTATE_MS - 3600 * 1000LL) {
		store_signing_get(b->link, on_signing, a);
		return;
	}
	/* A candidate: the store keeps it only if no broker added a recent one. */
	EVP_PKEY *k = key_new_p256();
	char *pem = k ? key_private_pem(k) : NULL;
	EVP_PKEY_free(k);
	if (pem == NULL) {
		log_error("auth: cannot make a signing key");
		return;
	}
	char kid[40] = "rn-";
	random_hex(kid + 3, 16);
	json_t *js = json_pack("{s:s,s:I}", "pem", pem, "created_ms", (json_int_t)now);
	char *text = json_dumps(js, JSON_COMPACT);
	store_signing_ensure(b->link, kid, text, now, ROTATE_MS, KEEP_MS, on_signing, a);
	mem_free(text);
	json_decref(js);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
}

static struct signing_key *newest(struct auth *a)
{
	struct signing_key *n = NULL;
	for (int i = 0; i < a->nsigning; i++)
		if (n == NULL || a->signing[i].created_ms > n->created_ms)
			n = &a->signing[i];
	return n;
}

char *auth_issue_token(struct broker *b, const char *email, long *expires_in)
{
	struct auth *a = b->auth;
	struct signing_key *k = newest(a);
	if (k == NULL)
		return NULL;
	long long now = broker_now_ms() / 1000;
	long life = (long)(b->cfg.token_lifetime_ms / 1000);
	if (life < 1)
		life = 1;
	json_t *claims =
		json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", a->issuer, "aud", AUTH_ACCESS_AUDIENCE,
			  "sub", email, "iat", (json_int_t)now, "exp", (json_int_t)(now + life));
	char *t = jwt_sign(k->key, k->kid, claims);
	json_decref(claims);
	*expires_in = life;
	return t;
}

char *auth_sign_oidc(struct broker *b, const char *email, const char *aud, long long *exp_s)
{
	struct signing_key *k = newest(b->auth);
	if (k == NULL)
		return NULL;
	char iss[600];
	config_public_url(&b->cfg, iss, sizeof(iss));
	long long now = broker_now_ms() / 1000;
	json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:I}", "iss", iss, "aud", aud,
				   "azp", email, "email", email, "email_verified", 1, "sub", email,
				   "iat", (json_int_t)now, "exp", (json_int_t)(now + 3600));
	char *t = jwt_sign(k->key, k->kid, claims);
	json_decref(claims);
	*exp_s = now + 3600;
	return t;
}

json_t *auth_jwks(struct broker *b)
{
	struct auth *a = b->auth;
	json_t *keys = json_array();
	for (int i = 0; i < a->nsigning; i++) {
		json_t *jwk = key_public_jwk(a->signing[i].key, a->signing[i].kid);
		if (jwk)
			json_array_append_new(keys, jwk);
	}
	return json_pack("{s:o}", "keys", keys);
}

/* ------------------------------------------------------------ bootstrap */

#define ADMIN_EMAIL "admin@regnotify.iam"
#define ADMIN_PROJECT "regnotify"

struct boot {
	struct auth *a;
	EVP_PKEY *key;
	char kid[48], uid[32];
};

static void boot_free(struct boot *bt)
{
	EVP_PKEY_free(bt->key);
	mem_free(bt);
}

static void boot_write(struct boot *bt)
{
	struct broker *b = bt->a->b;
	char url[600];
	config_public_url(&b->cfg, url, sizeof(url));
	char *priv = key_private_pem(bt->key);
	json_t *kf =
		priv ? keyfile_json(ADMIN_EMAIL, ADMIN_PROJECT, bt->kid, priv, bt->uid, url) : NULL;
	char *text = kf ? json_dumps(kf, JSON_INDENT(2)) : NULL;
	int fd = text ? open(b->cfg.admin_key_file, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
	if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0)
		log_info("auth: bootstrap: created %s with roles/owner on every project; its key "
			 "file is %s (keep it secret, then create less powerful accounts)",
			 ADMIN_EMAIL, b->cfg.admin_key_file);
	else
		log_error("auth: bootstrap: cannot write the admin key file %s; delete %s and "
			  "start again",
			  b->cfg.admin_key_file, ADMIN_EMAIL);
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		mem_free(text);
	}
	if (priv) {
		OPENSSL_cleanse(priv, strlen(priv));
		free(priv);
	}
	json_decref(kf);
	boot_free(bt);
}

static void on_boot_policy_set(redisReply *r, void *arg)
{
	struct boot *bt = arg;
	const char *st = store_status(r);
	if (st && strcmp(st, "OK") == 0) {
		boot_write(bt);
		return;
	}
	log_error("auth: bootstrap: cannot grant roles/owner to %s (%s)", ADMIN_EMAIL,
		  st ? st : "Redis not answering");
	boot_free(bt);
}

static void on_boot_policy(redisReply *r, void *arg)
{
	struct boot *bt = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		log_error("auth: bootstrap: cannot read the global policy");
		boot_free(bt);
		return;
	}
	json_t *pol = r->element[0]->type == REDIS_REPLY_STRING
			      ? json_loadb(r->element[0]->str, r->element[0]->len, 0, NULL)
			      : NULL;
	if (pol == NULL)
		pol = json_pack("{s:[]}", "bindings");
	json_t *bindings = json_object_get(pol, "bindings");
	if (!json_is_array(bindings)) {
		bindings = json_array();
		json_object_set_new(pol, "bindings", bindings);
	}
	json_array_append_new(bindings, json_pack("{s:s,s:[s]}", "role", "roles/owner", "members",
						  "serviceAccount:" ADMIN_EMAIL));
	char etag[24];
	random_hex(etag, 8);
	json_object_set_new(pol, "etag", json_string(etag));
	json_object_set_new(pol, "version", json_integer(1));
	char *text = json_dumps(pol, JSON_COMPACT);
	const char *old = r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : NULL;
	struct store_resource g = { STORE_RES_GLOBAL, NULL, NULL };
	if (store_policy_set(bt->a->b->link, &g, "global", text, etag, old, NULL,
			     on_boot_policy_set, bt) != 0) {
		log_error("auth: bootstrap: Redis went away");
		boot_free(bt);
	}
	mem_free(text);
	json_decref(pol);
}

static void on_boot_key(redisReply *r, void *arg)
{
	struct boot *bt = arg;
	const char *st = store_status(r);
	struct store_resource g = { STORE_RES_GLOBAL, NULL, NULL };
	if (st == NULL || strcmp(st, "OK") != 0 ||
	    store_policy_get(bt->a->b->link, &g, on_boot_policy, bt) != 0) {
		log_error("auth: bootstrap: cannot store the admin key (%s)", st ? st : "Redis");
		boot_free(bt);
	}
}

static void on_boot_account(redisReply *r, void *arg)
{
	struct boot *bt = arg;
	const char *st = store_status(r);
	if (st && strcmp(st, "ALREADY_EXISTS") == 0) {
		log_info("auth: bootstrap: %s exists already (another broker made it)",
			 ADMIN_EMAIL);
		boot_free(bt);
		return;
	}
	char *pub = st && strcmp(st, "OK") == 0 ? key_public_pem(bt->key) : NULL;
	struct store_key k = { .key_id = bt->kid,
			       .public_pem = pub,
			       .algorithm = "KEY_ALG_RSA_2048",
			       .created_ms = broker_now_ms() };
	if (pub == NULL || store_key_create(bt->a->b->link, ADMIN_EMAIL, &k, 10, on_boot_key, bt)) {
		log_error("auth: bootstrap: cannot create %s", ADMIN_EMAIL);
		boot_free(bt);
	}
	free(pub);
}

static void on_sa_count(redisReply *r, void *arg)
{
	struct auth *a = arg;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		a->bootstrapped = 0; /* the next refresh tries again */
		return;
	}
	if (r->integer > 0) {
		log_info("auth: service accounts exist: no bootstrap, %s not written",
			 a->b->cfg.admin_key_file);
		return;
	}
	struct boot *bt = mem_calloc(1, sizeof(*bt));
	bt->a = a;
	bt->key = key_new_rsa2048();
	random_hex(bt->kid, 20);
	for (int i = 0; i < 20; i++) /* a numeric uniqueId, as Google's */
		bt->uid[i] = (char)('0' + (i == 0 ? 1 + (unsigned char)bt->kid[i] % 9
						  : (unsigned char)bt->kid[i] % 10));
	struct store_sa sa = { .email = ADMIN_EMAIL,
			       .project = ADMIN_PROJECT,
			       .account_id = "admin",
			       .unique_id = bt->uid,
			       .display_name = "regnotify bootstrap administrator",
			       .description = "" };
	if (bt->key == NULL ||
	    store_sa_create(a->b->link, &sa, broker_now_ms(), on_boot_account, bt) != 0)
		boot_free(bt);
}

static void bootstrap(struct auth *a)
{
	a->bootstrapped = 1;
	const char *path = a->b->cfg.admin_key_file;
	if (path[0] == '\0')
		return;
	if (access(path, F_OK) == 0) {
		log_info("auth: %s exists: no bootstrap (it is never overwritten)", path);
		return;
	}
	if (store_sa_count(a->b->link, on_sa_count, a) != 0)
		a->bootstrapped = 0;
}
