/* keyfile.c - Google-format key files and the PEM / JWK forms of keys. */
#include "keyfile.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_field(json_t *root, const char *name, char *out, size_t n, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, name);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= n) {
		snprintf(err, errlen, "key file: \"%s\" is missing or not a usable string", name);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int keyfile_parse(const char *text, size_t len, struct keyfile *kf, char *err, size_t errlen)
{
	memset(kf, 0, sizeof(*kf));
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "key file: not a JSON object (%s)",
			 root ? "another JSON value" : je.text);
		json_decref(root);
		return -1;
	}
	int rc = -1;
	const char *type = json_string_value(json_object_get(root, "type"));
	if (type == NULL || strcmp(type, "service_account") != 0) {
		snprintf(err, errlen, "key file: \"type\" must be \"service_account\"");
		goto out;
	}
	if (copy_field(root, "client_email", kf->email, sizeof(kf->email), err, errlen) ||
	    copy_field(root, "private_key_id", kf->key_id, sizeof(kf->key_id), err, errlen))
		goto out;
	json_t *proj = json_object_get(root, "project_id");
	if (json_is_string(proj) && json_string_length(proj) < sizeof(kf->project))
		memcpy(kf->project, json_string_value(proj), json_string_length(proj) + 1);
	json_t *uri = json_object_get(root, "token_uri");
	if (json_is_string(uri) && json_string_length(uri) < sizeof(kf->token_uri))
		memcpy(kf->token_uri, json_string_value(uri), json_string_length(uri) + 1);
	json_t *pk = json_object_get(root, "private_key");
	if (json_is_string(pk))
		kf->key = key_from_private_pem(json_string_value(pk), json_string_length(pk));
	if (kf->key == NULL || !EVP_PKEY_is_a(kf->key, "RSA") ||
	    EVP_PKEY_get_bits(kf->key) < 2048) {
		snprintf(err, errlen,
			 "key file: \"private_key\" is not an RSA private key "
			 "(PEM) of at least 2048 bits");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc)
		keyfile_free(kf);
	return rc;
}

int keyfile_load(const char *path, struct keyfile *kf, char *err, size_t errlen)
{
	memset(kf, 0, sizeof(*kf));
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read key file %s", path);
		return -1;
	}
	char *buf = malloc(65537);
	size_t n = buf ? fread(buf, 1, 65537, f) : 0;
	fclose(f);
	int rc = -1;
	if (buf == NULL || n == 0 || n > 65536) {
		snprintf(err, errlen, "key file %s: empty or larger than 64 KiB", path);
	} else {
		char e[256];
		rc = keyfile_parse(buf, n, kf, e, sizeof(e));
		if (rc)
			snprintf(err, errlen, "%s (%s)", e, path);
	}
	if (buf)
		OPENSSL_cleanse(buf, n);
	free(buf);
	return rc;
}

void keyfile_free(struct keyfile *kf)
{
	EVP_PKEY_free(kf->key);
	kf->key = NULL;
}

json_t *keyfile_json(const char *email, const char *project, const char *key_id,
		     const char *private_pem, const char *client_id, const char *base_url)
{
	char token[600], certs[600], cert[900];
	snprintf(token, sizeof(token), "%s/token", base_url);
	snprintf(certs, sizeof(certs), "%s/.well-known/jwks.json", base_url);
	snprintf(cert, sizeof(cert), "%s/v1/projects/-/serviceAccounts/%s/keys", base_url, email);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "service_account",
			 "project_id", project, "private_key_id", key_id, "private_key",
			 private_pem, "client_email", email, "client_id", client_id, "auth_uri",
			 token, "token_uri", token, "auth_provider_x509_cert_url", certs,
			 "client_x509_cert_url", cert, "universe_domain", KEYFILE_UNIVERSE);
}

char *keyfile_self_signed_jwt(const struct keyfile *kf, const char *aud, long long now,
			      long lifetime_s)
{
	json_t *claims = json_pack("{s:s,s:s,s:I,s:I}", "iss", kf->email, "sub", kf->email, "iat",
				   (json_int_t)now, "exp", (json_int_t)(now + lifetime_s));
	if (claims == NULL)
		return NULL;
	if (aud)
		json_object_set_new(claims, "aud", json_string(aud));
	else
		json_object_set_new(claims, "scope",
				    json_string("https://www.googleapis.com/auth/pubsub"));
	char *t = jwt_sign(kf->key, kf->key_id, claims);
	json_decref(claims);
	return t;
}

EVP_PKEY *key_new_rsa2048(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

EVP_PKEY *key_new_p256(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* What a memory BIO holds, as a malloc'd string. */
static char *bio_text(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (out) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	return out;
}

char *key_private_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1)
		out = bio_text(b);
	BIO_free(b);
	return out;
}

char *key_public_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (b && PEM_write_bio_PUBKEY(b, key) == 1)
		out = bio_text(b);
	BIO_free(b);
	return out;
}

EVP_PKEY *key_from_public_pem(const char *pem, size_t len)
{
	if (len > 16384)
		return NULL;
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return k;
}

EVP_PKEY *key_from_private_pem(const char *pem, size_t len)
{
	if (len > 16384)
		return NULL;
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	/* A password callback that refuses: an encrypted key is not a key file's. */
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"") : NULL;
	BIO_free(b);
	return k;
}

/* A BIGNUM parameter of key as base64url (padded to pad bytes, 0: none). */
static json_t *bn_param(EVP_PKEY *key, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
		return NULL;
	int n = pad ? pad : BN_num_bytes(bn);
	unsigned char *raw = malloc((size_t)n + 1);
	char *txt = malloc(base64url_encoded_len((size_t)n) + 1);
	json_t *out = NULL;
	if (raw && txt && BN_bn2binpad(bn, raw, n) == n) {
		base64url_encode(raw, (size_t)n, txt);
		out = json_string(txt);
	}
	free(raw);
	free(txt);
	BN_free(bn);
	return out;
}

json_t *key_public_jwk(EVP_PKEY *key, const char *kid)
{
	json_t *jwk = NULL;
	if (EVP_PKEY_is_a(key, "RSA")) {
		json_t *n = bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0);
		json_t *e = bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0);
		if (n && e)
			jwk = json_pack("{s:s,s:s,s:s,s:o,s:o}", "kty", "RSA", "alg", "RS256",
					"use", "sig", "n", n, "e", e);
		else {
			json_decref(n);
			json_decref(e);
		}
	} else if (EVP_PKEY_is_a(key, "EC")) {
		json_t *x = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		json_t *y = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		if (x && y)
			jwk = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "kty", "EC", "crv", "P-256",
					"alg", "ES256", "use", "sig", "x", x, "y", y);
		else {
			json_decref(x);
			json_decref(y);
		}
	}
	if (jwk && kid)
		json_object_set_new(jwk, "kid", json_string(kid));
	return jwk;
}
