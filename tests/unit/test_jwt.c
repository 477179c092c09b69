/* Unit tests: client/common/jwt.c and keyfile.c - base64url, strict token
 * parsing, RS256/ES256 signatures, the hostile tokens every verifier must
 * refuse, Google-format key files and JWKs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "keyfile.h"

static EVP_PKEY *rsa, *rsa2, *ec;

static int setup(void **state)
{
	(void)state;
	rsa = key_new_rsa2048();
	rsa2 = key_new_rsa2048();
	ec = key_new_p256();
	return rsa && rsa2 && ec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	return 0;
}

static void b64url(void **state)
{
	(void)state;
	const char *cases[][2] = { { "", "" },           { "f", "Zg" },
				   { "fo", "Zm8" },      { "foo", "Zm9v" },
				   { "foob", "Zm9vYg" }, { "\xff\xfe", "__4" },
				   { "\xfb\xff", "-_8" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char enc[32];
		unsigned char dec[32];
		size_t n = strlen(cases[i][0]);
		assert_int_equal(base64url_encode((const unsigned char *)cases[i][0], n, enc),
				 strlen(cases[i][1]));
		assert_string_equal(enc, cases[i][1]);
		assert_int_equal(base64url_encoded_len(n), strlen(cases[i][1]));
		assert_int_equal(base64url_decode(enc, strlen(enc), dec), (long)n);
		assert_memory_equal(dec, cases[i][0], n);
	}
	unsigned char out[16];
	assert_int_equal(base64url_decode("Zg==", 4, out), -1); /* padding */
	assert_int_equal(base64url_decode("Z+8", 3, out), -1);  /* standard alphabet */
	assert_int_equal(base64url_decode("Z/8", 3, out), -1);
	assert_int_equal(base64url_decode("Zm9vY", 5, out), -1); /* 1 char left over */
	assert_int_equal(base64url_decode("Zh", 2, out), -1);    /* non-zero spare bits */
	assert_int_equal(base64url_decode("Zm 9", 4, out), -1);
	assert_int_equal(base64url_decode("Zm\x80v", 4, out), -1);
}

static char *sign(EVP_PKEY *k, const char *kid)
{
	json_t *c = json_pack("{s:s,s:s,s:I,s:I,s:s}", "iss", "ci@p.iam.regnotify", "sub",
			      "ci@p.iam.regnotify", "iat", (json_int_t)1000, "exp",
			      (json_int_t)4600, "aud", "https://pubsub.googleapis.com/");
	char *t = jwt_sign(k, kid, c);
	json_decref(c);
	assert_non_null(t);
	return t;
}

static int check(const char *t, EVP_PKEY *k)
{
	struct jwt j;
	const char *why;
	if (jwt_parse(t, strlen(t), &j, &why) != 0)
		return -2;
	int rc = jwt_verify(&j, k);
	jwt_free(&j);
	return rc;
}

static void sign_and_verify(void **state)
{
	(void)state;
	char *t = sign(rsa, "k1");
	struct jwt j;
	const char *why = NULL;
	assert_int_equal(jwt_parse(t, strlen(t), &j, &why), 0);
	assert_int_equal(j.alg, JWT_RS256);
	assert_string_equal(j.kid, "k1");
	assert_string_equal(jwt_claim_str(&j, "iss"), "ci@p.iam.regnotify");
	assert_int_equal(jwt_claim_int(&j, "exp"), 4600);
	assert_int_equal(jwt_claim_int(&j, "nope"), -1);
	assert_null(jwt_claim_str(&j, "nope"));
	assert_int_equal(j.sig_len, 256);
	assert_int_equal(jwt_verify(&j, rsa), 0);
	assert_int_equal(jwt_verify(&j, rsa2), -1); /* another account's key */
	assert_int_equal(jwt_verify(&j, ec), -1);   /* a key of the other type */
	jwt_free(&j);
	free(t);
	t = sign(ec, "broker-1");
	assert_int_equal(check(t, ec), 0);
	assert_int_equal(check(t, rsa), -1);
	free(t);
}

/* Replaces part i (0 header, 1 claims, 2 signature) of t with text. */
static char *with_part(const char *t, int i, const char *text)
{
	const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
	char *out = malloc(strlen(t) + strlen(text) + 4);
	if (i == 0)
		sprintf(out, "%s%s", text, d1);
	else if (i == 1)
		sprintf(out, "%.*s.%s%s", (int)(d1 - t), t, text, d2);
	else
		sprintf(out, "%.*s.%s", (int)(d2 - t), t, text);
	return out;
}

static char *b64json(const char *json)
{
	char *out = malloc(base64url_encoded_len(strlen(json)) + 1);
	base64url_encode((const unsigned char *)json, strlen(json), out);
	return out;
}

static void hostile(void **state)
{
	(void)state;
	char *good = sign(rsa, "k1");
	/* Tampered claims: the signature no longer matches. */
	char *claims =
		b64json("{\"iss\":\"admin@p.iam.regnotify\",\"sub\":\"admin@p.iam.regnotify\","
			"\"iat\":1000,\"exp\":4600}");
	char *t = with_part(good, 1, claims);
	assert_int_equal(check(t, rsa), -1);
	free(t);
	/* alg none, with and without a signature. */
	char *none = b64json("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	t = with_part(good, 0, none);
	assert_int_equal(check(t, rsa), -2);
	free(t);
	char *t2 = with_part(good, 0, none), *t3 = with_part(t2, 2, "");
	assert_int_equal(check(t3, rsa), -2);
	free(t2);
	free(t3);
	/* HS256 with the public key as the HMAC secret. */
	char *hs = b64json("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
	char *pub = key_public_pem(rsa);
	t = with_part(good, 0, hs);
	const char *d2 = strrchr(t, '.');
	unsigned char mac[32];
	unsigned maclen = 0;
	HMAC(EVP_sha256(), pub, (int)strlen(pub), (const unsigned char *)t, (size_t)(d2 - t), mac,
	     &maclen);
	char macb[64];
	base64url_encode(mac, maclen, macb);
	char *t4 = with_part(t, 2, macb);
	assert_int_equal(check(t4, rsa), -2);
	free(t4);
	free(t);
	/* The header claims ES256 but the token is RS256-signed. */
	char *es = b64json("{\"alg\":\"ES256\",\"kid\":\"k1\"}");
	t = with_part(good, 0, es);
	assert_int_equal(check(t, rsa), -2); /* 256-byte signature: not ES256's 64 */
	free(t);
	/* Shapes. */
	const char *bad[] = { "",
			      "a",
			      "a.b",
			      "a.b.c.d",
			      "..",
			      "e30.e30.",
			      "e30.e30.AAAA",
			      "W10.e30.AAAA" /* header is an array */ };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(check(bad[i], rsa), -2);
	/* A standard-alphabet or padded signature. */
	t = with_part(good, 2, "ab+/cd==");
	assert_int_equal(check(t, rsa), -2);
	free(t);
	/* 10 kB. */
	char *big = malloc(10241);
	memset(big, 'A', 10240);
	big[10240] = '\0';
	struct jwt j;
	const char *why = NULL;
	assert_int_equal(jwt_parse(big, 10240, &j, &why), -1);
	assert_string_equal(why, "token too long");
	free(big);
	/* Duplicate claim names are refused (which one would count?). */
	char *dup = b64json("{\"sub\":\"a\",\"sub\":\"b\"}");
	t = with_part(good, 1, dup);
	assert_int_equal(check(t, rsa), -2);
	free(t);
	free(dup);
	free(es);
	free(hs);
	free(pub);
	free(none);
	free(claims);
	free(good);
}

static void key_files(void **state)
{
	(void)state;
	char *priv = key_private_pem(rsa), *pub = key_public_pem(rsa);
	assert_non_null(strstr(priv, "-----BEGIN PRIVATE KEY-----"));
	assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
	json_t *kf = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "service_account",
			       "project_id", "p", "private_key_id", "abc123", "private_key", priv,
			       "client_email", "ci@p.iam.regnotify", "client_id", "42", "token_uri",
			       "http://127.0.0.1:8085/token");
	char *text = json_dumps(kf, 0);
	struct keyfile k;
	char err[256];
	assert_int_equal(keyfile_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	assert_string_equal(k.email, "ci@p.iam.regnotify");
	assert_string_equal(k.key_id, "abc123");
	assert_string_equal(k.token_uri, "http://127.0.0.1:8085/token");
	char *t = keyfile_self_signed_jwt(&k, "https://pubsub.googleapis.com/", 1000, 3600);
	EVP_PKEY *pk = key_from_public_pem(pub, strlen(pub));
	assert_int_equal(check(t, pk), 0);
	struct jwt j;
	const char *why;
	assert_int_equal(jwt_parse(t, strlen(t), &j, &why), 0);
	assert_string_equal(j.kid, "abc123");
	assert_string_equal(jwt_claim_str(&j, "sub"), "ci@p.iam.regnotify");
	assert_int_equal(jwt_claim_int(&j, "exp") - jwt_claim_int(&j, "iat"), 3600);
	jwt_free(&j);
	free(t);
	keyfile_free(&k);
	/* Broken key files: a clear message, never key material. */
	json_object_set_new(kf, "type", json_string("authorized_user"));
	free(text);
	text = json_dumps(kf, 0);
	assert_int_equal(keyfile_parse(text, strlen(text), &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "service_account"));
	json_object_set_new(kf, "type", json_string("service_account"));
	json_object_set_new(kf, "private_key", json_string("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
	free(text);
	text = json_dumps(kf, 0);
	assert_int_equal(keyfile_parse(text, strlen(text), &k, err, sizeof(err)), -1);
	assert_null(strstr(err, "AAAA"));
	assert_int_equal(keyfile_parse("[]", 2, &k, err, sizeof(err)), -1);
	assert_int_equal(keyfile_load("/nonexistent/key.json", &k, err, sizeof(err)), -1);
	/* An EC key is not a service-account key. */
	char *ecpriv = key_private_pem(ec);
	json_object_set_new(kf, "private_key", json_string(ecpriv));
	free(text);
	text = json_dumps(kf, 0);
	assert_int_equal(keyfile_parse(text, strlen(text), &k, err, sizeof(err)), -1);
	free(ecpriv);
	free(text);
	json_decref(kf);
	EVP_PKEY_free(pk);
	free(priv);
	free(pub);
	assert_null(key_from_public_pem("garbage", 7));
}

static void jwks(void **state)
{
	(void)state;
	json_t *e = key_public_jwk(ec, "b1");
	assert_string_equal(json_string_value(json_object_get(e, "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(e, "crv")), "P-256");
	assert_int_equal(json_string_length(json_object_get(e, "x")), 43);
	assert_int_equal(json_string_length(json_object_get(e, "y")), 43);
	assert_string_equal(json_string_value(json_object_get(e, "kid")), "b1");
	json_decref(e);
	json_t *r = key_public_jwk(rsa, "r1");
	assert_string_equal(json_string_value(json_object_get(r, "kty")), "RSA");
	assert_int_equal(json_string_length(json_object_get(r, "n")), 342); /* 256 bytes */
	assert_string_equal(json_string_value(json_object_get(r, "e")), "AQAB");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url),  cmocka_unit_test(sign_and_verify),
		cmocka_unit_test(hostile), cmocka_unit_test(key_files),
		cmocka_unit_test(jwks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
