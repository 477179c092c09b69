/* jwt_bench: the cost of one token check in the broker, with and without
 * its caches (docs/performance.md, access control):
 *   full RS256   jwt_parse + jwt_verify of a self-signed service-account
 *                token (what a token costs the first time, key cached)
 *   full ES256   the same for a broker access token
 *   memo         SHA-256 of the token + the memo lookup (every later call
 *                with the same token)
 * Build: make -C bench OUT=... (links client/common from the CMake build).
 * Usage: jwt_bench [N]  (default 2000 of each) */
#include "jwt.h"
#include "keyfile.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static char *token(EVP_PKEY *k)
{
	json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", "ci@p.iam.regnotify", "sub",
			      "ci@p.iam.regnotify", "aud", "https://pubsub.googleapis.com/", "iat",
			      (json_int_t)time(NULL), "exp", (json_int_t)time(NULL) + 3600);
	char *t = jwt_sign(k, "0123456789abcdef0123456789abcdef01234567", c);
	json_decref(c);
	return t;
}

static double full(const char *t, EVP_PKEY *k, int n)
{
	double t0 = now_us();
	for (int i = 0; i < n; i++) {
		struct jwt j;
		const char *why;
		if (jwt_parse(t, strlen(t), &j, &why) != 0 || jwt_verify(&j, k) != 0) {
			fprintf(stderr, "verification failed\n");
			exit(1);
		}
		jwt_free(&j);
	}
	return (now_us() - t0) / n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	EVP_PKEY *rsa = key_new_rsa2048(), *ec = key_new_p256();
	char *rt = token(rsa), *et = token(ec);
	double r = full(rt, rsa, n), e = full(et, ec, n);
	unsigned char sha[32], memo[4096][32] = { { 0 } };
	volatile int hits = 0;
	double t0 = now_us();
	for (int i = 0; i < n * 10; i++) {
		SHA256((const unsigned char *)rt, strlen(rt), sha);
		hits += memcmp(memo[((unsigned)sha[0] << 8 | sha[1]) % 4096], sha, 32) == 0;
	}
	double m = (now_us() - t0) / (n * 10);
	printf("id=auth.verify.rs256 n=%d token_bytes=%zu us_per_token=%.2f\n", n, strlen(rt), r);
	printf("id=auth.verify.es256 n=%d token_bytes=%zu us_per_token=%.2f\n", n, strlen(et), e);
	printf("id=auth.verify.memo n=%d token_bytes=%zu us_per_token=%.3f\n", n * 10, strlen(rt),
	       m);
	free(rt);
	free(et);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return 0;
}
