/* cache.h - auth/'s in-memory state: service-account keys and account
 * states (for authn), policies (for authz), the broker's signing keys.
 * Entries live until the store says they changed (an IAM notice), at most
 * CACHE_TTL_MS (a missed notice heals), and are all dropped when the
 * subscriber reconnects. Loop thread. */
#ifndef RN_AUTH_CACHE_H
#define RN_AUTH_CACHE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>

struct broker;

#define CACHE_TTL_MS 60000
#define CACHE_BUCKETS 1024
#define CACHE_MAX_ENTRIES 8192 /* past this, everything is dropped (hostile kids) */
#define SIGNING_MAX 8

/* A key of an account (kid != "") or the account itself (kid ""). */
struct key_entry {
	struct key_entry *next;
	char email[256], kid[128];
	EVP_PKEY *pkey;          /* NULL for an account entry or a missing key */
	int64_t valid_before_ms; /* 0: no end */
	int found, disabled;
	int64_t fetched_ms;
};

struct policy_entry {
	struct policy_entry *next;
	char resource[600]; /* "global", "projects/P", "projects/P/topics/T" */
	json_t *policy;     /* NULL: the resource has none */
	int64_t fetched_ms;
};

/* A token that verified: its SHA-256, the account it named and its exp.
 * A call with the same token skips parsing and the signature check (an
 * RSA or ECDSA verification costs tens of microseconds); every IAM notice
 * empties the memo, so a deleted key or a disabled account is not served
 * from it. */
#define MEMO_SLOTS 4096
struct token_memo {
	unsigned char sha[32];
	char email[256];
	long long exp_s;
	int used;
};

struct signing_key {
	char kid[64];
	EVP_PKEY *key; /* private: this broker signs with the newest */
	int64_t created_ms;
};

struct auth {
	struct broker *b;
	struct key_entry *keys[CACHE_BUCKETS];
	struct policy_entry *policies[CACHE_BUCKETS];
	size_t nkeys, npolicies;
	struct signing_key signing[SIGNING_MAX];
	int nsigning;
	struct event *timer; /* signing-key rotation and bootstrap retries */
	int bootstrapped;
	char issuer[600];        /* public_url + "/token" */
	struct token_memo *memo; /* MEMO_SLOTS, direct-mapped by the hash */
	unsigned long long memo_hits, memo_misses;
};

/* The memo's entry for a token's hash, and its reset. */
struct token_memo *memo_slot(struct auth *a, const unsigned char sha[32]);
void memo_clear(struct auth *a);

/* Lookups return NULL when absent or stale. */
struct key_entry *cache_key_get(struct auth *a, const char *email, const char *kid);
struct key_entry *cache_key_put(struct auth *a, const char *email, const char *kid);
struct policy_entry *cache_policy_get(struct auth *a, const char *resource);
void cache_policy_put(struct auth *a, const char *resource, json_t *policy);

/* An IAM notice ("sa:E", "key:E/K", "policy:R", "signing"), NULL: all. */
void cache_invalidate(struct auth *a, const char *what);
void cache_clear(struct auth *a);

/* The signing key with kid, or NULL. */
struct signing_key *cache_signing(struct auth *a, const char *kid);

#endif
