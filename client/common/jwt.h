/* jwt.h - compact JSON Web Tokens (RFC 7515, 7519) the way Google's
 * libraries make them: base64url without padding, RS256 with a service
 * account's key, ES256 with the broker's. Shared by the broker (verifies,
 * signs its own tokens) and libregnotify / the CLI (sign with a key file).
 * Pure: OpenSSL and jansson, any thread, no clock (the caller checks
 * times).
 *
 * Parsing is strict: three parts, only the base64url alphabet, a JSON
 * object in each of header and claims, "alg" one of the two supported
 * ones, a signature of the algorithm's length. Everything else is
 * refused before any key is looked at. */
#ifndef RN_JWT_H
#define RN_JWT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

enum jwt_alg { JWT_NONE = 0, JWT_RS256, JWT_ES256 };

/* Longest token accepted (a self-signed RS256 token of Google's libraries
 * is ~800 bytes). */
#define JWT_MAX_LEN 4096
#define JWT_KID_MAX 128

struct jwt {
	enum jwt_alg alg;
	char kid[JWT_KID_MAX]; /* "" when the header has none */
	json_t *header, *claims;
	const char *signed_part; /* "header.claims" of the token (borrowed) */
	size_t signed_len;
	unsigned char sig[512];
	size_t sig_len;
};

/* base64url (RFC 4648 section 5) without padding. Encoded length of n
 * bytes; encode writes that many characters plus a NUL. */
size_t base64url_encoded_len(size_t n);
size_t base64url_encode(const unsigned char *in, size_t n, char *out);
/* Strict: only A-Z a-z 0-9 - _, no padding, no bits left over. out holds
 * len * 3 / 4 + 1 bytes. Returns the length or -1. */
long base64url_decode(const char *in, size_t len, unsigned char *out);

/* Parses token (len bytes, not NUL-terminated) into *j. Returns 0, or -1
 * with *why set to a static reason ("malformed token", ...). On 0 the
 * caller frees with jwt_free. Checks nothing about the signature. */
int jwt_parse(const char *token, size_t len, struct jwt *j, const char **why);
void jwt_free(struct jwt *j);

/* Verifies j's signature with key: RS256 only with an RSA key of at least
 * 2048 bits, ES256 only with a P-256 key (an HMAC or "none" token never
 * gets here). Returns 0 when it is valid. */
int jwt_verify(const struct jwt *j, EVP_PKEY *key);

/* Signs claims with key (RS256 for RSA, ES256 for P-256) and header
 * {"alg","typ":"JWT","kid"}. Returns a malloc'd NUL-terminated token, or
 * NULL. */
char *jwt_sign(EVP_PKEY *key, const char *kid, json_t *claims);

/* Claim helpers: the string (or NULL) / the integer (or -1) of a claim. */
const char *jwt_claim_str(const struct jwt *j, const char *name);
long long jwt_claim_int(const struct jwt *j, const char *name);

#endif
