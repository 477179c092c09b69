/* Unit tests: broker/transport/pbjson.c - proto3 JSON of the generated
 * google.pubsub.v1 messages, both ways, through the wire format (pack,
 * unpack), and the errors a bad value gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "google/pubsub/v1/pubsub.pb-c.h"
#include "pbjson.h"

/* JSON text -> message -> wire -> message -> JSON: equal to want. */
static void round_trip(const ProtobufCMessageDescriptor *d, const char *in, const char *want)
{
	json_t *v = json_loads(in, 0, NULL);
	assert_non_null(v);
	char err[200];
	ProtobufCMessage *m = pbjson_to_message(d, v, err, sizeof(err));
	if (m == NULL)
		fail_msg("%s: %s", in, err);
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	protobuf_c_message_pack(m, buf);
	ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, n, buf);
	assert_non_null(back);
	json_t *out = pbjson_from_message(back);
	json_t *w = json_loads(want ? want : in, 0, NULL);
	char *got = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
	char *exp = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(got, exp);
	free(got);
	free(exp);
	json_decref(w);
	json_decref(out);
	protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(buf);
	json_decref(v);
}

static void messages_round_trip(void **state)
{
	(void)state;
	round_trip(&google__pubsub__v1__pubsub_message__descriptor,
		   "{\"data\":\"aGVsbG8=\",\"attributes\":{\"tag\":\"v1\",\"action\":\"INSERT\"},"
		   "\"messageId\":\"42\",\"publishTime\":\"2026-12-03T10:00:00.123456789Z\","
		   "\"orderingKey\":\"team/app\"}",
		   NULL);
	/* Milliseconds and whole seconds keep their JSON form; an offset is UTC. */
	round_trip(&google__pubsub__v1__pubsub_message__descriptor,
		   "{\"publishTime\":\"2026-12-03T11:00:00.5+01:00\"}",
		   "{\"publishTime\":\"2026-12-03T10:00:00.500Z\"}");
	round_trip(&google__pubsub__v1__subscription__descriptor,
		   "{\"name\":\"projects/p/subscriptions/s\",\"topic\":\"projects/p/topics/t\","
		   "\"pushConfig\":{\"pushEndpoint\":\"https://cd/hook\",\"attributes\":"
		   "{\"x-goog-version\":\"v1\"}},\"ackDeadlineSeconds\":30,"
		   "\"retainAckedMessages\":true,\"messageRetentionDuration\":\"600s\","
		   "\"labels\":{\"team\":\"a\"},\"expirationPolicy\":{\"ttl\":\"86400.250s\"},"
		   "\"deadLetterPolicy\":{\"deadLetterTopic\":\"projects/p/topics/dl\","
		   "\"maxDeliveryAttempts\":5},\"state\":\"ACTIVE\"}",
		   NULL);
	/* Defaults are left out; proto names are accepted; unknown keys ignored. */
	round_trip(&google__pubsub__v1__subscription__descriptor,
		   "{\"name\":\"projects/p/subscriptions/s\",\"ack_deadline_seconds\":10,"
		   "\"retainAckedMessages\":false,\"futureField\":{\"a\":1},\"labels\":{}}",
		   "{\"name\":\"projects/p/subscriptions/s\",\"ackDeadlineSeconds\":10}");
	/* A FieldMask is camelCase in JSON, snake_case on the wire. */
	json_t *v = json_pack("{s:s}", "updateMask", "ackDeadlineSeconds,pushConfig.pushEndpoint");
	Google__Pubsub__V1__UpdateSubscriptionRequest *u =
		(Google__Pubsub__V1__UpdateSubscriptionRequest *)pbjson_to_message(
			&google__pubsub__v1__update_subscription_request__descriptor, v, NULL, 0);
	assert_non_null(u);
	assert_int_equal(u->update_mask->n_paths, 2);
	assert_string_equal(u->update_mask->paths[0], "ack_deadline_seconds");
	assert_string_equal(u->update_mask->paths[1], "push_config.push_endpoint");
	json_t *back = pbjson_from_message(&u->base);
	assert_true(json_equal(back, v));
	json_decref(back);
	json_decref(v);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	/* int64 as a string (numbers accepted too); enums by number too. */
	round_trip(&google__pubsub__v1__cloud_storage_config__descriptor,
		   "{\"maxBytes\":1000,\"state\":1}",
		   "{\"maxBytes\":\"1000\",\"state\":\"ACTIVE\"}");
	round_trip(&google__pubsub__v1__cloud_storage_config__descriptor,
		   "{\"maxBytes\":\"-9223372036854775808\"}", NULL);
	/* Repeated messages and strings. */
	round_trip(&google__pubsub__v1__publish_request__descriptor,
		   "{\"topic\":\"projects/p/topics/t\",\"messages\":[{\"data\":\"YQ==\"},"
		   "{\"attributes\":{\"k\":\"v\"}}]}",
		   NULL);
	round_trip(&google__pubsub__v1__acknowledge_request__descriptor,
		   "{\"subscription\":\"projects/p/subscriptions/s\",\"ackIds\":[\"a\",\"b\"]}",
		   NULL);
	/* Empty: {} both ways. */
	round_trip(&google__pubsub__v1__topic__descriptor, "{}", NULL);
}

/* A bad value is refused with the field's JSON name, and nothing leaks. */
static void bad_values_are_refused(void **state)
{
	(void)state;
	static const struct {
		const ProtobufCMessageDescriptor *d;
		const char *in, *want;
	} cases[] = {
		{ &google__pubsub__v1__subscription__descriptor,
		  "{\"name\":\"s\",\"ackDeadlineSeconds\":\"ten\"}", "'ackDeadlineSeconds'" },
		{ &google__pubsub__v1__subscription__descriptor,
		  "{\"ackDeadlineSeconds\":4294967296}", "out of range" },
		{ &google__pubsub__v1__subscription__descriptor, "{\"state\":\"BOGUS\"}", "enum" },
		{ &google__pubsub__v1__subscription__descriptor,
		  "{\"messageRetentionDuration\":\"10m\"}", "duration" },
		{ &google__pubsub__v1__subscription__descriptor, "{\"labels\":[\"a\"]}",
		  "not a map" },
		{ &google__pubsub__v1__subscription__descriptor,
		  "{\"pushConfig\":{\"pushEndpoint\":7}}", "'pushEndpoint'" },
		{ &google__pubsub__v1__pubsub_message__descriptor,
		  "{\"publishTime\":\"2026-12-03 10:00:00\"}", "timestamp" },
		{ &google__pubsub__v1__pubsub_message__descriptor,
		  "{\"publishTime\":\"2026-12-03T10:00:00.1234567891Z\"}", "timestamp" },
		{ &google__pubsub__v1__subscription__descriptor,
		  "{\"messageRetentionDuration\":\"1.s\"}", "duration" },
		{ &google__pubsub__v1__pubsub_message__descriptor, "{\"data\":\"***\"}", "base64" },
		{ &google__pubsub__v1__pubsub_message__descriptor,
		  "{\"attributes\":{\"a\":\"b\",\"c\":3}}", "not a string" },
		{ &google__pubsub__v1__publish_request__descriptor,
		  "{\"messages\":[{\"data\":\"YQ==\"},{\"data\":1}]}", "'data'" },
		{ &google__pubsub__v1__acknowledge_request__descriptor, "{\"ackIds\":[\"a\",2]}",
		  "'ackIds'" },
		{ &google__pubsub__v1__acknowledge_request__descriptor, "{\"ackIds\":\"a\"}",
		  "not a list" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].in, 0, NULL);
		assert_non_null(v);
		char err[200];
		ProtobufCMessage *m = pbjson_to_message(cases[i].d, v, err, sizeof(err));
		if (m != NULL)
			fail_msg("accepted: %s", cases[i].in);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("%s: \"%s\" does not say %s", cases[i].in, err, cases[i].want);
		json_decref(v);
	}
	/* Not an object at all. */
	json_t *v = json_string("x");
	char err[200];
	assert_null(pbjson_to_message(&google__pubsub__v1__topic__descriptor, v, err, sizeof(err)));
	assert_non_null(strstr(err, "expected an object"));
	json_decref(v);
}

static void names(void **state)
{
	(void)state;
	char buf[64];
	pbjson_camel("ack_deadline_seconds", buf, sizeof(buf));
	assert_string_equal(buf, "ackDeadlineSeconds");
	pbjson_camel("topic", buf, sizeof(buf));
	assert_string_equal(buf, "topic");
	pbjson_camel("a_b_c", buf, 3);
	assert_string_equal(buf, "aB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(messages_round_trip),
		cmocka_unit_test(bad_values_are_refused),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
