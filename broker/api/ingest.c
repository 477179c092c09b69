/* ingest.c - registry notification endpoints.
 *
 * A registry retries one event at a time, forever, and blocks its queue on
 * any non-2xx; so: answer fast, 200 only after Redis stored the messages,
 * 503 when Redis is down (the registry retries), 400 only for a body that
 * is not an envelope at all, and events that parse but cannot be
 * translated are answered 200 and parked on registry-rejects. */
#include "ingest.h"

#include "api.h"
#include "auth.h"
#include "broker.h"
#include "duration.h"
#include "image_event.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "occurrence.h"
#include "wake.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ingest_source { INGEST_SRC_DISTRIBUTION = 0, INGEST_SRC_NATIVE, INGEST_SRC_COUNT };
enum ingest_result {
	INGEST_PUBLISHED = 0, /* a message on the ingest topic */
	INGEST_DUPLICATE,     /* event id already seen in the window */
	INGEST_IGNORED,       /* blob / pull / mount / unknown digest delete */
	INGEST_REJECTED,      /* sent to registry-rejects */
	INGEST_DROPPED,       /* topic missing and creation disabled */
	INGEST_RESULT_COUNT
};

/* This process's counters (loop thread only). */
static unsigned long long counts[INGEST_SRC_COUNT][INGEST_RESULT_COUNT];
static unsigned long long requests[INGEST_SRC_COUNT];

struct ingest_state {
	enum ingest_source src;
	size_t nevents;
	/* Data Access (DATA_WRITE) entries: project -> the events it got
	 * [{id, action, repository, digest}], for projects whose policy may
	 * ask for them. */
	json_t *audit;
};

static void state_free(void *p)
{
	struct ingest_state *st = p;
	json_decref(st->audit);
	mem_free(st);
}

/* Which registry principal sent which event ids, per project. */
static void audit_events(struct call *c)
{
	struct ingest_state *st = c->state;
	const char *project;
	json_t *events;
	json_object_foreach(st->audit, project, events)
	{
		char rname[400], *req;
		snprintf(rname, sizeof(rname), "projects/%s/topics/%s", project,
			 c->b->cfg.ingest_topic);
		json_t *o = json_pack("{s:O}", "events", events);
		req = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		api_audit_data(c, project, rname, req);
		mem_free(req);
	}
}

static void write_metrics(void *arg, struct evbuffer *out)
{
	(void)arg;
	static const char *const source_names[] = { "distribution", "native" };
	static const char *const result_names[] = { "published", "duplicate", "ignored", "rejected",
						    "dropped" };
	evbuffer_add_printf(out,
			    "# HELP regnotify_ingest_events_total Registry events by source and "
			    "outcome.\n# TYPE regnotify_ingest_events_total counter\n");
	for (int s = 0; s < INGEST_SRC_COUNT; s++)
		for (int r = 0; r < INGEST_RESULT_COUNT; r++)
			evbuffer_add_printf(out,
					    "regnotify_ingest_events_total{source=\"%s\","
					    "result=\"%s\"} %llu\n",
					    source_names[s], result_names[r], counts[s][r]);
	evbuffer_add_printf(out,
			    "# HELP regnotify_ingest_requests_total Registry notification "
			    "requests stored.\n# TYPE regnotify_ingest_requests_total counter\n");
	for (int s = 0; s < INGEST_SRC_COUNT; s++)
		evbuffer_add_printf(out, "regnotify_ingest_requests_total{source=\"%s\"} %llu\n",
				    source_names[s], requests[s]);
}

void ingest_start(struct broker *b)
{
	(void)b;
	metrics_add_writer(write_metrics, NULL);
}

/* Accepts the media types registries send (parameters ignored). */
static int content_type_ok(struct call *c, int native)
{
	const char *ct = call_header(c, "Content-Type");
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
		counts[st->src][i] += (unsigned long long)v[i];
	}
	requests[st->src]++;
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
	audit_events(c);
	call_reply_text(c, 200, body, (size_t)n);
	if (v[0] || v[3])
		wake_topic(b, NULL);
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
	struct store_event *ev = mem_alloc(sizeof(*ev) * l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct image_event *e = &l->ev[i];
		ev[i] = (struct store_event){ e->id,
					      op_name(e->op),
					      e->project,
					      e->repository,
					      e->digest,
					      e->data ? e->data : "",
					      e->attrs ? e->attrs : "",
					      e->ref };
	}
	struct ingest_state *st = c->state;
	st->nevents = l->n;
	for (size_t i = 0; i < l->n; i++) {
		const struct image_event *e = &l->ev[i];
		if (e->project[0] == '\0' || auth_audit_off(c->b, e->project))
			continue;
		if (st->audit == NULL)
			st->audit = json_object();
		json_t *list = json_object_get(st->audit, e->project);
		if (list == NULL && json_object_size(st->audit) < 16) {
			list = json_array();
			json_object_set_new(st->audit, e->project, list);
		}
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "id", e->id, "action",
						      op_name(e->op), "repository", e->repository,
						      "digest", e->digest));
	}
	if (store_ingest(c->b->link, broker_now_ms(), (cfg->ingest_dedup_window_ms + 999) / 1000,
			 cfg->ingest_create_topics, cfg->ingest_topic, ev, l->n, on_ingested,
			 c) != 0)
		api_not_queued(c);
	mem_free(ev);
}

static void ingest(struct call *c, int native)
{
	const struct config *cfg = &c->b->cfg;
	if (!content_type_ok(c, native)) {
		call_error(c, ERR_INVALID_ARGUMENT, "Unsupported Content-Type: expected %s",
			   native ? "application/json"
				  : "application/vnd.docker.distribution.events.v1+json, "
				    "...events.v2+json or application/json");
		return;
	}
	if (c->body == NULL) {
		call_error(c, ERR_INVALID_ARGUMENT, "Empty body: expected a JSON %s",
			   native ? "event or {\"events\":[...]}" : "{\"events\":[...]} envelope");
		return;
	}
	json_t *events = json_object_get(c->body, "events");
	if (!native && !json_is_array(events)) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "Not a Distribution notification envelope: "
			   "expected {\"events\":[...]}");
		return;
	}
	if (native && events && !json_is_array(events)) {
		call_error(c, ERR_INVALID_ARGUMENT, "\"events\" must be an array");
		return;
	}
	struct ingest_state *st = mem_calloc(1, sizeof(*st));
	st->src = native ? INGEST_SRC_NATIVE : INGEST_SRC_DISTRIBUTION;
	c->state = st;
	c->state_free = state_free;
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
		timestamp_format(strtoll(r->element[2 * i + 1]->str, NULL, 10), ts, sizeof(ts));
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

static void on_reanalyzed(redisReply *r, void *arg)
{
	struct call *c = arg;
	const char *st = api_status_or_reply(c, r);
	if (st == NULL)
		return;
	if (strcmp(st, "OK") != 0 || r->elements != 2) {
		api_store_failed(c, r);
		return;
	}
	log_info("images:reanalyze: %lld message(s) to projects/%s/topics/%s",
		 r->element[1]->integer, c->params[0], REANALYZE_TOPIC);
	call_reply(c, 200, json_pack("{s:I}", "published", (json_int_t)r->element[1]->integer));
}

/* POST /v1/projects/P/images:reanalyze [{"within": DURATION}]: one
 * REANALYZE message per image pulled within the window (default
 * pulled_window) to container-analysis-reanalyze. */
void ingest_reanalyze(struct call *c)
{
	if (api_names_or_reply(c, 1, ""))
		return;
	int64_t within = c->b->cfg.pulled_window_ms;
	json_t *w = c->body ? json_object_get(c->body, "within") : NULL;
	if ((c->body && json_object_size(c->body) != (w ? 1u : 0u)) ||
	    (w && (!json_is_string(w) ||
		   duration_parse(json_string_value(w), DURATION_PROTO3, &within) != 0 ||
		   within <= 0))) {
		call_error(c, ERR_INVALID_ARGUMENT,
			   "images:reanalyze takes {} or {\"within\": a duration such as "
			   "\"2592000s\"}");
		return;
	}
	if (store_reanalyze(c->b->link, c->params[0], broker_now_ms(), within, 0, on_reanalyzed,
			    c) != 0)
		api_not_queued(c);
}

void ingest_recently_pulled(struct call *c)
{
	long ps;
	if (api_names_or_reply(c, 1, "") || api_page_size_or_reply(c, &ps))
		return;
	char buf[64];
	int64_t within = c->b->cfg.pulled_window_ms;
	const char *w = call_query(c, "within", buf, sizeof(buf));
	if (w && duration_parse(w, DURATION_PROTO3, &within) != 0) {
		call_error(c, ERR_INVALID_ARGUMENT,
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
			call_error(c, ERR_INVALID_ARGUMENT, "Invalid pageToken");
			return;
		}
	}
	long *page = mem_alloc(2 * sizeof(long));
	page[0] = ps;
	page[1] = offset;
	c->state = page;
	c->state_free = mem_free;
	if (store_pulled_images(c->b->link, c->params[0], broker_now_ms() - within, offset, ps + 1,
				on_pulled, c) != 0)
		api_not_queued(c);
}
