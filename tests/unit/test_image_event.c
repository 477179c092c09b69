/* Unit tests: registry event translation, on every captured Distribution
 * request in tests/fixtures/distribution plus hostile events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_event.h"

#ifndef RN_FIXTURES_DIR
#error "RN_FIXTURES_DIR must point at tests/fixtures/distribution"
#endif

#define IMG1 "sha256:06b93fed4f7a2acfb4626f6c33a0026133d8f519cc2d99114302dc743f5e52db"
#define IMG2 "sha256:255e07ef067ca2a4ea4b0bd03022082fa9f505eb550bbcc26166d78580478957"
#define H "127.0.0.1:43211/team/e2e-app"

static const struct ingest_settings ns = { INGEST_NAMESPACE, "registry", "" };

/* The expected translation of each fixture (DESIGN §5 table). */
static const struct {
	const char *file;
	enum ingest_op op;
	const char *data; /* NULL: no message */
} table[] = {
	{ "01-push_1.0-push-blob-layer.json", OP_IGNORE, NULL },
	{ "02-push_1.0-push-blob-config.json", OP_IGNORE, NULL },
	{ "03-push_1.0-push-manifest-1.0.json", OP_INSERT,
	  "{\"action\":\"INSERT\",\"digest\":\"" H "@" IMG1 "\",\"tag\":\"" H ":1.0\"}" },
	{ "04-push_latest-pull-blob-layer-HEAD.json", OP_IGNORE, NULL },
	{ "05-push_latest-pull-blob-config-HEAD.json", OP_IGNORE, NULL },
	{ "06-push_latest-push-manifest-latest.json", OP_INSERT,
	  "{\"action\":\"INSERT\",\"digest\":\"" H "@" IMG1 "\",\"tag\":\"" H ":latest\"}" },
	{ "07-push_2.0-pull-blob-layer-HEAD.json", OP_IGNORE, NULL },
	{ "08-push_2.0-push-blob-layer.json", OP_IGNORE, NULL },
	{ "09-push_2.0-push-blob-config.json", OP_IGNORE, NULL },
	{ "10-push_2.0-push-manifest-2.0.json", OP_INSERT,
	  "{\"action\":\"INSERT\",\"digest\":\"" H "@" IMG2 "\",\"tag\":\"" H ":2.0\"}" },
	{ "11-delete-delete-manifest-bydigest.json", OP_DELETE_DIGEST,
	  "{\"action\":\"DELETE\",\"digest\":\"" H "@" IMG1 "\"}" },
	{ "12-delete-delete-tag-latest.json", OP_PUBLISH,
	  "{\"action\":\"DELETE\",\"tag\":\"" H ":latest\"}" },
	{ "13-delete-delete-tag-1.0.json", OP_PUBLISH,
	  "{\"action\":\"DELETE\",\"tag\":\"" H ":1.0\"}" },
	{ "14-pull-pull-manifest-2.0.json", OP_PULL, NULL },
	{ "15-pull-pull-blob-layer.json", OP_IGNORE, NULL },
	{ "16-pull-pull-blob-layer.json", OP_IGNORE, NULL },
	{ "17-pull-pull-blob-config.json", OP_IGNORE, NULL },
	{ "18-extra_head_manifest-pull-manifest-2.0-HEAD.json", OP_PULL, NULL },
	{ "19-extra_mount-mount-blob-layer.json", OP_IGNORE, NULL },
	/* Same shape as 11: the store publishes it only for known manifests. */
	{ "20-extra_blob_delete-delete-blob-bydigest.json", OP_DELETE_DIGEST,
	  "{\"action\":\"DELETE\",\"digest\":\"127.0.0.1:43211/team/e2e-app-mirror@"
	  "sha256:6b68c2359de4ea6c989a6ffcdc60729ca95f9cfcebb6e688ce346f50c5c8c63f\"}" },
};

static void fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", RN_FIXTURES_DIR, table[i].file);
		json_error_t je;
		json_t *env = json_load_file(path, 0, &je);
		if (env == NULL)
			fail_msg("cannot read %s: %s", path, je.text);
		json_t *events = json_object_get(env, "events");
		assert_int_equal(json_array_size(events), 1);
		struct image_event_list l = { 0 };
		image_event_from_distribution(json_array_get(events, 0), &ns, &l);
		assert_int_equal(l.n, 1);
		if (l.ev[0].op != table[i].op)
			fail_msg("%s: op %d, expected %d", table[i].file, l.ev[0].op, table[i].op);
		assert_string_equal(l.ev[0].project, "team");
		assert_true(strlen(l.ev[0].id) == 36); /* the registry's UUID */
		if (table[i].data) {
			assert_non_null(l.ev[0].data);
			assert_string_equal(l.ev[0].data, table[i].data);
			json_t *a = json_loads(l.ev[0].attrs, 0, NULL);
			assert_string_equal(json_string_value(json_object_get(a, "repository")),
					    strstr(table[i].file, "20-") ? "team/e2e-app-mirror"
									 : "team/e2e-app");
			assert_string_equal(json_string_value(json_object_get(a, "registry")),
					    "127.0.0.1:43211");
			assert_non_null(json_object_get(a, "action"));
			json_decref(a);
		}
		if (table[i].op == OP_PULL)
			assert_string_equal(l.ev[0].ref, H "@" IMG2);
		image_event_list_cleanup(&l);
		free(l.ev);
		json_decref(env);
	}
}

static struct image_event_list one(const char *json, int native, const struct ingest_settings *s)
{
	struct image_event_list l = { 0 };
	json_t *ev = json_loads(json, 0, NULL);
	assert_non_null(ev);
	if (native)
		image_event_from_native(ev, s, &l);
	else
		image_event_from_distribution(ev, s, &l);
	json_decref(ev);
	return l;
}

static void expect_reject(const char *json, int native, const char *reason)
{
	struct image_event_list l = one(json, native, &ns);
	assert_int_equal(l.n, 1);
	if (l.ev[0].op != OP_REJECT)
		fail_msg("not rejected: %s", json);
	json_t *a = json_loads(l.ev[0].attrs, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(a, "reason")), reason);
	json_decref(a);
	/* The raw event travels as the data. */
	json_t *raw = json_loads(l.ev[0].data, 0, NULL);
	assert_non_null(raw);
	json_decref(raw);
	image_event_list_cleanup(&l);
	free(l.ev);
}

static void hostile(void **state)
{
	(void)state;
	const char *req = ",\"request\":{\"host\":\"reg:5000\"}";
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"id\":\"x\",\"action\":\"explode\",\"target\":{\"repository\":"
		 "\"team/a\",\"digest\":\"" IMG1 "\",\"mediaType\":\"m\"}%s}",
		 req);
	expect_reject(buf, 0, "unknown action");
	snprintf(buf, sizeof(buf), "{\"action\":\"push\",\"target\":{\"digest\":\"" IMG1 "\"}%s}",
		 req);
	expect_reject(buf, 0, "missing repository");
	snprintf(buf, sizeof(buf),
		 "{\"action\":\"push\",\"target\":{\"repository\":\"team/a\","
		 "\"digest\":\"sha256:abc\",\"mediaType\":\"m\"}%s}",
		 req);
	expect_reject(buf, 0, "invalid digest");
	snprintf(buf, sizeof(buf),
		 "{\"action\":\"push\",\"target\":{\"repository\":\"Team/A\","
		 "\"digest\":\"" IMG1 "\"}%s}",
		 req);
	expect_reject(buf, 0, "invalid repository name");
	snprintf(buf, sizeof(buf),
		 "{\"action\":\"push\",\"target\":{\"repository\":\"team/a\","
		 "\"digest\":\"" IMG1 "\",\"tag\":\"bad tag\\\"}\",\"mediaType\":\"m\"}%s}",
		 req);
	expect_reject(buf, 0, "invalid tag");
	expect_reject(
		"{\"action\":\"push\",\"target\":{\"repository\":\"team/a\",\"digest\":\"" IMG1
		"\",\"mediaType\":\"m\"}}",
		0,
		"no registry host: configure registry_host or "
		"send request.host");
	snprintf(buf, sizeof(buf),
		 "{\"action\":\"push\",\"target\":{\"repository\":\"team/a\","
		 "\"digest\":\"" IMG1 "\"},\"request\":{\"host\":\"h\\\"x\"}}");
	expect_reject(buf, 0, "invalid registry host");
	expect_reject("[1,2]", 0, "event is not a JSON object");
	expect_reject("{\"action\":\"push\"}", 0, "missing target");
	expect_reject("{\"action\":\"push\",\"repository\":\"a/b\",\"registry\":\"r\"}", 1,
		      "missing digest");
	expect_reject(
		"{\"action\":\"tag\",\"repository\":\"a/b\",\"registry\":\"r\",\"digest\":\"" IMG1
		"\"}",
		1, "missing tag");
}

static void native_and_modes(void **state)
{
	(void)state;
	struct ingest_settings fixed = { INGEST_FIXED, "ops", "registry.example.com" };
	struct image_event_list l = one(
		"{\"action\":\"tag\",\"repository\":\"team/app\",\"digest\":\"" IMG1 "\",\"tag\":"
		"\"v1\",\"registry\":\"r:1\",\"id\":\"e1\"}",
		1, &ns);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].op, OP_INSERT);
	assert_string_equal(l.ev[0].data, "{\"action\":\"INSERT\",\"digest\":\"r:1/team/app@" IMG1
					  "\",\"tag\":\"r:1/team/app:v1\"}");
	assert_string_equal(l.ev[0].id, "e1");
	image_event_list_cleanup(&l);
	free(l.ev);
	l = one("{\"action\":\"delete\",\"repository\":\"app\",\"digest\":\"" IMG1 "\",\"tag\":"
		"\"v1\",\"id\":\"e2\"}",
		1, &fixed);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0].project, "ops");
	assert_string_equal(l.ev[0].data, "{\"action\":\"DELETE\",\"digest\":"
					  "\"registry.example.com/app@" IMG1 "\"}");
	assert_string_equal(l.ev[1].data, "{\"action\":\"DELETE\",\"tag\":"
					  "\"registry.example.com/app:v1\"}");
	assert_string_equal(l.ev[1].id, "e2#tag");
	image_event_list_cleanup(&l);
	free(l.ev);
	/* An id too long to keep verbatim still deduplicates, by its hash. */
	char longid[300], buf[600];
	memset(longid, 'x', 299);
	longid[299] = '\0';
	snprintf(buf, sizeof(buf),
		 "{\"action\":\"push\",\"repository\":\"a/b\",\"digest\":"
		 "\"" IMG1 "\",\"registry\":\"r\",\"id\":\"%s\"}",
		 longid);
	l = one(buf, 1, &ns);
	assert_int_equal(strlen(l.ev[0].id), 7 + 64);
	assert_memory_equal(l.ev[0].id, "sha256:", 7);
	image_event_list_cleanup(&l);
	free(l.ev);
	/* Namespace mode: a repository without '/' goes to the default project. */
	l = one("{\"action\":\"push\",\"repository\":\"app\",\"digest\":\"" IMG1 "\",\"registry\":"
		"\"r\"}",
		1, &ns);
	assert_string_equal(l.ev[0].project, "registry");
	image_event_list_cleanup(&l);
	free(l.ev);
}

static void validators(void **state)
{
	(void)state;
	assert_true(image_event_valid_repository("team/e2e-app"));
	assert_true(image_event_valid_repository("a/b__c/d-e.f"));
	assert_true(image_event_valid_repository("a--b"));
	assert_false(image_event_valid_repository(""));
	assert_false(image_event_valid_repository("/a"));
	assert_false(image_event_valid_repository("a/"));
	assert_false(image_event_valid_repository("a//b"));
	assert_false(image_event_valid_repository("a-"));
	assert_false(image_event_valid_repository("a.-b"));
	assert_false(image_event_valid_repository("a___b"));
	assert_false(image_event_valid_repository("A"));
	assert_true(image_event_valid_tag("1.0"));
	assert_true(image_event_valid_tag("_x"));
	assert_false(image_event_valid_tag(".x"));
	assert_false(image_event_valid_tag(""));
	assert_true(image_event_valid_digest(IMG1));
	assert_false(image_event_valid_digest("sha256:"
					      "06B93FED4F7A2ACFB4626F6C33A0026133D8F519CC2D"
					      "99114302DC743F5E52DB"));
	assert_false(image_event_valid_digest("md5:abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixtures),
		cmocka_unit_test(hostile),
		cmocka_unit_test(native_and_modes),
		cmocka_unit_test(validators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
