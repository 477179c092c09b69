/* messages.c - pull, ack, modifyAckDeadline and seek in the
 * store, and the one decoder of the pull script's reply (used by pull
 * clients and push delivery alike). */
#include "keys.h"
#include "mem.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The four keys of a subscription's own state, for the scripts that take them. */
struct sub_keys {
	char k[4][KEYS_MAX];
	const char *v[4];
};

static const char *const *sub_keys(struct sub_keys *sk, const char *s)
{
	sk->v[0] = KEYS_SUB(sk->k[0], s);
	sk->v[1] = KEYS_SUB_LEASE(sk->k[1], s);
	sk->v[2] = KEYS_SUB_ATT(sk->k[2], s);
	sk->v[3] = KEYS_SUB_RETRY(sk->k[3], s);
	return sk->v;
}

int store_pull(struct link *l, const char *sub, int64_t now_ms, long max, long lease_ms,
	       long per_key, store_cb cb, void *arg)
{
	struct sub_keys sk;
	char now[32], n[16], lease[24], pk[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(n, sizeof(n), "%ld", max);
	snprintf(lease, sizeof(lease), "%ld", lease_ms > 0 ? lease_ms : 0);
	snprintf(pk, sizeof(pk), "%ld", per_key > 0 ? per_key : 0);
	const char *args[] = { sub, now, n, lease, pk };
	return store_run(l, SCRIPT_PULL, cb, arg, 4, sub_keys(&sk, sub), 5, args);
}

/* Runs script id on sub with the fixed args and then the id columns. */
static int run_ids(struct link *l, enum script_id id, const char *sub, const char *const *fixed,
		   int nfixed, const char *const *a, const char *const *b, size_t n, store_cb cb,
		   void *arg)
{
	struct sub_keys sk;
	size_t nargs = (size_t)nfixed + n * (b ? 2 : 1);
	const char **args = mem_alloc(sizeof(*args) * (nargs ? nargs : 1));
	for (int i = 0; i < nfixed; i++)
		args[i] = fixed[i];
	size_t k = (size_t)nfixed;
	for (size_t i = 0; i < n; i++) {
		args[k++] = a[i];
		if (b)
			args[k++] = b[i];
	}
	int rc = store_run(l, id, cb, arg, 4, sub_keys(&sk, sub), (int)nargs, args);
	mem_free(args);
	return rc;
}

int store_ack(struct link *l, const char *sub, int64_t now_ms, const char *const *ids,
	      const char *const *attempts, size_t n, store_cb cb, void *arg)
{
	char now[32];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *fixed[] = { sub, now };
	return run_ids(l, SCRIPT_ACK, sub, fixed, 2, ids, attempts, n, cb, arg);
}

int store_modack(struct link *l, const char *sub, int64_t now_ms, long deadline_s,
		 const char *const *ids, const char *const *attempts, size_t n, store_cb cb,
		 void *arg)
{
	char now[32], dl[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(dl, sizeof(dl), "%ld", deadline_s);
	const char *fixed[] = { sub, now, dl };
	return run_ids(l, SCRIPT_MODACK, sub, fixed, 3, ids, attempts, n, cb, arg);
}

int store_seek(struct link *l, const char *sub, int64_t time_ms, int64_t now_ms, store_cb cb,
	       void *arg)
{
	struct sub_keys sk;
	char ts[24], now[24];
	snprintf(ts, sizeof(ts), "%lld", (long long)(time_ms < 0 ? 0 : time_ms));
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *args[] = { sub, ts, now };
	return store_run(l, SCRIPT_SEEK, cb, arg, 4, sub_keys(&sk, sub), 3, args);
}

/* The pull script replies {'OK', topic, has-dlq, dead-lettered, flags, then
 * 5 elements per message: id, data, attrs, key, attempt} or {'NOT_FOUND'}. */
#define PULL_HEAD 5
#define PULL_PER_MSG 5

enum err store_pulled_decode(const redisReply *r, struct store_pulled *out)
{
	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return ERR_UNAVAILABLE;
	const char *st = store_status(r);
	if (st == NULL)
		return ERR_INTERNAL;
	if (strcmp(st, "NOT_FOUND") == 0)
		return ERR_NOT_FOUND;
	if (strcmp(st, "DETACHED") == 0)
		return ERR_FAILED_PRECONDITION;
	if (strcmp(st, "OK") != 0 || r->elements < PULL_HEAD)
		return ERR_INTERNAL;
	out->topic = r->element[1]->str ? r->element[1]->str : "";
	out->topic_len = r->element[1]->str ? r->element[1]->len : 0;
	out->has_dlq = r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer;
	if (r->element[3]->type == REDIS_REPLY_INTEGER)
		out->dead_lettered = r->element[3]->integer;
	if (r->element[4]->type == REDIS_REPLY_INTEGER) {
		out->ordered = (r->element[4]->integer & 1) != 0;
		out->exactly_once = (r->element[4]->integer & 2) != 0;
	}
	out->n = (r->elements - PULL_HEAD) / PULL_PER_MSG;
	return ERR_OK;
}

void store_pulled_msg(const redisReply *r, size_t i, struct store_msg *m)
{
	redisReply *const *e = r->element + PULL_HEAD + i * PULL_PER_MSG;
	m->id = e[0]->str;
	m->id_len = e[0]->len;
	m->data = e[1]->str;
	m->data_len = e[1]->len;
	m->attrs = e[2]->str;
	m->attrs_len = e[2]->len;
	m->key = e[3]->str;
	m->key_len = e[3]->len;
	m->attempt =
		e[4]->type == REDIS_REPLY_INTEGER && e[4]->integer > 0 ? (long)e[4]->integer : 1;
}
