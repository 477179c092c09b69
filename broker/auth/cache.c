/* cache.c - hash tables of keys and policies, invalidated by IAM notices. */
#include "cache.h"

#include "broker.h"
#include "mem.h"

#include <string.h>

static unsigned hash2(const char *a, const char *b)
{
	unsigned h = 2166136261u;
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h % CACHE_BUCKETS;
}

static int fresh(int64_t fetched_ms)
{
	return broker_now_ms() - fetched_ms < CACHE_TTL_MS;
}

struct key_entry *cache_key_get(struct auth *a, const char *email, const char *kid)
{
	for (struct key_entry *e = a->keys[hash2(email, kid)]; e; e = e->next)
		if (strcmp(e->email, email) == 0 && strcmp(e->kid, kid) == 0)
			return fresh(e->fetched_ms) ? e : NULL;
	return NULL;
}

static void key_free(struct key_entry *e)
{
	EVP_PKEY_free(e->pkey);
	mem_free(e);
}

struct key_entry *cache_key_put(struct auth *a, const char *email, const char *kid)
{
	if (a->nkeys >= CACHE_MAX_ENTRIES)
		cache_clear(a);
	unsigned h = hash2(email, kid);
	struct key_entry **pp = &a->keys[h];
	for (; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->email, email) == 0 && strcmp((*pp)->kid, kid) == 0) {
			struct key_entry *old = *pp;
			*pp = old->next;
			key_free(old);
			a->nkeys--;
			break;
		}
	}
	struct key_entry *e = mem_calloc(1, sizeof(*e));
	snprintf(e->email, sizeof(e->email), "%s", email);
	snprintf(e->kid, sizeof(e->kid), "%s", kid);
	e->fetched_ms = broker_now_ms();
	e->next = a->keys[h];
	a->keys[h] = e;
	a->nkeys++;
	return e;
}

struct policy_entry *cache_policy_get(struct auth *a, const char *resource)
{
	for (struct policy_entry *e = a->policies[hash2(resource, NULL)]; e; e = e->next)
		if (strcmp(e->resource, resource) == 0)
			return fresh(e->fetched_ms) ? e : NULL;
	return NULL;
}

static void policy_free(struct policy_entry *e)
{
	json_decref(e->policy);
	mem_free(e);
}

static void drop_policy(struct auth *a, const char *resource)
{
	for (struct policy_entry **pp = &a->policies[hash2(resource, NULL)]; *pp;
	     pp = &(*pp)->next) {
		if (strcmp((*pp)->resource, resource) == 0) {
			struct policy_entry *old = *pp;
			*pp = old->next;
			policy_free(old);
			a->npolicies--;
			return;
		}
	}
}

void cache_policy_put(struct auth *a, const char *resource, json_t *policy)
{
	if (a->npolicies >= CACHE_MAX_ENTRIES)
		cache_clear(a);
	drop_policy(a, resource);
	unsigned h = hash2(resource, NULL);
	struct policy_entry *e = mem_calloc(1, sizeof(*e));
	snprintf(e->resource, sizeof(e->resource), "%s", resource);
	e->policy = policy;
	e->fetched_ms = broker_now_ms();
	e->next = a->policies[h];
	a->policies[h] = e;
	a->npolicies++;
}

/* Drops the entries of email (kid NULL: the account and all its keys). */
static void drop_keys(struct auth *a, const char *email, const char *kid)
{
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct key_entry **pp = &a->keys[i];
		while (*pp) {
			struct key_entry *e = *pp;
			if (strcmp(e->email, email) == 0 &&
			    (kid == NULL || strcmp(e->kid, kid) == 0)) {
				*pp = e->next;
				key_free(e);
				a->nkeys--;
			} else {
				pp = &e->next;
			}
		}
	}
}

struct token_memo *memo_slot(struct auth *a, const unsigned char sha[32])
{
	unsigned idx = ((unsigned)sha[0] << 8 | sha[1]) % MEMO_SLOTS;
	return &a->memo[idx];
}

void memo_clear(struct auth *a)
{
	if (a->memo)
		memset(a->memo, 0, sizeof(*a->memo) * MEMO_SLOTS);
}

void cache_invalidate(struct auth *a, const char *what)
{
	memo_clear(a); /* any change may concern a remembered token */
	if (what == NULL) {
		cache_clear(a);
	} else if (strncmp(what, "sa:", 3) == 0) {
		drop_keys(a, what + 3, NULL);
	} else if (strncmp(what, "key:", 4) == 0) {
		char email[256];
		const char *slash = strrchr(what + 4, '/');
		if (slash && (size_t)(slash - what - 4) < sizeof(email)) {
			snprintf(email, sizeof(email), "%.*s", (int)(slash - what - 4), what + 4);
			drop_keys(a, email, slash + 1);
		}
	} else if (strncmp(what, "policy:", 7) == 0) {
		drop_policy(a, what + 7);
	} else if (strcmp(what, "policies") == 0) { /* an account's members marked deleted */
		for (size_t i = 0; i < CACHE_BUCKETS; i++)
			while (a->policies[i]) {
				struct policy_entry *e = a->policies[i];
				a->policies[i] = e->next;
				policy_free(e);
			}
		a->npolicies = 0;
	}
	/* "signing": the rotation timer reloads the keys (auth.c). */
}

void cache_clear(struct auth *a)
{
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		while (a->keys[i]) {
			struct key_entry *e = a->keys[i];
			a->keys[i] = e->next;
			key_free(e);
		}
		while (a->policies[i]) {
			struct policy_entry *e = a->policies[i];
			a->policies[i] = e->next;
			policy_free(e);
		}
	}
	a->nkeys = a->npolicies = 0;
	memo_clear(a);
}

struct signing_key *cache_signing(struct auth *a, const char *kid)
{
	for (int i = 0; i < a->nsigning; i++)
		if (strcmp(a->signing[i].kid, kid) == 0)
			return &a->signing[i];
	return NULL;
}
