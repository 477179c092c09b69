/* Unit tests (model/codec.c): message id <-> stream entry id mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "codec.h"

static void message_ids(void **state)
{
	(void)state;
	char mid[32], eid[64];
	assert_int_equal(codec_message_id("1614366835749-0", mid, sizeof(mid)), 0);
	assert_string_equal(mid, "1614366835749000000");
	assert_int_equal(codec_entry_id(mid, eid, sizeof(eid)), 0);
	assert_string_equal(eid, "1614366835749-0");
	assert_int_equal(codec_message_id("1614366835749-42", mid, sizeof(mid)), 0);
	assert_string_equal(mid, "1614366835749000042");
	assert_int_equal(codec_entry_id(mid, eid, sizeof(eid)), 0);
	assert_string_equal(eid, "1614366835749-42");
	assert_int_equal(codec_message_id("1-1000000", mid, sizeof(mid)), -1);
	assert_int_equal(codec_message_id("abc", mid, sizeof(mid)), -1);
	assert_int_equal(codec_entry_id("12x", eid, sizeof(eid)), -1);
	assert_int_equal(codec_entry_id("", eid, sizeof(eid)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(message_ids) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
