/* Unit tests: the publish fast-path scanner accepts the usual shapes and
 * declines everything else (the full parser then handles it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "pubscan.h"

static int scan(const char *body, struct pubscan_msg **m)
{
	return pubscan_parse(body, strlen(body), m);
}

static void accepts(void **state)
{
	(void)state;
	struct pubscan_msg *m;
	const char *b =
		"{\"messages\":[{\"data\":\"aGk=\"},{\"attributes\":{\"a\":\"b\", \"c\" : \"\"},"
		"\"data\":\"\"}, {\"data\":\"eA==\",\"orderingKey\":\"k\",\"messageId\":\"\","
		"\"publishTime\":\"\"}]}\n";
	assert_int_equal(scan(b, &m), 3);
	assert_int_equal(m[0].data_len, 4);
	assert_memory_equal(m[0].data, "aGk=", 4);
	assert_null(m[0].attrs);
	assert_int_equal(m[1].attrs_len, strlen("{\"a\":\"b\", \"c\" : \"\"}"));
	assert_memory_equal(m[1].attrs, "{\"a\":\"b\", \"c\" : \"\"}", m[1].attrs_len);
	assert_int_equal(m[2].key_len, 1);
	mem_free(m);
	assert_int_equal(scan(" { \"messages\" : [ { \"data\" : \"eA==\" } ] } ", &m), 1);
	mem_free(m);
}

static void declines(void **state)
{
	(void)state;
	struct pubscan_msg *m = NULL;
	const char *bad[] = {
		"",
		"{}",
		"[]",
		"{\"messages\":[]}",
		"{\"messages\":[{}]}",
		"{\"messages\":[{\"data\":\"eA==\"}],\"x\":1}",
		"{\"messages\":[{\"data\":\"e\\u0041==\"}]}",                  /* escape */
		"{\"messages\":[{\"attributes\":{\"k\":\"v\\n\"}}]}",          /* escape */
		"{\"messages\":[{\"attributes\":{\"k\":\"\xc3\xa9\"}}]}",      /* non-ASCII */
		"{\"messages\":[{\"attributes\":{\"k\":1}}]}",                 /* not a string */
		"{\"messages\":[{\"attributes\":{\"k\":\"a\",\"k\":\"b\"}}]}", /* duplicate */
		"{\"messages\":[{\"attributes\":{\"\":\"v\"}}]}",              /* empty key */
		"{\"messages\":[{\"attributes\":{}}]}",                        /* empty message */
		"{\"messages\":[{\"data\":\"eA==\",\"data\":\"eA==\"}]}",      /* repeated field */
		"{\"messages\":[{\"data\":\"eA==\",\"bogus\":\"x\"}]}",
		"{\"messages\":[{\"data\":\"eA==\"}]} x",
		"{\"messages\":[{\"data\":\"eA==\"}",
		"{\"messages\":[{\"data\":\"eA==\"},]}",
		"{\"messages\":[{\"data\":null}]}",
		NULL
	};
	for (int i = 0; bad[i]; i++) {
		if (scan(bad[i], &m) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
	/* 1001 messages: over the limit. */
	size_t cap = 32 + 1001 * 20;
	char *big = mem_alloc(cap);
	size_t len = (size_t)snprintf(big, cap, "{\"messages\":[");
	for (int i = 0; i < 1001; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s{\"data\":\"eA==\"}",
					i ? "," : "");
	len += (size_t)snprintf(big + len, cap - len, "]}");
	assert_int_equal(pubscan_parse(big, len, &m), -1);
	mem_free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(accepts), cmocka_unit_test(declines) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
