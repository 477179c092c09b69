/* Unit tests (broker/core alone): the gate, driven through a fake
 * transport's call_ops - routing, the transport filter, authentication,
 * body limits and parsing, the shutdown refusal - and the error mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "call.h"
#include "errors.h"
#include "gate.h"
#include "mem.h"

/* What the fake transport saw. */
static struct {
	int status;
	char body[2048];
	char header[256];
	int handled;
} seen;

static void op_send(struct call *c, int status, char *text, size_t len)
{
	(void)c;
	seen.status = status;
	snprintf(seen.body, sizeof(seen.body), "%.*s", (int)len, text);
	mem_free(text);
}

static const char *op_header(struct call *c, const char *name)
{
	(void)c;
	(void)name;
	return NULL;
}

static void op_set_header(struct call *c, const char *name, const char *value)
{
	(void)c;
	snprintf(seen.header, sizeof(seen.header), "%s: %s", name, value);
}

static const struct call_ops fake_http = {
	.name = "fake",
	.transport = VIA_HTTP,
	.send = op_send,
	.header = op_header,
	.set_header = op_set_header,
};
static const struct call_ops fake_nng = { .name = "fake-nng",
					  .transport = VIA_NNG,
					  .send = op_send };

static void echo(struct call *c)
{
	seen.handled++;
	json_t *o = json_object();
	json_object_set_new(o, "p0", json_string(c->params[0]));
	if (c->body)
		json_object_set(o, "body", c->body);
	call_reply(c, 200, o);
}

static const struct route table[] = {
	{ .method = M_GET, .pattern = "/v1/projects/{}/things", .handler = echo, .name = "list" },
	{ .method = M_POST,
	  .pattern = "/v1/projects/{}/things/{}:poke",
	  .handler = echo,
	  .name = "poke",
	  .body_limit = 16 },
	{ .method = M_GET,
	  .pattern = "/http-only",
	  .handler = echo,
	  .name = "http-only",
	  .via = VIA_HTTP },
	{ .method = M_POST,
	  .pattern = "/ingest",
	  .handler = echo,
	  .name = "ingest",
	  .body_limit = 64,
	  .authn = AUTHN_INGEST_TOKEN },
};

static struct broker b;

static int setup(void **state)
{
	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&seen, 0, sizeof(seen));
	b.routes = table;
	b.nroutes = sizeof(table) / sizeof(table[0]);
	return 0;
}

static void run(const struct call_ops *ops, int method, const char *path, const char *body,
		const char *token)
{
	struct call *c = call_new(&b, ops, NULL, NULL);
	c->uri = path;
	if (token) {
		c->credential = token;
		c->credential_len = strlen(token);
	}
	gate_dispatch(c, method, path, body, body ? strlen(body) : 0);
	assert_int_equal(b.inflight, 0); /* answered and freed, exactly once */
}

static void routes_and_errors(void **state)
{
	(void)state;
	run(&fake_http, M_GET, "/v1/projects/p1/things", NULL, NULL);
	assert_int_equal(seen.status, 200);
	assert_string_equal(seen.body, "{\"p0\":\"p1\"}");
	run(&fake_http, M_GET, "/v1/nope", NULL, NULL);
	assert_int_equal(seen.status, 404);
	assert_non_null(strstr(seen.body, "\"status\":\"NOT_FOUND\""));
	run(&fake_http, M_PUT, "/v1/projects/p1/things", NULL, NULL);
	assert_int_equal(seen.status, 405);
	assert_non_null(strstr(seen.body, "\"status\":\"UNIMPLEMENTED\""));
	run(&fake_http, 0, "/v1/projects/p1/things", NULL, NULL);
	assert_int_equal(seen.status, 405);
	assert_int_equal(seen.handled, 1);
}

static void transport_filter(void **state)
{
	(void)state;
	run(&fake_http, M_GET, "/http-only", NULL, NULL);
	assert_int_equal(seen.status, 200);
	run(&fake_nng, M_GET, "/http-only", NULL, NULL);
	assert_int_equal(seen.status, 404);
	run(&fake_nng, M_GET, "/v1/projects/p/things", NULL, NULL);
	assert_int_equal(seen.status, 200);
}

static void body_limit_and_parse(void **state)
{
	(void)state;
	run(&fake_http, M_POST, "/v1/projects/p/things/t:poke", "{\"a\":1}", NULL);
	assert_int_equal(seen.status, 200);
	assert_string_equal(seen.body, "{\"p0\":\"p\",\"body\":{\"a\":1}}");
	run(&fake_http, M_POST, "/v1/projects/p/things/t:poke", "{\"a\":\"0123456789\"}", NULL);
	assert_int_equal(seen.status, 413);
	run(&fake_http, M_POST, "/v1/projects/p/things/t:poke", "{nope", NULL);
	assert_int_equal(seen.status, 400);
	assert_non_null(strstr(seen.body, "Invalid JSON payload"));
	run(&fake_http, M_POST, "/v1/projects/p/things/t:poke", "[1]", NULL);
	assert_int_equal(seen.status, 400);
	assert_int_equal(seen.handled, 1);
}

static void ingest_token(void **state)
{
	(void)state;
	/* No tokens configured: open (config refuses that off loopback). */
	run(&fake_http, M_POST, "/ingest", "{}", NULL);
	assert_int_equal(seen.status, 200);
	snprintf(b.cfg.ingest_tokens.v[0], sizeof(b.cfg.ingest_tokens.v[0]), "s3cret");
	b.cfg.ingest_tokens.n = 1;
	seen.header[0] = '\0';
	run(&fake_http, M_POST, "/ingest", "{}", NULL);
	assert_int_equal(seen.status, 401);
	assert_non_null(strstr(seen.body, "\"status\":\"UNAUTHENTICATED\""));
	assert_string_equal(seen.header,
			    "WWW-Authenticate: Bearer realm=\"regnotify registry ingest\"");
	run(&fake_http, M_POST, "/ingest", "{}", "s3cre");
	assert_int_equal(seen.status, 401);
	run(&fake_http, M_POST, "/ingest", "{}", "s3cret");
	assert_int_equal(seen.status, 200);
	/* Authentication before the body is even looked at. */
	run(&fake_http, M_POST, "/ingest", "not json", "wrong");
	assert_int_equal(seen.status, 401);
	assert_int_equal(seen.handled, 2);
}

static void shutting_down(void **state)
{
	(void)state;
	b.shutting_down = 1;
	run(&fake_http, M_GET, "/v1/projects/p1/things", NULL, NULL);
	assert_int_equal(seen.status, 503);
	assert_int_equal(seen.handled, 0);
}

static void error_mapping(void **state)
{
	(void)state;
	assert_int_equal(errors_http_status(ERR_OK), 200);
	assert_int_equal(errors_http_status(ERR_NOT_FOUND), 404);
	assert_string_equal(errors_status_name(ERR_PAYLOAD_TOO_LARGE), "INVALID_ARGUMENT");
	assert_int_equal(errors_http_status(ERR_PAYLOAD_TOO_LARGE), 413);
	assert_int_equal(errors_grpc_code(ERR_UNAVAILABLE), 14);
	assert_int_equal(errors_grpc_code(ERR_UNAUTHENTICATED), 16);
	assert_int_equal(errors_http_status(ERR_COUNT), 500); /* out of range */
	for (int e = 0; e < ERR_COUNT; e++)
		assert_non_null(errors_status_name((enum err)e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(routes_and_errors, setup),
		cmocka_unit_test_setup(transport_filter, setup),
		cmocka_unit_test_setup(body_limit_and_parse, setup),
		cmocka_unit_test_setup(ingest_token, setup),
		cmocka_unit_test_setup(shutting_down, setup),
		cmocka_unit_test_setup(error_mapping, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
