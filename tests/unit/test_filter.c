/* Unit tests of the filter language (client/common/filter.c) against the
 * shared table tests/data/filter_cases.json: every valid filter parses (as
 * a subscription's filter, FILTER_ATTRIBUTES_ONLY), compiles to a program
 * and matches exactly the messages the table says; every invalid one fails
 * with its error at its column. tests/integration/test_filter.py runs the
 * same table through the broker (the Lua evaluator of the program). */
#include "filter.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static json_t *table;

static const char *attr_of(void *arg, const char *key)
{
	return json_string_value(json_object_get((json_t *)arg, key));
}

static int setup(void **state)
{
	(void)state;
	json_error_t je;
	table = json_load_file(RN_FILTER_CASES, 0, &je);
	if (table == NULL)
		fprintf(stderr, "%s: %s (line %d)\n", RN_FILTER_CASES, je.text, je.line);
	return table ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(table);
	return 0;
}

static int listed(json_t *arr, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), id) == 0) return 1;
	return 0;
}

static void valid_filters_match_the_table(void **state)
{
	(void)state;
	json_t *msgs = json_object_get(table, "messages"), *c;
	size_t i;
	assert_true(json_array_size(json_object_get(table, "valid")) >= 40);
	json_array_foreach(json_object_get(table, "valid"), i, c)
	{
		const char *expr = json_string_value(json_object_get(c, "filter"));
		struct filter *f = NULL;
		char err[200] = "";
		size_t pos = 0;
		int rc = filter_parse_flags(expr, FILTER_ATTRIBUTES_ONLY, &f, err, sizeof(err),
					    &pos);
		if (rc != 0)
			fail_msg("%s: %s at %zu", expr, err, pos);
		char *prog = filter_program(f);
		assert_non_null(prog);
		json_t *pj = json_loads(prog, 0, NULL);
		assert_true(json_is_array(pj));
		json_decref(pj);
		free(prog);
		const char *id;
		json_t *attrs;
		json_object_foreach(msgs, id, attrs)
		{
			struct filter_msg m = { .attr = attr_of, .arg = attrs };
			int want = listed(json_object_get(c, "matches"), id);
			if (filter_match(f, &m) != want)
				fail_msg("%s on %s: expected %s", expr, id,
					 want ? "a match" : "none");
		}
		filter_free(f);
	}
}

static void invalid_filters_fail_at_their_column(void **state)
{
	(void)state;
	json_t *c;
	size_t i;
	assert_true(json_array_size(json_object_get(table, "invalid")) >= 20);
	json_array_foreach(json_object_get(table, "invalid"), i, c)
	{
		const char *expr = json_string_value(json_object_get(c, "filter"));
		const char *want = json_string_value(json_object_get(c, "error"));
		long long col = json_integer_value(json_object_get(c, "column"));
		struct filter *f = NULL;
		char err[200] = "";
		size_t pos = 0;
		if (filter_parse_flags(expr, FILTER_ATTRIBUTES_ONLY, &f, err, sizeof(err), &pos) ==
		    0)
			fail_msg("%s: accepted", expr);
		assert_null(f);
		if (strstr(err, want) == NULL || (long long)pos + 1 != col)
			fail_msg("%s: got \"%s\" at column %zu, expected \"%s\" at column %lld",
				 expr, err, pos + 1, want, col);
	}
}

/* The CLI's extension stays the CLI's: data.FIELD parses without the flag,
 * and then has no program (the broker never sees it). */
static void data_fields_are_the_clis_only(void **state)
{
	(void)state;
	struct filter *f = NULL;
	char err[200];
	size_t pos;
	assert_int_equal(filter_parse("data.action = \"INSERT\" AND attributes:x", &f, err,
				      sizeof(err), &pos),
			 0);
	assert_true(filter_uses_data(f));
	assert_null(filter_program(f));
	filter_free(f);
	assert_int_equal(
		filter_parse("attributes:x AND -attributes.y = \"1\"", &f, err, sizeof(err), &pos),
		0);
	assert_false(filter_uses_data(f));
	char *prog = filter_program(f);
	assert_string_equal(prog, "[\"and\",[\"has\",\"x\"],[\"not\",[\"eq\",\"y\",\"1\"]]]");
	free(prog);
	filter_free(f);
	/* A chain of one operator is one flat list. */
	assert_int_equal(filter_parse_flags("attributes:a OR attributes:b OR (attributes:c)",
					    FILTER_ATTRIBUTES_ONLY, &f, err, sizeof(err), &pos),
			 0);
	prog = filter_program(f);
	assert_string_equal(prog, "[\"or\",[\"has\",\"a\"],[\"has\",\"b\"],[\"has\",\"c\"]]");
	free(prog);
	filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_filters_match_the_table),
		cmocka_unit_test(invalid_filters_fail_at_their_column),
		cmocka_unit_test(data_fields_are_the_clis_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
