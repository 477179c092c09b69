/* ingest.c - registry notification endpoints.
 *
 * A registry retries one event at a time, forever, and blocks its queue on
 * any non-2xx; so: answer fast, 200 only after Redis stored the messages,
 * 503 when Redis is down (the registry retries), 400 only for a body that
 * is not an envelope at all, and events that parse but cannot be
 * translated are answered 200 and parked on registry-rejects. */
#include "ingest.h"

#include "api.h"
#include "broker.h"
#include "codec.h"
#include "image_event.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "pull.h"

#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EVENT_ARGS 8

struct ingest_state {
	enum ingest_source src;
	size_t nevents;
};

int ingest_auth_or_reply(struct call *c)
{
	const struct config *cfg = &c->b->cfg;
	if (cfg->ingest_ntokens == 0)
		return 0;
	struct evkeyvalq *h = evhttp_request_get_input_headers(c->req);
	const char *auth = evhttp_find_header(h, "Authorization");
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *tok = auth + 7;
		size_t tl = strlen(tok);
		for (int i = 0; i < cfg->ingest_ntokens; i++) {
			/* Constant time per candidate: no timing oracle. */
			if (strlen(cfg->ingest_tokens[i]) == tl &&
			    CRYPTO_memcmp(cfg->ingest_tokens[i], tok, tl) == 0)
				return 0;
		}
	}
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "WWW-Authenticate",
			  "Bearer realm=\"regnotify registry ingest\"");
	char *peer = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	if (evcon)
		evhttp_connection_get_peer(evcon, &peer, &port);
	log_warn("registry ingest: %s bearer token from %s:%u", auth ? "wrong" : "missing",
		 peer ? peer : "?", (unsigned)port);
	call_error(c, RPC_UNAUTHENTICATED,
		   "Request is missing or has an invalid bearer token "
		   "for registry ingest.");
	return -1;
}

/* Accepts the media types registries send (parameters ignored). */
static int content_type_ok(struct call *c, int native)
{
	const char *ct =
		evhttp_find_header(evhttp_request_get_input_headers(c->req), "Content-Type");
	if (ct == NULL)
		return 0;
	size_t n = strcspn(ct, "; ");
	static const char *const ok[] = { "application/json",
					  "application/vnd.docker.distribution.events.v1+json",
					  "application/vnd.docker.distribution.events.v2+json" };
	for (int i = 0; i < (native ? 1 : 3); i++)
		if (strlen(ok[i]) == n && strncasecmp(ct, ok[i], n) == 0)
			return 1;
	return 0;
}

static void on_ingested(redisReply *r, void *arg)
{
	struct call *c = arg;
	struct ingest_state *st = c->state;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
		api_store_failed(c, r);
		return;
	}
	long long v[5];
	for (int i = 0; i < 5; i++) {
		v[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0;
		metrics.ingest[st->src][i] += (unsigned long long)v[i];
	}
	metrics.ingest_requests[st->src]++;
	if (v[3])
		log_warn("registry ingest: %lld event(s) rejected to registry-rejects", v[3]);
	if (v[4])
		log_warn("registry ingest: %lld message(s) dropped: topic %s does not exist and "
			 "ingest_create_topics is false",
			 v[4], c->b->cfg.ingest_topic);
	log_debug("registry ingest: %zu events: %lld published, %lld duplicate, %lld ignored",
		  st->nevents, v[0], v[1], v[2]);
	char body[200];
	int n = snprintf(body, sizeof(body),
			 "{\"published\":%lld,\"duplicates\":%lld,"
			 "\"ignored\":%lld,\"rejected\":%lld}",
			 v[0], v[1], v[2], v[3]);
	struct broker *b = c->b;
	call_reply_text(c, 200, body, (size_t)n);
	if (v[0] || v[3])
		pull_wake_topic(b, NULL);
}

static const char *op_name(enum ingest_op op)
{
	switch (op) {
	case OP_INSERT: return "insert";
	case OP_PUBLISH: return "publish";
	case OP_DELETE_DIGEST: return "delete_digest";
	case OP_PULL: return "pull";
	case OP_REJECT: return "reject";
	default: return "ignore";
	}
}

static void store(struct call *c, struct image_event_list *l)
{
	const struct config *cfg = &c->b->cfg;
	char now[24], ttl[24], count[24];
	snprintf(now, sizeof(now), "%lld", (long long)broker_now_ms());
	snprintf(ttl, sizeof(ttl), "%lld", (long long)((cfg->ingest_dedup_window_ms + 999) / 1000));
	snprintf(count, sizeof(count), "%zu", l->n);
	int argc = 5 + EVENT_ARGS * (int)l->n;
	const char **argv = mem_alloc(sizeof(*argv) * (size_t)argc);
	size_t *lens = mem_alloc(sizeof(*lens) * (size_t)argc);
	argv[0] = now;
	argv[1] = ttl;
	argv[2] = cfg->ingest_create_topics ? "1" : "0";
	argv[3] = cfg->ingest_topic;
	argv[4] = count;
	for (size_t i = 0; i < l->n; i++) {
		const struct image_event *e = &l->ev[i];
		const char **a = argv + 5 + i * EVENT_ARGS;
		a[0] = e->id;
		a[1] = op_name(e->op);
		a[2] = e->project;
		a[3] = e->repository;
		a[4] = e->digest;
		a[5] = e->data ? e->data : "";
		a[6] = e->attrs ? e->attrs : "";
		a[7] = e->ref;
	}
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	((struct ingest_state *)c->state)->nevents = l->n;
	api_script(c, SCRIPT_INGEST, on_ingested, argc, argv, lens);
	mem_free(argv);
	mem_free(lens);
}

static void ingest(struct call *c, int native)
{
	const struct config *cfg = &c->b->cfg;
	if (!content_type_ok(c, native)) {
		call_error(c, RPC_INVALID_ARGUMENT, "Unsupported Content-Type: expected %s",
			   native ? "application/json"
				  : "application/vnd.docker.distribution.events.v1+json, "
				    "...events.v2+json or application/json");
		return;
	}
	if (c->body == NULL) {
		call_error(c, RPC_INVALID_ARGUMENT, "Empty body: expected a JSON %s",
			   native ? "event or {\"events\":[...]}" : "{\"events\":[...]} envelope");
		return;
	}
	json_t *events = json_object_get(c->body, "events");
	if (!native && !json_is_array(events)) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Not a Distribution notification envelope: "
			   "expected {\"events\":[...]}");
		return;
	}
	if (native && events && !json_is_array(events)) {
		call_error(c, RPC_INVALID_ARGUMENT, "\"events\" must be an array");
		return;
	}
	struct ingest_state *st = mem_calloc(1, sizeof(*st));
	st->src = native ? INGEST_SRC_NATIVE : INGEST_SRC_DISTRIBUTION;
	c->state = st;
	c->state_free = mem_free;
	struct ingest_settings s = { cfg->ingest_fixed ? INGEST_FIXED : INGEST_NAMESPACE,
				     cfg->ingest_project, cfg->registry_host };
	struct image_event_list l = { 0 };
	if (native && events == NULL) {
		image_event_from_native(c->body, &s, &l);
	} else {
		size_t i;
		json_t *ev;
		json_array_foreach(events, i, ev)
		{
			if (native)
				image_event_from_native(ev, &s, &l);
			else
				image_event_from_distribution(ev, &s, &l);
		}
	}
	if (l.n == 0) {
		static const char none[] = "{\"published\":0,\"duplicates\":0,\"ignored\":0,"
					   "\"rejected\":0}";
		call_reply_text(c, 200, none, sizeof(none) - 1);
	} else {
		store(c, &l);
	}
	image_event_list_cleanup(&l);
	mem_free(l.ev);
}

void ingest_distribution(struct call *c)
{
	ingest(c, 0);
}

void ingest_native(struct call *c)
{
	ingest(c, 1);
}

static void on_pulled(redisReply *r, void *arg)
{
	struct call *c = arg;
	long *page = c->state;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		api_store_failed(c, r);
		return;
	}
	json_t *arr = json_array();
	size_t n = r->elements / 2;
	for (size_t i = 0; i < n && (long)i < page[0]; i++) {
		char ts[40];
		codec_timestamp_format(strtoll(r->element[2 * i + 1]->str, NULL, 10), ts,
				       sizeof(ts));
		json_t *o = json_object();
		json_object_set_new(o, "image",
				    json_stringn(r->element[2 * i]->str, r->element[2 * i]->len));
		json_object_set_new(o, "lastPulled", json_string(ts));
		json_array_append_new(arr, o);
	}
	json_t *out = json_object();
	if (json_array_size(arr))
		json_object_set(out, "images", arr);
	if ((long)n > page[0]) {
		char tok[32];
		snprintf(tok, sizeof(tok), "%ld", page[1] + page[0]);
		json_object_set_new(out, "nextPageToken", json_string(tok));
	}
	json_decref(arr);
	call_reply(c, 200, out);
}

void ingest_recently_pulled(struct call *c)
{
	long ps;
	if (api_names_or_reply(c, 1, "") || api_page_size_or_reply(c, &ps))
		return;
	char buf[64];
	int64_t within = c->b->cfg.pulled_window_ms;
	const char *w = call_query(c, "within", buf, sizeof(buf));
	if (w && codec_duration_parse(w, &within) != 0) {
		call_error(c, RPC_INVALID_ARGUMENT,
			   "Invalid within: expected a duration such as "
			   "\"2592000s\"");
		return;
	}
	long offset = 0;
	const char *tok = call_query(c, "pageToken", buf, sizeof(buf));
	if (tok && *tok) {
		char *end;
		offset = strtol(tok, &end, 10);
		if (*end || offset < 0) {
			call_error(c, RPC_INVALID_ARGUMENT, "Invalid pageToken");
			return;
		}
	}
	long *page = mem_alloc(2 * sizeof(long));
	page[0] = ps;
	page[1] = offset;
	c->state = page;
	c->state_free = mem_free;
	char since[24], off[24], cnt[24];
	snprintf(since, sizeof(since), "%lld", (long long)(broker_now_ms() - within));
	snprintf(off, sizeof(off), "%ld", offset);
	snprintf(cnt, sizeof(cnt), "%ld", ps + 1);
	const char *argv[] = { c->params[0], since, off, cnt };
	size_t lens[4];
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	api_script(c, SCRIPT_PULLED, on_pulled, 4, argv, lens);
}
