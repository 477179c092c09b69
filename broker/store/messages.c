/* messages.c - publish, pull, ack, modifyAckDeadline and seek in the
 * store, and the one decoder of the pull script's reply (used by pull
 * clients and push delivery alike). */
#include "keys.h"
#include "mem.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct publish_state {
	store_published_cb cb;
	void *arg;
};

static void ignore_reply(redisReply *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* One message: the XADD reply itself. */
static void on_published_one(redisReply *r, void *arg)
{
	struct publish_state ps = *(struct publish_state *)arg;
	mem_free(arg);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		ps.cb(ps.arg, r, NULL, 0);
	else
		ps.cb(ps.arg, NULL, &r, 1);
}

/* Several messages: EXEC's array (the XADDs, then the PUBLISH). */
static void on_published_exec(redisReply *r, void *arg)
{
	struct publish_state ps = *(struct publish_state *)arg;
	mem_free(arg);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
		ps.cb(ps.arg, r && r->type == REDIS_REPLY_ERROR ? r : NULL, NULL, 0);
	else
		ps.cb(ps.arg, NULL, r->element, r->elements - 1);
}

/* No Lua here (the publish path is the hottest): the messages are XADDs
 * with NOMKSTREAM - a missing stream means a missing topic - wrapped in
 * MULTI/EXEC when there are several, so a request is stored whole or not
 * at all, followed by the wake-up PUBLISH. The commands of one request go
 * out back to back on the shared connection (one loop thread, nothing
 * interleaves). */
int store_publish(struct link *l, const char *project, const char *id, const struct store_msg_in *m,
		  size_t n, store_published_cb cb, void *arg)
{
	if (!link_ready(l))
		return -1;
	char t[NAMES_KEY_MAX], stream[KEYS_MAX], chan[KEYS_MAX];
	names_key(t, project, id);
	KEYS_TOPIC_LOG(stream, t);
	KEYS_WAKE(chan, t);
	struct publish_state *ps = mem_alloc(sizeof(*ps));
	ps->cb = cb;
	ps->arg = arg;
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	size_t multi_l[] = { 5 }, exec_l[] = { 4 };
	int failed = n > 1 && link_argv(l, ignore_reply, NULL, 1, multi, multi_l) != 0;
	int answered = 0; /* a command carrying the callback is queued */
	for (size_t i = 0; i < n && !failed; i++) {
		const char *argv[10] = { "XADD", stream, "NOMKSTREAM",
					 "*",    "d",    m[i].data ? (const char *)m[i].data : "" };
		size_t lens[10] = { 4, strlen(stream), 10, 1, 1, m[i].len };
		int argc = 6;
		if (m[i].attrs) {
			argv[argc] = "a";
			lens[argc++] = 1;
			argv[argc] = m[i].attrs;
			lens[argc++] = m[i].attrs_len;
		}
		if (m[i].key && m[i].key_len) {
			argv[argc] = "k";
			lens[argc++] = 1;
			argv[argc] = m[i].key;
			lens[argc++] = m[i].key_len;
		}
		failed = link_argv(l, n == 1 ? on_published_one : ignore_reply, n == 1 ? ps : NULL,
				   argc, argv, lens) != 0;
		answered = n == 1 && !failed;
	}
	const char *inst = link_instance(l);
	const char *pub[] = { "PUBLISH", chan, inst };
	size_t pub_l[] = { 7, strlen(chan), strlen(inst) };
	if (!failed)
		failed = link_argv(l, ignore_reply, NULL, 3, pub, pub_l) != 0;
	if (!failed && n > 1)
		answered = link_argv(l, on_published_exec, ps, 1, exec, exec_l) == 0;
	/* Only a lost connection fails here; hiredis then fails what was
	 * queued, and an unterminated MULTI dies with the connection. */
	if (answered)
		return 0;
	mem_free(ps); /* no queued command carries it */
	return -1;
}

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
	       store_cb cb, void *arg)
{
	struct sub_keys sk;
	char now[32], n[16], lease[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(n, sizeof(n), "%ld", max);
	snprintf(lease, sizeof(lease), "%ld", lease_ms > 0 ? lease_ms : 0);
	const char *args[] = { sub, now, n, lease };
	return store_run(l, SCRIPT_PULL, cb, arg, 4, sub_keys(&sk, sub), 4, args);
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

int store_ack(struct link *l, const char *sub, int64_t now_ms, const char *const *ids, size_t n,
	      store_cb cb, void *arg)
{
	char now[32];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	const char *fixed[] = { sub, now };
	return run_ids(l, SCRIPT_ACK, sub, fixed, 2, ids, NULL, n, cb, arg);
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

/* The pull script replies {'OK', topic, has-dlq, dead-lettered, then 5
 * elements per message: id, data, attrs, key, attempt} or {'NOT_FOUND'}. */
#define PULL_HEAD 4
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
	if (strcmp(st, "OK") != 0 || r->elements < PULL_HEAD)
		return ERR_INTERNAL;
	out->topic = r->element[1]->str ? r->element[1]->str : "";
	out->topic_len = r->element[1]->str ? r->element[1]->len : 0;
	out->has_dlq = r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer;
	if (r->element[3]->type == REDIS_REPLY_INTEGER)
		out->dead_lettered = r->element[3]->integer;
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
