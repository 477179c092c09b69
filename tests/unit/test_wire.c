/* Unit tests: the nng frame codec of client/wire.c (docs/protocol.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* Builds a request frame: head + body into buf; returns its length. */
static size_t build(uint8_t *buf, size_t cap, enum wire_method m, const char *path,
		    const char *token, const char *body)
{
	struct wire_req r = { .method = m,
			      .path = path,
			      .path_len = strlen(path),
			      .token = token,
			      .token_len = token ? strlen(token) : 0 };
	size_t n = wire_req_encode_head(buf, cap, &r);
	assert_true(n > 0);
	size_t blen = body ? strlen(body) : 0;
	assert_true(n + blen <= cap);
	if (blen)
		memcpy(buf + n, body, blen);
	return n + blen;
}

static void req_round_trip(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct wire_req out;
	size_t n = build(buf, sizeof(buf), WIRE_POST, "/v1/projects/p/topics/t:publish", "tok",
			 "{\"messages\":[]}");
	assert_int_equal(n, WIRE_HEADER_LEN + 31 + 3 + 15);
	assert_memory_equal(buf, "RN\x01\x03\x00\x1f\x00\x03", 8);
	assert_int_equal(wire_req_decode(buf, n, &out), WIRE_OK);
	assert_int_equal(out.method, WIRE_POST);
	assert_int_equal(out.path_len, 31);
	assert_memory_equal(out.path, "/v1/projects/p/topics/t:publish", 31);
	assert_int_equal(out.token_len, 3);
	assert_memory_equal(out.token, "tok", 3);
	assert_int_equal(out.body_len, 15);
	assert_memory_equal(out.body, "{\"messages\":[]}", 15);
}

static void req_round_trip_minimal(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct wire_req out;
	/* No token, no body, a query string. */
	size_t n =
		build(buf, sizeof(buf), WIRE_GET, "/v1/projects/p/topics?pageSize=2", NULL, NULL);
	assert_int_equal(wire_req_decode(buf, n, &out), WIRE_OK);
	assert_int_equal(out.method, WIRE_GET);
	assert_null(out.token);
	assert_int_equal(out.token_len, 0);
	assert_null(out.body);
	assert_int_equal(out.body_len, 0);
	assert_int_equal(out.path_len, strlen("/v1/projects/p/topics?pageSize=2"));
	/* Every method survives the trip. */
	for (int m = WIRE_GET; m <= WIRE_DELETE; m++) {
		n = build(buf, sizeof(buf), (enum wire_method)m, "/x", "", NULL);
		assert_int_equal(wire_req_decode(buf, n, &out), WIRE_OK);
		assert_int_equal(out.method, m);
		assert_non_null(wire_method_name(m));
	}
	assert_string_equal(wire_method_name(WIRE_DELETE), "DELETE");
	assert_null(wire_method_name(0));
	assert_null(wire_method_name(6));
}

static void req_max_lengths(void **state)
{
	(void)state;
	static uint8_t buf[WIRE_HEADER_LEN + WIRE_PATH_MAX + WIRE_TOKEN_MAX + 8];
	static char path[WIRE_PATH_MAX + 2], token[WIRE_TOKEN_MAX + 2];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[WIRE_PATH_MAX] = '\0';
	memset(token, 't', WIRE_TOKEN_MAX);
	token[WIRE_TOKEN_MAX] = '\0';
	struct wire_req out;
	size_t n = build(buf, sizeof(buf), WIRE_PUT, path, token, "{}");
	assert_int_equal(wire_req_decode(buf, n, &out), WIRE_OK);
	assert_int_equal(out.path_len, WIRE_PATH_MAX);
	assert_int_equal(out.token_len, WIRE_TOKEN_MAX);
	assert_int_equal(out.body_len, 2);
}

static void encode_rejects(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct wire_req r = { .method = WIRE_GET, .path = "/x", .path_len = 2 };
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), WIRE_HEADER_LEN + 2);
	/* cap too small */
	assert_int_equal(wire_req_encode_head(buf, WIRE_HEADER_LEN + 1, &r), 0);
	/* unknown method */
	r.method = (enum wire_method)9;
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), 0);
	r.method = WIRE_GET;
	/* empty path, path without '/', path with NUL */
	r.path_len = 0;
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), 0);
	r.path = "x";
	r.path_len = 1;
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), 0);
	r.path = "/a\0b";
	r.path_len = 4;
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), 0);
	/* path too long */
	static char longp[WIRE_PATH_MAX + 1];
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	static uint8_t big[WIRE_HEADER_LEN + WIRE_PATH_MAX + 64];
	r.path = longp;
	r.path_len = WIRE_PATH_MAX + 1;
	assert_int_equal(wire_req_encode_head(big, sizeof(big), &r), 0);
	/* token with NUL, token too long */
	r.path = "/x";
	r.path_len = 2;
	r.token = "a\0b";
	r.token_len = 3;
	assert_int_equal(wire_req_encode_head(buf, sizeof(buf), &r), 0);
	static char longt[WIRE_TOKEN_MAX + 1];
	memset(longt, 't', sizeof(longt));
	static uint8_t big2[WIRE_HEADER_LEN + WIRE_TOKEN_MAX + 64];
	r.token = longt;
	r.token_len = WIRE_TOKEN_MAX + 1;
	assert_int_equal(wire_req_encode_head(big2, sizeof(big2), &r), 0);
}

static void decode_malformed(void **state)
{
	(void)state;
	uint8_t good[64], f[64];
	struct wire_req out;
	size_t n = build(good, sizeof(good), WIRE_POST, "/ab", "tk", "{}");

	/* shorter than the header, at every length */
	for (size_t len = 0; len < WIRE_HEADER_LEN; len++)
		assert_int_equal(wire_req_decode(good, len, &out), WIRE_ESHORT);
	/* shorter than the declared path + token */
	for (size_t len = WIRE_HEADER_LEN; len < WIRE_HEADER_LEN + 5; len++)
		assert_int_equal(wire_req_decode(good, len, &out), WIRE_ESHORT);
	memcpy(f, good, n);
	f[4] = 0xff; /* path length 65280+ */
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_ESHORT);

	memcpy(f, good, n);
	f[0] = 'X';
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EMAGIC);
	memcpy(f, good, n);
	f[1] = 'n';
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EMAGIC);

	memcpy(f, good, n);
	f[2] = 2;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EVERSION);
	f[2] = 0;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EVERSION);

	memcpy(f, good, n);
	f[3] = 0;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EMETHOD);
	f[3] = 6;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EMETHOD);

	/* empty path */
	memcpy(f, good, n);
	f[5] = 0;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EPATH);
	/* path not starting with '/' */
	memcpy(f, good, n);
	f[8] = 'a';
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EPATH);
	/* path with NUL */
	memcpy(f, good, n);
	f[9] = 0;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_EPATH);
	/* token with NUL */
	memcpy(f, good, n);
	f[12] = 0;
	assert_int_equal(wire_req_decode(f, n, &out), WIRE_ETOKEN);
}

static void decode_too_long(void **state)
{
	(void)state;
	/* Declared lengths over the maxima (the frame is long enough). */
	static uint8_t f[WIRE_HEADER_LEN + 8192];
	struct wire_req out;
	memset(f, 'a', sizeof(f));
	memcpy(f, "RN\x01\x01", 4);
	f[WIRE_HEADER_LEN] = '/';
	f[4] = (WIRE_PATH_MAX + 1) >> 8;
	f[5] = (WIRE_PATH_MAX + 1) & 0xff;
	f[6] = f[7] = 0;
	assert_int_equal(wire_req_decode(f, sizeof(f), &out), WIRE_EPATH);
	f[4] = 0;
	f[5] = 2;
	f[6] = (WIRE_TOKEN_MAX + 1) >> 8;
	f[7] = (WIRE_TOKEN_MAX + 1) & 0xff;
	assert_int_equal(wire_req_decode(f, sizeof(f), &out), WIRE_ETOKEN);
}

static void rep_round_trip(void **state)
{
	(void)state;
	uint8_t f[128];
	struct wire_rep out;
	const char *body = "{\"error\":{\"code\":404}}";
	wire_rep_encode_head(f, 404);
	memcpy(f + WIRE_HEADER_LEN, body, strlen(body));
	assert_memory_equal(f, "RN\x01\x00\x01\x94\x00\x00", 8);
	assert_int_equal(wire_rep_decode(f, WIRE_HEADER_LEN + strlen(body), &out), WIRE_OK);
	assert_int_equal(out.status, 404);
	assert_int_equal(out.body_len, strlen(body));
	assert_memory_equal(out.body, body, out.body_len);
	/* No body */
	wire_rep_encode_head(f, 200);
	assert_int_equal(wire_rep_decode(f, WIRE_HEADER_LEN, &out), WIRE_OK);
	assert_int_equal(out.status, 200);
	assert_int_equal(out.body_len, 0);
	assert_null(out.body);
	/* Largest status */
	wire_rep_encode_head(f, 65535);
	assert_int_equal(wire_rep_decode(f, WIRE_HEADER_LEN, &out), WIRE_OK);
	assert_int_equal(out.status, 65535);
}

static void rep_malformed(void **state)
{
	(void)state;
	uint8_t f[16];
	struct wire_rep out;
	wire_rep_encode_head(f, 200);
	for (size_t len = 0; len < WIRE_HEADER_LEN; len++)
		assert_int_equal(wire_rep_decode(f, len, &out), WIRE_ESHORT);
	f[0] = 'r';
	assert_int_equal(wire_rep_decode(f, WIRE_HEADER_LEN, &out), WIRE_EMAGIC);
	f[0] = 'R';
	f[2] = 9;
	assert_int_equal(wire_rep_decode(f, WIRE_HEADER_LEN, &out), WIRE_EVERSION);
}

static void strerror_all(void **state)
{
	(void)state;
	const char *seen[8] = { 0 };
	for (int r = WIRE_OK; r <= WIRE_ETOKEN; r++) {
		const char *s = wire_strerror((enum wire_result)r);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown wire error");
		for (int j = 0; j < r; j++)
			assert_string_not_equal(s, seen[j]);
		seen[r] = s;
	}
	assert_string_equal(wire_strerror((enum wire_result)99), "unknown wire error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(req_round_trip),   cmocka_unit_test(req_round_trip_minimal),
		cmocka_unit_test(req_max_lengths),  cmocka_unit_test(encode_rejects),
		cmocka_unit_test(decode_malformed), cmocka_unit_test(decode_too_long),
		cmocka_unit_test(rep_round_trip),   cmocka_unit_test(rep_malformed),
		cmocka_unit_test(strerror_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
