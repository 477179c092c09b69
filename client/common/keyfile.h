/* keyfile.h - service-account keys: Google's JSON key file format
 * (type "service_account", private_key_id, PKCS#8 PEM private_key,
 * client_email, token_uri...), new RSA-2048 keys and PEM conversions.
 * The broker makes key files (and keeps only the public key); the library
 * and the CLI read them to sign their tokens. Pure: any thread. */
#ifndef RN_KEYFILE_H
#define RN_KEYFILE_H

#include "jwt.h"

#include <openssl/evp.h>
#include <stddef.h>

struct keyfile {
	char email[320];
	char key_id[JWT_KID_MAX];
	char project[128];
	char token_uri[512];
	EVP_PKEY *key; /* the private key */
};

/* Parses a key file's JSON text. Returns 0, or -1 with a message in err
 * (which never contains key material). */
int keyfile_parse(const char *text, size_t len, struct keyfile *kf, char *err, size_t errlen);

/* Reads and parses the key file at path. Returns 0 or -1 with a message. */
int keyfile_load(const char *path, struct keyfile *kf, char *err, size_t errlen);

void keyfile_free(struct keyfile *kf);

/* The universe_domain of regnotify's key files. Google's libraries sign
 * their own tokens (self-signed JWTs) for a universe other than
 * "googleapis.com" instead of asking Google's token server; a client sets
 * the same universe (GOOGLE_CLOUD_UNIVERSE_DOMAIN=regnotify, or the
 * universeDomain option). */
#define KEYFILE_UNIVERSE "regnotify"

/* The JSON key file of a new key, in Google's format (type, project_id,
 * private_key_id, private_key, client_email, client_id, auth_uri,
 * token_uri, auth_provider_x509_cert_url, client_x509_cert_url,
 * universe_domain). base_url is the broker's URL. New reference. */
json_t *keyfile_json(const char *email, const char *project, const char *key_id,
		     const char *private_pem, const char *client_id, const char *base_url);

/* A self-signed service-account token as Google's libraries make it:
 * iss = sub = email, aud (NULL: a "scope" claim for Pub/Sub instead),
 * iat = now, exp = now + lifetime_s. malloc'd, or NULL. */
char *keyfile_self_signed_jwt(const struct keyfile *kf, const char *aud, long long now,
			      long lifetime_s);

/* New keys: RSA 2048 (service accounts) or EC P-256 (the broker's own). */
EVP_PKEY *key_new_rsa2048(void);
EVP_PKEY *key_new_p256(void);

/* PEM texts (malloc'd, NUL-terminated): the PKCS#8 private key, the
 * SubjectPublicKeyInfo public key. NULL on failure. */
char *key_private_pem(EVP_PKEY *key);
char *key_public_pem(EVP_PKEY *key);

/* Reads a PEM public / private key. NULL when it is not one. */
EVP_PKEY *key_from_public_pem(const char *pem, size_t len);
EVP_PKEY *key_from_private_pem(const char *pem, size_t len);

/* The public key as a JWK JSON object ({"kty":"RSA","n","e"} or
 * {"kty":"EC","crv":"P-256","x","y"}, plus "kid", "alg", "use":"sig"). */
json_t *key_public_jwk(EVP_PKEY *key, const char *kid);

#endif
