/* Unit tests: resource IDs and the Topic / Subscription JSON forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fields.h"
#include "names.h"
#include "subscription.h"
#include "topic.h"

static void ids(void **state)
{
	(void)state;
	char long_ok[256], too_long[257];
	memset(long_ok, 'a', 255);
	long_ok[255] = '\0';
	memset(too_long, 'a', 256);
	too_long[256] = '\0';
	const char *good[] = { "abc", "my-topic", "T_1.2~3+4%5", "mi-t%C3%B3pico", long_ok, NULL };
	const char *bad[] = { "",          "ab",        "1abc",  "-abc", "goog-x", "googl",
			      "has space", "mi-tópico", "a/b/c", "a:bc", too_long, NULL };
	for (int i = 0; good[i]; i++)
		assert_int_equal(names_valid_id(good[i]), 0);
	for (int i = 0; bad[i]; i++)
		assert_int_equal(names_valid_id(bad[i]), -1);
	assert_int_equal(names_valid_project("p"), 0);
	assert_int_equal(names_valid_project("my-project-123"), 0);
	assert_int_equal(names_valid_project(""), -1);
	assert_int_equal(names_valid_project("a/b"), -1);
}

static void split_name(void **state)
{
	(void)state;
	char p[101], id[256];
	assert_int_equal(
		names_split("projects/p/topics/top", "topics", p, sizeof(p), id, sizeof(id)), 0);
	assert_string_equal(p, "p");
	assert_string_equal(id, "top");
	assert_int_equal(
		names_split("projects/p/subscriptions/top", "topics", p, sizeof(p), id, sizeof(id)),
		-1);
	assert_int_equal(
		names_split("projects/p/topics/goog1", "topics", p, sizeof(p), id, sizeof(id)), -1);
	assert_int_equal(
		names_split("projects/p/topics/a/b", "topics", p, sizeof(p), id, sizeof(id)), -1);
	assert_int_equal(names_split("topics/top", "topics", p, sizeof(p), id, sizeof(id)), -1);
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void topic_json(void **state)
{
	(void)state;
	struct topic_cfg cfg;
	char err[256];
	int status;
	assert_int_equal(topic_from_json(NULL, &cfg, err, sizeof(err)), ERR_OK);
	char *s = dump(topic_to_json("p", "t1x", &cfg));
	assert_string_equal(s, "{\"name\":\"projects/p/topics/t1x\",\"state\":\"ACTIVE\"}");
	free(s);
	json_t *in = json_loads("{\"labels\":{\"env\":\"prod\"},\"messageRetentionDuration\":"
				"\"600s\",\"name\":\"ignored\"}",
				0, NULL);
	assert_int_equal(topic_from_json(in, &cfg, err, sizeof(err)), ERR_OK);
	s = dump(topic_to_json("p", "t1x", &cfg));
	assert_string_equal(s, "{\"name\":\"projects/p/topics/t1x\",\"labels\":{\"env\":\"prod\"},"
			       "\"messageRetentionDuration\":\"600s\",\"state\":\"ACTIVE\"}");
	free(s);
	topic_cleanup(&cfg);
	json_decref(in);
	const char *bad[] = { "{\"messageRetentionDuration\":\"599s\"}",
			      "{\"messageRetentionDuration\":\"2678401s\"}",
			      "{\"messageRetentionDuration\":600}",
			      "{\"labels\":{\"Env\":\"x\"}}",
			      "{\"labels\":[]}",
			      "{\"bogus\":1}",
			      "{\"kmsKeyName\":\"k\"}",
			      "{\"tags\":{\"a\":\"b\"}}",
			      NULL };
	for (int i = 0; bad[i]; i++) {
		in = json_loads(bad[i], 0, NULL);
		status = errors_http_status(topic_from_json(in, &cfg, err, sizeof(err)));
		assert_int_not_equal(status, 200);
		assert_true(strlen(err) > 0);
		assert_int_equal(
			status, strstr(bad[i], "kmsKeyName") || strstr(bad[i], "tags") ? 501 : 400);
		json_decref(in);
	}
	/* Unsupported fields in their empty form, as client libraries send them. */
	in = json_loads("{\"labels\":{},\"tags\":{},\"messageTransforms\":[]}", 0, NULL);
	assert_int_equal(topic_from_json(in, &cfg, err, sizeof(err)), ERR_OK);
	json_decref(in);
}

static void subscription_defaults(void **state)
{
	(void)state;
	struct sub_cfg cfg;
	char err[256];
	json_t *in = json_loads("{\"topic\":\"projects/p/topics/top\"}", 0, NULL);
	assert_int_equal(subscription_from_json(in, &cfg, 0, err, sizeof(err)), ERR_OK);
	char *s = dump(subscription_to_json("p", "sub", &cfg));
	assert_string_equal(s, "{\"name\":\"projects/p/subscriptions/sub\",\"topic\":"
			       "\"projects/p/topics/top\",\"pushConfig\":{},\"ackDeadlineSeconds\""
			       ":10,\"messageRetentionDuration\":\"604800s\",\"expirationPolicy\":"
			       "{\"ttl\":\"2678400s\"},\"state\":\"ACTIVE\"}");
	free(s);
	subscription_cleanup(&cfg);
	json_decref(in);
}

static void subscription_full(void **state)
{
	(void)state;
	struct sub_cfg cfg;
	char err[256];
	json_t *in =
		json_loads("{\"topic\":\"projects/p/topics/top\",\"ackDeadlineSeconds\":60,"
			   "\"expirationPolicy\":{},\"deadLetterPolicy\":{\"deadLetterTopic\":"
			   "\"projects/p/topics/dlq\"},\"retryPolicy\":{\"minimumBackoff\":\"1s\"},"
			   "\"enableMessageOrdering\":false,\"pushConfig\":{}}",
			   0, NULL);
	assert_int_equal(subscription_from_json(in, &cfg, 0, err, sizeof(err)), ERR_OK);
	assert_int_equal(cfg.ack_deadline_s, 60);
	assert_int_equal(cfg.expiration_ttl_ms, -1);
	assert_int_equal(cfg.max_delivery_attempts, 5);
	assert_int_equal(cfg.retry_min_ms, 1000);
	assert_int_equal(cfg.retry_max_ms, 600000);
	char *s = dump(subscription_to_json("p", "sub", &cfg));
	assert_non_null(strstr(s, "\"expirationPolicy\":{}"));
	assert_non_null(strstr(s, "\"deadLetterPolicy\":{\"deadLetterTopic\":\"projects/p/topics/"
				  "dlq\",\"maxDeliveryAttempts\":5}"));
	assert_non_null(strstr(s, "\"retryPolicy\":{\"minimumBackoff\":\"1s\",\"maximumBackoff\":"
				  "\"600s\"}"));
	free(s);
	subscription_cleanup(&cfg);
	json_decref(in);
}

static void subscription_invalid(void **state)
{
	(void)state;
	struct sub_cfg cfg;
	char err[256];
	int status;
	const char *bad400[] = {
		"{}",
		"{\"topic\":\"top\"}",
		"{\"topic\":\"projects/p/topics/t\"}",
		"{\"topic\":\"projects/p/topics/top\",\"ackDeadlineSeconds\":9}",
		"{\"topic\":\"projects/p/topics/top\",\"ackDeadlineSeconds\":601}",
		"{\"topic\":\"projects/p/topics/top\",\"ackDeadlineSeconds\":\"x\"}",
		"{\"topic\":\"projects/p/topics/top\",\"messageRetentionDuration\":\"60s\"}",
		"{\"topic\":\"projects/p/topics/top\",\"expirationPolicy\":{\"ttl\":\"3600s\"}}",
		"{\"topic\":\"projects/p/topics/top\",\"deadLetterPolicy\":{\"deadLetterTopic\":"
		"\"projects/p/topics/dlq\",\"maxDeliveryAttempts\":4}}",
		"{\"topic\":\"projects/p/topics/top\",\"deadLetterPolicy\":{}}",
		"{\"topic\":\"projects/p/topics/top\",\"retryPolicy\":{\"minimumBackoff\":\"601s\"}}",
		"{\"topic\":\"projects/p/topics/top\",\"retryPolicy\":{\"minimumBackoff\":\"20s\","
		"\"maximumBackoff\":\"10s\"}}",
		"{\"topic\":\"projects/p/topics/top\",\"nope\":true}",
		"{\"topic\":\"projects/p/topics/top\",\"filter\":\"attributes.x = y\"}",
		"{\"topic\":\"projects/p/topics/top\",\"filter\":\"data.action = \\\"x\\\"\"}",
		"{\"topic\":\"projects/p/topics/top\",\"filter\":7}",
		"{\"topic\":\"projects/p/topics/top\",\"retainAckedMessages\":\"yes\"}",
		NULL
	};
	for (int i = 0; bad400[i]; i++) {
		json_t *in = json_loads(bad400[i], 0, NULL);
		status = errors_http_status(subscription_from_json(in, &cfg, 0, err, sizeof(err)));
		assert_int_not_equal(status, 200);
		assert_int_equal(status, 400);
		json_decref(in);
	}
	/* 256 bytes are allowed, 257 are not. */
	char big[400];
	for (size_t n = 256; n <= 257; n++) {
		char f[300];
		memset(f, ' ', n);
		memcpy(f, "attributes:x", 12);
		f[n] = '\0';
		snprintf(big, sizeof(big),
			 "{\"topic\":\"projects/p/topics/top\",\"filter\":\"%s\"}", f);
		json_t *in = json_loads(big, 0, NULL);
		status = errors_http_status(subscription_from_json(in, &cfg, 0, err, sizeof(err)));
		assert_int_equal(status, n == 256 ? 200 : 400);
		if (n == 256) {
			assert_string_equal(cfg.filter_prog, "[\"has\",\"x\"]");
			json_t *out = subscription_to_json("p", "s", &cfg);
			assert_string_equal(json_string_value(json_object_get(out, "filter")), f);
			json_decref(out);
			subscription_cleanup(&cfg);
		} else {
			assert_non_null(strstr(err, "257 bytes"));
		}
		json_decref(in);
	}
	json_t *in = json_loads(
		"{\"topic\":\"projects/p/topics/top\",\"filter\":\"attributes.a = \\\"1\\\" AND data:x\"}",
		0, NULL);
	assert_int_equal(errors_http_status(subscription_from_json(in, &cfg, 0, err, sizeof(err))),
			 400);
	assert_non_null(strstr(err, "(at column 24)"));
	json_decref(in);
	const char *bad501[] = {
		"{\"topic\":\"projects/p/topics/top\",\"bigqueryConfig\":{\"table\":\"a.b.c\"}}",
		NULL
	};
	for (int i = 0; bad501[i]; i++) {
		in = json_loads(bad501[i], 0, NULL);
		status = errors_http_status(subscription_from_json(in, &cfg, 0, err, sizeof(err)));
		assert_int_not_equal(status, 200);
		assert_int_equal(status, 501);
		json_decref(in);
	}
}

static void update_mask(void **state)
{
	(void)state;
	static const char *const allowed[] = { "labels", "ackDeadlineSeconds", "retryPolicy",
					       NULL };
	char err[256];
	json_t *stored =
		json_loads("{\"ackDeadlineSeconds\":10,\"labels\":{\"a\":\"b\"}}", 0, NULL);
	json_t *patch = json_loads("{\"ackDeadlineSeconds\":30,\"retryPolicy\":"
				   "{\"minimumBackoff\":\"5s\"}}",
				   0, NULL);
	assert_int_equal(fields_apply_mask(stored, patch,
					   "ackDeadlineSeconds,labels,"
					   "retryPolicy.minimumBackoff",
					   allowed, err, sizeof(err)),
			 0);
	char *s = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"ackDeadlineSeconds\":30,\"retryPolicy\":{\"minimumBackoff\":"
			       "\"5s\"}}");
	free(s);
	assert_int_equal(fields_apply_mask(stored, patch, "", allowed, err, sizeof(err)), -1);
	assert_int_equal(fields_apply_mask(stored, patch, "topic", allowed, err, sizeof(err)), -1);
	json_decref(stored);
	json_decref(patch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids),
		cmocka_unit_test(split_name),
		cmocka_unit_test(topic_json),
		cmocka_unit_test(subscription_defaults),
		cmocka_unit_test(subscription_full),
		cmocka_unit_test(subscription_invalid),
		cmocka_unit_test(update_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
