/* service_accounts.c - the IAM API's service accounts and their keys, in
 * Google's shapes: projects.serviceAccounts.create/get/list/delete/
 * disable/enable and projects.serviceAccounts.keys.create/get/list/delete.
 * A key is made here, returned once as a Google-format JSON key file and
 * forgotten: the store keeps only its public key. */
#include "api.h"

#include "auth.h"
#include "base64.h"
#include "duration.h"
#include "broker.h"
#include "iam.h"
#include "keyfile.h"
#include "log.h"
#include "mem.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS_PER_ACCOUNT 10
#define EMAIL_DOMAIN IAM_EMAIL_DOMAIN

/* accountId: 6-30 characters, a lowercase letter first, then lowercase
 * letters, digits and hyphens, no hyphen last (Google's rule). */
static int valid_account_id(const char *id)
{
	size_t n = strlen(id);
	if (n < 6 || n > 30 || id[0] < 'a' || id[0] > 'z' || id[n - 1] == '-')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void random_digits(char *out, size_t n)
{
	unsigned char r[32];
	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		abort();
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + (i == 0 ? 1 + r[i] % 9 : r[i] % 10));
	out[n] = '\0';
}

static const char *field(const redisReply *h, const char *name)
{
	for (size_t i = 0; h && i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, name) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

/* A stored account hash as the API shows it. */
static json_t *account_json(const redisReply *h)
{
	const char *email = field(h, "email"), *project = field(h, "project"),
		   *uid = field(h, "unique_id"), *display = field(h, "display_name"),
		   *desc = field(h, "description"), *dis = field(h, "disabled");
	char name[400];
	snprintf(name, sizeof(name), "projects/%.100s/serviceAccounts/%.254s",
		 project ? project : "", email ? email : "");
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", name, "projectId",
			      project ? project : "", "uniqueId", uid ? uid : "", "email",
			      email ? email : "", "oauth2ClientId", uid ? uid : "", "disabled",
			      dis && strcmp(dis, "1") == 0);
	if (display && display[0])
		json_object_set_new(o, "displayName", json_string(display));
	if (desc && desc[0])
		json_object_set_new(o, "description", json_string(desc));
	return o;
}

/* The {project} and {email} of the path: the account must be of that
 * project ("-": any). Replies 400/404 and returns -1. */
static int account_path_or_reply(struct call *c)
{
	char proj[128];
	if (strcmp(c->params[0], "-") != 0 && names_valid_project(c->params[0]) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT, "Invalid project ID %.100s.", c->params[0]);
		return -1;
	}
	if (strlen(c->params[1]) > 254 ||
	    iam_account_project(c->params[1], proj, sizeof(proj)) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Invalid service account email %.300s: expected ID@PROJECT" EMAIL_DOMAIN
			   ".",
			   c->params[1]);
		return -1;
	}
	if (strcmp(c->params[0], "-") != 0 && strcmp(c->params[0], proj) != 0) {
		call_error(c, ERR_NOT_FOUND,
			   "Service account projects/%.100s/serviceAccounts/%.300s "
			   "does not exist.",
			   c->params[0], c->params[1]);
		return -1;
	}
	return 0;
}

/* The Admin Activity entry of a change to the account of the path (its
 * project's log), for the next store call. */
static void audit_account(struct call *c)
{
	char proj[128] = "-", rname[400];
	iam_account_project(c->params[1], proj, sizeof(proj));
	snprintf(rname, sizeof(rname), "projects/%.100s/serviceAccounts/%.254s", proj,
		 c->params[1]);
	api_audit_admin(c, proj, rname, NULL);
}

static void not_found(struct call *c)
{
	call_error(c, ERR_NOT_FOUND,
		   "Service account projects/%.100s/serviceAccounts/%.300s does "
		   "not exist.",
		   c->params[0], c->params[1]);
}

/* A store reply of a script on an account ({'OK', ...} | {'NOT_FOUND'}):
 * the status word, or NULL once it answered the failure or the 404 (of
 * the key in the path when key is 1, else of the account). */
static const char *status_found_or_reply(struct call *c, const redisReply *r, int key)
{
	const char *st = api_status_or_reply(c, r);
	if (st && strcmp(st, "NOT_FOUND") == 0) {
		if (key)
			call_error(c, ERR_NOT_FOUND, "Service account key %.100s does not exist.",
				   c->params[2]);
		else
			not_found(c);
		return NULL;
	}
	return st;
}

/* ------------------------------------------------------------ accounts */

static void on_sa_created(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "ALREADY_EXISTS") == 0) {
		call_error(c, ERR_ALREADY_EXISTS,
			   "Service account %s@%s" EMAIL_DOMAIN
			   " already exists within project projects/%s.",
			   json_string_value(json_object_get(c->body, "accountId")), c->params[0],
			   c->params[0]);
		return;
	}
	log_info("service account created: %s", (const char *)c->state);
	call_reply_text(c, 200, c->state, strlen(c->state));
}

void sa_create(struct call *c)
{
	if (api_names_or_reply(c, 1, "topics"))
		return;
	const char *id = json_string_value(json_object_get(c->body, "accountId"));
	json_t *sa = json_object_get(c->body, "serviceAccount");
	const char *display = json_string_value(json_object_get(sa, "displayName"));
	const char *desc = json_string_value(json_object_get(sa, "description"));
	if (id == NULL || !valid_account_id(id)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "accountId must be 6-30 characters: a lowercase letter, then lowercase "
			   "letters, digits or hyphens, and not end with a hyphen.");
		return;
	}
	if ((display && strlen(display) > 100) || (desc && strlen(desc) > 256)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "displayName is at most 100 and description at most 256 characters.");
		return;
	}
	char email[300], uid[22];
	snprintf(email, sizeof(email), "%.30s@%.100s" EMAIL_DOMAIN, id, c->params[0]);
	random_digits(uid, 21);
	struct store_sa s = { .email = email,
			      .project = c->params[0],
			      .account_id = id,
			      .unique_id = uid,
			      .display_name = display ? display : "",
			      .description = desc ? desc : "" };
	char name[400];
	snprintf(name, sizeof(name), "projects/%.100s/serviceAccounts/%.254s", c->params[0], email);
	json_t *o =
		json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", name, "projectId", c->params[0],
			  "uniqueId", uid, "email", email, "oauth2ClientId", uid, "disabled", 0);
	if (display && display[0])
		json_object_set_new(o, "displayName", json_string(display));
	if (desc && desc[0])
		json_object_set_new(o, "description", json_string(desc));
	api_keep_json(c, o);
	api_audit_admin(c, c->params[0], name, c->state);
	if (store_sa_create(c->b->link, &s, broker_now_ms(), on_sa_created, c) != 0)
		api_not_queued(c);
}

static void on_sa_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		api_store_failed(c, r);
	else if (r->elements == 0)
		not_found(c);
	else
		call_reply(c, 200, account_json(r));
}

void sa_get(struct call *c)
{
	if (account_path_or_reply(c) == 0 &&
	    store_sa_get(c->b->link, c->params[1], on_sa_get, c) != 0)
		api_not_queued(c);
}

static void on_sa_list(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	long page = (long)(intptr_t)c->state;
	c->state = NULL;
	json_t *accounts = json_array(), *out = json_object();
	size_t n = (r->elements - 1) / 2;
	for (size_t i = 0; i < n && (long)i < page; i++)
		json_array_append_new(accounts, account_json(r->element[2 + 2 * i]));
	if (json_array_size(accounts))
		json_object_set(out, "accounts", accounts);
	if ((long)n > page) {
		char tok[400];
		base64_encode((const unsigned char *)r->element[1 + 2 * (page - 1)]->str,
			      r->element[1 + 2 * (page - 1)]->len, tok);
		json_object_set_new(out, "nextPageToken", json_string(tok));
	}
	json_decref(accounts);
	call_reply(c, 200, out);
}

void sa_list(struct call *c)
{
	long page;
	char token[400], start[300] = "-";
	if (api_names_or_reply(c, 1, "topics") || api_page_or_reply(c, &page, token, sizeof(token)))
		return;
	if (token[0]) {
		unsigned char dec[300];
		long dl = base64_decode(token, strlen(token), dec);
		if (dl <= 0 || dl >= (long)sizeof(start) - 2) {
			call_error(c, ERR_INVALID_ARGUMENT, "The page token is not valid.");
			return;
		}
		snprintf(start, sizeof(start), "(%.*s", (int)dl, (const char *)dec);
	}
	c->state = (void *)(intptr_t)page; /* no state_free: an integer */
	if (store_sa_list(c->b->link, c->params[0], start, page + 1, on_sa_list, c) != 0) {
		c->state = NULL;
		api_not_queued(c);
	}
}

static void on_sa_changed(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (status_found_or_reply(c, r, 0) == NULL)
		return;
	char what[300];
	snprintf(what, sizeof(what), "sa:%.254s", c->params[1]);
	auth_changed(c->b, what);
	log_info("service account %s: %s by %s", c->params[1], c->route->name,
		 c->principal[0] ? c->principal : "an anonymous caller");
	call_reply(c, 200, json_object());
}

void sa_delete(struct call *c)
{
	char proj[128];
	if (account_path_or_reply(c) != 0)
		return;
	iam_account_project(c->params[1], proj, sizeof(proj));
	char rname[400];
	snprintf(rname, sizeof(rname), "projects/%.100s/serviceAccounts/%.254s", proj,
		 c->params[1]);
	api_audit_admin(c, proj, rname, NULL);
	if (store_sa_delete(c->b->link, c->params[1], proj, on_sa_changed, c) != 0)
		api_not_queued(c);
}

void sa_disable(struct call *c)
{
	int disable = strcmp(c->route->name, "serviceAccounts.disable") == 0;
	if (account_path_or_reply(c) != 0)
		return;
	audit_account(c);
	if (store_sa_update(c->b->link, c->params[1], "disabled", disable ? "1" : "0",
			    on_sa_changed, c) != 0)
		api_not_queued(c);
}

/* ------------------------------------------------------------ keys */

/* A stored key hash as a ServiceAccountKey (public parts only). */
static json_t *key_json(const struct call *c, const redisReply *h, int with_public)
{
	const char *kid = field(h, "key_id"), *pem = field(h, "public_pem"),
		   *created = field(h, "created_ms"), *before = field(h, "valid_before_ms");
	char name[600], t1[40], t2[40];
	snprintf(name, sizeof(name), "projects/%.100s/serviceAccounts/%.254s/keys/%.64s",
		 c->params[0], c->params[1], kid ? kid : "");
	timestamp_format(created ? strtoll(created, NULL, 10) : 0, t1, sizeof(t1));
	long long vb = before ? strtoll(before, NULL, 10) : 0;
	/* No end: Google's "9999-12-31T23:59:59Z". */
	snprintf(t2, sizeof(t2), "9999-12-31T23:59:59Z");
	if (vb)
		timestamp_format(vb, t2, sizeof(t2));
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "validAfterTime", t1,
			      "validBeforeTime", t2, "keyAlgorithm", "KEY_ALG_RSA_2048",
			      "keyOrigin", "GOOGLE_PROVIDED", "keyType", "USER_MANAGED");
	if (with_public && pem) {
		char *b64 = mem_alloc(base64_encoded_len(strlen(pem)) + 1);
		base64_encode((const unsigned char *)pem, strlen(pem), b64);
		json_object_set_new(o, "publicKeyData", json_string(b64));
		mem_free(b64);
	}
	return o;
}

struct key_new {
	EVP_PKEY *key;
	char kid[48];
	char *public_pem;
};

static void key_new_free(void *p)
{
	struct key_new *k = p;
	EVP_PKEY_free(k->key);
	free(k->public_pem);
	mem_free(k);
}

static void on_key_created(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct key_new *k = c->state;
	const char *st = status_found_or_reply(c, r, 0);
	if (st == NULL)
		return;
	if (strcmp(st, "FAILED_PRECONDITION") == 0) {
		call_error(c, ERR_FAILED_PRECONDITION,
			   "Precondition check failed: service account %s already has %d keys "
			   "(delete one first).",
			   c->params[1], MAX_KEYS_PER_ACCOUNT);
		return;
	}
	/* The key file, once: the private key exists only in this answer. */
	char url[600], proj[128], uid[22] = "";
	config_public_url(&c->b->cfg, url, sizeof(url));
	iam_account_project(c->params[1], proj, sizeof(proj));
	char *priv = key_private_pem(k->key);
	json_t *kf = keyfile_json(c->params[1], proj, k->kid, priv ? priv : "", uid, url);
	char *kft = json_dumps(kf, JSON_INDENT(2));
	char *b64 = mem_alloc(base64_encoded_len(strlen(kft)) + 1);
	base64_encode((const unsigned char *)kft, strlen(kft), b64);
	char name[600], t1[40];
	snprintf(name, sizeof(name), "projects/%.100s/serviceAccounts/%.254s/keys/%.64s", proj,
		 c->params[1], k->kid);
	timestamp_format(broker_now_ms(), t1, sizeof(t1));
	json_t *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "privateKeyType",
				"TYPE_GOOGLE_CREDENTIALS_FILE", "privateKeyData", b64,
				"validAfterTime", t1, "validBeforeTime", "9999-12-31T23:59:59Z",
				"keyAlgorithm", "KEY_ALG_RSA_2048", "keyOrigin", "GOOGLE_PROVIDED",
				"keyType", "USER_MANAGED");
	OPENSSL_cleanse(b64, strlen(b64));
	OPENSSL_cleanse(kft, strlen(kft));
	mem_free(b64);
	mem_free(kft);
	if (priv) {
		OPENSSL_cleanse(priv, strlen(priv));
		free(priv);
	}
	json_decref(kf);
	log_info("service account %s: key %s created by %s", c->params[1], k->kid,
		 c->principal[0] ? c->principal : "an anonymous caller");
	call_set_header(c, "Cache-Control", "no-store");
	call_reply(c, 200, out);
}

void sa_key_create(struct call *c)
{
	if (account_path_or_reply(c) != 0)
		return;
	const char *type = json_string_value(json_object_get(c->body, "privateKeyType"));
	const char *alg = json_string_value(json_object_get(c->body, "keyAlgorithm"));
	if ((type && strcmp(type, "TYPE_GOOGLE_CREDENTIALS_FILE") != 0) ||
	    (alg && strcmp(alg, "KEY_ALG_RSA_2048") != 0)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Only privateKeyType TYPE_GOOGLE_CREDENTIALS_FILE and keyAlgorithm "
			   "KEY_ALG_RSA_2048 are supported.");
		return;
	}
	struct key_new *k = mem_calloc(1, sizeof(*k));
	c->state = k;
	c->state_free = key_new_free;
	unsigned char rnd[20];
	k->key = key_new_rsa2048();
	k->public_pem = k->key ? key_public_pem(k->key) : NULL;
	if (k->public_pem == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		call_error(c, ERR_INTERNAL, "Could not make a key.");
		return;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(k->kid + 2 * i, 3, "%02x", rnd[i]);
	struct store_key sk = { .key_id = k->kid,
				.public_pem = k->public_pem,
				.algorithm = "KEY_ALG_RSA_2048",
				.created_ms = broker_now_ms() };
	audit_account(c);
	if (store_key_create(c->b->link, c->params[1], &sk, MAX_KEYS_PER_ACCOUNT, on_key_created,
			     c) != 0)
		api_not_queued(c);
}

static void on_key_list(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (status_found_or_reply(c, r, 0) == NULL)
		return;
	json_t *keys = json_array();
	for (size_t i = 1; i < r->elements; i++)
		json_array_append_new(keys, key_json(c, r->element[i], 0));
	json_t *out = json_object();
	if (json_array_size(keys))
		json_object_set(out, "keys", keys);
	json_decref(keys);
	call_reply(c, 200, out);
}

void sa_key_list(struct call *c)
{
	if (account_path_or_reply(c) == 0 &&
	    store_key_list(c->b->link, c->params[1], on_key_list, c) != 0)
		api_not_queued(c);
}

static void on_key_get(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		api_store_failed(c, r);
	else if (r->elements == 0)
		call_error(c, ERR_NOT_FOUND, "Service account key %.100s does not exist.",
			   c->params[2]);
	else
		call_reply(c, 200, key_json(c, r, 1));
}

/* A key id: 40 hex digits. */
static int key_id_or_reply(struct call *c)
{
	if (strlen(c->params[2]) != 40 ||
	    strspn(c->params[2], "0123456789abcdef") != strlen(c->params[2])) {
		call_error(c, ERR_NOT_FOUND, "Service account key %.100s does not exist.",
			   c->params[2]);
		return -1;
	}
	return 0;
}

void sa_key_get(struct call *c)
{
	if (account_path_or_reply(c) == 0 && key_id_or_reply(c) == 0 &&
	    store_key_get(c->b->link, c->params[1], c->params[2], on_key_get, c) != 0)
		api_not_queued(c);
}

static void on_key_deleted(redisReply *r, void *arg)
{
	struct call *c = arg;
	if (status_found_or_reply(c, r, 1) == NULL)
		return;
	char what[400];
	snprintf(what, sizeof(what), "key:%.254s/%.64s", c->params[1], c->params[2]);
	auth_changed(c->b, what);
	log_info("service account %s: key %s deleted by %s", c->params[1], c->params[2],
		 c->principal[0] ? c->principal : "an anonymous caller");
	call_reply(c, 200, json_object());
}

void sa_key_delete(struct call *c)
{
	if (account_path_or_reply(c) != 0 || key_id_or_reply(c) != 0)
		return;
	audit_account(c);
	if (store_key_delete(c->b->link, c->params[1], c->params[2], on_key_deleted, c) != 0)
		api_not_queued(c);
}
