/* Unit tests: broker/model/audit.c - the LogEntry/AuditLog shape of the
 * reference's real CreateTopic sample, severities, failures, monitored
 * resources, caller IPs, and secrets never recorded (model alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mem.h"

static const char *str(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = o;
	for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(tok))
				     : json_object_get(v, tok);
	return json_string_value(v);
}

static void create_topic_sample(void **state)
{
	(void)state;
	json_t *topic = json_pack("{s:s}", "name", "projects/P/topics/T");
	struct audit_call a = { .log = AUDIT_LOG_ACTIVITY,
				.write = 1,
				.method_name = "google.pubsub.v1.Publisher.CreateTopic",
				.project = "P",
				.resource_name = "projects/P/topics/T",
				.principal = "serviceAccount:robot@P.iam.regnotify",
				.permission = "pubsub.topics.create",
				.granted = 1,
				.caller_ip = "192.168.0.1:40000",
				.user_agent = "google-cloud-sdk",
				.time_us = 1593533687593398LL,
				.insert_id = "abc",
				.request = topic,
				.response = topic,
				.request_type = "google.pubsub.v1.Topic",
				.response_type = "google.pubsub.v1.Topic" };
	json_t *e = audit_entry(&a);
	assert_string_equal(str(e, "logName"),
			    "projects/P/logs/cloudaudit.googleapis.com%2Factivity");
	assert_string_equal(str(e, "timestamp"), "2020-06-30T16:14:47.593398Z");
	assert_string_equal(str(e, "severity"), "NOTICE");
	assert_string_equal(str(e, "insertId"), "abc");
	assert_string_equal(str(e, "resource.type"), "pubsub_topic");
	assert_string_equal(str(e, "resource.labels.project_id"), "P");
	assert_string_equal(str(e, "resource.labels.topic_id"), "projects/P/topics/T");
	assert_string_equal(str(e, "protoPayload.@type"),
			    "type.googleapis.com/google.cloud.audit.AuditLog");
	assert_string_equal(str(e, "protoPayload.serviceName"), "pubsub.googleapis.com");
	assert_string_equal(str(e, "protoPayload.methodName"),
			    "google.pubsub.v1.Publisher.CreateTopic");
	assert_string_equal(str(e, "protoPayload.authenticationInfo.principalEmail"),
			    "robot@P.iam.regnotify");
	assert_string_equal(str(e, "protoPayload.authorizationInfo.0.permission"),
			    "pubsub.topics.create");
	assert_true(json_is_true(
		json_object_get(json_array_get(json_object_get(json_object_get(e, "protoPayload"),
							       "authorizationInfo"),
					       0),
				"granted")));
	assert_string_equal(str(e, "protoPayload.requestMetadata.callerIp"), "192.168.0.1");
	assert_string_equal(str(e, "protoPayload.requestMetadata.callerSuppliedUserAgent"),
			    "google-cloud-sdk");
	assert_string_equal(str(e, "protoPayload.request.@type"),
			    "type.googleapis.com/google.pubsub.v1.Topic");
	assert_string_equal(str(e, "protoPayload.response.name"), "projects/P/topics/T");
	assert_null(json_object_get(json_object_get(e, "protoPayload"), "status"));
	json_decref(e);
	json_decref(topic);
}

static void severities_and_resources(void **state)
{
	(void)state;
	struct audit_call a = { .log = AUDIT_LOG_DATA_ACCESS,
				.project = "P",
				.resource_name = "projects/P/subscriptions/S",
				.caller_ip = "[::1]:5000",
				.time_us = 1 };
	json_t *e = audit_entry(&a);
	assert_string_equal(str(e, "severity"), "INFO");
	assert_string_equal(str(e, "logName"),
			    "projects/P/logs/cloudaudit.googleapis.com%2Fdata_access");
	assert_string_equal(str(e, "resource.type"), "pubsub_subscription");
	assert_string_equal(str(e, "protoPayload.requestMetadata.callerIp"), "::1");
	assert_null(str(e, "protoPayload.authenticationInfo.principalEmail"));
	json_decref(e);
	a.status_code = 7;
	a.status_message = "User not authorized to perform this action.";
	a.resource_name = "projects/P/serviceAccounts/ci@P.iam.regnotify";
	a.log = AUDIT_LOG_ACTIVITY;
	e = audit_entry(&a);
	assert_string_equal(str(e, "severity"), "ERROR");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(e, "protoPayload"), "status"), "code")),
		7);
	assert_string_equal(str(e, "resource.type"), "service_account");
	assert_string_equal(str(e, "resource.labels.email_id"), "ci@P.iam.regnotify");
	json_decref(e);
	a.resource_name = "projects/P";
	a.log = AUDIT_LOG_SYSTEM_EVENT;
	e = audit_entry(&a);
	assert_string_equal(str(e, "resource.type"), "project");
	assert_string_equal(str(e, "logName"),
			    "projects/P/logs/cloudaudit.googleapis.com%2Fsystem_event");
	json_decref(e);
}

static void secrets_never_recorded(void **state)
{
	(void)state;
	json_t *sub = json_loads(
		"{\"name\":\"projects/P/subscriptions/S\",\"pushConfig\":{\"pushEndpoint\":"
		"\"https://x/\",\"authorization\":\"Bearer hunter2\",\"standardWebhooks\":"
		"{\"secret\":\"whsec_c2VjcmV0c2VjcmV0c2VjcmV0\"},\"hubSignature\":{\"secret\":"
		"\"s3cr3t\"}},\"keys\":[{\"privateKeyData\":\"UFJJVkFURQ==\"}]}",
		0, NULL);
	assert_non_null(sub);
	struct audit_call a = { .project = "P",
				.resource_name = "projects/P/subscriptions/S",
				.request = sub,
				.response = sub,
				.time_us = 1 };
	json_t *e = audit_entry(&a);
	char *text = json_dumps(e, 0);
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "whsec_"));
	assert_null(strstr(text, "s3cr3t"));
	assert_null(strstr(text, "UFJJVkFURQ"));
	assert_non_null(strstr(text, "https://x/"));
	assert_non_null(strstr(text, "REDACTED"));
	free(text);
	json_decref(e);
	json_decref(sub);
}

/* The stored form expands to exactly the entry (text and key order), for
 * each log, resource kind, a failure, a foreign service, an
 * authorizationInfo resource of its own, no caller metadata; and it is
 * shorter. An entry stored whole (the form before) expands to itself. */
static void stored_form_expands_to_the_entry(void **state)
{
	(void)state;
	const char *req =
		"{\"name\":\"projects/P/subscriptions/S\",\"topic\":\"projects/P/topics/T\"}";
	struct audit_call calls[] = {
		{ .log = AUDIT_LOG_ACTIVITY,
		  .write = 1,
		  .method_name = "google.pubsub.v1.Publisher.CreateTopic",
		  .project = "P",
		  .resource_name = "projects/P/topics/T",
		  .principal = "serviceAccount:robot@P.iam.regnotify",
		  .permission = "pubsub.topics.create",
		  .granted = 1,
		  .caller_ip = "10.0.0.1:5",
		  .user_agent = "wrk",
		  .time_us = 1593533687593398LL,
		  .insert_id = "a1",
		  .request_type = "google.pubsub.v1.Topic",
		  .response_type = "google.pubsub.v1.Topic" },
		{ .log = AUDIT_LOG_DATA_ACCESS,
		  .method_name = "google.pubsub.v1.Subscriber.GetSubscription",
		  .project = "P",
		  .resource_name = "projects/P/subscriptions/S",
		  .permission = "pubsub.subscriptions.get",
		  .granted = 1,
		  .user_agent = "ua \"quoted\"",
		  .time_us = 1,
		  .insert_id = "a2" },
		{ .log = AUDIT_LOG_POLICY,
		  .service = "iam.googleapis.com",
		  .method_name = "google.iam.admin.v1.CreateServiceAccountKey",
		  .project = "P",
		  .resource_name = "projects/P/serviceAccounts/x@P.iam.regnotify",
		  .permission = "iam.serviceAccountKeys.create",
		  .auth_resource = "projects/P",
		  .caller_ip = "[::1]:9",
		  .time_us = 2,
		  .insert_id = "a3",
		  .status_code = 7,
		  .status_message = "Permission denied" },
		{ .log = AUDIT_LOG_SYSTEM_EVENT,
		  .write = 1,
		  .method_name = "InternalExpireInactiveSubscription",
		  .project = "P",
		  .resource_name = "projects/P/subscriptions/S",
		  .time_us = 3,
		  .insert_id = "a4" },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct audit_call *a = &calls[i];
		const char *rq = i == 1 ? NULL : req, *rs = i == 0 ? req : NULL;
		char *full = audit_entry_text(a, rq, rs), *stored = audit_entry_stored(a, rq, rs);
		assert_true(strlen(stored) < strlen(full));
		assert_null(strstr(stored, "logName"));
		assert_null(strstr(stored, "receiveTimestamp"));
		json_t *st = json_loads(stored, 0, NULL);
		assert_non_null(st);
		json_t *e = audit_entry_expand(st, "P", a->log);
		char *back = json_dumps(e, JSON_COMPACT);
		assert_string_equal(back, full);
		free(back);
		json_decref(e);
		/* Stored whole: kept as it is. */
		json_t *whole = json_loads(full, 0, NULL);
		e = audit_entry_expand(whole, "P", a->log);
		back = json_dumps(e, JSON_COMPACT);
		assert_string_equal(back, full);
		free(back);
		json_decref(e);
		json_decref(whole);
		json_decref(st);
		mem_free(full);
		mem_free(stored);
	}
	assert_null(audit_entry_expand(NULL, "P", AUDIT_LOG_ACTIVITY));
	char ts[40];
	audit_time(0, ts, sizeof(ts));
	assert_string_equal(ts, "1970-01-01T00:00:00.000000Z");
	audit_time(951782400000001LL, ts, sizeof(ts)); /* 2000-02-29 */
	assert_string_equal(ts, "2000-02-29T00:00:00.000001Z");
	audit_time(1798761599999999LL, ts, sizeof(ts));
	assert_string_equal(ts, "2026-12-31T23:59:59.999999Z");
	assert_int_equal(audit_log_by_id("data_access"), AUDIT_LOG_DATA_ACCESS);
	assert_int_equal(audit_log_by_id("policy"), AUDIT_LOG_POLICY);
	assert_int_equal(audit_log_by_id("nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_topic_sample),
		cmocka_unit_test(severities_and_resources),
		cmocka_unit_test(secrets_never_recorded),
		cmocka_unit_test(stored_form_expands_to_the_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
