/* Unit tests of the regnotify CLI helpers: the --filter parser and
 * evaluator (client/cli/filter.c), durations and RFC 3339 times
 * (client/cli/cli_common.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "filter.h"

/* A message for the evaluator: attributes as a NULL-terminated key, value
 * list plus the gcr data fields. */
struct fake {
	const char *const *kv;
};

static const char *fake_attr(void *arg, const char *key)
{
	const struct fake *f = arg;
	for (size_t i = 0; f->kv && f->kv[i]; i += 2)
		if (strcmp(f->kv[i], key) == 0)
			return f->kv[i + 1];
	return NULL;
}

static int match(const char *expr, const char *const *kv, const char *action, const char *tag,
		 const char *digest)
{
	struct filter *f = NULL;
	char err[256];
	size_t pos = 0;
	if (filter_parse(expr, &f, err, sizeof(err), &pos) != 0)
		fail_msg("parse of '%s' failed at %zu: %s", expr, pos, err);
	struct fake fk = { kv };
	struct filter_msg m = {
		.attr = fake_attr, .arg = &fk, .action = action, .tag = tag, .digest = digest
	};
	int r = filter_match(f, &m);
	filter_free(f);
	return r;
}

static const char *const gcr_attrs[] = { "action",        "INSERT", "repository", "team/app",
					 "iana.org/lang", "en",     NULL };
#define TAG "reg.example/team/app:1.2"
#define DIG "reg.example/team/app@sha256:00"

static void filter_attributes(void **state)
{
	(void)state;
	const char *const *a = gcr_attrs;
	assert_true(match("attributes.action = \"INSERT\"", a, NULL, NULL, NULL));
	assert_false(match("attributes.action = \"DELETE\"", a, NULL, NULL, NULL));
	assert_false(match("attributes.action = \"insert\"", a, NULL, NULL, NULL));
	assert_true(match("attributes.action != \"DELETE\"", a, NULL, NULL, NULL));
	assert_false(match("attributes.action != \"INSERT\"", a, NULL, NULL, NULL));
	/* != is the negation of =: true when the key is missing. */
	assert_true(match("attributes.missing != \"x\"", a, NULL, NULL, NULL));
	assert_false(match("attributes.missing = \"x\"", a, NULL, NULL, NULL));
	assert_true(match("attributes:action", a, NULL, NULL, NULL));
	assert_false(match("attributes:missing", a, NULL, NULL, NULL));
	assert_true(match("hasPrefix(attributes.repository, \"team/\")", a, NULL, NULL, NULL));
	assert_false(match("hasPrefix(attributes.repository, \"other/\")", a, NULL, NULL, NULL));
	assert_false(match("hasPrefix(attributes.missing, \"\")", a, NULL, NULL, NULL));
	assert_true(match("hasPrefix(attributes.repository, \"\")", a, NULL, NULL, NULL));
	assert_true(match("attributes.\"iana.org/lang\" = \"en\"", a, NULL, NULL, NULL));
	assert_true(match("attributes:\"iana.org/lang\"", a, NULL, NULL, NULL));
	assert_true(match("attributes.action = 'INSERT'", a, NULL, NULL, NULL));
	assert_true(match("attributes.action=\"INSERT\"", a, NULL, NULL, NULL));
	/* Escapes in string literals. */
	static const char *const esc[] = { "k", "a\"b\\c\nd\xc3\xa9", NULL };
	assert_true(match("attributes.k = \"a\\\"b\\\\c\\nd\\u00e9\"", esc, NULL, NULL, NULL));
	assert_true(match("attributes.k = \"a\\x22b\\\\c\\nd\\u00E9\"", esc, NULL, NULL, NULL));
	assert_false(match("attributes.k = \"a\"", NULL, NULL, NULL, NULL));
}

static void filter_boolean(void **state)
{
	(void)state;
	const char *const *a = gcr_attrs;
	assert_false(match("NOT attributes:action", a, NULL, NULL, NULL));
	assert_true(match("NOT attributes:missing", a, NULL, NULL, NULL));
	assert_true(match("-attributes:missing", a, NULL, NULL, NULL));
	assert_false(match("- attributes:action", a, NULL, NULL, NULL));
	assert_true(match("NOT NOT attributes:action", a, NULL, NULL, NULL));
	assert_true(match("attributes:action AND attributes:repository", a, NULL, NULL, NULL));
	assert_false(match("attributes:action AND attributes:missing", a, NULL, NULL, NULL));
	assert_true(match("attributes:missing OR attributes:action", a, NULL, NULL, NULL));
	assert_false(match("attributes:missing OR attributes:nope", a, NULL, NULL, NULL));
	assert_true(
		match("attributes:a1 OR attributes:a2 OR attributes:action", a, NULL, NULL, NULL));
	assert_true(match("attributes:action AND (attributes:missing OR attributes:repository)", a,
			  NULL, NULL, NULL));
	assert_false(
		match("attributes:action AND NOT (attributes:missing OR attributes:repository)", a,
		      NULL, NULL, NULL));
	/* NOT binds tighter than AND. */
	assert_true(match("NOT attributes:missing AND attributes:action", a, NULL, NULL, NULL));
	assert_true(match("((attributes:action))", a, NULL, NULL, NULL));
}

static void filter_data_fields(void **state)
{
	(void)state;
	assert_true(match("data.action = \"INSERT\"", NULL, "INSERT", TAG, DIG));
	assert_false(match("data.action = \"DELETE\"", NULL, "INSERT", TAG, DIG));
	assert_true(match("data.action != \"DELETE\"", NULL, "INSERT", TAG, DIG));
	assert_true(match("data:tag", NULL, "INSERT", TAG, DIG));
	assert_false(match("data:tag", NULL, "INSERT", NULL, DIG));
	assert_true(match("NOT data:tag", NULL, "DELETE", NULL, DIG));
	assert_true(match("hasPrefix(data.tag, \"reg.example/team/\")", NULL, "INSERT", TAG, DIG));
	assert_true(match("data.digest = \"" DIG "\"", NULL, "INSERT", TAG, DIG));
	assert_false(match("data.tag = \"x\"", NULL, NULL, NULL, NULL));
	assert_true(match("data.action = \"INSERT\" AND attributes.repository = \"team/app\"",
			  gcr_attrs, "INSERT", TAG, DIG));
}

/* Parses expr expecting an error at byte offset pos whose message
 * contains want. */
static void bad(const char *expr, size_t pos, const char *want)
{
	struct filter *f = (struct filter *)1;
	char err[256] = "";
	size_t at = 9999;
	if (filter_parse(expr, &f, err, sizeof(err), &at) == 0)
		fail_msg("'%s' parsed but should not", expr);
	assert_null(f);
	if (at != pos || !strstr(err, want))
		fail_msg("'%s': error at %zu '%s', expected at %zu containing '%s'", expr, at, err,
			 pos, want);
}

static void filter_errors(void **state)
{
	(void)state;
	bad("", 0, "empty");
	bad("   ", 0, "empty");
	bad("attributes.a = \"x\" AND attributes.b = \"y\" OR attributes.c = \"z\"", 42,
	    "cannot be mixed");
	bad("attributes.a = \"x\" OR attributes.b = \"y\" AND attributes:c", 41, "cannot be mixed");
	bad("attributes.a = x", 15, "string literal");
	bad("attributes.a", 12, "'=' or '!='");
	bad("attributes.a == \"x\"", 14, "string literal");
	bad("attributes.a = \"x", 15, "unterminated");
	bad("\"x\" = attributes.a", 0, "expected a condition");
	bad("attributes.a > \"x\"", 13, "unexpected character");
	bad("(attributes:a", 0, "unbalanced '('");
	bad("attributes:a)", 12, "unbalanced ')'");
	bad("attributes:a attributes:b", 13, "AND, OR");
	bad("attributes:a and attributes:b", 13, "AND, OR");
	bad("data.size = \"1\"", 5, "data field");
	bad("labels.a = \"x\"", 0, "expected a condition");
	bad("hasPrefix(attributes.a \"x\")", 23, "','");
	bad("hasPrefix(attributes.a, \"x\"", 27, "')'");
	bad("hasPrefix(attributes.a, x)", 24, "string literal");
	bad("attributes.a = \"\\q\"", 16, "escape");
	bad("attributes.a = \"\\x00\"", 16, "escape");
	bad("NOT", 3, "expected a condition");
	bad("attributes:a AND", 16, "expected a condition");
	bad("attributes.", 11, "attribute key");
}

static void durations(void **state)
{
	(void)state;
	int64_t ms;
	struct {
		const char *s;
		int64_t ms;
	} good[] = {
		{ "30s", 30000 },    { "15m", 900000 }, { "1h", 3600000 },
		{ "2d", 172800000 }, { "500ms", 500 },  { "1h30m", 5400000 },
		{ "1.5h", 5400000 }, { "0.5s", 500 },   { "1d2h3m4s5ms", 93784005 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		assert_int_equal(cli_parse_duration(good[i].s, &ms, 0), 0);
		assert_int_equal(ms, good[i].ms);
	}
	const char *badv[] = { "",     "30", "s",    "1x",           "-1s", "1 s",      "1h ",
			       "1.s.", ".s", "1e3s", "99999999999d", "0s",  "0.0001ms", NULL };
	for (int i = 0; badv[i]; i++) {
		if (cli_parse_duration(badv[i], &ms, 0) == 0)
			fail_msg("'%s' parsed as a duration", badv[i]);
	}
	assert_int_equal(cli_parse_duration("0s", &ms, 1), 0);
	assert_int_equal(ms, 0);
}

static void times(void **state)
{
	(void)state;
	int64_t ms;
	char buf[40];
	assert_int_equal(cli_parse_rfc3339("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(cli_parse_rfc3339("2026-11-28T10:01:02.123Z", &ms), 0);
	assert_int_equal(ms, 1795860062123LL);
	cli_format_rfc3339(ms, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T10:01:02.123Z");
	assert_int_equal(cli_parse_rfc3339("2026-11-28T11:01:02.123456789+01:00", &ms), 0);
	assert_int_equal(ms, 1795860062123LL);
	assert_int_equal(cli_parse_rfc3339("2026-11-28t05:01:02.1-05:00", &ms), 0);
	assert_int_equal(ms, 1795860062100LL);
	cli_format_rfc3339(5, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.005Z");
	const char *badv[] = { "",
			       "2026-11-28",
			       "2026-11-28T10:01:02",
			       "2026-11-28 10:01:02Z",
			       "2026-13-28T10:01:02Z",
			       "2026-02-30T10:01:02Z",
			       "2026-11-28T24:01:02Z",
			       "2026-11-28T10:01:02.Z",
			       "2026-11-28T10:01:02Zx",
			       "2026-11-28T10:01:02+0100",
			       "1969-12-31T23:59:59Z",
			       NULL };
	for (int i = 0; badv[i]; i++) {
		if (cli_parse_rfc3339(badv[i], &ms) == 0)
			fail_msg("'%s' parsed as RFC 3339", badv[i]);
	}
}

static void exit_codes(void **state)
{
	(void)state;
	assert_int_equal(cli_exit_code(RN_OK), 0);
	assert_int_equal(cli_exit_code(RN_EINVAL), 1);
	assert_int_equal(cli_exit_code(RN_EEXISTS), 1);
	assert_int_equal(cli_exit_code(RN_EINTERNAL), 1);
	assert_int_equal(cli_exit_code(RN_ECONNREFUSED), 3);
	assert_int_equal(cli_exit_code(RN_ETIMEDOUT), 3);
	assert_int_equal(cli_exit_code(RN_EUNAVAIL), 3);
	assert_int_equal(cli_exit_code(RN_ENOTFOUND), 4);
	assert_int_equal(cli_exit_code(RN_EADDRINVAL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filter_attributes),  cmocka_unit_test(filter_boolean),
		cmocka_unit_test(filter_data_fields), cmocka_unit_test(filter_errors),
		cmocka_unit_test(durations),          cmocka_unit_test(times),
		cmocka_unit_test(exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
