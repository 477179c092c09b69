/* Unit tests of libregnotify without a broker: option validation, error
 * texts and mapping, name resolution, base64, timestamps, message JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Options */

static void opts_defaults(void **state)
{
	(void)state;
	struct rn_client_opts o;
	memset(&o, 0x55, sizeof(o));
	rn_client_opts_init(&o);
	assert_string_equal(o.url, RN_DEFAULT_URL);
	assert_string_equal(o.project, RN_DEFAULT_PROJECT);
	assert_int_equal(o.connect_timeout_ms, 5000);
	assert_int_equal(o.request_timeout_ms, 30000);
	assert_int_equal(o.reconnect_min_ms, 100);
	assert_int_equal(o.reconnect_max_ms, 5000);
	assert_int_equal(o.log_level, RN_LOG_INFO);
	assert_null(o.access_token);
	assert_null(o.log);
	assert_int_equal(client_opts_check(&o), 0);

	struct rn_publisher_opts po;
	rn_publisher_opts_init(&po);
	assert_int_equal(po.max_batch_messages, 100);
	assert_int_equal(po.max_batch_bytes, 1000000);
	assert_int_equal(po.max_latency_ms, 5);
	assert_int_equal(po.max_outstanding, 10000);
	assert_int_equal(po.max_inflight_batches, 4);

	struct rn_subscriber_opts so;
	rn_subscriber_opts_init(&so);
	assert_int_equal(so.max_outstanding_messages, 1000);
	assert_int_equal(so.max_outstanding_bytes, 100u * 1024 * 1024);
	assert_int_equal(so.threads, 4);
	assert_int_equal(so.pullers, 2);
	assert_int_equal(so.max_extension_s, 3600);
	assert_int_equal(so.lease_s, 30);
}

static void opts_bad_url(void **state)
{
	(void)state;
	const char *bad[] = { "",
			      "http://127.0.0.1:8086",
			      "ws://127.0.0.1:8086",
			      "127.0.0.1:8086",
			      "tcp://",
			      "tcp://127.0.0.1",
			      "tcp://127.0.0.1:0",
			      "tcp://127.0.0.1:99999",
			      "tcp://127.0.0.1:80x",
			      "tcp://127.0.0.1:8086/path",
			      "ipc://",
			      "inproc://x",
			      "not a url",
			      NULL };
	for (int i = 0; bad[i]; i++) {
		struct rn_client_opts o;
		rn_client_opts_init(&o);
		o.url = bad[i];
		assert_int_equal(client_opts_check(&o), RN_EADDRINVAL);
		assert_true(strlen(rn_last_error_message()) > 0);
		struct rn_client *c = (struct rn_client *)0x1;
		assert_int_equal(rn_client_new(&c, &o), RN_EADDRINVAL);
		assert_null(c);
	}
	const char *good[] = { "tcp://127.0.0.1:8086", "tcp://localhost:1", "tcp://[::1]:8086",
			       "ipc:///tmp/regnotify.sock", NULL };
	for (int i = 0; good[i]; i++) {
		struct rn_client_opts o;
		rn_client_opts_init(&o);
		o.url = good[i];
		assert_int_equal(client_opts_check(&o), 0);
	}
}

static void opts_bad_values(void **state)
{
	(void)state;
	struct rn_client_opts o;
#define EXPECT(field, value, err)                                                                  \
	do {                                                                                       \
		rn_client_opts_init(&o);                                                           \
		o.field = value;                                                                   \
		assert_int_equal(client_opts_check(&o), err);                                      \
	} while (0)
	EXPECT(connect_timeout_ms, -1, RN_EINVAL);
	EXPECT(request_timeout_ms, -1, RN_EINVAL);
	EXPECT(reconnect_min_ms, -5, RN_EINVAL);
	EXPECT(reconnect_max_ms, -5, RN_EINVAL);
	EXPECT(reconnect_min_ms, 6000, RN_EINVAL); /* above reconnect_max_ms */
	EXPECT(log_level, 4, RN_EINVAL);
	EXPECT(log_level, -1, RN_EINVAL);
	EXPECT(project, "", RN_EINVAL);
	EXPECT(project, "has space", RN_EINVAL);
	EXPECT(project, "a/b", RN_EINVAL);
	EXPECT(connect_timeout_ms, 0, 0); /* 0: the default */
	EXPECT(project, "my-project.1:x~_", 0);
	/* tls+tcp:// needs a CA file */
	EXPECT(url, "tls+tcp://127.0.0.1:8086", RN_EINVAL);
	rn_client_opts_init(&o);
	o.url = "tls+tcp://127.0.0.1:8086";
	o.tls_ca_file = "/nonexistent/ca.pem";
	assert_int_equal(client_opts_check(&o), 0);
	/* a missing CA file fails at TLS setup */
	o.connect_timeout_ms = 100;
	struct rn_client *c = NULL;
	assert_int_equal(rn_client_new(&c, &o), RN_ETLS);
	assert_null(c);
	/* an access token longer than the frame allows */
	char *tok = malloc(WIRE_TOKEN_MAX + 2);
	memset(tok, 'a', WIRE_TOKEN_MAX + 1);
	tok[WIRE_TOKEN_MAX + 1] = '\0';
	EXPECT(access_token, tok, RN_EINVAL);
	free(tok);
	/* NULL out */
	rn_client_opts_init(&o);
	assert_int_equal(rn_client_new(NULL, &o), RN_EINVAL);
#undef EXPECT
}

/* A TCP port that nothing listens on (bound, then closed). */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void connect_refused(void **state)
{
	(void)state;
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", dead_port());
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = url;
	o.connect_timeout_ms = 300;
	struct rn_client *c = NULL;
	int64_t t0 = client_now_ms();
	assert_int_equal(rn_client_new(&c, &o), RN_ECONNREFUSED);
	assert_true(client_now_ms() - t0 < 3000);
	assert_null(c);
	o.url = "ipc:///nonexistent/dir/regnotify.sock";
	assert_int_equal(rn_client_new(&c, &o), RN_ECONNREFUSED);
	rn_client_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Errors */

static void strerror_all(void **state)
{
	(void)state;
	const char *unknown = rn_strerror(-1);
	assert_string_equal(unknown, "Unknown error");
	assert_string_equal(rn_strerror(RN_ETLS + 1), unknown);
	assert_string_equal(rn_strerror(1000), unknown);
	assert_string_equal(rn_strerror(RN_OK), "Success");
	for (int e = RN_OK; e <= RN_ETLS; e++) {
		const char *s = rn_strerror(e);
		assert_non_null(s);
		assert_string_not_equal(s, unknown);
		for (int f = RN_OK; f < e; f++)
			assert_string_not_equal(s, rn_strerror(f));
	}
	assert_string_equal(rn_version(), RN_VERSION_STRING);
	rn_free(NULL);
	rn_free(malloc(3));
}

static void *other_thread(void *arg)
{
	(void)arg;
	/* A fresh thread starts with an empty message. */
	return (void *)(intptr_t)(rn_last_error_message()[0] == '\0');
}

static void last_error(void **state)
{
	(void)state;
	assert_int_equal(errors_set(RN_EINVAL, "x=%d", 42), RN_EINVAL);
	assert_string_equal(rn_last_error_message(), "x=42");
	pthread_t t;
	void *empty = NULL;
	pthread_create(&t, NULL, other_thread, NULL);
	pthread_join(t, &empty);
	assert_true(empty != NULL);
	assert_string_equal(rn_last_error_message(), "x=42");
}

static void map_status(void **state)
{
	(void)state;
	static const struct {
		int status;
		const char *gstatus;
		int err;
	} cases[] = {
		{ 200, NULL, 0 },
		{ 204, NULL, 0 },
		{ 400, "INVALID_ARGUMENT", RN_EINVAL },
		{ 401, "UNAUTHENTICATED", RN_EUNAUTH },
		{ 403, "PERMISSION_DENIED", RN_EPERM },
		{ 404, "NOT_FOUND", RN_ENOTFOUND },
		{ 405, "UNIMPLEMENTED", RN_ENOTSUP },
		{ 409, "ALREADY_EXISTS", RN_EEXISTS },
		{ 409, "ABORTED", RN_EABORTED },
		{ 413, "INVALID_ARGUMENT", RN_ETOOBIG },
		{ 429, "RESOURCE_EXHAUSTED", RN_EUNAVAIL },
		{ 500, "INTERNAL", RN_EINTERNAL },
		{ 501, "UNIMPLEMENTED", RN_ENOTSUP },
		{ 503, "UNAVAILABLE", RN_EUNAVAIL },
		{ 418, "X", RN_EINVAL },
		{ 599, "X", RN_EINTERNAL },
		{ 302, "X", RN_EPROTO },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[256];
		snprintf(body, sizeof(body),
			 "{\"error\":{\"code\":%d,\"message\":\"msg %zu\",\"status\":\"%s\"}}",
			 cases[i].status, i, cases[i].gstatus ? cases[i].gstatus : "");
		errors_set(0, "before");
		assert_int_equal(client_map_status(cases[i].status, body, strlen(body)),
				 cases[i].err);
		char want[32];
		snprintf(want, sizeof(want), "msg %zu", i);
		assert_string_equal(rn_last_error_message(), cases[i].err ? want : "before");
	}
	/* Bodies that are not the error shape still map by status. */
	assert_int_equal(client_map_status(409, NULL, 0), RN_EEXISTS);
	assert_string_equal(rn_last_error_message(), "The broker answered 409");
	assert_int_equal(client_map_status(503, "<html>", 6), RN_EUNAVAIL);
	assert_int_equal(client_map_status(404, "{\"error\":\"x\"}", 13), RN_ENOTFOUND);
	assert_string_equal(rn_last_error_message(), "The broker answered 404");
}

static void map_nng(void **state)
{
	(void)state;
	assert_int_equal(client_map_nng(0, true), 0);
	assert_int_equal(client_map_nng(NNG_ETIMEDOUT, true), RN_ETIMEDOUT);
	assert_int_equal(client_map_nng(NNG_ETIMEDOUT, false), RN_ECONNREFUSED);
	assert_int_equal(client_map_nng(NNG_ECONNREFUSED, true), RN_ECONNREFUSED);
	assert_int_equal(client_map_nng(NNG_ECLOSED, true), RN_ECLOSED);
	assert_int_equal(client_map_nng(NNG_ECANCELED, true), RN_ECLOSED);
	assert_int_equal(client_map_nng(NNG_ENOMEM, true), RN_ENOMEM);
	assert_int_equal(client_map_nng(NNG_ECONNRESET, true), RN_EUNAVAIL);
	assert_int_equal(client_map_nng(NNG_EMSGSIZE, true), RN_ETOOBIG);
	assert_int_equal(client_map_nng(NNG_EPEERAUTH, true), RN_ETLS);
}

/* ------------------------------------------------------------------ */
/* Names */

static void resolve(void **state)
{
	(void)state;
	char buf[128];
	assert_int_equal(client_resolve("proj", "topics", "gcr", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "projects/proj/topics/gcr");
	assert_int_equal(client_resolve("proj", "subscriptions", "s-1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "projects/proj/subscriptions/s-1");
	/* full names pass through, whatever the client's project */
	assert_int_equal(
		client_resolve("proj", "topics", "projects/other/topics/t.x%2B", buf, sizeof(buf)),
		0);
	assert_string_equal(buf, "projects/other/topics/t.x%2B");
	const char *bad_topics[] = { "",
				     "a/b",
				     "a b",
				     "a?b",
				     "projects/p/subscriptions/s",
				     "projects/p/topics/",
				     "projects//topics/t",
				     "projects/p/topics/a/b",
				     "projects/p/topicsx/t",
				     "projects/p",
				     "projects/p q/topics/t",
				     NULL };
	for (int i = 0; bad_topics[i]; i++)
		assert_int_equal(client_resolve("proj", "topics", bad_topics[i], buf, sizeof(buf)),
				 RN_EINVAL);
	assert_int_equal(client_resolve("proj", "topics", NULL, buf, sizeof(buf)), RN_EINVAL);
	/* an id longer than 255 */
	char longid[300];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(client_resolve("proj", "topics", longid, buf, sizeof(buf)), RN_EINVAL);
	/* a buffer too small */
	assert_int_equal(client_resolve("proj", "topics", "gcr", buf, 10), RN_EINVAL);
	/* a bad project for a short id */
	assert_int_equal(client_resolve("bad proj", "topics", "gcr", buf, sizeof(buf)), RN_EINVAL);
}

/* ------------------------------------------------------------------ */
/* base64 */

static void b64_vectors(void **state)
{
	(void)state;
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (int i = 0; i < 7; i++) {
		char *e = b64_encode(plain[i], strlen(plain[i]));
		assert_string_equal(e, enc[i]);
		free(e);
		unsigned char *d;
		size_t n;
		assert_int_equal(b64_decode(enc[i], strlen(enc[i]), &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
}

static void b64_round_trip(void **state)
{
	(void)state;
	unsigned char data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len += (len < 20 ? 1 : 17)) {
		char *e = b64_encode(data, len);
		assert_non_null(e);
		assert_int_equal(strlen(e), (len + 2) / 3 * 4);
		unsigned char *d;
		size_t n;
		assert_int_equal(b64_decode(e, strlen(e), &d, &n), 0);
		assert_int_equal(n, len);
		if (len)
			assert_memory_equal(d, data, len);
		free(d);
		/* without padding */
		size_t el = strlen(e);
		while (el > 0 && e[el - 1] == '=')
			el--;
		assert_int_equal(b64_decode(e, el, &d, &n), 0);
		assert_int_equal(n, len);
		free(d);
		free(e);
	}
}

static void b64_alphabets_and_errors(void **state)
{
	(void)state;
	unsigned char *d;
	size_t n;
	/* URL-safe alphabet: 0xfb 0xff -> "+/8=" standard, "-_8=" URL-safe */
	assert_int_equal(b64_decode("-_8=", 4, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(d[0], 0xfb);
	assert_int_equal(d[1], 0xff);
	free(d);
	assert_int_equal(b64_decode("+/8", 3, &d, &n), 0);
	assert_int_equal(n, 2);
	free(d);
	const char *bad[] = { "Z", "Zg=", "=", "Zg=a", "Zm9v!", "Zm 9v", "Zg===", "Zm9vY", NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), &d, &n), -1);
}

/* ------------------------------------------------------------------ */
/* Times and messages */

static void times(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(message_parse_time("2026-11-28T08:10:28.464Z", &ms), 0);
	assert_int_equal(ms, 1795853428464LL);
	assert_int_equal(message_parse_time("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(message_parse_time("2026-11-28T08:10:28.123456789Z", &ms), 0);
	assert_int_equal(ms % 1000, 123);
	assert_int_equal(message_parse_time("2026-11-28T08:10:28.5Z", &ms), 0);
	assert_int_equal(ms % 1000, 500);
	const char *bad[] = { "",
			      "2026-11-28",
			      "2026-11-28T08:10:28",
			      "2026-11-28T08:10:28.Z",
			      "2026-13-28T08:10:28Z",
			      "2026-11-28 08:10:28Z",
			      "2026-11-28T08:10:28+01:00",
			      "2026-11-28T08:10:28.464Zx",
			      NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(message_parse_time(bad[i], &ms), -1);
	assert_int_equal(message_parse_time(NULL, &ms), -1);
	char buf[40];
	assert_int_equal(message_format_time(1795853428464LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-28T08:10:28.464Z");
	assert_int_equal(message_format_time(5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.005Z");
	assert_int_equal(message_format_time(-1, buf, sizeof(buf)), -1);
	assert_int_equal(message_format_time(0, buf, 10), -1);
}

static void received_message(void **state)
{
	(void)state;
	const char *js = "{\"receivedMessages\":[{\"ackId\":\"1-0:1:ab\",\"message\":{"
			 "\"data\":\"AP8K\",\"attributes\":{\"z\":\"1\",\"a\":\"2\"},"
			 "\"messageId\":\"42\",\"publishTime\":\"2026-11-28T08:10:28.464Z\","
			 "\"orderingKey\":\"k\"},\"deliveryAttempt\":3},"
			 "{\"ackId\":\"x\",\"message\":{\"messageId\":\"43\","
			 "\"publishTime\":\"2026-11-28T08:10:28Z\",\"attributes\":{\"q\":\"\"}}}]}";
	json_t *reply = json_loads(js, 0, NULL);
	struct rn_message **msgs;
	size_t n;
	assert_int_equal(message_parse_pull(reply, &msgs, &n), 0);
	assert_int_equal(n, 2);
	struct rn_message *m = msgs[0];
	size_t len;
	const unsigned char *d = rn_message_data(m, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(d, "\x00\xff\n", 3);
	assert_string_equal(rn_message_id(m), "42");
	assert_string_equal(rn_message_ack_id(m), "1-0:1:ab");
	assert_string_equal(rn_message_ordering_key(m), "k");
	assert_int_equal(rn_message_publish_time_ms(m), 1795853428464LL);
	assert_int_equal(rn_message_delivery_attempt(m), 3);
	assert_int_equal(rn_message_attr_count(m), 2);
	const char *k, *v;
	assert_int_equal(rn_message_attr_at(m, 0, &k, &v), 0);
	assert_string_equal(k, "a"); /* sorted by key */
	assert_string_equal(v, "2");
	assert_string_equal(rn_message_attr(m, "z"), "1");
	assert_null(rn_message_attr(m, "nope"));
	assert_int_equal(rn_message_attr_at(m, 2, &k, &v), RN_EINVAL);
	m = msgs[1];
	d = rn_message_data(m, &len);
	assert_int_equal(len, 0);
	assert_string_equal(rn_message_ordering_key(m), "");
	assert_int_equal(rn_message_delivery_attempt(m), 0);
	assert_string_equal(rn_message_attr(m, "q"), "");
	/* rn_message_ack on a message of rn_pull does nothing (no core) */
	rn_message_ack(m);
	rn_message_nack(NULL);
	rn_messages_free(msgs, n);
	json_decref(reply);

	/* {} is an empty pull */
	reply = json_object();
	assert_int_equal(message_parse_pull(reply, &msgs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(msgs);
	json_decref(reply);
	/* malformed replies */
	const char *bad[] = {
		"{\"receivedMessages\":3}", "{\"receivedMessages\":[{}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"data\":\"!!\"}}]}",
		"{\"receivedMessages\":[{\"ackId\":1,\"message\":{}}]}", NULL
	};
	for (int i = 0; bad[i]; i++) {
		reply = json_loads(bad[i], 0, NULL);
		assert_int_equal(message_parse_pull(reply, &msgs, &n), RN_EPROTO);
		json_decref(reply);
	}
	/* accessors accept NULL */
	assert_null(rn_message_id(NULL));
	assert_null(rn_message_data(NULL, &len));
	assert_int_equal(len, 0);
	assert_int_equal(rn_message_attr_count(NULL), 0);
}

/* The in-place pull reply scanner (pullscan.c) gives what jansson's path
 * gives, or hands the reply over to it (1). */
static void same_message(const struct rn_message *a, const struct rn_message *b)
{
	size_t la, lb;
	const unsigned char *da = rn_message_data(a, &la), *db = rn_message_data(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	assert_string_equal(rn_message_id(a), rn_message_id(b));
	assert_string_equal(rn_message_ack_id(a), rn_message_ack_id(b));
	assert_string_equal(rn_message_ordering_key(a), rn_message_ordering_key(b));
	assert_int_equal(rn_message_publish_time_ms(a), rn_message_publish_time_ms(b));
	assert_int_equal(rn_message_delivery_attempt(a), rn_message_delivery_attempt(b));
	assert_int_equal(rn_message_attr_count(a), rn_message_attr_count(b));
	for (size_t i = 0; i < rn_message_attr_count(a); i++) {
		const char *ka, *va, *kb, *vb;
		assert_int_equal(rn_message_attr_at(a, i, &ka, &va), 0);
		assert_int_equal(rn_message_attr_at(b, i, &kb, &vb), 0);
		assert_string_equal(ka, kb);
		assert_string_equal(va, vb);
	}
}

static void pull_scan(void **state)
{
	(void)state;
	const char *same[] = {
		"{}", " { } ", "{\"receivedMessages\":[]}",
		"{\"receivedMessages\":[{\"ackId\":\"1-0:1:ab\",\"message\":{\"data\":\"AP8K\","
		"\"attributes\":{\"z\":\"1\",\"a\":\"2\"},\"messageId\":\"42\",\"publishTime\":"
		"\"2026-11-28T08:10:28.464Z\",\"orderingKey\":\"k\"},\"deliveryAttempt\":3},"
		"{\"ackId\":\"x\",\"message\":{\"messageId\":\"43\",\"publishTime\":"
		"\"2026-11-28T08:10:28Z\",\"attributes\":{\"q\":\"\"}}}]}",
		/* escapes, UTF-8, surrogate pairs, whitespace, any key order */
		"{ \"receivedMessages\" : [ { \"message\" : { \"attributes\" : { \"q\\\"b\\\\s\" : "
		"\"t\\tn\\n\\u00e9\\ud83d\\ude80\\/\", \"\xc3\xa9\" : \"\xf0\x9f\x9a\x80\" } , "
		"\"data\" : \"aGVsbG8=\" , \"orderingKey\" : \"k\\u0001\" } , \"ackId\" : \"a\\u0062\" "
		"} ] }",
		NULL
	};
	for (int i = 0; same[i]; i++) {
		struct rn_message **a = NULL, **b = NULL;
		size_t na = 9, nb = 9;
		assert_int_equal(message_scan_pull(same[i], strlen(same[i]), &a, &na), 0);
		json_t *reply = json_loads(same[i], 0, NULL);
		assert_non_null(reply);
		assert_int_equal(message_parse_pull(reply, &b, &nb), 0);
		assert_int_equal(na, nb);
		for (size_t k = 0; k < na; k++)
			same_message(a[k], b[k]);
		rn_messages_free(a, na);
		rn_messages_free(b, nb);
		json_decref(reply);
	}
	/* Shapes it leaves to jansson (which accepts some, refuses others). */
	const char *other[] = {
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{},\"extra\":1}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"attributes\":"
		"{\"k\":\"1\",\"k\":\"2\"}}}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"data\":\"!!\"}}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"messageId\":\"\xff\"}}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"messageId\":\"\xed\xa0\x80\"}}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{\"orderingKey\":\"\\ud800\"}}]}",
		"{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{}}]} x",
		"{\"receivedMessages\":[{\"ackId\":1,\"message\":{}}]}",
		"{\"receivedMessages\":3}",
		"{\"receivedMessages\":[{}]}",
		"[]",
		"",
		NULL
	};
	for (int i = 0; other[i]; i++) {
		struct rn_message **a = NULL;
		size_t na = 0;
		assert_int_equal(message_scan_pull(other[i], strlen(other[i]), &a, &na), 1);
		assert_null(a);
	}
	/* More than 100 attributes: jansson's path. */
	char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big),
				    "{\"receivedMessages\":[{\"ackId\":\"a\",\"message\":{"
				    "\"attributes\":{");
	for (int i = 0; i < 101; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s\"k%d\":\"v\"", i ? "," : "", i);
	snprintf(big + o, sizeof(big) - o, "}}}]}");
	struct rn_message **a = NULL;
	size_t na = 0;
	assert_int_equal(message_scan_pull(big, strlen(big), &a, &na), 1);
}

static void pub_json(void **state)
{
	(void)state;
	struct rn_attr attrs[2] = { { "k", "v" }, { "kind", "x" } };
	struct rn_pubmsg m = {
		.data = "\x00\x01", .len = 2, .attrs = attrs, .nattrs = 2, .ordering_key = "ok"
	};
	json_t *js;
	size_t bytes;
	assert_int_equal(message_pub_json(&m, &js, &bytes), 0);
	assert_int_equal(bytes, 2 + 2 + 5);
	char *text = json_dumps(js, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"attributes\":{\"k\":\"v\",\"kind\":\"x\"},\"data\":\"AAE=\","
				  "\"orderingKey\":\"ok\"}");
	free(text);
	json_decref(js);
	struct rn_pubmsg empty = { 0 };
	assert_int_equal(message_pub_json(&empty, &js, NULL), RN_EINVAL);
	assert_null(js);
	struct rn_pubmsg nodata = { .len = 3 };
	assert_int_equal(message_pub_json(&nodata, &js, NULL), RN_EINVAL);
	struct rn_attr badattr[1] = { { NULL, "v" } };
	struct rn_pubmsg ba = { .attrs = badattr, .nattrs = 1 };
	assert_int_equal(message_pub_json(&ba, &js, NULL), RN_EINVAL);
	struct rn_attr badutf[1] = { { "k", "\xff\xfe" } };
	struct rn_pubmsg bu = { .attrs = badutf, .nattrs = 1 };
	assert_int_equal(message_pub_json(&bu, &js, NULL), RN_EINVAL);
	assert_int_equal(message_pub_json(NULL, &js, NULL), RN_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Argument checks of the calls that never reach the network */

static struct rn_client *fake_client(void)
{
	/* Enough of a client for the checks that run before any request. */
	struct rn_client *c = calloc(1, sizeof(*c));
	c->project = strdup("proj");
	c->request_timeout_ms = 100;
	return c;
}

static void fake_client_free(struct rn_client *c)
{
	free(c->project);
	free(c);
}

static void msg_cb(void *arg, struct rn_message *m)
{
	(void)arg;
	(void)m;
}

static void call_arguments(void **state)
{
	(void)state;
	struct rn_client *c = fake_client();
	struct rn_pubmsg m = { .data = "x", .len = 1 };
	assert_int_equal(rn_publish(c, "t", &m, 0, NULL), RN_EINVAL);
	assert_int_equal(rn_publish(c, "t", &m, CLIENT_MAX_BATCH + 1, NULL), RN_EINVAL);
	assert_int_equal(rn_publish(c, "bad/name", &m, 1, NULL), RN_EINVAL);
	assert_int_equal(rn_publish(NULL, "t", &m, 1, NULL), RN_EINVAL);
	struct rn_message **msgs = (struct rn_message **)0x1;
	size_t n = 7;
	assert_int_equal(rn_pull(c, "sub", 0, 0, &msgs, &n), RN_EINVAL);
	assert_null(msgs);
	assert_int_equal(n, 0);
	assert_int_equal(rn_pull(c, "sub", 1001, 0, &msgs, &n), RN_EINVAL);
	const char *ids[1] = { "a" };
	assert_int_equal(rn_modify_ack_deadline(c, "sub", ids, 1, 601), RN_EINVAL);
	assert_int_equal(rn_modify_ack_deadline(c, "sub", ids, 1, -1), RN_EINVAL);
	assert_int_equal(rn_ack(c, "sub", ids, 0), RN_EINVAL);
	assert_int_equal(rn_nack(c, "sub", NULL, 1), RN_EINVAL);
	char *js = NULL;
	assert_int_equal(rn_topic_create(c, "topic", "not json", &js), RN_EINVAL);
	assert_int_equal(rn_topic_create(c, "topic", "[]", &js), RN_EINVAL);
	assert_null(js);
	assert_int_equal(rn_topic_list(c, "bad project", &js), RN_EINVAL);
	assert_int_equal(rn_subscription_seek(c, "sub", -5), RN_EINVAL);
	struct rn_subscription_opts so = { .ack_deadline_s = -1 };
	assert_int_equal(rn_subscription_create(c, "sub", "topic", &so, NULL), RN_EINVAL);
	struct rn_subscription_opts so2 = { .extra_json = "[" };
	assert_int_equal(rn_subscription_create(c, "sub", "topic", &so2, NULL), RN_EINVAL);
	assert_string_equal(rn_client_project(c), "proj");
	assert_null(rn_client_project(NULL));

	/* Publisher options */
	struct rn_publisher *p = NULL;
	struct rn_publisher_opts po;
	rn_publisher_opts_init(&po);
	po.max_batch_messages = CLIENT_MAX_BATCH + 1;
	assert_int_equal(rn_publisher_new(&p, c, "t", &po), RN_EINVAL);
	rn_publisher_opts_init(&po);
	po.max_batch_bytes = 10000001;
	assert_int_equal(rn_publisher_new(&p, c, "t", &po), RN_EINVAL);
	rn_publisher_opts_init(&po);
	po.max_latency_ms = -1;
	assert_int_equal(rn_publisher_new(&p, c, "t", &po), RN_EINVAL);
	rn_publisher_opts_init(&po);
	po.max_inflight_batches = -1;
	assert_int_equal(rn_publisher_new(&p, c, "t", &po), RN_EINVAL);
	assert_int_equal(rn_publisher_new(&p, c, "bad/topic", NULL), RN_EINVAL);
	assert_int_equal(rn_publisher_new(&p, NULL, "t", NULL), RN_EINVAL);
	assert_null(p);
	/* A publisher that never publishes needs no broker. */
	assert_int_equal(rn_publisher_new(&p, c, "t", NULL), 0);
	struct rn_pubmsg empty = { 0 };
	assert_int_equal(rn_publish_async(p, &empty, NULL, NULL), RN_EINVAL);
	assert_int_equal(rn_publisher_flush(p), 0);
	rn_publisher_free(p);
	rn_publisher_free(NULL);
	assert_int_equal(rn_publish_async(NULL, &m, NULL, NULL), RN_EINVAL);

	/* Subscriber options */
	struct rn_subscriber *s = NULL;
	struct rn_subscriber_opts sopt;
	rn_subscriber_opts_init(&sopt);
	sopt.lease_s = 5;
	assert_int_equal(rn_subscriber_new(&s, c, "sub", &sopt, msg_cb, NULL), RN_EINVAL);
	rn_subscriber_opts_init(&sopt);
	sopt.lease_s = 601;
	assert_int_equal(rn_subscriber_new(&s, c, "sub", &sopt, msg_cb, NULL), RN_EINVAL);
	rn_subscriber_opts_init(&sopt);
	sopt.threads = -1;
	assert_int_equal(rn_subscriber_new(&s, c, "sub", &sopt, msg_cb, NULL), RN_EINVAL);
	rn_subscriber_opts_init(&sopt);
	sopt.pullers = -2;
	assert_int_equal(rn_subscriber_new(&s, c, "sub", &sopt, msg_cb, NULL), RN_EINVAL);
	rn_subscriber_opts_init(&sopt);
	sopt.max_extension_s = -1;
	assert_int_equal(rn_subscriber_new(&s, c, "sub", &sopt, msg_cb, NULL), RN_EINVAL);
	assert_int_equal(rn_subscriber_new(&s, c, "sub", NULL, NULL, NULL), RN_EINVAL);
	assert_null(s);
	rn_subscriber_free(NULL);
	rn_subscriber_stop(NULL);
	fake_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_defaults),   cmocka_unit_test(opts_bad_url),
		cmocka_unit_test(opts_bad_values), cmocka_unit_test(connect_refused),
		cmocka_unit_test(strerror_all),    cmocka_unit_test(last_error),
		cmocka_unit_test(map_status),      cmocka_unit_test(map_nng),
		cmocka_unit_test(resolve),         cmocka_unit_test(b64_vectors),
		cmocka_unit_test(b64_round_trip),  cmocka_unit_test(b64_alphabets_and_errors),
		cmocka_unit_test(times),           cmocka_unit_test(received_message),
		cmocka_unit_test(pub_json),        cmocka_unit_test(pull_scan),
		cmocka_unit_test(call_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
