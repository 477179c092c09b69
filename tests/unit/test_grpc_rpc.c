/* Unit tests: broker/transport/grpc_rpc.c - every gRPC method the endpoint
 * serves maps to a REST route of the broker's own table (the rule's verb
 * and path), with the request's fields in the path and query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "grpc_rpc.h"
#include "router.h"

static void path_of(const char *rpc, const char *json, const char *want)
{
	const struct grpc_rpc *r = grpc_rpc_find(rpc);
	assert_non_null(r);
	json_t *v = json_loads(json, 0, NULL);
	assert_non_null(v);
	char buf[512], err[256];
	if (grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)) != 0)
		fail_msg("%s %s: %s", rpc, json, err);
	assert_string_equal(buf, want);
	json_decref(v);
}

static void transcoding(void **state)
{
	(void)state;
	path_of("/google.pubsub.v1.Publisher/CreateTopic", "{\"name\":\"projects/p/topics/t\"}",
		"/v1/projects/p/topics/t");
	path_of("/google.pubsub.v1.Publisher/UpdateTopic",
		"{\"topic\":{\"name\":\"projects/p/topics/t\"},\"updateMask\":\"labels\"}",
		"/v1/projects/p/topics/t");
	path_of("/google.pubsub.v1.Publisher/Publish",
		"{\"topic\":\"projects/p/topics/t\",\"messages\":[{\"data\":\"YQ==\"}]}",
		"/v1/projects/p/topics/t:publish");
	path_of("/google.pubsub.v1.Publisher/ListTopics",
		"{\"project\":\"projects/p\",\"pageSize\":10,\"pageToken\":\"a b/c\"}",
		"/v1/projects/p/topics?pageSize=10&pageToken=a%20b%2Fc");
	path_of("/google.pubsub.v1.Subscriber/GetSubscription",
		"{\"subscription\":\"projects/p/subscriptions/s\"}",
		"/v1/projects/p/subscriptions/s");
	path_of("/google.pubsub.v1.Subscriber/Pull",
		"{\"subscription\":\"projects/p/subscriptions/s\",\"maxMessages\":5}",
		"/v1/projects/p/subscriptions/s:pull");
	path_of("/google.iam.v1.IAMPolicy/GetIamPolicy", "{\"resource\":\"projects/p/topics/t\"}",
		"/v1/projects/p/topics/t:getIamPolicy");
	/* A name cannot smuggle a query, a verb or a fragment into the path. */
	path_of("/google.pubsub.v1.Publisher/GetTopic",
		"{\"topic\":\"projects/p/topics/t?x=1#y:z\"}",
		"/v1/projects/p/topics/t%3Fx%3D1%23y%3Az");
}

/* Body "*" is every field the path does not bind. */
static void body_fields(void **state)
{
	(void)state;
	json_t *v = json_loads("{\"topic\":\"projects/p/topics/t\",\"messages\":[]}", 0, NULL);
	grpc_rpc_strip_path_fields(grpc_rpc_find("/google.pubsub.v1.Publisher/Publish"), v);
	assert_null(json_object_get(v, "topic"));
	assert_non_null(json_object_get(v, "messages"));
	json_decref(v);
	v = json_loads("{\"subscription\":{\"name\":\"n\",\"ackDeadlineSeconds\":20},"
		       "\"updateMask\":\"ackDeadlineSeconds\"}",
		       0, NULL);
	grpc_rpc_strip_path_fields(grpc_rpc_find("/google.pubsub.v1.Subscriber/UpdateSubscription"),
				   v);
	assert_null(json_object_get(json_object_get(v, "subscription"), "name"));
	assert_non_null(json_object_get(json_object_get(v, "subscription"), "ackDeadlineSeconds"));
	assert_non_null(json_object_get(v, "updateMask"));
	json_decref(v);
}

static void refusals(void **state)
{
	(void)state;
	assert_null(grpc_rpc_find("/google.pubsub.v1.Publisher/Nope"));
	assert_null(grpc_rpc_find("/grpc.health.v1.Health/Check"));
	const struct grpc_rpc *r = grpc_rpc_find("/google.pubsub.v1.Publisher/GetTopic");
	json_t *v = json_object();
	char buf[64], err[256];
	assert_int_equal(grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Invalid resource name given (topic=)"));
	json_object_set_new(v, "topic",
			    json_string("projects/p/topics/a-rather-long-topic-name"
					"-that-does-not-fit"));
	assert_int_equal(grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	/* A name of another shape is INVALID_ARGUMENT here, not the router's
	 * 404 for an unknown URL (which would read as UNIMPLEMENTED). */
	const char *bad[] = { "nope", "projects/", "projects//topics/t", "projects/p/topics/",
			      "projects/p/topics/t/x", "projects/p/topics",
			      /* another collection: DeleteTopic cannot delete a subscription */
			      "projects/p/subscriptions/s", "projects/p/snapshots/s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];
		json_object_set_new(v, "topic", json_string(bad[i]));
		assert_int_equal(grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "Invalid resource name given (topic=%s)", bad[i]);
		if (strstr(err, want) == NULL)
			fail_msg("%s: %s", bad[i], err);
	}
	json_decref(v);
	/* IAM's resource: a topic, a subscription or a snapshot, nothing else. */
	path_of("/google.iam.v1.IAMPolicy/SetIamPolicy",
		"{\"resource\":\"projects/p/subscriptions/s\"}",
		"/v1/projects/p/subscriptions/s:setIamPolicy");
	r = grpc_rpc_find("/google.iam.v1.IAMPolicy/SetIamPolicy");
	v = json_pack("{s:s}", "resource", "projects/p");
	assert_int_equal(grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)), -1);
	json_decref(v);
	r = grpc_rpc_find("/google.pubsub.v1.Subscriber/DeleteSubscription");
	v = json_pack("{s:s}", "subscription", "projects/p/topics/t");
	assert_int_equal(grpc_rpc_rest_path(r, v, buf, sizeof(buf), err, sizeof(err)), -1);
	json_decref(v);
	r = grpc_rpc_find("/google.pubsub.v1.Subscriber/StreamingPull");
	assert_non_null(r);
	assert_true(r->streaming);
}

/* Each unary method lands on a route of the broker's table with its verb. */
static void every_method_has_its_route(void **state)
{
	(void)state;
	size_t n;
	const struct grpc_rpc *t = grpc_rpc_table(&n);
	assert_true(n >= 28);
	int missing = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i].streaming)
			continue;
		/* Each field holds a name of its kind; "name" the created one's. */
		const char *kind = strstr(t[i].path, "Snapshot")       ? "snapshots"
				   : strstr(t[i].path, "Subscription") ? "subscriptions"
								       : "topics";
		char name[64];
		snprintf(name, sizeof(name), "projects/p/%s/x", kind);
		const char *top = "projects/p/topics/x", *sub = "projects/p/subscriptions/x",
			   *snap = "projects/p/snapshots/x";
		json_t *v;
		if (strstr(t[i].path, "/Update"))
			v = json_pack("{s:{s:s},s:{s:s},s:{s:s}}", "topic", "name", top,
				      "subscription", "name", sub, "snapshot", "name", snap);
		else
			v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "topic", top,
				      "subscription", sub, "snapshot", snap, "resource", top,
				      "project", "projects/p");
		char path[512], err[256];
		if (grpc_rpc_rest_path(&t[i], v, path, sizeof(path), err, sizeof(err)) != 0)
			fail_msg("%s: %s", t[i].path, err);
		path[strcspn(path, "?")] = '\0';
		const struct route *r = NULL;
		char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
		if (router_match(routes, routes_len, t[i].method, path, &r, params) != ROUTE_OK) {
			fail_msg("%s -> %s: no route", t[i].path, path);
			missing++;
		} else {
			assert_string_equal(strrchr(r->method_name, '.') + 1,
					    strrchr(t[i].path, '/') + 1);
		}
		json_decref(v);
	}
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transcoding),
		cmocka_unit_test(body_fields),
		cmocka_unit_test(refusals),
		cmocka_unit_test(every_method_has_its_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
