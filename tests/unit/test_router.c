/* Unit tests: route matching against the broker's route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "router.h"

static const struct route *m(int method, const char *path, enum route_result want,
			     char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX])
{
	const struct route *r = NULL;
	assert_int_equal(router_match(routes, routes_len, method, path, &r, params), want);
	return r;
}

static void publish_route(void **state)
{
	(void)state;
	char p[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	const struct route *r = m(M_POST, "/v1/projects/p/topics/t:publish", ROUTE_OK, p);
	assert_string_equal(r->name, "topics.publish");
	assert_string_equal(p[0], "p");
	assert_string_equal(p[1], "t");
}

static void verbs_split_on_last_colon(void **state)
{
	(void)state;
	char p[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	const struct route *r =
		m(M_POST, "/v1/projects/my-proj/subscriptions/s.1~x:pull", ROUTE_OK, p);
	assert_string_equal(r->name, "subscriptions.pull");
	assert_string_equal(p[1], "s.1~x");
	r = m(M_POST, "/v1/projects/p/subscriptions/a:b:acknowledge", ROUTE_OK, p);
	assert_string_equal(r->name, "subscriptions.acknowledge");
	assert_string_equal(p[1], "a:b");
	r = m(M_POST, "/v1/projects/p/subscriptions/sub:modifyAckDeadline", ROUTE_OK, p);
	assert_string_equal(r->name, "subscriptions.modifyAckDeadline");
	/* Unknown verb, verb on a collection. */
	m(M_POST, "/v1/projects/p/subscriptions/sub:explode", ROUTE_NOT_FOUND, p);
	m(M_POST, "/v1/projects/p/topics:publish", ROUTE_NOT_FOUND, p);
}

static void resource_routes(void **state)
{
	(void)state;
	char p[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	assert_string_equal(m(M_PUT, "/v1/projects/p/topics/t", ROUTE_OK, p)->name,
			    "topics.create");
	assert_string_equal(m(M_GET, "/v1/projects/p/topics/t", ROUTE_OK, p)->name, "topics.get");
	assert_string_equal(m(M_GET, "/v1/projects/p/topics", ROUTE_OK, p)->name, "topics.list");
	assert_string_equal(p[0], "p");
	assert_string_equal(m(M_GET, "/v1/projects/p/topics/t/subscriptions", ROUTE_OK, p)->name,
			    "topics.subscriptions.list");
	assert_string_equal(m(M_PATCH, "/v1/projects/p/subscriptions/s", ROUTE_OK, p)->name,
			    "subscriptions.patch");
	assert_string_equal(m(M_DELETE, "/v1/projects/p/subscriptions/s", ROUTE_OK, p)->name,
			    "subscriptions.delete");
	assert_string_equal(m(M_GET, "/healthz", ROUTE_OK, p)->name, "healthz");
}

static void wrong_method_and_unknown_paths(void **state)
{
	(void)state;
	char p[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	m(M_POST, "/v1/projects/p/topics/t", ROUTE_BAD_METHOD, p);
	m(M_DELETE, "/v1/projects/p/topics/t:publish", ROUTE_BAD_METHOD, p);
	m(M_GET, "/v1/projects/p/subscriptions/s:pull", ROUTE_BAD_METHOD, p);
	m(M_GET, "/v1/foo", ROUTE_NOT_FOUND, p);
	m(M_GET, "/", ROUTE_NOT_FOUND, p);
	m(M_GET, "", ROUTE_NOT_FOUND, p);
	m(M_GET, "/v1/projects//topics/t", ROUTE_NOT_FOUND, p);
	m(M_GET, "/v1/projects/p/topics/t/", ROUTE_NOT_FOUND, p);
	m(M_GET, "/v1/projects/p/topics/t/x/y", ROUTE_NOT_FOUND, p);
	m(M_GET, "/healthz/x", ROUTE_NOT_FOUND, p);
}

static void overlong_capture_does_not_match(void **state)
{
	(void)state;
	char p[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	char path[2048];
	char id[1100];
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(path, sizeof(path), "/v1/projects/p/topics/%s", id);
	m(M_GET, path, ROUTE_NOT_FOUND, p);
	/* A long but bounded ID still routes, so the handler can answer 400. */
	id[300] = '\0';
	snprintf(path, sizeof(path), "/v1/projects/p/topics/%s", id);
	assert_int_equal(strlen(m(M_GET, path, ROUTE_OK, p)->name), strlen("topics.get"));
	assert_int_equal(strlen(p[1]), 300);
}

/* Every route has a permission (or is marked open with ""), the IAM model
 * knows it, and it says what resource it applies to; a row added without
 * one fails here (and the broker refuses to start). */
static void every_route_has_a_permission(void **state)
{
	(void)state;
	char err[256] = "";
	int rc = api_routes_check(routes, routes_len, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	size_t open = 0;
	for (size_t i = 0; i < routes_len; i++)
		open += routes[i].permission[0] == '\0';
	/* healthz, readyz, token, jwks and the three testIamPermissions. */
	assert_int_equal(open, 7);
	const struct route bad[] = { { .method = M_GET, .pattern = "/x", .name = "x" } };
	assert_int_equal(api_routes_check(bad, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "route x has no permission");
	/* The audit column: Pub/Sub's log per method (reference section 9). */
	for (size_t i = 0; i < routes_len; i++) {
		const struct route *r = &routes[i];
		if (strcmp(r->name, "topics.create") == 0) {
			assert_int_equal(r->audit, AUDIT_ADMIN_WRITE);
			assert_string_equal(r->method_name,
					    "google.pubsub.v1.Publisher.CreateTopic");
		}
		if (strcmp(r->name, "topics.publish") == 0 ||
		    strcmp(r->name, "subscriptions.pull") == 0)
			assert_int_equal(r->audit, AUDIT_NONE);
		if (strcmp(r->name, "subscriptions.seek") == 0)
			assert_int_equal(r->audit, AUDIT_ADMIN_READ);
		if (strcmp(r->name, "topics.setIamPolicy") == 0)
			assert_string_equal(r->method_name, "google.iam.v1.IAMPolicy.SetIamPolicy");
	}
	const struct route bad3[] = {
		{ .method = M_GET, .pattern = "/x", .name = "x", .permission = "" }
	};
	assert_int_equal(api_routes_check(bad3, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "route x has no audit log type or methodName");
	const struct route bad2[] = {
		{ .method = M_GET, .pattern = "/x", .name = "x", .permission = "pubsub.nope" }
	};
	assert_int_equal(api_routes_check(bad2, 1, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(publish_route),
		cmocka_unit_test(verbs_split_on_last_colon),
		cmocka_unit_test(resource_routes),
		cmocka_unit_test(wrong_method_and_unknown_paths),
		cmocka_unit_test(overlong_capture_does_not_match),
		cmocka_unit_test(every_route_has_a_permission),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
