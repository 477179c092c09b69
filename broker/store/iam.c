/* iam.c - the store's service accounts, their public keys, IAM policies
 * and the broker's signing keys; every change is PUBLISHed on
 * KEYS_IAM_CHANNEL so that every broker's caches (auth/) follow. */
#include "keys.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int store_sa_create(struct link *l, const struct store_sa *sa, int64_t now_ms, store_cb cb,
		    void *arg)
{
	char h[KEYS_MAX], idx[KEYS_MAX], now[32];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *keys[] = { KEYS_SA(h, sa->email), KEYS_PROJECT_SAS(idx, sa->project),
			       KEYS_ALL_SAS };
	const char *args[] = {
		sa->email,       sa->project, sa->account_id, sa->unique_id, sa->display_name,
		sa->description, now
	};
	return store_run(l, SCRIPT_SA_CREATE, cb, arg, 3, keys, 7, args);
}

int store_sa_get(struct link *l, const char *email, store_cb cb, void *arg)
{
	char h[KEYS_MAX];
	const char *argv[] = { "HGETALL", KEYS_SA(h, email) };
	size_t lens[] = { 7, strlen(h) };
	return link_argv(l, cb, arg, 2, argv, lens);
}

int store_sa_list(struct link *l, const char *project, const char *start, long count, store_cb cb,
		  void *arg)
{
	char idx[KEYS_MAX], n[32];
	snprintf(n, sizeof(n), "%ld", count);
	const char *keys[] = { KEYS_PROJECT_SAS(idx, project) };
	const char *args[] = { start, n };
	return store_run(l, SCRIPT_SA_LIST, cb, arg, 1, keys, 2, args);
}

int store_sa_update(struct link *l, const char *email, const char *field, const char *value,
		    store_cb cb, void *arg)
{
	char h[KEYS_MAX];
	const char *keys[] = { KEYS_SA(h, email) };
	const char *args[] = { field, value, email, KEYS_IAM_CHANNEL };
	return store_run(l, SCRIPT_SA_UPDATE, cb, arg, 1, keys, 4, args);
}

int store_sa_delete(struct link *l, const char *email, const char *project, store_cb cb, void *arg)
{
	char h[KEYS_MAX], ks[KEYS_MAX], idx[KEYS_MAX];
	const char *keys[] = { KEYS_SA(h, email), KEYS_SA_KEYS(ks, email),
			       KEYS_PROJECT_SAS(idx, project), KEYS_ALL_SAS, KEYS_ALL_POLICIES };
	const char *args[] = { email, KEYS_IAM_CHANNEL };
	return store_run(l, SCRIPT_SA_DELETE, cb, arg, 5, keys, 2, args);
}

int store_key_create(struct link *l, const char *email, const struct store_key *k, int max_keys,
		     store_cb cb, void *arg)
{
	char h[KEYS_MAX], ks[KEYS_MAX], kh[KEYS_MAX], created[32], before[32], max[16];
	snprintf(created, sizeof(created), "%lld", (long long)k->created_ms);
	snprintf(before, sizeof(before), "%lld", (long long)k->valid_before_ms);
	snprintf(max, sizeof(max), "%d", max_keys);
	const char *keys[] = { KEYS_SA(h, email), KEYS_SA_KEYS(ks, email),
			       KEYS_SA_KEY(kh, email, k->key_id) };
	const char *args[] = { k->key_id, k->public_pem, k->algorithm, created, before, max };
	return store_run(l, SCRIPT_KEY_CREATE, cb, arg, 3, keys, 6, args);
}

int store_key_list(struct link *l, const char *email, store_cb cb, void *arg)
{
	char h[KEYS_MAX], ks[KEYS_MAX];
	const char *keys[] = { KEYS_SA(h, email), KEYS_SA_KEYS(ks, email) };
	const char *args[] = { email };
	return store_run(l, SCRIPT_KEY_LIST, cb, arg, 2, keys, 1, args);
}

int store_key_lookup(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg)
{
	char h[KEYS_MAX], kh[KEYS_MAX];
	const char *keys[] = { KEYS_SA(h, email), KEYS_SA_KEY(kh, email, key_id) };
	return store_run(l, SCRIPT_KEY_LOOKUP, cb, arg, 2, keys, 0, NULL);
}

int store_key_get(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg)
{
	char kh[KEYS_MAX];
	const char *argv[] = { "HGETALL", KEYS_SA_KEY(kh, email, key_id) };
	size_t lens[] = { 7, strlen(kh) };
	return link_argv(l, cb, arg, 2, argv, lens);
}

int store_key_delete(struct link *l, const char *email, const char *key_id, store_cb cb, void *arg)
{
	char ks[KEYS_MAX], kh[KEYS_MAX];
	const char *keys[] = { KEYS_SA_KEYS(ks, email), KEYS_SA_KEY(kh, email, key_id) };
	const char *args[] = { key_id, email, KEYS_IAM_CHANNEL };
	return store_run(l, SCRIPT_KEY_DELETE, cb, arg, 2, keys, 3, args);
}

/* The policy key of a resource and the key that proves it exists. */
static void policy_keys(const struct store_resource *r, char *policy, char *owner)
{
	char n[NAMES_KEY_MAX];
	if (r->kind == STORE_RES_GLOBAL) {
		snprintf(policy, KEYS_MAX, "%s", KEYS_GLOBAL_POLICY);
		snprintf(owner, KEYS_MAX, "%s", KEYS_GLOBAL_POLICY);
		return;
	}
	if (r->kind == STORE_RES_PROJECT) {
		(void)KEYS_PROJECT_POLICY(policy, r->project);
		(void)KEYS_PROJECT_POLICY(owner, r->project);
		return;
	}
	names_key(n, r->project, r->id);
	if (r->kind == STORE_RES_TOPIC) {
		(void)KEYS_TOPIC_POLICY(policy, n);
		(void)KEYS_TOPIC(owner, n);
	} else {
		(void)KEYS_SUB_POLICY(policy, n);
		(void)KEYS_SUB(owner, n);
	}
}

int store_policy_get(struct link *l, const struct store_resource *r, store_cb cb, void *arg)
{
	char policy[KEYS_MAX], owner[KEYS_MAX];
	policy_keys(r, policy, owner);
	const char *argv[] = { "HMGET", policy, "json", "etag", "audit" };
	size_t lens[] = { 5, strlen(policy), 4, 4, 5 };
	return link_argv(l, cb, arg, 5, argv, lens);
}

int store_policy_read(struct link *l, const struct store_resource *r, store_cb cb, void *arg)
{
	char policy[KEYS_MAX], owner[KEYS_MAX];
	policy_keys(r, policy, owner);
	const char *keys[] = { policy, owner };
	const char *args[] = { r->kind <= STORE_RES_PROJECT ? "0" : "1" };
	return store_run(l, SCRIPT_POLICY_GET, cb, arg, 2, keys, 1, args);
}

int store_policy_set(struct link *l, const struct store_resource *r, const char *resource_name,
		     const char *json, const char *etag, const char *expected_etag,
		     const char *audit_configs, store_cb cb, void *arg)
{
	char policy[KEYS_MAX], owner[KEYS_MAX];
	policy_keys(r, policy, owner);
	const char *keys[] = { policy, owner, KEYS_ALL_POLICIES };
	const char *args[] = { json,
			       etag,
			       expected_etag ? expected_etag : "",
			       resource_name,
			       KEYS_IAM_CHANNEL,
			       r->kind <= STORE_RES_PROJECT ? "0" : "1",
			       audit_configs ? "set" : "keep",
			       audit_configs ? audit_configs : "" };
	return store_run(l, SCRIPT_POLICY_SET, cb, arg, 3, keys, 8, args);
}

int store_signing_ensure(struct link *l, const char *kid, const char *key_json, int64_t now_ms,
			 int64_t rotate_ms, int64_t keep_ms, store_cb cb, void *arg)
{
	char now[32], rot[32], keep[32];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(rot, sizeof(rot), "%lld", (long long)rotate_ms);
	snprintf(keep, sizeof(keep), "%lld", (long long)keep_ms);
	const char *keys[] = { KEYS_SIGNING };
	const char *args[] = { kid, key_json, now, rot, keep, KEYS_IAM_CHANNEL };
	return store_run(l, SCRIPT_SIGNING_ENSURE, cb, arg, 1, keys, 6, args);
}

int store_signing_get(struct link *l, store_cb cb, void *arg)
{
	const char *argv[] = { "HGETALL", KEYS_SIGNING };
	size_t lens[] = { 7, strlen(KEYS_SIGNING) };
	return link_argv(l, cb, arg, 2, argv, lens);
}

void store_watch_iam(struct link *l, link_watch_fn fn, void *arg)
{
	link_watch(l, KEYS_IAM_CHANNEL, fn, arg);
}

int store_sa_count(struct link *l, store_cb cb, void *arg)
{
	const char *argv[] = { "SCARD", KEYS_ALL_SAS };
	size_t lens[] = { 5, strlen(KEYS_ALL_SAS) };
	return link_argv(l, cb, arg, 2, argv, lens);
}
