/* link.c - async hiredis links with reconnect and script loading.
 *
 * Two links: "cmd" carries every command; "sub" is in PSUBSCRIBE mode for
 * wake-ups. A link that fails is dropped (hiredis frees its context) and
 * reconnected after a backoff that doubles from 100 ms to 5 s. */
#include "link.h"

#include "broker.h"
#include "log.h"
#include "mem.h"
#include "keys.h"
#include "audit.h"
#include "sinks.h"
#include "store_internal.h"
#include "wake.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* A link whose PING has not come back for this long is treated as dead:
 * a Redis that hangs (stopped, swapping, network black hole) must turn
 * into 503s and a reconnect, not requests that wait forever. */
#define PING_EVERY_MS 1000
#define PING_TIMEOUT_MS 5000

struct conn {
	struct link *rc;
	int is_sub;
	redisAsyncContext *ac;
	int connected;
	int backoff_ms;
	struct event *retry_ev;
	struct event *ping_ev;
	int64_t ping_sent_ms; /* 0: no PING outstanding */
};

struct link {
	struct broker *b;
	struct conn cmd, sub;
	int ready;
	int loading;         /* scripts still to load on the current cmd connection */
	unsigned generation; /* bumped per cmd connection */
	char sha[SCRIPT_COUNT][41];
	char instance[24]; /* random id of this broker process (wake-up payloads) */
	int logged_down;
	int setup_failed; /* AUTH or SELECT refused on this connection */
	/* link_audit_next: the entry the next audited script appends. */
	char *audit_project, *audit_key, *audit_entry;
	int audit_log;               /* its enum audit_log_name */
	int64_t audit_time_us;       /* its timestamp (the exported message's attribute) */
	struct sinks *sinks;         /* where entries are exported (sinks.h) */
	struct pubbatch *pubbatch;   /* publishes of this loop turn (publish.c) */
	struct pullsplit *pullsplit; /* how unordered subscriptions are read (messages.c) */
	/* link_watch: one more channel on the subscriber connection. */
	const char *watch_channel;
	link_watch_fn watch_fn;
	void *watch_arg;
};

/* An audited script carrying an entry, kept to be resent when Redis
 * answers AUDIT_STALE (prelude.lua): its own keys and arguments, copied. */
struct audit_send {
	struct link *rc;
	enum script_id id;
	int numkeys, argc, tries, log;
	int64_t time_us;
	char **argv;
	size_t *lens;
	char *project, *key, *entry;
};

struct pending {
	link_cb cb;
	void *arg;
	struct audit_send *au; /* NULL: any other command */
};

static int audit_send(struct pending *p);
static void audit_send_free(struct audit_send *a);

static void conn_connect(struct conn *l);

static void on_pong(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)r;
	(void)privdata;
	struct conn *l = ac->data;
	if (l)
		l->ping_sent_ms = 0;
}

static void on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *l = arg;
	if (l->ac == NULL || !l->connected || l->is_sub)
		return;
	int64_t now = broker_now_ms();
	if (l->ping_sent_ms && now - l->ping_sent_ms > PING_TIMEOUT_MS) {
		log_warn("redis: no reply for %d ms; dropping the connection", PING_TIMEOUT_MS);
		redisAsyncContext *ac = l->ac;
		/* Fails every pending command (their calls answer 503) and
		 * runs on_disconnect, which schedules the reconnect. */
		redisAsyncFree(ac);
		return;
	}
	/* Command link only: hiredis 0.14 cannot route a PING reply on a
	 * link in subscribed mode. Wake-ups are an optimisation (parked
	 * pulls also retry on a tick), so a stuck subscriber costs latency,
	 * not messages. */
	if (!l->ping_sent_ms && redisAsyncCommand(l->ac, on_pong, NULL, "PING") == REDIS_OK)
		l->ping_sent_ms = now;
}

static void schedule_retry(struct conn *l)
{
	struct timeval tv = { l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000 };
	event_add(l->retry_ev, &tv);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_connect(arg);
}

static void conn_down(struct conn *l, const char *why)
{
	struct link *rc = l->rc;
	l->ac = NULL;
	l->connected = 0;
	if (!l->is_sub) {
		if (rc->ready || !rc->logged_down)
			log_warn("redis: connection lost (%s); reconnecting with backoff", why);
		rc->logged_down = 1;
		rc->ready = 0;
	}
	if (!rc->b->shutting_down)
		schedule_retry(l);
}

static int is_stale(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	       r->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[0]->str, "AUDIT_STALE") == 0;
}

#define AUDIT_RESENDS 3

static void on_cmd_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)ac;
	struct pending *p = privdata;
	redisReply *reply = r;
	if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		/* Someone flushed the script cache: fail this call, reload. */
		struct link *rc = ac->data ? ((struct conn *)ac->data)->rc : NULL;
		log_warn("redis: script cache was flushed; reloading scripts");
		if (rc && rc->cmd.ac)
			redisAsyncDisconnect(rc->cmd.ac);
		reply = NULL;
	}
	if (p->au && is_stale(reply)) {
		/* Nothing changed: learn the sinks, then send it again. */
		sinks_load(p->au->rc->sinks, reply->element[1], reply->element[2]);
		if (p->au->tries++ < AUDIT_RESENDS && audit_send(p) == 0)
			return;
		log_warn("redis: the log sinks kept changing under %s; the call failed",
			 scripts[p->au->id].name);
		reply = NULL;
	}
	p->cb(reply, p->arg);
	audit_send_free(p->au);
	mem_free(p);
}

static void check_config_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct conn *l = ac->data;
	redisReply *reply = r;
	(void)privdata;
	if (l == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return; /* CONFIG may be renamed or forbidden: nothing to check */
	const char *appendonly = NULL, *fsync = NULL;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		if (strcmp(reply->element[i]->str, "appendonly") == 0)
			appendonly = reply->element[i + 1]->str;
		if (strcmp(reply->element[i]->str, "appendfsync") == 0)
			fsync = reply->element[i + 1]->str;
	}
	const struct config *cfg = &l->rc->b->cfg;
	const char *want = cfg->durability == DURABILITY_ALWAYS ? "always" : "everysec";
	if (appendonly && strcmp(appendonly, "yes") != 0)
		log_warn("redis: appendonly is '%s'; accepted messages can be lost when Redis "
			 "restarts (configure appendonly yes, appendfsync %s)",
			 appendonly, want);
	else if (fsync && strcmp(fsync, want) != 0 &&
		 !(strcmp(want, "everysec") == 0 && strcmp(fsync, "always") == 0))
		log_warn("redis: appendfsync is '%s' but durability is '%s'", fsync, want);
}

static void on_script_loaded(redisAsyncContext *ac, void *r, void *privdata)
{
	struct conn *l = ac->data;
	redisReply *reply = r;
	if (l == NULL)
		return;
	struct link *rc = l->rc;
	int id = (int)(intptr_t)privdata;
	if (reply == NULL || reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		log_error("redis: cannot load script %s: %s", scripts[id].name,
			  reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
		return;
	}
	memcpy(rc->sha[id], reply->str, 40);
	rc->sha[id][40] = '\0';
	if (--rc->loading == 0 && !rc->setup_failed) {
		rc->ready = 1;
		rc->logged_down = 0;
		l->backoff_ms = BACKOFF_MIN_MS;
		log_info("redis: ready (%s)",
			 rc->b->cfg.redis_unix ? rc->b->cfg.redis_path : rc->b->cfg.redis_host);
	}
}

static void on_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;
	if (reply && reply->type == REDIS_REPLY_ERROR) {
		struct conn *l = ac->data;
		/* Not ready on this connection; the backoff keeps growing. */
		if (l)
			l->rc->setup_failed = 1;
		log_error("redis: %s failed: %s", (const char *)privdata,
			  strncmp(reply->str, "ERR AUTH", 8) == 0 ? "ERR AUTH refused"
								  : reply->str);
		redisAsyncDisconnect(ac);
	}
}

static void on_wake_msg(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)privdata;
	struct conn *l = ac->data;
	redisReply *reply = r;
	if (l == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
		return;
	/* ["pmessage", pattern, channel, payload]; channel = rn:v1:wake:P/T */
	redisReply *ch = reply->element[2], *payload = reply->element[3];
	/* This broker's own publishes were already woken locally. */
	if (payload->type == REDIS_REPLY_STRING && payload->len == strlen(l->rc->instance) &&
	    memcmp(payload->str, l->rc->instance, payload->len) == 0)
		return;
	if (ch->type == REDIS_REPLY_STRING && ch->len > sizeof(KEYS_WAKE_PREFIX) - 1)
		wake_topic(l->rc->b, ch->str + sizeof(KEYS_WAKE_PREFIX) - 1);
}

/* A message on the watched channel: ["message", channel, payload], or the
 * subscribe confirmation ["subscribe", channel, n] - after which changes
 * may have been missed while the subscriber was down: fn(arg, NULL). */
static void on_watch_msg(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)privdata;
	struct conn *l = ac->data;
	redisReply *reply = r;
	if (l == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
	    l->rc->watch_fn == NULL)
		return;
	const char *kind = reply->element[0]->str;
	redisReply *payload = reply->element[2];
	if (strcmp(kind, "subscribe") == 0)
		l->rc->watch_fn(l->rc->watch_arg, NULL);
	else if (strcmp(kind, "message") == 0 && payload->type == REDIS_REPLY_STRING)
		l->rc->watch_fn(l->rc->watch_arg, payload->str);
}

void link_watch(struct link *rc, const char *channel, link_watch_fn fn, void *arg)
{
	rc->watch_channel = channel;
	rc->watch_fn = fn;
	rc->watch_arg = arg;
	if (rc->sub.ac && rc->sub.connected)
		redisAsyncCommand(rc->sub.ac, on_watch_msg, NULL, "SUBSCRIBE %s", channel);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
	struct conn *l = cac->data;
	if (l == NULL)
		return;
	if (status != REDIS_OK) {
		conn_down(l, cac->errstr);
		return;
	}
	l->connected = 1;
	l->ping_sent_ms = 0;
	struct link *rc = l->rc;
	redisAsyncContext *ac = l->ac;
	const struct config *cfg = &rc->b->cfg;
	if (!l->is_sub)
		rc->setup_failed = 0;
	if (cfg->redis_password[0])
		redisAsyncCommand(ac, on_setup_reply, "AUTH", "AUTH %s", cfg->redis_password);
	if (l->is_sub) {
		l->backoff_ms = BACKOFF_MIN_MS;
		redisAsyncCommand(ac, on_wake_msg, NULL, "PSUBSCRIBE " KEYS_WAKE_PATTERN);
		if (rc->watch_channel)
			redisAsyncCommand(ac, on_watch_msg, NULL, "SUBSCRIBE %s",
					  rc->watch_channel);
		return;
	}
	if (cfg->redis_db)
		redisAsyncCommand(ac, on_setup_reply, "SELECT", "SELECT %d", cfg->redis_db);
	redisAsyncCommand(ac, check_config_reply, NULL, "CONFIG GET append*");
	rc->loading = SCRIPT_COUNT;
	for (int i = 0; i < SCRIPT_COUNT; i++)
		redisAsyncCommand(ac, on_script_loaded, (void *)(intptr_t)i, "SCRIPT LOAD %s",
				  scripts[i].source);
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
	struct conn *l = cac->data;
	if (l == NULL)
		return;
	conn_down(l, status == REDIS_OK ? "closed" : cac->errstr);
}

static void conn_connect(struct conn *l)
{
	struct link *rc = l->rc;
	const struct config *cfg = &rc->b->cfg;
	redisAsyncContext *ac = cfg->redis_unix
					? redisAsyncConnectUnix(cfg->redis_path)
					: redisAsyncConnect(cfg->redis_host, cfg->redis_port);
	if (ac == NULL || ac->err) {
		if (!l->is_sub && !rc->logged_down) {
			log_warn("redis: cannot connect: %s; retrying with backoff",
				 ac ? ac->errstr : "out of memory");
			rc->logged_down = 1;
		}
		if (ac)
			redisAsyncFree(ac);
		schedule_retry(l);
		return;
	}
	ac->data = l;
	l->ac = ac;
	redisLibeventAttach(ac, rc->b->base);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

struct link *link_new(struct broker *b)
{
	struct link *rc = mem_calloc(1, sizeof(*rc));
	rc->b = b;
	rc->sinks = sinks_new();
	rc->pubbatch = pubbatch_new(rc, b->base);
	rc->pullsplit = pullsplit_new();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	srand((unsigned)(ts.tv_nsec ^ getpid()));
	snprintf(rc->instance, sizeof(rc->instance), "%08x%08x", (unsigned)rand(),
		 (unsigned)(ts.tv_nsec ^ getpid()));
	struct conn *links[2] = { &rc->cmd, &rc->sub };
	for (int i = 0; i < 2; i++) {
		links[i]->rc = rc;
		links[i]->is_sub = i;
		links[i]->backoff_ms = BACKOFF_MIN_MS;
		links[i]->retry_ev = evtimer_new(b->base, on_retry, links[i]);
		links[i]->ping_ev = event_new(b->base, -1, EV_PERSIST, on_ping_timer, links[i]);
		struct timeval tv = { PING_EVERY_MS / 1000, (PING_EVERY_MS % 1000) * 1000 };
		event_add(links[i]->ping_ev, &tv);
		conn_connect(links[i]);
	}
	return rc;
}

void link_free(struct link *rc)
{
	if (rc == NULL)
		return;
	/* First: its unsent publishes are answered while the link is still whole. */
	pubbatch_free(rc->pubbatch);
	struct conn *links[2] = { &rc->cmd, &rc->sub };
	for (int i = 0; i < 2; i++) {
		event_free(links[i]->retry_ev);
		event_free(links[i]->ping_ev);
		if (links[i]->ac) {
			/* Pending callbacks run with NULL now; they must not
			 * touch the link any more. */
			redisAsyncContext *ac = links[i]->ac;
			links[i]->ac = NULL;
			ac->data = NULL;
			redisAsyncFree(ac);
		}
	}
	mem_free(rc->audit_project);
	mem_free(rc->audit_key);
	mem_free(rc->audit_entry);
	sinks_free(rc->sinks);
	pullsplit_free(rc->pullsplit);
	mem_free(rc);
}

int link_ready(const struct link *rc)
{
	return rc->ready && rc->cmd.ac != NULL;
}

int link_argv(struct link *rc, link_cb cb, void *arg, int argc, const char **argv,
	      const size_t *lens)
{
	if (!link_ready(rc))
		return -1;
	struct pending *p = mem_alloc(sizeof(*p));
	p->cb = cb;
	p->arg = arg;
	p->au = NULL;
	if (redisAsyncCommandArgv(rc->cmd.ac, on_cmd_reply, p, argc, argv, lens) != REDIS_OK) {
		mem_free(p);
		return -1;
	}
	return 0;
}

void link_audit_next(struct link *rc, const char *project, int log, const char *key,
		     const char *entry, int64_t time_us)
{
	rc->audit_log = log;
	mem_free(rc->audit_project);
	mem_free(rc->audit_key);
	mem_free(rc->audit_entry);
	rc->audit_project = mem_strdup(project);
	rc->audit_key = mem_strdup(key);
	rc->audit_entry = mem_strdup(entry);
	rc->audit_time_us = time_us;
}

/* Where an audited script's entry goes when the call has none. */
#define AUDIT_NONE_KEY "rn:v1:audit:none"
/* Sinks one entry is exported to, at most (a project has at most 200). */
#define AUDIT_MAX_SINKS 256

static void audit_send_free(struct audit_send *a)
{
	if (a == NULL)
		return;
	mem_free(a->argv); /* the lengths and texts are in its block */
	mem_free(a->project);
	mem_free(a->key);
	mem_free(a->entry);
	mem_free(a);
}

/* EVALSHA of a script: its own keys, [the audit stream and the matching
 * sinks' streams], its own arguments, [sinks version, m, attributes, the
 * exported LogEntry ('' when m is 0), the stored entry] (prelude.lua). a
 * NULL: an audited script without an entry. */
static int send_script(struct link *rc, struct pending *p, enum script_id id, int numkeys, int argc,
		       const char *const *argv, const size_t *lens, const struct audit_send *a)
{
	if (!link_ready(rc))
		return -1;
	int au = scripts[id].audited;
	const char *sk[AUDIT_MAX_SINKS];
	char *full = NULL, attrs[96] = "";
	size_t m = au && a ? sinks_match(rc->sinks, a->project, a->log, a->entry, sk,
					 AUDIT_MAX_SINKS, &full)
			   : 0;
	if (m) {
		/* The attributes of an exported entry: its timestamp, as Cloud
		 * Logging's Pub/Sub sinks set it. */
		char ts[40];
		audit_time(a->time_us, ts, sizeof(ts));
		snprintf(attrs, sizeof(attrs), "{\"logging.googleapis.com/timestamp\":\"%s\"}", ts);
	}
	size_t total = (size_t)argc + 9 + m;
	const char *stackv[64];
	size_t stackl[64];
	const char **v = total > 64 ? mem_alloc(sizeof(*v) * total) : stackv;
	size_t *l = total > 64 ? mem_alloc(sizeof(*l) * total) : stackl;
	char nk[16], ms[16];
	snprintf(nk, sizeof(nk), "%d", numkeys + au + (int)m);
	snprintf(ms, sizeof(ms), "%zu", m);
	size_t n = 0;
#define PUT(s, len) (v[n] = (s), l[n] = (len), n++)
	PUT("EVALSHA", 7);
	PUT(rc->sha[id], 40);
	PUT(nk, strlen(nk));
	for (int i = 0; i < numkeys; i++)
		PUT(argv[i], lens[i]);
	if (au) {
		const char *key = a ? a->key : AUDIT_NONE_KEY;
		PUT(key, strlen(key));
		for (size_t i = 0; i < m; i++)
			PUT(sk[i], strlen(sk[i]));
	}
	for (int i = numkeys; i < argc; i++)
		PUT(argv[i], lens[i]);
	if (au) {
		const char *ver = sinks_version(rc->sinks);
		PUT(ver, strlen(ver));
		PUT(ms, strlen(ms));
		PUT(attrs, strlen(attrs));
		PUT(full ? full : "", full ? strlen(full) : 0);
		PUT(a ? a->entry : "", a ? strlen(a->entry) : 0);
	}
#undef PUT
	int r = redisAsyncCommandArgv(rc->cmd.ac, on_cmd_reply, p, (int)n, v, l) == REDIS_OK ? 0
											     : -1;
	if (v != stackv) {
		mem_free(v);
		mem_free(l);
	}
	mem_free(full);
	return r;
}

static int audit_send(struct pending *p)
{
	struct audit_send *a = p->au;
	return send_script(a->rc, p, a->id, a->numkeys, a->argc, (const char *const *)a->argv,
			   a->lens, a);
}

int link_script(struct link *rc, enum script_id id, link_cb cb, void *arg, int numkeys, int argc,
		const char **argv, const size_t *lens)
{
	int au = scripts[id].audited;
	rn_assert(scripts[id].nkeys < 0 || scripts[id].nkeys == numkeys + au);
	if (!au && rc->audit_key)
		log_error("redis: an audit entry was prepared for %s, which does not take one",
			  scripts[id].name);
	struct pending *p = mem_alloc(sizeof(*p));
	p->cb = cb;
	p->arg = arg;
	p->au = NULL;
	if (au && rc->audit_key) {
		/* Kept (copied) to be sent again on AUDIT_STALE. */
		struct audit_send *a = mem_calloc(1, sizeof(*a));
		a->rc = rc;
		a->id = id;
		a->numkeys = numkeys;
		a->argc = argc;
		/* One block: the pointers, the lengths, then the texts. */
		size_t n = (size_t)(argc ? argc : 1), bytes = n * (sizeof(char *) + sizeof(size_t));
		for (int i = 0; i < argc; i++)
			bytes += lens[i] + 1;
		a->argv = mem_alloc(bytes);
		a->lens = (size_t *)(a->argv + n);
		char *text = (char *)(a->lens + n);
		for (int i = 0; i < argc; i++) {
			a->argv[i] = text;
			memcpy(text, argv[i], lens[i]);
			text[lens[i]] = '\0';
			text += lens[i] + 1;
			a->lens[i] = lens[i];
		}
		a->log = rc->audit_log;
		a->time_us = rc->audit_time_us;
		a->project = rc->audit_project;
		a->key = rc->audit_key;
		a->entry = rc->audit_entry;
		rc->audit_project = rc->audit_key = rc->audit_entry = NULL;
		p->au = a;
	}
	int r = send_script(rc, p, id, numkeys, argc, argv, lens, p->au);
	if (r != 0) {
		audit_send_free(p->au);
		mem_free(p);
	}
	/* One-shot: an entry never outlives the call it was prepared for. */
	mem_free(rc->audit_project);
	mem_free(rc->audit_key);
	mem_free(rc->audit_entry);
	rc->audit_project = rc->audit_key = rc->audit_entry = NULL;
	return r;
}

struct pullsplit *link_pullsplit(struct link *rc)
{
	return rc->pullsplit;
}

struct pubbatch *link_pubbatch(struct link *rc)
{
	return rc->pubbatch;
}

struct broker *link_broker(const struct link *rc)
{
	return rc->b;
}

const char *link_instance(const struct link *rc)
{
	return rc->instance;
}
