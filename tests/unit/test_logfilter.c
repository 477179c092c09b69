/* Unit tests: broker/model/logfilter.c - the Logging filter subset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "logfilter.h"

static int m(const char *filter, const char *entry)
{
	char err[256];
	struct logfilter *f = logfilter_parse(filter, err, sizeof(err));
	if (f == NULL)
		return -1;
	json_t *e = json_loads(entry, 0, NULL);
	int r = logfilter_match(f, e);
	json_decref(e);
	logfilter_free(f);
	return r;
}

static const char E[] = "{\"logName\":\"projects/p/logs/cloudaudit.googleapis.com%2Factivity\","
			"\"severity\":\"NOTICE\",\"timestamp\":\"2026-12-03T10:00:00.123456Z\","
			"\"resource\":{\"type\":\"pubsub_topic\"},\"protoPayload\":{\"methodName\":"
			"\"google.pubsub.v1.Publisher.DeleteTopic\",\"authenticationInfo\":"
			"{\"principalEmail\":\"ci@p.iam.regnotify\"}}}";

static void matching(void **state)
{
	(void)state;
	assert_int_equal(m(NULL, E), 1);
	assert_int_equal(m("  ", E), 1);
	assert_int_equal(m("severity=NOTICE", E), 1);
	assert_int_equal(m("severity>=INFO", E), 1);
	assert_int_equal(m("severity>=ERROR", E), 0);
	assert_int_equal(m("severity<WARNING", E), 1);
	assert_int_equal(m("resource.type=\"pubsub_topic\"", E), 1);
	assert_int_equal(m("resource.type!=pubsub_topic", E), 0);
	assert_int_equal(m("protoPayload.methodName:\"DeleteTopic\"", E), 1);
	assert_int_equal(m("logName:activity", E), 1);
	assert_int_equal(m("timestamp>=\"2026-12-03T10:00:00Z\"", E), 1);
	assert_int_equal(m("timestamp<\"2026-12-03T10:00:00Z\"", E), 0);
	assert_int_equal(m("timestamp>=\"2026-12-03T11:00:00+01:00\"", E), 1);
	assert_int_equal(m("severity=NOTICE AND resource.type=pubsub_subscription", E), 0);
	assert_int_equal(m("severity=NOTICE resource.type=pubsub_topic", E), 1); /* implicit AND */
	assert_int_equal(m("severity=ERROR OR resource.type=pubsub_topic", E), 1);
	assert_int_equal(m("NOT severity=ERROR", E), 1);
	assert_int_equal(m("-severity=NOTICE", E), 0);
	assert_int_equal(m("(severity=ERROR OR severity=NOTICE) AND "
			   "protoPayload.authenticationInfo.principalEmail=\"ci@p.iam.regnotify\"",
			   E),
			 1);
	assert_int_equal(m("protoPayload.missing=x", E), 0);
	assert_int_equal(m("protoPayload.missing!=x", E), 1);
}

static void refusing(void **state)
{
	(void)state;
	const char *bad[] = { "severity=", "(severity=INFO", "severity INFO",
			      "=x",        "a==b)",          "a=\"unterminated" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		struct logfilter *f = logfilter_parse(bad[i], err, sizeof(err));
		if (f)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "Invalid filter"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matching),
		cmocka_unit_test(refusing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
