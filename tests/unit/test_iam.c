/* Unit tests: broker/model/iam.c - roles and their permissions, policy
 * validation, the canonical form and evaluation (model alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"

static void roles(void **state)
{
	(void)state;
	assert_true(iam_role_grants("roles/owner", "pubsub.topics.setIamPolicy"));
	assert_true(iam_role_grants("roles/owner", "regnotify.registry.notify"));
	assert_true(iam_role_grants("roles/editor", "pubsub.topics.publish"));
	assert_false(iam_role_grants("roles/editor", "pubsub.topics.setIamPolicy"));
	assert_false(iam_role_grants("roles/editor", "resourcemanager.projects.getIamPolicy"));
	assert_true(iam_role_grants("roles/viewer", "pubsub.subscriptions.consume"));
	assert_true(iam_role_grants("roles/viewer", "pubsub.topics.get"));
	assert_true(iam_role_grants("roles/viewer", "pubsub.subscriptions.list"));
	assert_false(iam_role_grants("roles/viewer", "pubsub.topics.publish"));
	assert_false(iam_role_grants("roles/viewer", "pubsub.topics.create"));
	assert_false(iam_role_grants("roles/viewer", "pubsub.topics.getIamPolicy"));
	assert_false(iam_role_grants("roles/viewer", "iam.serviceAccountKeys.create"));
	assert_true(iam_role_grants("roles/pubsub.publisher", "pubsub.topics.publish"));
	assert_false(iam_role_grants("roles/pubsub.publisher", "pubsub.topics.get"));
	assert_true(iam_role_grants("roles/pubsub.subscriber", "pubsub.topics.attachSubscription"));
	assert_false(iam_role_grants("roles/pubsub.subscriber", "pubsub.subscriptions.get"));
	assert_true(iam_role_grants("roles/pubsub.admin", "pubsub.subscriptions.setIamPolicy"));
	assert_false(iam_role_grants("roles/pubsub.admin", "iam.serviceAccounts.create"));
	assert_false(iam_role_grants("roles/pubsub.editor", "pubsub.topics.getIamPolicy"));
	assert_true(iam_role_grants("roles/pubsub.viewer", "resourcemanager.projects.get"));
	assert_false(iam_role_grants("roles/pubsub.viewer", "pubsub.subscriptions.consume"));
	assert_false(iam_role_grants("roles/iam.serviceAccountAdmin", "iam.serviceAccounts.actAs"));
	assert_true(iam_role_grants("roles/iam.serviceAccountUser", "iam.serviceAccounts.actAs"));
	assert_true(
		iam_role_grants("roles/regnotify.registryNotifier", "regnotify.registry.notify"));
	assert_false(iam_role_grants("roles/regnotify.registryNotifier", "pubsub.topics.publish"));
	/* Unknown roles and permissions grant nothing. */
	assert_false(iam_role_grants("roles/nope", "pubsub.topics.get"));
	assert_false(iam_role_grants("roles/owner", "pubsub.topics.bogus"));
	assert_false(iam_role_known("roles/pubsub"));
	/* Every permission has a role that grants it (owner), none is orphaned. */
	for (size_t i = 0; i < iam_npermissions; i++)
		assert_true(iam_role_grants("roles/owner", iam_permissions[i]));
}

static json_t *P(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static void policy_check(void **state)
{
	(void)state;
	char err[256];
	const char *good[] = {
		"{}",
		"{\"bindings\":[]}",
		"{\"version\":1,\"bindings\":[{\"role\":\"roles/viewer\",\"members\":"
		"[\"allUsers\",\"allAuthenticatedUsers\",\"serviceAccount:a@p.iam.regnotify\"]}]}",
		"{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":"
		"[\"deleted:serviceAccount:a@p.iam.regnotify?uid=123\"]}]}",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *p = P(good[i]);
		assert_int_equal(iam_policy_check(p, err, sizeof(err)), 0);
		json_decref(p);
	}
	const char *bad[][2] = {
		{ "[]", "JSON object" },
		{ "{\"version\":2}", "version" },
		{ "{\"bindings\":{}}", "array" },
		{ "{\"bindings\":[{\"role\":\"roles/god\",\"members\":[\"allUsers\"]}]}",
		  "roles/god" },
		{ "{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":[]}]}", "no members" },
		{ "{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":[\"user:a@b.c\"]}]}",
		  "user:a@b.c" },
		{ "{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":[\"serviceAccount:no-at\"]}]}",
		  "Invalid member" },
		{ "{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":"
		  "[\"deleted:serviceAccount:a@p.iam.regnotify\"]}]}",
		  "Invalid member" },
		{ "{\"bindings\":[{\"role\":\"roles/viewer\",\"members\":[\"allUsers\"],"
		  "\"condition\":{}}]}",
		  "Conditional" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *p = P(bad[i][0]);
		assert_int_equal(iam_policy_check(p, err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i][1]));
		json_decref(p);
	}
}

static void canonical_and_allows(void **state)
{
	(void)state;
	json_t *p =
		P("{\"bindings\":["
		  "{\"role\":\"roles/viewer\",\"members\":[\"serviceAccount:b@p.iam.regnotify\"]},"
		  "{\"role\":\"roles/pubsub.publisher\",\"members\":[\"allUsers\"]},"
		  "{\"role\":\"roles/viewer\",\"members\":[\"serviceAccount:a@p.iam.regnotify\","
		  "\"serviceAccount:b@p.iam.regnotify\"]}]}");
	json_t *c = iam_policy_canonical(p, "E1");
	char *text = json_dumps(c, JSON_COMPACT);
	assert_string_equal(text,
			    "{\"version\":1,\"etag\":\"E1\",\"bindings\":["
			    "{\"role\":\"roles/pubsub.publisher\",\"members\":[\"allUsers\"]},"
			    "{\"role\":\"roles/viewer\",\"members\":["
			    "\"serviceAccount:a@p.iam.regnotify\","
			    "\"serviceAccount:b@p.iam.regnotify\"]}]}");
	free(text);
	json_t *pols[] = { NULL, c };
	const char *a = "serviceAccount:a@p.iam.regnotify";
	assert_true(iam_allows(pols, 2, a, "pubsub.topics.get"));
	assert_false(iam_allows(pols, 2, a, "pubsub.topics.delete"));
	assert_true(iam_allows(pols, 2, NULL, "pubsub.topics.publish")); /* allUsers */
	assert_false(iam_allows(pols, 2, NULL, "pubsub.topics.get"));
	assert_false(iam_allows(pols, 2, "serviceAccount:c@p.iam.regnotify", "pubsub.topics.get"));
	/* A deleted account's member grants nothing, to anyone. */
	json_t *del = P("{\"bindings\":[{\"role\":\"roles/owner\",\"members\":"
			"[\"deleted:serviceAccount:a@p.iam.regnotify?uid=7\"]}]}");
	json_t *pols3[] = { del };
	assert_false(iam_allows(pols3, 1, a, "pubsub.topics.get"));
	json_decref(del);
	json_t *auth = P("{\"bindings\":[{\"role\":\"roles/pubsub.viewer\","
			 "\"members\":[\"allAuthenticatedUsers\"]}]}");
	json_t *pols2[] = { auth };
	assert_true(iam_allows(pols2, 1, "serviceAccount:z@q.iam.regnotify", "pubsub.topics.list"));
	assert_false(iam_allows(pols2, 1, NULL, "pubsub.topics.list"));
	json_t *none = P("{}"), *empty = iam_policy_canonical(none, "E2");
	assert_null(json_object_get(empty, "bindings"));
	json_decref(empty);
	json_decref(none);
	json_decref(auth);
	json_decref(c);
	json_decref(p);
}

static void account_project(void **state)
{
	(void)state;
	char p[128];
	assert_int_equal(iam_account_project("ci@my-proj.iam.regnotify", p, sizeof(p)), 0);
	assert_string_equal(p, "my-proj");
	assert_int_equal(iam_account_project("admin@regnotify.iam", p, sizeof(p)), 0);
	assert_string_equal(p, "regnotify");
	assert_int_equal(iam_account_project("ci@gmail.com", p, sizeof(p)), -1);
	assert_int_equal(iam_account_project("@p.iam.regnotify", p, sizeof(p)), -1);
	assert_int_equal(iam_account_project("ci@.iam.regnotify", p, sizeof(p)), -1);
	assert_int_equal(iam_account_project("no-at", p, sizeof(p)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles),
		cmocka_unit_test(policy_check),
		cmocka_unit_test(canonical_and_allows),
		cmocka_unit_test(account_project),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
