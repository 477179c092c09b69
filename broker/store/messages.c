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

/* The split pull (pull.lua's header): for a subscription known to be
 * unordered, the broker reads the new entries itself, so that they are
 * not copied through Lua - MULTI, XREADGROUP, the pull script (split '1'),
 * EXEC - and takes them from XREADGROUP's reply. Known: the stream it
 * reads, learnt from the last whole pull's reply (topic and flags), kept
 * in a small table of the link, forgotten on anything unexpected. */
#define SPLIT_SLOTS 1024

struct split_slot {
	char sub[NAMES_KEY_MAX];
	char log[KEYS_MAX];
	size_t last_n; /* messages the last pull returned */
};

/* Split only while there is a backlog (the last pull returned this many):
 * for the pull of one or two fresh messages, the four commands cost
 * more than the Lua copies they save (e2e p50 +30 %, docs/performance.md). */
#define SPLIT_MIN 100

struct pullsplit {
	struct split_slot slot[SPLIT_SLOTS];
};

struct pullsplit *pullsplit_new(void)
{
	return mem_calloc(1, sizeof(struct pullsplit));
}

void pullsplit_free(struct pullsplit *ps)
{
	mem_free(ps);
}

static struct split_slot *split_slot(struct link *l, const char *sub)
{
	unsigned h = 2166136261u;
	for (const char *p = sub; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &link_pullsplit(l)->slot[h % SPLIT_SLOTS];
}

static void split_forget(struct link *l, const char *sub)
{
	struct split_slot *sl = split_slot(l, sub);
	if (strcmp(sl->sub, sub) == 0)
		sl->sub[0] = '\0';
}

/* pull.lua's flags (its header). */
#define PULL_ORDERED 1
#define PULL_EXACTLY_ONCE 2
#define PULL_FILTERED 4
#define PULL_DUE_LEFT 8

struct pull_wait {
	struct link *l;
	int split; /* sent as MULTI ... EXEC */
	char sub[NAMES_KEY_MAX];
	store_cb cb;
	void *arg;
};

/* Learns (or forgets) how sub is read from a pull reply r (either shape). */
static void split_learn(struct link *l, const char *sub, const redisReply *r)
{
	struct store_pulled p;
	if (store_pulled_decode(r, &p) != ERR_OK || p.topic_len == 0 || p.ordered ||
	    (p.flags & PULL_DUE_LEFT) || p.topic_len >= NAMES_KEY_MAX) {
		split_forget(l, sub);
		return;
	}
	char t[NAMES_KEY_MAX];
	memcpy(t, p.topic, p.topic_len);
	t[p.topic_len] = '\0';
	struct split_slot *sl = split_slot(l, sub);
	snprintf(sl->sub, sizeof(sl->sub), "%s", sub);
	if (p.flags & PULL_FILTERED)
		KEYS_SUB_FLOG(sl->log, t, sub);
	else
		KEYS_TOPIC_LOG(sl->log, t);
	sl->last_n = p.n;
}

static void on_pull_reply(redisReply *r, void *arg)
{
	struct pull_wait *w = arg;
	int split = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[1]->type != REDIS_REPLY_STRING;
	if (split && r->element[1]->type != REDIS_REPLY_ARRAY) {
		/* The script failed (or NOSCRIPT): what XREADGROUP read is
		 * delivered by the next whole pull (pull.lua `lr`). */
		split_forget(w->l, w->sub);
		r = NULL;
	} else if (split && r->element[0]->type == REDIS_REPLY_ERROR) {
		split_forget(w->l, w->sub); /* NOGROUP: gone, or detached */
	} else if (r && r->type == REDIS_REPLY_ERROR && w->split) {
		split_forget(w->l, w->sub); /* EXECABORT */
		r = NULL;
	} else if (r) {
		split_learn(w->l, w->sub, r);
	} else {
		split_forget(w->l, w->sub);
	}
	w->cb(r, w->arg);
	mem_free(w);
}

static void on_queued(redisReply *r, void *arg)
{
	(void)r;
	(void)arg;
}

int store_pull(struct link *l, const char *sub, int64_t now_ms, long max, long lease_ms,
	       long per_key, store_cb cb, void *arg)
{
	if (!link_ready(l))
		return -1;
	struct sub_keys sk;
	char now[32], n[16], lease[24], pk[24];
	snprintf(now, sizeof(now), "%lld", (long long)now_ms);
	snprintf(n, sizeof(n), "%ld", max);
	snprintf(lease, sizeof(lease), "%ld", lease_ms > 0 ? lease_ms : 0);
	snprintf(pk, sizeof(pk), "%ld", per_key > 0 ? per_key : 0);
	struct pull_wait *w = mem_alloc(sizeof(*w));
	w->l = l;
	snprintf(w->sub, sizeof(w->sub), "%s", sub);
	w->cb = cb;
	w->arg = arg;
	struct split_slot *sl = split_slot(l, sub);
	w->split = max >= SPLIT_MIN && strcmp(sl->sub, sub) == 0 && sl->last_n >= SPLIT_MIN;
	if (!w->split) {
		const char *args[] = { sub, now, n, lease, pk, "0" };
		int rc =
			store_run(l, SCRIPT_PULL, on_pull_reply, w, 4, sub_keys(&sk, sub), 6, args);
		if (rc != 0)
			mem_free(w);
		return rc;
	}
	const char *multi[] = { "MULTI" };
	const char *xread[] = { "XREADGROUP", "GROUP", sub, "rn", "COUNT", n,
				"STREAMS",    sl->log, ">" };
	const char *exec[] = { "EXEC" };
	const char *args[] = { sub, now, n, lease, pk, "1" };
	size_t xl[9];
	for (int i = 0; i < 9; i++)
		xl[i] = strlen(xread[i]);
	size_t one = 5, four = 4;
	/* Sent back to back on one connection: nothing comes between. */
	if (link_argv(l, on_queued, NULL, 1, multi, &one) != 0 ||
	    link_argv(l, on_queued, NULL, 9, xread, xl) != 0 ||
	    store_run(l, SCRIPT_PULL, on_queued, NULL, 4, sub_keys(&sk, sub), 6, args) != 0 ||
	    link_argv(l, on_pull_reply, w, 1, exec, &four) != 0) {
		/* Only when the link just went: its pending commands fail. */
		mem_free(w);
		return -1;
	}
	return 0;
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

/* The pull script replies {'OK', topic, has-dlq, dead-lettered, flags,
 * cutoff-ms, then 5 elements per message: id, data, attrs, key, attempt}
 * or {'NOT_FOUND'}; the split pull's EXEC [XREADGROUP's reply, that]. */
#define PULL_HEAD 6
#define PULL_PER_MSG 5

/* Unix ms of a stream id "ms-seq". */
static unsigned long long id_ms(const redisReply *id)
{
	unsigned long long v = 0;
	for (size_t i = 0; i < id->len && id->str[i] >= '0' && id->str[i] <= '9'; i++)
		v = v * 10 + (unsigned long long)(id->str[i] - '0');
	return v;
}

enum err store_pulled_decode(const redisReply *r, struct store_pulled *out)
{
	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return ERR_UNAVAILABLE;
	const redisReply *xr = NULL;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_ARRAY) {
		xr = r->element[0];
		r = r->element[1];
		out->split = 1;
	}
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
		out->flags = (int)r->element[4]->integer;
		out->ordered = (out->flags & PULL_ORDERED) != 0;
		out->exactly_once = (out->flags & PULL_EXACTLY_ONCE) != 0;
	}
	out->script = r;
	out->nflat = (r->elements - PULL_HEAD) / PULL_PER_MSG;
	out->n = out->nflat;
	/* XREADGROUP: [[stream, [[id, [field, value, ...]], ...]]] or nil. */
	if (xr && xr->type == REDIS_REPLY_ARRAY && xr->elements == 1 &&
	    xr->element[0]->type == REDIS_REPLY_ARRAY && xr->element[0]->elements == 2 &&
	    xr->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
		const redisReply *es = xr->element[0]->element[1];
		unsigned long long cutoff =
			r->element[5]->type == REDIS_REPLY_INTEGER && r->element[5]->integer > 0
				? (unsigned long long)r->element[5]->integer
				: 0;
		size_t skip = 0;
		while (skip < es->elements && es->element[skip]->type == REDIS_REPLY_ARRAY &&
		       es->element[skip]->elements == 2 &&
		       id_ms(es->element[skip]->element[0]) < cutoff)
			skip++; /* acknowledged by the script: past the retention */
		out->entries = es;
		out->skip = skip;
		out->n += es->elements - skip;
	}
	return ERR_OK;
}

void store_pulled_msg(const struct store_pulled *p, size_t i, struct store_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->data = m->attrs = m->key = "";
	if (i < p->nflat) {
		redisReply *const *e = p->script->element + PULL_HEAD + i * PULL_PER_MSG;
		m->id = e[0]->str;
		m->id_len = e[0]->len;
		m->data = e[1]->str;
		m->data_len = e[1]->len;
		m->attrs = e[2]->str;
		m->attrs_len = e[2]->len;
		m->key = e[3]->str;
		m->key_len = e[3]->len;
		m->attempt = e[4]->type == REDIS_REPLY_INTEGER && e[4]->integer > 0
				     ? (long)e[4]->integer
				     : 1;
		return;
	}
	const redisReply *e = p->entries->element[p->skip + i - p->nflat];
	m->attempt = 1;
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
		return;
	m->id = e->element[0]->str ? e->element[0]->str : "";
	m->id_len = e->element[0]->str ? e->element[0]->len : 0;
	const redisReply *kv = e->element[1];
	if (kv->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t k = 0; k + 1 < kv->elements; k += 2) {
		const redisReply *f = kv->element[k], *v = kv->element[k + 1];
		if (f->len != 1 || v->type != REDIS_REPLY_STRING)
			continue;
		if (f->str[0] == 'd') {
			m->data = v->str;
			m->data_len = v->len;
		} else if (f->str[0] == 'a') {
			m->attrs = v->str;
			m->attrs_len = v->len;
		} else if (f->str[0] == 'k') {
			m->key = v->str;
			m->key_len = v->len;
		}
	}
}
