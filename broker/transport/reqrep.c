/* reqrep.c - the client-library transport: regnotify's nng req/rep
 * listener (docs/protocol.md). Named for the req/rep pattern, not "nng_",
 * so as not to borrow nng's prefix.
 *
 * One rep0 socket with a pool of contexts ("slots"), each with its own aio
 * cycling recv -> work -> send -> recv. nng completes aios on its own
 * threads: those callbacks touch nothing but the slot and a locked hand-off
 * queue, then wake the loop with event_active. The loop decodes the frame,
 * builds a struct call and runs the same route handlers as HTTP; the reply
 * goes back through nng_ctx_send. A request parked by a long-poll pull holds
 * its slot, so the pool grows (up to nng_max_requests) when every slot is
 * busy; beyond that, requests wait in nng until a slot frees. */
#include "reqrep.h"

#include "broker.h"
#include "call.h"
#include "gate.h"
#include "log.h"
#include "mem.h"
#include "wire.h"

#include <event2/event.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_INITIAL 64
/* Largest request frame: the publish route's 16 MiB body and the header. */
#define RECV_MAX (16u * 1024 * 1024 + 8192)

enum slot_state { SLOT_RECV, SLOT_WORK, SLOT_SEND };

struct slot {
	struct reqrep *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum slot_state state;
	nng_msg *req;                   /* SLOT_WORK: the request; body points into it */
	char path[WIRE_PATH_MAX + 1];   /* path?query, NUL-terminated (call->uri) */
	char token[WIRE_TOKEN_MAX + 1]; /* the frame's access token (call->credential) */
	struct slot *next;              /* hand-off queue */
};

struct reqrep {
	struct broker *b;
	nng_socket sock;
	struct event *wake;
	pthread_mutex_t mu; /* guards the queue, idle and closing */
	struct slot *head, *tail;
	long idle; /* slots waiting in recv */
	int closing;
	atomic_long unsent;
	struct slot **slots; /* loop thread only */
	long nslots, max_slots;
};

static void slot_recv(struct slot *s)
{
	struct reqrep *srv = s->srv;
	pthread_mutex_lock(&srv->mu);
	int closing = srv->closing;
	if (!closing)
		srv->idle++;
	pthread_mutex_unlock(&srv->mu);
	if (closing)
		return;
	s->state = SLOT_RECV;
	nng_ctx_recv(s->ctx, s->aio);
}

/* nng thread: a recv or a send of slot finished. */
static void on_aio(void *arg)
{
	struct slot *s = arg;
	struct reqrep *srv = s->srv;
	int rv = nng_aio_result(s->aio);
	if (s->state == SLOT_SEND) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(s->aio));
		atomic_fetch_sub(&srv->unsent, 1);
		slot_recv(s);
		return;
	}
	pthread_mutex_lock(&srv->mu);
	srv->idle--;
	if (rv != 0) {
		int closing = srv->closing;
		pthread_mutex_unlock(&srv->mu);
		/* NNG_ECLOSED/ECANCELED at shutdown; anything else is a
		 * transient receive error: keep the slot receiving. */
		if (!closing && rv != NNG_ECLOSED && rv != NNG_ECANCELED)
			slot_recv(s);
		return;
	}
	s->req = nng_aio_get_msg(s->aio);
	s->state = SLOT_WORK;
	s->next = NULL;
	if (srv->tail)
		srv->tail->next = s;
	else
		srv->head = s;
	srv->tail = s;
	pthread_mutex_unlock(&srv->mu);
	event_active(srv->wake, EV_READ, 0);
}

static struct slot *slot_new(struct reqrep *srv)
{
	struct slot *s = mem_calloc(1, sizeof(*s));
	s->srv = srv;
	if (nng_ctx_open(&s->ctx, srv->sock) != 0 || nng_aio_alloc(&s->aio, on_aio, s) != 0) {
		mem_free(s);
		return NULL;
	}
	return s;
}

/* Adds slots until n exist. Loop thread. */
static void grow(struct reqrep *srv, long n)
{
	if (n > srv->max_slots)
		n = srv->max_slots;
	if (n <= srv->nslots)
		return;
	srv->slots = mem_realloc(srv->slots, (size_t)n * sizeof(*srv->slots));
	while (srv->nslots < n) {
		struct slot *s = slot_new(srv);
		if (s == NULL) {
			log_warn("nng: cannot open more request contexts (have %ld)", srv->nslots);
			return;
		}
		srv->slots[srv->nslots++] = s;
		slot_recv(s);
	}
}

static int method_of(int wire_method)
{
	switch (wire_method) {
	case WIRE_GET: return M_GET;
	case WIRE_PUT: return M_PUT;
	case WIRE_POST: return M_POST;
	case WIRE_PATCH: return M_PATCH;
	case WIRE_DELETE: return M_DELETE;
	default: return 0;
	}
}

static void reply(struct slot *s, int status, const char *body, size_t len);

/* A frame that is not a request of our protocol: answered with 400 in the
 * same reply framing (a client of another version can read the status). */
static void reply_malformed(struct slot *s, enum wire_result wr)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "Malformed request frame: %s (this broker speaks protocol version %d).",
		 wire_strerror(wr), WIRE_VERSION);
	json_t *o = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 400, "message", msg, "status",
			      "INVALID_ARGUMENT");
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		reply(s, 400, NULL, 0);
		return;
	}
	reply(s, 400, text, strlen(text));
	mem_free(text);
}

static void op_send(struct call *c, int status, char *text, size_t len)
{
	reply(c->conn, status, text, len);
	mem_free(text);
}

static void op_peer(struct call *c, char *buf, size_t n)
{
	struct slot *s = c->conn;
	nng_pipe p = nng_msg_get_pipe(s->req);
	nng_sockaddr sa;
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 && sa.s_family == NNG_AF_INET) {
		const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr;
		snprintf(buf, n, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
			 (unsigned)ntohs(sa.s_in.sa_port));
	} else {
		snprintf(buf, n, "%s", s->srv->b->cfg.nng_listen);
	}
}

/* No headers on this transport: header and set_header stay NULL. */
static const struct call_ops reqrep_ops = {
	.name = "nng",
	.log_prefix = "nng ",
	.transport = VIA_NNG,
	.send = op_send,
	.peer = op_peer,
};

static void handle(struct reqrep *srv, struct slot *s)
{
	struct wire_req wr;
	enum wire_result res = wire_req_decode(nng_msg_body(s->req), nng_msg_len(s->req), &wr);
	if (res != WIRE_OK) {
		log_debug("nng: malformed request: %s", wire_strerror(res));
		reply_malformed(s, res);
		return;
	}
	memcpy(s->path, wr.path, wr.path_len);
	s->path[wr.path_len] = '\0';
	struct call *c = call_new(srv->b, &reqrep_ops, srv, s);
	c->uri = s->path;
	if (wr.token_len) {
		memcpy(s->token, wr.token, wr.token_len);
		s->token[wr.token_len] = '\0';
		c->credential = s->token;
		c->credential_len = wr.token_len;
	}
	char path[WIRE_PATH_MAX + 1];
	size_t plen = strcspn(s->path, "?");
	memcpy(path, s->path, plen);
	path[plen] = '\0';
	c->query = s->path[plen] == '?' ? s->path + plen + 1 : NULL;
	gate_dispatch(c, method_of(wr.method), path, wr.body, wr.body_len);
}

/* Loop thread: runs the requests nng handed over. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct reqrep *srv = arg;
	pthread_mutex_lock(&srv->mu);
	struct slot *list = srv->head;
	srv->head = srv->tail = NULL;
	long idle = srv->idle;
	pthread_mutex_unlock(&srv->mu);
	/* Every slot busy (parked pulls): open more before the next request
	 * has to wait for one. */
	if (idle == 0)
		grow(srv, srv->nslots * 2);
	while (list) {
		struct slot *s = list;
		list = s->next;
		handle(srv, s);
	}
}

/* Sends the reply of the request on slot s: the header with status, then
 * len bytes of body (copied). Loop thread. */
static void reply(struct slot *s, int status, const char *body, size_t len)
{
	struct reqrep *srv = s->srv;
	nng_msg *m = s->req;
	s->req = NULL;
	/* Reuse the request's message: nng keeps the rep routing header. */
	uint8_t head[WIRE_HEADER_LEN];
	wire_rep_encode_head(head, status);
	nng_msg_clear(m);
	if (nng_msg_append(m, head, sizeof(head)) != 0 ||
	    (len && nng_msg_append(m, body, len) != 0)) {
		log_error("nng: out of memory for a %zu-byte reply", len);
		nng_msg_clear(m);
		wire_rep_encode_head(head, 500);
		nng_msg_append(m, head, sizeof(head));
	}
	s->state = SLOT_SEND;
	atomic_fetch_add(&srv->unsent, 1);
	nng_aio_set_msg(s->aio, m);
	nng_ctx_send(s->ctx, s->aio);
}

/* Replies queued to nng whose send has not completed (shutdown waits for
 * them). Any thread. */
static long unflushed(void *state)
{
	return atomic_load(&((struct reqrep *)state)->unsent);
}

/* Closes the socket (pending requests are dropped; clients resend them
 * elsewhere) and frees everything. After the loop ended. */
static void stop(void *state)
{
	struct reqrep *srv = state;
	pthread_mutex_lock(&srv->mu);
	srv->closing = 1;
	pthread_mutex_unlock(&srv->mu);
	/* Closing the socket completes every aio with NNG_ECLOSED; freeing an
	 * aio waits for its callback, so no nng thread runs ours afterwards. */
	nng_close(srv->sock);
	for (long i = 0; i < srv->nslots; i++) {
		struct slot *s = srv->slots[i];
		nng_aio_free(s->aio);
		if (s->req)
			nng_msg_free(s->req);
		mem_free(s);
	}
	mem_free(srv->slots);
	if (srv->wake)
		event_free(srv->wake);
	pthread_mutex_destroy(&srv->mu);
	mem_free(srv);
}

static const struct module_ops reqrep_module = {
	.name = "nng",
	.unflushed = unflushed,
	.stop = stop,
};

static int listen_tls(nng_listener l, const char *cert_key)
{
	nng_tls_config *tls;
	/* nng 1.5 hands out a reference that the caller releases. */
	int rv = nng_listener_get_ptr(l, NNG_OPT_TLS_CONFIG, (void **)&tls);
	if (rv == 0) {
		rv = nng_tls_config_cert_key_file(tls, cert_key, NULL);
		nng_tls_config_free(tls);
	}
	return rv;
}

int reqrep_start(struct broker *b)
{
	const char *url = b->cfg.nng_listen;
	if (!url[0])
		return 0;
	struct reqrep *srv = mem_calloc(1, sizeof(*srv));
	srv->b = b;
	srv->max_slots = b->cfg.nng_max_requests;
	pthread_mutex_init(&srv->mu, NULL);
	atomic_init(&srv->unsent, 0);
	int rv = nng_rep0_open(&srv->sock);
	if (rv != 0) {
		log_error("nng: cannot open a rep socket: %s", nng_strerror(rv));
		pthread_mutex_destroy(&srv->mu);
		mem_free(srv);
		return -1;
	}
	broker_add_module(b, &reqrep_module, srv);
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, RECV_MAX);
	srv->wake = event_new(b->base, -1, 0, on_wake, srv);
	nng_listener l;
	rv = nng_listener_create(&l, srv->sock, url);
	if (rv == 0 && strncmp(url, "tls+tcp://", 10) == 0) {
		rv = listen_tls(l, b->cfg.nng_tls_cert_key);
		if (rv != 0) {
			log_error("nng: TLS certificate/key %s: %s", b->cfg.nng_tls_cert_key,
				  nng_strerror(rv));
			return -1;
		}
	}
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0) {
		log_error("nng: cannot listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	grow(srv, SLOTS_INITIAL < srv->max_slots ? SLOTS_INITIAL : srv->max_slots);
	return 0;
}
