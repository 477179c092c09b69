/* Unit tests: push request bodies, headers and signatures, and pushConfig
 * validation (SSRF guard, secrets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "push_config.h"
#include "push_format.h"

static void signatures(void **state)
{
	(void)state;
	/* The Standard Webhooks specification's example. */
	struct push_cfg cfg;
	json_t *pc = json_loads("{\"pushEndpoint\":\"http://x/\",\"standardWebhooks\":{\"secret\":"
				"\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
				0, NULL);
	assert_int_equal(push_config_parse(pc, &cfg), 0);
	char sig[128];
	const char *body = "{\"test\": 2432232314}";
	push_format_webhook_signature(cfg.whsec, cfg.whsec_len, "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      1614265330, body, strlen(body), sig, sizeof(sig));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	push_format_hub_signature("s3cret", body, strlen(body), sig, sizeof(sig));
	assert_string_equal(sig, "sha256=17db78689dcba1572d42dfdc8a61b169b291c1ea3ee9c169d78d9fe57"
				 "c2bc55d");
	json_decref(pc);
}

static int has(struct curl_slist *h, const char *line)
{
	for (; h; h = h->next)
		if (strcmp(h->data, line) == 0)
			return 1;
	return 0;
}

static int count_prefix(struct curl_slist *h, const char *prefix)
{
	int n = 0;
	for (; h; h = h->next)
		n += strncasecmp(h->data, prefix, strlen(prefix)) == 0;
	return n;
}

static void formats(void **state)
{
	(void)state;
	const char *attrs = "{\"action\":\"INSERT\",\"Content-Length\":\"0\",\"Host\":\"evil\","
			    "\"webhook-id\":\"spoofed\",\"x-goog-pubsub-message-id\":\"spoofed\","
			    "\"team\":\"a\"}";
	const char *data =
		"{\"action\":\"INSERT\",\"digest\":\"h/r@sha256:00\",\"tag\":\"h/r:1.0\"}";
	struct push_msg m = { "1000000", data, strlen(data), attrs, strlen(attrs), "", 1000, 3 };
	struct push_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct push_target t = { "projects/p/subscriptions/s", "projects/p/topics/t", 1, &cfg,
				 NULL };
	struct curl_slist *h;
	char *body;
	size_t len;

	/* An oidcToken's token is the Authorization header. */
	t.bearer = "eyJ.test.sig";
	push_format_build(&t, &m, 1, &h, &body, &len);
	int seen_bearer = 0;
	for (struct curl_slist *p = h; p; p = p->next)
		seen_bearer |= strcmp(p->data, "Authorization: Bearer eyJ.test.sig") == 0;
	assert_true(seen_bearer);
	curl_slist_free_all(h);
	free(body);
	t.bearer = NULL;

	push_format_build(&t, &m, 1, &h, &body, &len);
	json_t *o = json_loadb(body, len, 0, NULL);
	assert_non_null(o);
	json_t *msg = json_object_get(o, "message");
	assert_string_equal(json_string_value(json_object_get(msg, "messageId")), "1000000");
	assert_string_equal(json_string_value(json_object_get(msg, "message_id")), "1000000");
	assert_string_equal(json_string_value(json_object_get(msg, "publishTime")),
			    "1970-01-01T00:00:01.000Z");
	assert_string_equal(json_string_value(json_object_get(msg, "publish_time")),
			    "1970-01-01T00:00:01.000Z");
	assert_null(json_object_get(msg, "orderingKey"));
	assert_int_equal(json_integer_value(json_object_get(o, "deliveryAttempt")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "subscription")),
			    "projects/p/subscriptions/s");
	json_decref(o);
	free(body);
	curl_slist_free_all(h);

	/* noWrapper + writeMetadata: attributes become headers, but never
	 * framing or broker-owned ones. */
	cfg.format = PUSH_UNWRAPPED;
	cfg.write_metadata = 1;
	push_format_build(&t, &m, 1, &h, &body, &len);
	assert_int_equal(len, strlen(data));
	assert_true(has(h, "team: a"));
	assert_true(has(h, "x-goog-pubsub-message-id: 1000000"));
	assert_int_equal(count_prefix(h, "x-goog-pubsub-message-id:"), 1);
	assert_int_equal(count_prefix(h, "Content-Length:"), 0);
	assert_int_equal(count_prefix(h, "Host:"), 0);
	assert_int_equal(count_prefix(h, "webhook-id:"), 0);
	free(body);
	curl_slist_free_all(h);

	/* CloudEvents binary mode. */
	cfg.format = PUSH_CLOUDEVENTS;
	snprintf(cfg.ce_type_prefix, sizeof(cfg.ce_type_prefix), "dev.regnotify");
	push_format_build(&t, &m, 1, &h, &body, &len);
	assert_true(has(h, "ce-specversion: 1.0"));
	assert_true(has(h, "ce-id: 1000000"));
	assert_true(has(h, "ce-type: dev.regnotify.image.inserted"));
	assert_true(has(h, "ce-source: //regnotify/projects/p/topics/t"));
	assert_true(has(h, "ce-subject: h/r:1.0"));
	assert_true(has(h, "Content-Type: application/json"));
	free(body);
	curl_slist_free_all(h);
}

static void validation(void **state)
{
	(void)state;
	int is_push, status;
	char err[256];
	const char *ok[] = {
		"{}", "{\"pushEndpoint\":\"\"}", "{\"pushEndpoint\":\"https://a.example/x\"}",
		"{\"pushEndpoint\":\"http://127.0.0.1:9/h\",\"noWrapper\":{\"writeMetadata\":"
		"true}}",
		NULL
	};
	for (int i = 0; ok[i]; i++) {
		json_t *pc = json_loads(ok[i], 0, NULL);
		assert_int_equal(push_config_validate(pc, 0, &is_push, err, sizeof(err)), ERR_OK);
		assert_int_equal(is_push, i >= 2);
		json_decref(pc);
	}
	const char *bad[] = {
		"{\"pushEndpoint\":\"ftp://a/\"}",
		"{\"pushEndpoint\":\"not a url\"}",
		"{\"pushEndpoint\":\"http://169.254.169.254/\"}",
		"{\"pushEndpoint\":\"http://[fe80::1]/\"}",
		"{\"pushEndpoint\":\"http://[fd00:ec2::254]/\"}",
		"{\"pushEndpoint\":\"http://metadata.google.internal/\"}",
		"{\"pushEndpoint\":\"http://a/\",\"noWrapper\":{},\"pubsubWrapper\":{}}",
		"{\"pushEndpoint\":\"http://a/\",\"standardWebhooks\":{\"secret\":\"x\"}}",
		"{\"pushEndpoint\":\"http://a/\",\"authorization\":\"a\\r\\nb\"}",
		"{\"pushEndpoint\":\"http://a/\",\"bogus\":1}",
		NULL
	};
	for (int i = 0; bad[i]; i++) {
		json_t *pc = json_loads(bad[i], 0, NULL);
		status =
			errors_http_status(push_config_validate(pc, 0, &is_push, err, sizeof(err)));
		if (status == 200)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(status, 400);
		json_decref(pc);
	}
	json_t *pc = json_loads("{\"pushEndpoint\":\"http://169.254.169.254/\"}", 0, NULL);
	assert_int_equal(push_config_validate(pc, 1, &is_push, err, sizeof(err)), ERR_OK);
	json_decref(pc);
	pc = json_loads("{\"pushEndpoint\":\"http://a/\",\"oidcToken\":{\"audience\":\"x\"}}", 0,
			NULL);
	status = errors_http_status(push_config_validate(pc, 0, &is_push, err, sizeof(err)));
	assert_int_equal(status, 400); /* an oidcToken needs its serviceAccountEmail */
	json_decref(pc);
	pc = json_loads("{\"pushEndpoint\":\"http://a/\",\"oidcToken\":{\"serviceAccountEmail\":"
			"\"p@q.iam.regnotify\",\"audience\":\"x\"}}",
			0, NULL);
	assert_int_equal(push_config_validate(pc, 0, &is_push, err, sizeof(err)), ERR_OK);
	struct push_cfg oc;
	assert_int_equal(push_config_parse(pc, &oc), 0);
	assert_string_equal(oc.oidc_email, "p@q.iam.regnotify");
	assert_string_equal(oc.oidc_audience, "x");
	json_decref(pc);
	/* Redaction and keeping secrets. */
	json_t *full =
		json_loads("{\"pushEndpoint\":\"http://a/\",\"hubSignature\":{\"secret\":\"s\"},"
			   "\"authorization\":\"Bearer t\"}",
			   0, NULL);
	json_t *red = push_config_redact(full);
	char *txt = json_dumps(red, JSON_COMPACT);
	assert_null(strstr(txt, "Bearer t"));
	assert_null(strstr(txt, "\"s\""));
	free(txt);
	assert_int_equal(push_config_keep_secrets(red, full, err, sizeof(err)), 0);
	assert_true(json_equal(red, full));
	json_decref(red);
	red = push_config_redact(full);
	assert_int_equal(push_config_keep_secrets(red, NULL, err, sizeof(err)), -1);
	json_decref(red);
	json_decref(full);
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, "169.254.1.1", &a.sin_addr);
	assert_true(push_config_forbidden_addr((struct sockaddr *)&a));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_false(push_config_forbidden_addr((struct sockaddr *)&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(signatures), cmocka_unit_test(formats),
					    cmocka_unit_test(validation) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
