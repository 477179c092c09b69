/* Unit tests (client/common): the duration and timestamp grammar, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base64.h"
#include "duration.h"

static void duration_parse_valid(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(duration_parse("600s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(duration_parse("0s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(duration_parse("0.5s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(duration_parse("1.000000001s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(duration_parse("2678400s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 2678400000LL);
	assert_int_equal(duration_parse("3.25s", DURATION_PROTO3, &ms), 0);
	assert_int_equal(ms, 3250);
}

static void duration_parse_invalid(void **state)
{
	(void)state;
	int64_t ms;
	const char *bad[] = { "",     "s",   "600",           "-1s",
			      "1.s",  ".5s", "1.0000000001s", "10m",
			      "1e3s", " 1s", "1s ",           "99999999999999999999s",
			      NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(duration_parse(bad[i], DURATION_PROTO3, &ms), -1);
	assert_int_equal(duration_parse(NULL, DURATION_PROTO3, &ms), -1);
}

static void duration_formats(void **state)
{
	(void)state;
	char buf[32];
	duration_format(604800000, buf, sizeof(buf));
	assert_string_equal(buf, "604800s");
	duration_format(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1.500s");
	duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

static void timestamp_roundtrip(void **state)
{
	(void)state;
	int64_t ms;
	char buf[40];
	assert_int_equal(timestamp_parse("2021-02-26T19:13:55.749Z", &ms), 0);
	assert_int_equal(ms, 1614366835749LL);
	timestamp_format(ms, buf, sizeof(buf));
	assert_string_equal(buf, "2021-02-26T19:13:55.749Z");
	assert_int_equal(timestamp_parse("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	timestamp_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	/* Offsets and 9 fraction digits. */
	assert_int_equal(timestamp_parse("2021-02-26T21:13:55.749123456+02:00", &ms), 0);
	assert_int_equal(ms, 1614366835749LL);
	assert_int_equal(timestamp_parse("2024-02-29T00:00:00z", &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
}

static void timestamp_invalid(void **state)
{
	(void)state;
	int64_t ms;
	const char *bad[] = { "",
			      "2021-02-26",
			      "2021-02-26T19:13:55",
			      "2021-13-01T00:00:00Z",
			      "2021-02-26 19:13:55Z",
			      "2021-02-26T19:13:55.Z",
			      "2021-02-26T19:13:55.1234567890Z",
			      "2021-02-26T19:13:55Zjunk",
			      "2021-02-26T25:00:00Z",
			      NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(timestamp_parse(bad[i], &ms), -1);
}

static void base64_roundtrip(void **state)
{
	(void)state;
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (int i = 0; i < 7; i++) {
		char enc[16];
		unsigned char dec[16];
		size_t n = strlen(in[i]);
		assert_int_equal(base64_encoded_len(n), strlen(out[i]));
		base64_encode((const unsigned char *)in[i], n, enc);
		assert_string_equal(enc, out[i]);
		long dl = base64_decode(out[i], strlen(out[i]), dec);
		assert_int_equal(dl, (long)n);
		assert_memory_equal(dec, in[i], n);
	}
	/* Binary bytes, and the URL-safe alphabet Google also accepts. */
	unsigned char bin[] = { 0xfb, 0xff, 0x00, 0x10 };
	char enc[16];
	unsigned char dec[16];
	base64_encode(bin, 4, enc);
	assert_string_equal(enc, "+/8AEA==");
	assert_int_equal(base64_decode("-_8AEA", 6, dec), 4);
	assert_memory_equal(dec, bin, 4);
}

static void base64_invalid(void **state)
{
	(void)state;
	unsigned char dec[16];
	assert_int_equal(base64_decode("Zm9v!", 5, dec), -1);
	assert_int_equal(base64_decode("Z", 1, dec), -1);
	assert_int_equal(base64_decode("Zm 9", 4, dec), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_parse_valid), cmocka_unit_test(duration_parse_invalid),
		cmocka_unit_test(duration_formats),     cmocka_unit_test(timestamp_roundtrip),
		cmocka_unit_test(timestamp_invalid),    cmocka_unit_test(base64_roundtrip),
		cmocka_unit_test(base64_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
