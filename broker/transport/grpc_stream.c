/* grpc_stream.c - google.pubsub.v1.Subscriber/StreamingPull.
 *
 * A stream is a loop of pulls through the same gate and handler as REST's
 * subscriptions.pull (and its long poll): each answer becomes one or more
 * StreamingPullResponses. The loop runs while the stream has room:
 *
 * - the client's flow control (maxOutstandingMessages/Bytes of the first
 *   request), counted per client (its clientId: the Node client opens 5
 *   streams with one id and one limit, and a stream that reconnects keeps
 *   what its client holds): every message sent is outstanding until an
 *   acknowledge or a nack (modifyAckDeadline 0) of its ackId is seen - on
 *   the stream or as the unary calls the client libraries send
 *   (b->lease_seen) - or until its lease runs out (acks sent to another
 *   broker, a client that died);
 * - HTTP/2's: the next pull waits until nghttp2 took the last answer, so a
 *   client that stops reading stops the pulls.
 *
 * Messages are leased for the stream's ack deadline (streamAckDeadline-
 * Seconds). When the client breaks the stream (RST_STREAM, connection
 * lost), the messages it never confirmed (no modack or ack seen: still in
 * flight, never handed to the application) are released for redelivery at
 * once; the ones it confirmed stay with the client, which acks or nacks
 * them on other calls. A stream the broker ends (shutdown: UNAVAILABLE, so
 * the client reconnects, perhaps to another broker; grpc-timeout:
 * DEADLINE_EXCEEDED) releases nothing: its messages precede its trailers.
 * docs/grpc.md. */
#include "grpc_flow.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "grpc_rpc.h"
#include "log.h"
#include "mem.h"
#include "names.h"
#include "pbjson.h"
#include "router.h"

#include "google/protobuf/timestamp.pb-c.h"
#include "google/pubsub/v1/pubsub.pb-c.h"

#include <stdio.h>
#include <string.h>

#define SP_BATCH 1000 /* messages per pull, as REST's maxMessages */
/* A pull asks for about this many bytes (from the sizes seen so far), and
 * one StreamingPullResponse carries about SP_RESPONSE_BYTES (one larger
 * message goes alone). */
#define SP_PULL_BYTES (16 * 1024 * 1024)
#define SP_RESPONSE_BYTES (4 * 1024 * 1024)
#define SP_RELEASE_CHUNK 1000

typedef Google__Pubsub__V1__StreamingPullRequest SPReq;
typedef Google__Pubsub__V1__StreamingPullResponse SPResp;
typedef Google__Pubsub__V1__ReceivedMessage RecvMsg;

/* The transport side of a call a stream makes: the gate keeps pointers
 * into path and body until the call is answered. */
enum { SC_PULL, SC_CONTROL };
struct scall {
	struct h2stream *st; /* holds a reference */
	int kind;
	char *path;
	char *body;
};

/* ---- the calls a stream makes ------------------------------------------- */

static void sp_kick(struct grpc_srv *srv, struct h2stream *st);
static void sp_release(struct grpc_srv *srv, struct h2stream *st, char **ids, size_t n);

static const char *sc_header(struct call *c, const char *name)
{
	struct scall *sc = c->conn;
	return grpc_stream_header(sc->st, name);
}

static void sc_peer(struct call *c, char *buf, size_t n)
{
	struct scall *sc = c->conn;
	grpc_stream_peer(sc->st, buf, n);
}

static void sc_free(struct scall *sc)
{
	struct h2stream *st = sc->st;
	mem_free(sc->path);
	mem_free(sc->body);
	mem_free(sc);
	grpc_stream_unref(st);
}

static void on_pulled(struct call *c, int status, char *text, size_t len);
static void on_control(struct call *c, int status, char *text, size_t len);

static void on_messages(struct call *c, const struct call_msg *m, size_t n);
static void end_unchecked_like(struct h2stream *st, int code, const char *msg);

static const struct call_ops pull_ops = {
	.name = "grpc",
	.log_prefix = "grpc ",
	.transport = VIA_GRPC,
	.send = on_pulled,
	.header = sc_header,
	.peer = sc_peer,
	.send_messages = on_messages,
};

static const struct call_ops control_ops = {
	.name = "grpc",
	.log_prefix = "grpc ",
	.transport = VIA_GRPC,
	.send = on_control,
	.header = sc_header,
	.peer = sc_peer,
};

/* Runs POST path with body (taken) through the gate for stream st. The
 * answer may come at once: the caller holds its own reference on st. */
static void sp_call(struct h2stream *st, int kind, const char *path, char *body, const char *uri)
{
	struct scall *sc = mem_calloc(1, sizeof(*sc));
	sc->st = st;
	sc->kind = kind;
	sc->path = mem_strdup(path);
	sc->body = body;
	st->refs++;
	struct grpc_srv *srv = st->sp->srv;
	struct call *c = call_new(srv->b, kind == SC_PULL ? &pull_ops : &control_ops, srv, sc);
	c->uri = uri; /* static */
	if (strncasecmp(st->auth, "Bearer ", 7) == 0) {
		c->credential = st->auth + 7;
		c->credential_len = strlen(c->credential);
	}
	if (kind == SC_PULL) {
		c->lease_ms = st->sp->deadline_s * 1000;
		st->sp->pull_call = c;
	}
	gate_dispatch(c, M_POST, sc->path, sc->body, strlen(sc->body));
}

static void confirm(struct h2stream *st, int modack, const char *body, int status, const char *text,
		    size_t len);

static void on_control(struct call *c, int status, char *text, size_t len)
{
	struct scall *sc = c->conn;
	if (status < 200 || status >= 300)
		log_debug("grpc: StreamingPull %s: %d %.*s", sc->path, status, (int)len, text);
	struct h2stream *st = sc->st;
	int ack = strcmp(c->uri, "StreamingPull acknowledge") == 0;
	if ((ack || strcmp(c->uri, "StreamingPull modifyAckDeadline") == 0) && st->conn &&
	    !st->answered && (st->sp->sub_flags & CALL_SUB_EXACTLY_ONCE))
		confirm(st, !ack, sc->body, status, text, len);
	mem_free(text);
	sc_free(sc);
}

/* Exactly-once delivery: the answer to acks or deadline changes carried on
 * the stream, as Pub/Sub sends it - acknowledge_confirmation or
 * modify_ack_deadline_confirmation with the ackIds that took effect and
 * those refused (the ErrorInfo metadata of a 400; a failure of the call as
 * a whole: all temporarily failed). */
static void confirm(struct h2stream *st, int modack, const char *body, int status, const char *text,
		    size_t len)
{
	json_t *req = json_loads(body, 0, NULL), *ans = json_loadb(text, len, 0, NULL);
	json_t *ids = json_object_get(req, "ackIds");
	json_t *md = json_object_get(
		json_array_get(json_object_get(json_object_get(ans, "error"), "details"), 0),
		"metadata");
	size_t n = json_array_size(ids), nok = 0, nbad = 0, ntmp = 0;
	char **ok = mem_calloc(n + 1, sizeof(char *)), **bad = mem_calloc(n + 1, sizeof(char *)),
	     **tmp = mem_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char *a = (char *)json_string_value(json_array_get(ids, i));
		if (a == NULL)
			continue;
		if (status >= 200 && status < 300)
			ok[nok++] = a;
		else if (json_object_get(md, a))
			bad[nbad++] = a;
		else if (status == 400 && md)
			ok[nok++] = a; /* a 400 with ErrorInfo: the others took effect */
		else if (status >= 500)
			tmp[ntmp++] = a;
		else
			bad[nbad++] = a;
	}
	SPResp resp = GOOGLE__PUBSUB__V1__STREAMING_PULL_RESPONSE__INIT;
	Google__Pubsub__V1__StreamingPullResponse__AcknowledgeConfirmation ac =
		GOOGLE__PUBSUB__V1__STREAMING_PULL_RESPONSE__ACKNOWLEDGE_CONFIRMATION__INIT;
	Google__Pubsub__V1__StreamingPullResponse__ModifyAckDeadlineConfirmation mc =
		GOOGLE__PUBSUB__V1__STREAMING_PULL_RESPONSE__MODIFY_ACK_DEADLINE_CONFIRMATION__INIT;
	if (modack) {
		mc.n_ack_ids = nok;
		mc.ack_ids = ok;
		mc.n_invalid_ack_ids = nbad;
		mc.invalid_ack_ids = bad;
		mc.n_temporary_failed_ack_ids = ntmp;
		mc.temporary_failed_ack_ids = tmp;
		resp.modify_ack_deadline_confirmation = &mc;
	} else {
		ac.n_ack_ids = nok;
		ac.ack_ids = ok;
		ac.n_invalid_ack_ids = nbad;
		ac.invalid_ack_ids = bad;
		ac.n_temporary_failed_ack_ids = ntmp;
		ac.temporary_failed_ack_ids = tmp;
		resp.acknowledge_confirmation = &ac;
	}
	size_t sz = google__pubsub__v1__streaming_pull_response__get_packed_size(&resp);
	uint8_t *buf = mem_alloc(sz ? sz : 1);
	google__pubsub__v1__streaming_pull_response__pack(&resp, buf);
	grpc_send_message(st, buf, sz);
	mem_free(buf);
	mem_free(ok);
	mem_free(bad);
	mem_free(tmp);
	json_decref(req);
	json_decref(ans);
}

/* Nacks ids (n, taken) of stream st: modifyAckDeadline 0 through the gate
 * with the stream's credential, SP_RELEASE_CHUNK at a time. */
static void release_now(struct h2stream *st, char **ids, size_t n)
{
	for (size_t i = 0; i < n; i += SP_RELEASE_CHUNK) {
		json_t *a = json_array();
		for (size_t k = i; k < n && k < i + SP_RELEASE_CHUNK; k++)
			json_array_append_new(a, json_string(ids[k]));
		json_t *body = json_pack("{s:o,s:i}", "ackIds", a, "ackDeadlineSeconds", 0);
		char *text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		sp_call(st, SC_CONTROL, st->sp->modack_path, text, "StreamingPull release");
	}
	for (size_t i = 0; i < n; i++)
		mem_free(ids[i]);
	mem_free(ids);
}

/* A release waits SP_RELEASE_DELAY_MS: a client that closes closes all its
 * streams at once (the Node client cancels its 5), and what one of them
 * releases would otherwise go to its still-open siblings, be cancelled
 * again - a delivery attempt more each time, towards the dead-letter
 * topic - before any handler saw it. */
#define SP_RELEASE_DELAY_MS 500

struct sp_pending {
	struct sp_pending *next; /* srv->pending */
	struct event *ev;
	struct h2stream *st; /* holds a reference: the release uses its credential */
	char **ids;
	size_t n;
	struct grpc_srv *srv;
};

static void on_release_due(evutil_socket_t fd, short what, void *arg)
{
	struct sp_pending *p = arg;
	(void)fd;
	(void)what;
	for (struct sp_pending **q = &p->srv->pending; *q; q = &(*q)->next) {
		if (*q == p) {
			*q = p->next;
			break;
		}
	}
	release_now(p->st, p->ids, p->n);
	event_free(p->ev);
	grpc_stream_unref(p->st);
	mem_free(p);
}

/* Nacks ids (n, taken) of stream st in SP_RELEASE_DELAY_MS. */
static void sp_release(struct grpc_srv *srv, struct h2stream *st, char **ids, size_t n)
{
	if (n == 0) {
		mem_free(ids);
		return;
	}
	struct sp_pending *p = mem_calloc(1, sizeof(*p));
	p->st = st;
	p->ids = ids;
	p->n = n;
	p->srv = srv;
	st->refs++;
	p->ev = evtimer_new(srv->b->base, on_release_due, p);
	struct timeval tv = { 0, SP_RELEASE_DELAY_MS * 1000 };
	evtimer_add(p->ev, &tv);
	p->next = srv->pending;
	srv->pending = p;
}

/* Packs resp's messages [from, to) as one StreamingPullResponse. */
static void send_range(struct h2stream *st, SPResp *resp, size_t from, size_t to)
{
	SPResp part = *resp;
	part.received_messages = resp->received_messages + from;
	part.n_received_messages = to - from;
	size_t n = google__pubsub__v1__streaming_pull_response__get_packed_size(&part);
	uint8_t *buf = mem_alloc(n ? n : 1);
	google__pubsub__v1__streaming_pull_response__pack(&part, buf);
	grpc_send_message(st, buf, n);
	mem_free(buf);
}

typedef Google__Pubsub__V1__PubsubMessage PMsg;
typedef Google__Pubsub__V1__PubsubMessage__AttributesEntry PAttr;

/* The attributes of a message (its stored compact JSON object) as map
 * entries; *keep holds the strings until the response is packed. */
static size_t attributes_of(const struct call_msg *m, PAttr ***out, json_t **keep)
{
	*out = NULL;
	*keep = NULL;
	if (m->attrs_len == 0)
		return 0;
	json_t *o = json_loadb(m->attrs, m->attrs_len, 0, NULL);
	size_t n = json_object_size(o), i = 0;
	if (n == 0) {
		json_decref(o);
		return 0;
	}
	PAttr **a = mem_alloc(sizeof(*a) * n + sizeof(PAttr) * n);
	PAttr *e = (PAttr *)(a + n);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		google__pubsub__v1__pubsub_message__attributes_entry__init(&e[i]);
		e[i].key = (char *)k;
		e[i].value = (char *)(json_string_value(v) ? json_string_value(v) : "");
		a[i] = &e[i];
		i++;
	}
	*out = a;
	*keep = o;
	return i;
}

/* A pull answered n messages for a live stream: index them and send them
 * as StreamingPullResponses of about SP_RESPONSE_BYTES, encoded from the
 * store's reply (no JSON, no base64). */
static void deliver(struct h2stream *st, const struct call_msg *m, size_t n)
{
	struct spull *sp = st->sp;
	RecvMsg *rm = mem_calloc(n, sizeof(*rm));
	RecvMsg **rmp = mem_alloc(sizeof(*rmp) * n);
	PMsg *pm = mem_calloc(n, sizeof(*pm));
	Google__Protobuf__Timestamp *ts = mem_calloc(n, sizeof(*ts));
	PAttr ***attrs = mem_calloc(n, sizeof(*attrs));
	json_t **keep = mem_calloc(n, sizeof(*keep));
	char(*ids)[24] = mem_alloc(24 * n);
	char **keys = mem_calloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		google__pubsub__v1__received_message__init(&rm[i]);
		google__pubsub__v1__pubsub_message__init(&pm[i]);
		google__protobuf__timestamp__init(&ts[i]);
		rm[i].ack_id = (char *)m[i].ack_id;
		rm[i].delivery_attempt = (int32_t)m[i].delivery_attempt;
		rm[i].message = &pm[i];
		pm[i].data.data = (uint8_t *)m[i].data;
		pm[i].data.len = m[i].data_len;
		pm[i].n_attributes = attributes_of(&m[i], &attrs[i], &keep[i]);
		pm[i].attributes = attrs[i];
		snprintf(ids[i], sizeof(ids[i]), "%llu", m[i].message_id);
		pm[i].message_id = ids[i];
		ts[i].seconds = m[i].publish_ms / 1000;
		ts[i].nanos = (int32_t)(m[i].publish_ms % 1000) * 1000000;
		pm[i].publish_time = &ts[i];
		if (m[i].key_len) {
			keys[i] = mem_strndup(m[i].key, m[i].key_len);
			pm[i].ordering_key = keys[i];
		}
		rmp[i] = &rm[i];
	}
	SPResp resp = GOOGLE__PUBSUB__V1__STREAMING_PULL_RESPONSE__INIT;
	resp.received_messages = rmp;
	resp.n_received_messages = n;
	Google__Pubsub__V1__StreamingPullResponse__SubscriptionProperties props =
		GOOGLE__PUBSUB__V1__STREAMING_PULL_RESPONSE__SUBSCRIPTION_PROPERTIES__INIT;
	props.message_ordering_enabled = (sp->sub_flags & CALL_SUB_ORDERED) != 0;
	props.exactly_once_delivery_enabled = (sp->sub_flags & CALL_SUB_EXACTLY_ONCE) != 0;
	resp.subscription_properties = &props;
	int64_t expiry = broker_now_ms() + sp->deadline_s * 1000;
	size_t from = 0, bytes = 0;
	struct sp_client *cl = sp->cl;
	for (size_t i = 0; i < n; i++) {
		size_t sz = google__pubsub__v1__received_message__get_packed_size(&rm[i]);
		grpc_flow_lease_add(sp->srv, st, rm[i].ack_id, sz, expiry);
		cl->avg_bytes =
			cl->avg_bytes > 0 ? cl->avg_bytes * 0.9 + (double)sz * 0.1 : (double)sz;
		if (i > from && bytes + sz > SP_RESPONSE_BYTES) {
			send_range(st, &resp, from, i);
			from = i;
			bytes = 0;
		}
		bytes += sz + 8;
	}
	if (from < n)
		send_range(st, &resp, from, n);
	for (size_t i = 0; i < n; i++) {
		mem_free(attrs[i]);
		json_decref(keep[i]);
		mem_free(keys[i]);
	}
	mem_free(keys);
	mem_free(ids);
	mem_free(keep);
	mem_free(attrs);
	mem_free(ts);
	mem_free(pm);
	mem_free(rmp);
	mem_free(rm);
}

/* Its pull answered: the room it asked for is free again. */
static void pull_answered(struct spull *sp)
{
	sp->pulling = 0;
	sp->pull_call = NULL;
	if (sp->cl)
		sp->cl->reserved -= sp->asked;
	sp->asked = 0;
}

/* A pull that found messages (pull.c's answer through send_messages). */
static void on_messages(struct call *c, const struct call_msg *m, size_t n)
{
	struct scall *sc = c->conn;
	struct h2stream *st = sc->st;
	struct spull *sp = st->sp;
	pull_answered(sp);
	if (st->conn == NULL || st->answered) {
		/* The stream ended while the pull ran: nobody will get these. */
		char **ids = mem_alloc(sizeof(*ids) * (n ? n : 1));
		for (size_t i = 0; i < n; i++)
			ids[i] = mem_strdup(m[i].ack_id);
		sp_release(sp->srv, st, ids, n);
	} else {
		if (!sp->checked) {
			sp->checked = 1;
			grpc_send_headers(st);
		}
		sp->sub_flags = c->sub_flags;
		deliver(st, m, n);
		if (sp->srv->b->shutting_down) {
			sp->ended_by_server = 1;
			grpc_finish(st, 14, "The broker is shutting down; reconnect.");
		} else if (sp->cl) {
			grpc_flow_kick(sp->srv, sp->cl); /* what it did not take is free again */
		}
	}
	sc_free(sc);
}

/* A pull answered with no message ({}) or an error (JSON). */
static void on_pulled(struct call *c, int status, char *text, size_t len)
{
	struct scall *sc = c->conn;
	struct h2stream *st = sc->st;
	struct spull *sp = st->sp;
	struct broker *b = sp->srv->b;
	pull_answered(sp);
	json_t *v = json_loadb(text, len, 0, NULL);
	mem_free(text);
	int ok = status >= 200 && status < 300;
	if (st->conn == NULL || st->answered) {
		/* ended meanwhile: nothing to do */
	} else if (!ok) {
		const char *msg;
		int code = grpc_code_of_answer(status, v, &msg);
		sp->ended_by_server = 1;
		grpc_finish(st, code, msg);
		end_unchecked_like(st, code, msg);
		/* The rest pull now (the room this one held is free): each gets
		 * its own answer, e.g. NOT_FOUND once the subscription went. */
		if (sp->cl)
			grpc_flow_kick(sp->srv, sp->cl);
	} else {
		if (!sp->checked) {
			sp->checked = 1;
			grpc_send_headers(st);
		}
		if (b->shutting_down) {
			sp->ended_by_server = 1;
			grpc_finish(st, 14, "The broker is shutting down; reconnect.");
		} else if (sp->cl) {
			grpc_flow_kick(sp->srv, sp->cl);
		}
	}
	json_decref(v);
	sc_free(sc);
}

/* Its client's other streams that wait for room and have not pulled yet
 * would get the same answer as st: they get it now (the Node client
 * reports an error once all its streams ended). */
static void end_unchecked_like(struct h2stream *st, int code, const char *msg)
{
	struct spull *sp = st->sp;
	struct h2stream *same[GRPC_MAX_STREAMS];
	int nsame = 0;
	for (struct spull *o = sp->cl ? sp->cl->streams : NULL; o; o = o->cnext) {
		struct h2stream *ost = o->st;
		if (o == sp || o->checked || o->pulling || ost->conn == NULL || ost->answered ||
		    strcmp(ost->auth, st->auth) != 0 || nsame == GRPC_MAX_STREAMS)
			continue;
		ost->refs++; /* a finish may free a connection and its streams */
		same[nsame++] = ost;
	}
	for (int i = 0; i < nsame; i++) {
		same[i]->sp->ended_by_server = 1;
		grpc_finish(same[i], code, msg);
		grpc_stream_unref(same[i]);
	}
}

/* Pulls when the stream has room (flow control, and its last answer was
 * taken by nghttp2). */
static void sp_try_pull(struct h2stream *st)
{
	struct spull *sp = st->sp;
	if (st->conn == NULL || st->answered || !sp->opened || sp->pulling ||
	    sp->srv->b->shutting_down || evbuffer_get_length(st->out) > 0)
		return;
	struct sp_client *cl = sp->cl;
	long limit = cl->max_msgs > 0 ? cl->max_msgs : SP_MAX_OUTSTANDING;
	long room = limit - cl->outstanding - cl->reserved;
	if (room > SP_BATCH)
		room = SP_BATCH;
	long long bytes_left = cl->max_bytes > 0 ? cl->max_bytes - cl->out_bytes : -1;
	if (cl->avg_bytes > 0) {
		double by_size = SP_PULL_BYTES / cl->avg_bytes;
		if (bytes_left >= 0 && (double)bytes_left / cl->avg_bytes < by_size)
			by_size = (double)bytes_left / cl->avg_bytes;
		if (by_size < (double)room)
			room = by_size < 1 ? 1 : (long)by_size;
	}
	if (room <= 0 || bytes_left == 0 || bytes_left < -1)
		return;
	char body[80];
	snprintf(body, sizeof(body), "{\"maxMessages\":%ld%s}", room,
		 sp->checked ? "" : ",\"returnImmediately\":true");
	sp->pulling = 1;
	sp->asked = room;
	cl->reserved += room;
	sp_call(st, SC_PULL, sp->pull_path, mem_strdup(body), "StreamingPull");
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_srv *srv = arg;
	(void)fd;
	(void)what;
	struct h2stream *list = srv->kick_list;
	srv->kick_list = NULL;
	while (list) {
		struct h2stream *st = list;
		list = st->sp->kick_next;
		st->sp->kick_next = NULL;
		st->sp->queued = 0;
		sp_try_pull(st);
		grpc_stream_unref(st); /* the list's */
	}
}

/* sp_try_pull on the next loop turn (never inside nghttp2's callbacks). */
static void sp_kick(struct grpc_srv *srv, struct h2stream *st)
{
	if (st->sp->queued || srv->kick == NULL || st->conn == NULL)
		return;
	st->sp->queued = 1;
	st->refs++;
	st->sp->kick_next = srv->kick_list;
	srv->kick_list = st;
	event_active(srv->kick, EV_TIMEOUT, 0);
}

void grpc_flow_kick(struct grpc_srv *srv, struct sp_client *cl)
{
	for (struct spull *sp = cl->streams; sp; sp = sp->cnext)
		sp_kick(srv, sp->st);
}

/* ---- the client's requests ---------------------------------------------- */

static int bad_deadline(struct h2stream *st, int32_t d)
{
	if (d >= 10 && d <= 600)
		return 0;
	char m[160];
	snprintf(m, sizeof(m),
		 "Invalid stream ack deadline given: %d. The deadline must be between 10 and "
		 "600 seconds.",
		 (int)d);
	st->sp->ended_by_server = 1;
	grpc_finish(st, 3, m);
	return -1;
}

static int open_stream(struct h2stream *st, const SPReq *q)
{
	struct spull *sp = st->sp;
	char project[NAMES_PROJECT_MAX + 1], id[NAMES_ID_MAX + 1], m[600];
	sp->ended_by_server = 1; /* until it opens */
	if (q->subscription == NULL || q->subscription[0] == '\0') {
		grpc_finish(st, 3,
			    "The first request of a StreamingPull must name the subscription.");
		return -1;
	}
	if (strlen(q->subscription) > NAMES_NAME_MAX ||
	    names_split(q->subscription, "subscriptions", project, sizeof(project), id,
			sizeof(id)) != 0) {
		snprintf(m, sizeof(m), "Invalid resource name given (name=%.400s).",
			 q->subscription);
		grpc_finish(st, 3, m);
		return -1;
	}
	if (bad_deadline(st, q->stream_ack_deadline_seconds) != 0)
		return -1;
	snprintf(sp->name, sizeof(sp->name), "%s", q->subscription);
	sp->deadline_s = q->stream_ack_deadline_seconds;
	json_t *req = json_pack("{s:s}", "subscription", q->subscription);
	char err[256];
	const char *verbs[] = { "Pull", "Acknowledge", "ModifyAckDeadline" };
	char *paths[] = { sp->pull_path, sp->ack_path, sp->modack_path };
	for (int k = 0; k < 3; k++) {
		char want[96];
		snprintf(want, sizeof(want), "/google.pubsub.v1.Subscriber/%s", verbs[k]);
		const struct grpc_rpc *r = grpc_rpc_find(want);
		if (r == NULL || grpc_rpc_rest_path(r, req, paths[k], sizeof(sp->pull_path), err,
						    sizeof(err)) != 0) {
			json_decref(req);
			grpc_finish(st, 3, r ? err : "no such method");
			return -1;
		}
	}
	json_decref(req);
	char sub[NAMES_KEY_MAX];
	names_key(sub, project, id);
	grpc_flow_join(sp->srv, sp, sub, q->client_id, q->max_outstanding_messages,
		       q->max_outstanding_bytes);
	sp->ended_by_server = 0;
	sp->opened = 1;
	grpc_send_headers(st); /* accepted; what it gets comes when there is room */
	sp_kick(sp->srv, st);
	return 0;
}

/* Acks and deadline changes carried on the stream (other client
 * libraries send them here; the Node client sends unary calls). */
static int stream_controls(struct h2stream *st, const SPReq *q)
{
	struct spull *sp = st->sp;
	if (q->n_modify_deadline_seconds != q->n_modify_deadline_ack_ids) {
		sp->ended_by_server = 1;
		grpc_finish(
			st, 3,
			"modify_deadline_seconds and modify_deadline_ack_ids must have the same "
			"length.");
		return -1;
	}
	if (q->n_ack_ids > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < q->n_ack_ids; i++)
			json_array_append_new(a, json_string(q->ack_ids[i]));
		json_t *body = json_pack("{s:o}", "ackIds", a);
		char *text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		sp_call(st, SC_CONTROL, sp->ack_path, text, "StreamingPull acknowledge");
	}
	/* One modifyAckDeadline per distinct deadline. */
	char *done = mem_calloc(q->n_modify_deadline_seconds + 1, 1);
	for (size_t i = 0; i < q->n_modify_deadline_seconds; i++) {
		if (done[i])
			continue;
		int32_t d = q->modify_deadline_seconds[i];
		json_t *a = json_array();
		for (size_t k = i; k < q->n_modify_deadline_seconds; k++) {
			if (!done[k] && q->modify_deadline_seconds[k] == d) {
				done[k] = 1;
				json_array_append_new(a,
						      json_string(q->modify_deadline_ack_ids[k]));
			}
		}
		json_t *body = json_pack("{s:o,s:i}", "ackIds", a, "ackDeadlineSeconds", (int)d);
		char *text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		sp_call(st, SC_CONTROL, sp->modack_path, text, "StreamingPull modifyAckDeadline");
	}
	mem_free(done);
	return 0;
}

static int take_request(struct h2stream *st, const SPReq *q)
{
	struct spull *sp = st->sp;
	if (!sp->opened) {
		if (open_stream(st, q) != 0)
			return -1;
	} else {
		if (q->subscription && q->subscription[0]) {
			sp->ended_by_server = 1;
			grpc_finish(st, 3,
				    "The subscription may be named only in the first request.");
			return -1;
		}
		if (q->max_outstanding_messages != 0 || q->max_outstanding_bytes != 0) {
			sp->ended_by_server = 1;
			grpc_finish(
				st, 3,
				"max_outstanding_messages and max_outstanding_bytes may be set only "
				"in the first request.");
			return -1;
		}
		if (q->stream_ack_deadline_seconds != 0) {
			if (bad_deadline(st, q->stream_ack_deadline_seconds) != 0)
				return -1;
			sp->deadline_s = q->stream_ack_deadline_seconds;
		}
	}
	return stream_controls(st, q);
}

void grpc_spull_open(struct h2stream *st)
{
	struct spull *sp = mem_calloc(1, sizeof(*sp));
	sp->srv = st->conn->srv;
	sp->st = st;
	st->sp = sp;
}

void grpc_spull_data(struct h2stream *st, int end)
{
	struct spull *sp = st->sp;
	st->refs++; /* the calls below may answer at once */
	if (st->too_large) {
		sp->ended_by_server = 1;
		grpc_finish(st, 3, "Request payload size exceeds the limit: 10485760 bytes.");
	}
	while (!st->answered && st->conn) {
		size_t len = evbuffer_get_length(st->in);
		if (len < 5)
			break;
		uint8_t pre[5];
		evbuffer_copyout(st->in, pre, 5);
		size_t n = ((size_t)pre[1] << 24) | ((size_t)pre[2] << 16) | ((size_t)pre[3] << 8) |
			   pre[4];
		if (pre[0] != 0) {
			sp->ended_by_server = 1;
			grpc_finish(st, 12,
				    "Compressed messages are not supported (grpc-encoding)");
			break;
		}
		if (n > GRPC_MAX_REQUEST - 5) {
			sp->ended_by_server = 1;
			grpc_finish(st, 3,
				    "Request payload size exceeds the limit: 10485760 bytes.");
			break;
		}
		if (len < 5 + n)
			break;
		uint8_t *p = evbuffer_pullup(st->in, (ssize_t)(5 + n));
		SPReq *q = google__pubsub__v1__streaming_pull_request__unpack(NULL, n, p + 5);
		evbuffer_drain(st->in, 5 + n);
		grpc_stream_release_input(st, 5 + n);
		if (q == NULL) {
			sp->ended_by_server = 1;
			grpc_finish(st, 13, "The request message does not parse.");
			break;
		}
		int rc = take_request(st, q);
		google__pubsub__v1__streaming_pull_request__free_unpacked(q, NULL);
		if (rc != 0)
			break;
	}
	if (end && !st->answered && st->conn) {
		/* The client half-closed: it wants nothing more (grpc-js cancels
		 * a call this way), and what it did not confirm is released. */
		sp->ended_by_client = 1;
		grpc_finish(st, sp->opened ? 0 : 3,
			    sp->opened ? NULL : "A StreamingPull needs a first request.");
	}
	grpc_stream_unref(st);
}

void grpc_spull_drained(struct h2stream *st)
{
	sp_kick(st->sp->srv, st);
}

void grpc_spull_timeout(struct h2stream *st)
{
	st->sp->ended_by_server = 1;
	grpc_finish(st, 4, "Deadline Exceeded");
}

void grpc_spull_closed(struct h2stream *st, int broken)
{
	struct spull *sp = st->sp;
	if (sp->pull_call) /* parked: answered {} at the pull module's next tick */
		sp->pull_call->cancelled = 1;
	struct grpc_srv *srv = sp->srv;
	struct sp_client *cl = sp->cl;
	if (cl == NULL)
		return;
	/* What it sent and the client never confirmed is released; what
	 * the client holds stays outstanding for the client's other streams
	 * (or the one it reconnects with) until acked, nacked or expired. */
	size_t n = 0, cap = 0;
	char **ids = NULL;
	for (struct lease_ent *e = cl->ents, *next; e; e = next) {
		next = e->next;
		if (e->st != st)
			continue;
		e->st = NULL;
		if (e->confirmed || (sp->ended_by_server && !broken && !sp->ended_by_client))
			continue; /* the client has it, or gets it before the trailers */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = mem_realloc(ids, sizeof(*ids) * cap);
		}
		ids[n++] = mem_strdup(e->ack_id);
		grpc_flow_lease_drop(srv, e);
	}
	/* Its pull in flight held room of the client's; the other streams
	 * (the kick runs on the next loop turn) may use it and what was
	 * released. */
	cl->reserved -= sp->asked;
	sp->asked = 0;
	grpc_flow_kick(srv, cl);
	grpc_flow_leave(srv, sp);
	if (n > 0 && !srv->b->shutting_down) {
		log_debug("grpc: StreamingPull %s broke: %zu messages in flight released", sp->name,
			  n);
		sp_release(srv, st, ids, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		mem_free(ids[i]);
	mem_free(ids);
}

void grpc_spull_free(struct h2stream *st)
{
	struct spull *sp = st->sp;
	grpc_flow_leave(sp->srv, sp);
	mem_free(sp);
	st->sp = NULL;
}

void grpc_spull_shutdown(struct grpc_srv *srv)
{
	int n = 0;
	for (struct h2conn *h = srv->conns; h; h = h->next) {
		for (struct h2stream *st = h->streams; st; st = st->next) {
			if (st->sp == NULL || st->answered)
				continue;
			n++;
			st->sp->ended_by_server = 1;
			/* A pull in flight is answered (the pull module's quiesce)
			 * and ends the stream when its messages went out. */
			if (!st->sp->pulling)
				grpc_finish(st, 14, "The broker is shutting down; reconnect.");
		}
	}
	if (n > 0)
		log_info("grpc: StreamingPull: %d stream%s ended with UNAVAILABLE (shutdown; "
			 "clients reconnect)",
			 n, n == 1 ? "" : "s");
}

void grpc_streams_init(struct grpc_srv *srv)
{
	srv->kick = event_new(srv->b->base, -1, 0, on_kick, srv);
	grpc_flow_init(srv);
}

void grpc_streams_free(struct grpc_srv *srv)
{
	while (srv->kick_list) {
		struct h2stream *st = srv->kick_list;
		srv->kick_list = st->sp->kick_next;
		st->sp->queued = 0;
		grpc_stream_unref(st);
	}
	if (srv->kick)
		event_free(srv->kick);
	srv->kick = NULL;
	while (srv->pending) { /* releases not yet due: those leases run out */
		struct sp_pending *p = srv->pending;
		srv->pending = p->next;
		event_free(p->ev);
		for (size_t i = 0; i < p->n; i++)
			mem_free(p->ids[i]);
		mem_free(p->ids);
		grpc_stream_unref(p->st);
		mem_free(p);
	}
	grpc_flow_free(srv);
}
