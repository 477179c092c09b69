/* jwt.c - compact JWS: base64url, strict parsing, RS256/ES256 verify and
 * sign with OpenSSL 3's EVP interface. */
#include "jwt.h"

#include "base64.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <stdlib.h>
#include <string.h>

/* One base64url part into a JSON object. */
static json_t *part_json(const char *p, size_t n)
{
	unsigned char *buf = malloc(n * 3 / 4 + 1);
	if (buf == NULL)
		return NULL;
	long l = base64url_decode(p, n, buf);
	json_t *o = NULL;
	if (l > 0)
		o = json_loadb((const char *)buf, (size_t)l, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int jwt_parse(const char *token, size_t len, struct jwt *j, const char **why)
{
	memset(j, 0, sizeof(*j));
	if (len == 0) {
		*why = "empty token";
		return -1;
	}
	if (len > JWT_MAX_LEN) {
		*why = "token too long";
		return -1;
	}
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token))) {
		*why = "malformed token: expected three dot-separated parts";
		return -1;
	}
	j->header = part_json(token, (size_t)(d1 - token));
	j->claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (j->header == NULL || j->claims == NULL) {
		*why = "malformed token: header and claims must be base64url JSON objects";
		goto bad;
	}
	const char *alg = json_string_value(json_object_get(j->header, "alg"));
	if (alg && strcmp(alg, "RS256") == 0)
		j->alg = JWT_RS256;
	else if (alg && strcmp(alg, "ES256") == 0)
		j->alg = JWT_ES256;
	else {
		*why = "unsupported token algorithm (RS256 or ES256 expected)";
		goto bad;
	}
	json_t *kid = json_object_get(j->header, "kid");
	if (kid) {
		if (!json_is_string(kid) || json_string_length(kid) == 0 ||
		    json_string_length(kid) >= sizeof(j->kid)) {
			*why = "malformed token: bad \"kid\"";
			goto bad;
		}
		memcpy(j->kid, json_string_value(kid), json_string_length(kid) + 1);
	}
	size_t slen = len - (size_t)(d2 + 1 - token);
	if (slen > base64url_encoded_len(sizeof(j->sig))) {
		*why = "malformed token: signature too long";
		goto bad;
	}
	long sl = base64url_decode(d2 + 1, slen, j->sig);
	if (sl <= 0 || (j->alg == JWT_ES256 && sl != 64) || (j->alg == JWT_RS256 && sl < 256)) {
		*why = "malformed token: bad signature encoding";
		goto bad;
	}
	j->sig_len = (size_t)sl;
	j->signed_part = token;
	j->signed_len = (size_t)(d2 - token);
	return 0;
bad:
	jwt_free(j);
	return -1;
}

void jwt_free(struct jwt *j)
{
	json_decref(j->header);
	json_decref(j->claims);
	j->header = j->claims = NULL;
}

/* ES256 signatures are r || s (32 bytes each); OpenSSL wants DER. */
static int es256_raw_to_der(const unsigned char *raw, unsigned char **der, int *derlen)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL), *ss = BN_bin2bn(raw + 32, 32, NULL);
	if (s == NULL || r == NULL || ss == NULL || !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		ECDSA_SIG_free(s);
		return -1;
	}
	*der = NULL;
	*derlen = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return *derlen > 0 ? 0 : -1;
}

static int key_fits(EVP_PKEY *key, enum jwt_alg alg)
{
	if (alg == JWT_RS256)
		return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
	if (alg == JWT_ES256) {
		char group[32];
		size_t gl = 0;
		return EVP_PKEY_is_a(key, "EC") &&
		       EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
						      sizeof(group), &gl) == 1 &&
		       strcmp(group, "prime256v1") == 0;
	}
	return 0;
}

int jwt_verify(const struct jwt *j, EVP_PKEY *key)
{
	if (key == NULL || !key_fits(key, j->alg))
		return -1;
	const unsigned char *sig = j->sig;
	size_t siglen = j->sig_len;
	unsigned char *der = NULL;
	if (j->alg == JWT_ES256) {
		int dl;
		if (es256_raw_to_der(j->sig, &der, &dl) != 0)
			return -1;
		sig = der;
		siglen = (size_t)dl;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)j->signed_part,
				  j->signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* A JSON value as base64url, appended at out. */
static size_t put_json(json_t *v, char *out)
{
	void *(*alloc)(size_t);
	void (*release)(void *);
	json_get_alloc_funcs(&alloc, &release);
	char *text = json_dumps(v, JSON_COMPACT);
	if (text == NULL)
		return 0;
	size_t n = base64url_encode((unsigned char *)text, strlen(text), out);
	release(text);
	return n;
}

char *jwt_sign(EVP_PKEY *key, const char *kid, json_t *claims)
{
	enum jwt_alg alg = EVP_PKEY_is_a(key, "RSA") ? JWT_RS256 : JWT_ES256;
	if (!key_fits(key, alg))
		return NULL;
	json_t *hdr =
		json_pack("{s:s,s:s}", "alg", alg == JWT_RS256 ? "RS256" : "ES256", "typ", "JWT");
	if (kid && kid[0])
		json_object_set_new(hdr, "kid", json_string(kid));
	char *hs = json_dumps(hdr, JSON_COMPACT), *cs = json_dumps(claims, JSON_COMPACT);
	size_t cap = 0;
	if (hs && cs)
		cap = base64url_encoded_len(strlen(hs)) + base64url_encoded_len(strlen(cs)) +
		      base64url_encoded_len(512) + 4;
	void *(*alloc)(size_t);
	void (*release)(void *);
	json_get_alloc_funcs(&alloc, &release);
	if (hs)
		release(hs);
	if (cs)
		release(cs);
	char *out = cap ? malloc(cap) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	int ok = 0;
	if (out && ctx) {
		size_t n = put_json(hdr, out);
		out[n++] = '.';
		n += put_json(claims, out + n);
		if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)out, n) == 1 &&
		    siglen <= sizeof(sig) &&
		    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)out, n) == 1) {
			const unsigned char *s = sig;
			unsigned char raw[64];
			if (alg == JWT_ES256) {
				/* DER -> r || s */
				const unsigned char *p = sig;
				ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
				const BIGNUM *r, *ss;
				if (es) {
					ECDSA_SIG_get0(es, &r, &ss);
					ok = BN_bn2binpad(r, raw, 32) == 32 &&
					     BN_bn2binpad(ss, raw + 32, 32) == 32;
					ECDSA_SIG_free(es);
				}
				s = raw;
				siglen = 64;
			} else {
				ok = 1;
			}
			if (ok) {
				out[n++] = '.';
				base64url_encode(s, siglen, out + n);
			}
		}
	}
	EVP_MD_CTX_free(ctx);
	json_decref(hdr);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

const char *jwt_claim_str(const struct jwt *j, const char *name)
{
	return json_string_value(json_object_get(j->claims, name));
}

long long jwt_claim_int(const struct jwt *j, const char *name)
{
	json_t *v = json_object_get(j->claims, name);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}
