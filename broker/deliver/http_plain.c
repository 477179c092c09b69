/* http_plain.c - push POSTs to plain http:// endpoints on evhttp client
 * connections, without libcurl: libcurl's per-request state machine was
 * two thirds of the broker's CPU per delivery (docs/performance.md,
 * "Push"). https://, userinfo, fragments and any configured proxy stay
 * with libcurl (http_client.c decides).
 *
 * Per host:port, up to PLAIN_MAX_CONNS keep-alive connections; a request
 * takes an idle one, opens a new one under the cap, or queues on the
 * least busy (evhttp sends a connection's requests one after another:
 * no pipelining). Names are resolved by getaddrinfo on a resolver thread
 * (the system resolver: /etc/hosts, search domains) and kept
 * PLAIN_DNS_TTL_MS; every address goes through the same link-local and
 * metadata guard as libcurl's connections (push_config_forbidden_addr)
 * before a connection to it is made. The timeout bounds the whole
 * request; a request that dies on a reused connection before any answer
 * is sent once more on a new one (as libcurl does). */
#include "http_plain.h"

#include "log.h"
#include "mem.h"
#include "push_config.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PLAIN_MAX_CONNS 64
#define PLAIN_MAX_ADDRS 8
#define PLAIN_DNS_TTL_MS 30000
#define PLAIN_MAX_HEADERS (64 * 1024)
#define HOST_MAX 256

struct plain_conn {
	struct evhttp_connection *evcon;
	int inflight;
	unsigned long served, answered;
	int ipi; /* which of the host's addresses it connects to */
};

struct plain_req;

struct plain_host {
	struct plain_host *next;
	char host[HOST_MAX]; /* as in the URL (brackets stripped) */
	char hostport[HOST_MAX + 8];
	int port;
	char ips[PLAIN_MAX_ADDRS][INET6_ADDRSTRLEN]; /* what the guard allowed, in order */
	int nips, ipi;                               /* ipi: the one new connections use */
	int64_t resolved_ms;                         /* 0: never */
	int resolving;
	char error[128]; /* why the last resolution gave no usable address */
	struct plain_req *waiting;
	struct plain_conn *conns[PLAIN_MAX_CONNS];
	int nconns;
};

struct plain_req {
	struct http_plain *hp;
	struct plain_host *h;
	struct plain_conn *conn;
	struct evhttp_request *req; /* NULL when not sent */
	struct curl_slist *headers;
	char *body;
	size_t len;
	char path[2048];
	struct event *timer;
	http_done_cb cb;
	void *arg;
	struct timespec t0;
	long retry_after_s;
	int error;                     /* enum evhttp_request_error + 1, 0: none */
	int retried;                   /* sent again after a reused connection died */
	int addr_tries;                /* sent again to the host's next address */
	struct plain_req *next, *prev; /* every live request; waiting list uses wnext */
	struct plain_req *wnext;
};

/* A name to resolve, handed to the resolver thread and back. */
struct job {
	struct job *next;
	struct plain_host *h;
	char host[HOST_MAX];
	int port;
	int rc;
	struct addrinfo *res;
};

struct http_plain {
	struct event_base *base;
	int allow_link_local;
	struct plain_host *hosts;
	struct plain_req *reqs;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *done; /* guarded by mu */
	int stop;
	struct event *done_ev;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- resolver thread ------------------------------------------------- */

static void *resolver_main(void *arg)
{
	struct http_plain *hp = arg;
	pthread_mutex_lock(&hp->mu);
	while (!hp->stop) {
		struct job *j = hp->todo;
		if (j == NULL) {
			pthread_cond_wait(&hp->cv, &hp->mu);
			continue;
		}
		hp->todo = j->next;
		pthread_mutex_unlock(&hp->mu);
		char port[16];
		snprintf(port, sizeof(port), "%d", j->port);
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
		j->rc = getaddrinfo(j->host, port, &hints, &j->res);
		pthread_mutex_lock(&hp->mu);
		j->next = hp->done;
		hp->done = j;
		event_active(hp->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&hp->mu);
	return NULL;
}

/* ---- requests ---------------------------------------------------------- */

static void req_finish(struct plain_req *r, long status, CURLcode code, const char *error)
{
	struct http_plain *hp = r->hp;
	if (r->prev)
		r->prev->next = r->next;
	else if (hp->reqs == r)
		hp->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (r->timer)
		event_free(r->timer);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct http_result res = { 0 };
	res.status = status;
	res.code = code;
	res.error = error;
	res.seconds = (double)(t1.tv_sec - r->t0.tv_sec) + (t1.tv_nsec - r->t0.tv_nsec) / 1e9;
	res.retry_after_s = r->retry_after_s;
	r->cb(&res, r->arg);
	curl_slist_free_all(r->headers);
	free(r->body);
	mem_free(r);
}

static void send_req(struct plain_req *r);

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct plain_req *r = arg;
	r->error = (int)e + 1;
}

/* The response's body is not kept: Pub/Sub ignores it. */
static void on_chunk(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* What evhttp queued on c goes out now, not on the next loop turn (its
 * client writes through the bufferevent, whose write event only comes
 * then): the endpoint gets the next request while this broker still
 * reads the other answers of this turn, instead of the two taking turns
 * (docs/performance.md "Push"). What the socket does not take stays for
 * the bufferevent. */
static void flush_conn(struct plain_conn *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct evbuffer *out = bev ? bufferevent_get_output(bev) : NULL;
	if (fd < 0 || evbuffer_get_length(out) == 0)
		return;
	/* A bufferevent keeps the start of its output frozen: only it
	 * drains it. Draining it here is what it would do next turn. */
	evbuffer_unfreeze(out, 1);
	evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct plain_req *r = arg;
	struct plain_conn *c = r->conn;
	r->req = NULL; /* evhttp frees it when this returns */
	if (c) {
		c->inflight--;
		c->served++;
	}
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code <= 0) {
		struct plain_host *h = r->h;
		/* A connection that never answered: the address may be wrong
		 * (localhost's ::1 for a server on 127.0.0.1): the next one. */
		if (c && c->answered == 0 && c->ipi == h->ipi && h->nips > 1 &&
		    r->addr_tries < h->nips - 1) {
			h->ipi = (h->ipi + 1) % h->nips;
			r->addr_tries++;
			r->error = 0;
			send_req(r);
			return;
		}
		/* Died before an answer on a connection that had served: the
		 * endpoint closed it while idle. Once more, on a new one. */
		if (!r->retried && c && c->answered > 0 && r->error == EVREQ_HTTP_EOF + 1) {
			r->retried = 1;
			r->error = 0;
			send_req(r);
			return;
		}
		const char *why =
			r->error == EVREQ_HTTP_TIMEOUT + 1 ? "Operation timed out"
			: r->error == EVREQ_HTTP_EOF + 1   ? "Connection closed by the endpoint"
			: r->error == EVREQ_HTTP_INVALID_HEADER + 1 ? "Invalid HTTP response"
								    : "Connection failed";
		req_finish(r, 0,
			   r->error == EVREQ_HTTP_TIMEOUT + 1          ? CURLE_OPERATION_TIMEDOUT
			   : r->error == EVREQ_HTTP_INVALID_HEADER + 1 ? CURLE_WEIRD_SERVER_REPLY
								       : CURLE_COULDNT_CONNECT,
			   why);
		return;
	}
	if (c) {
		c->answered++;
		flush_conn(c); /* evhttp has just queued this connection's next request */
	}
	const char *ra = evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After");
	if (ra) {
		char *end;
		long v = strtol(ra, &end, 10);
		/* The delta-seconds form; an HTTP-date is ignored. */
		if (end != ra && v >= 0)
			r->retry_after_s = v;
	}
	req_finish(r, code, CURLE_OK, NULL);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct plain_req *r = arg;
	if (r->req) {
		/* No callback follows a cancel; the connection is reset. */
		evhttp_cancel_request(r->req);
		r->req = NULL;
		if (r->conn)
			r->conn->inflight--;
	} else if (r->h) {
		/* Still waiting for its name. */
		for (struct plain_req **p = &r->h->waiting; *p; p = &(*p)->wnext)
			if (*p == r) {
				*p = r->wnext;
				break;
			}
	}
	req_finish(r, 0, CURLE_OPERATION_TIMEDOUT, "Operation timed out");
}

static void free_conn_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct plain_conn *c = arg;
	evhttp_connection_free(c->evcon);
	mem_free(c);
}

/* The connection a request goes on: idle, new under the cap, or the least
 * busy; fresh: a new one if the cap allows. Connections to an address the
 * host no longer uses are dropped once idle (freed on the next turn: this
 * may run inside one of their callbacks). */
static struct plain_conn *pick_conn(struct http_plain *hp, struct plain_host *h, int fresh)
{
	for (int i = 0; i < h->nconns;) {
		struct plain_conn *c = h->conns[i];
		if (c->ipi != h->ipi && c->inflight == 0) {
			struct timeval now = { 0, 0 };
			event_base_once(hp->base, -1, EV_TIMEOUT, free_conn_later, c, &now);
			h->conns[i] = h->conns[--h->nconns];
			continue;
		}
		i++;
	}
	struct plain_conn *best = NULL;
	for (int i = 0; i < h->nconns; i++) {
		struct plain_conn *c = h->conns[i];
		if (c->ipi != h->ipi)
			continue;
		if (c->inflight == 0 && !fresh)
			return c;
		if (best == NULL || c->inflight < best->inflight)
			best = c;
	}
	if (h->nconns < PLAIN_MAX_CONNS) {
		struct evhttp_connection *e = evhttp_connection_base_new(
			hp->base, NULL, h->ips[h->ipi], (unsigned short)h->port);
		if (e) {
			evhttp_connection_set_retries(e, 0);
			evhttp_connection_set_max_headers_size(e, PLAIN_MAX_HEADERS);
			struct plain_conn *c = mem_calloc(1, sizeof(*c));
			c->evcon = e;
			c->ipi = h->ipi;
			h->conns[h->nconns++] = c;
			return c;
		}
	}
	return best;
}

static void send_req(struct plain_req *r)
{
	struct plain_host *h = r->h;
	struct plain_conn *c = pick_conn(r->hp, h, r->retried);
	struct evhttp_request *req = c ? evhttp_request_new(on_done, r) : NULL;
	if (req == NULL) {
		req_finish(r, 0, CURLE_OUT_OF_MEMORY, "Cannot make an HTTP request");
		return;
	}
	evhttp_request_set_error_cb(req, on_error);
	evhttp_request_set_chunked_cb(req, on_chunk);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Host", h->hostport);
	evhttp_add_header(out, "User-Agent", "regnotify-push/" RN_VERSION);
	evhttp_add_header(out, "Accept", "*/*");
	for (struct curl_slist *l = r->headers; l; l = l->next) {
		const char *colon = strchr(l->data, ':');
		if (colon == NULL)
			continue;
		char name[128];
		size_t n = (size_t)(colon - l->data);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, l->data, n);
		name[n] = '\0';
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		if (*v) /* "Name:" alone: no such header (libcurl's convention) */
			evhttp_add_header(out, name, v);
	}
	/* The body stays ours (a retry sends it again): a reference. */
	evbuffer_add_reference(evhttp_request_get_output_buffer(req), r->body, r->len, NULL, NULL);
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, r->path) != 0) {
		/* evhttp freed req */
		req_finish(r, 0, CURLE_COULDNT_CONNECT, "Cannot send the HTTP request");
		return;
	}
	r->conn = c;
	r->req = req;
	c->inflight++;
}

static void fail_waiting(struct plain_host *h, const char *why)
{
	while (h->waiting) {
		struct plain_req *r = h->waiting;
		h->waiting = r->wnext;
		req_finish(r, 0, CURLE_COULDNT_RESOLVE_HOST, why);
	}
}

/* Resolutions that came back: take the first address the guard allows. */
static void on_resolved(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_plain *hp = arg;
	pthread_mutex_lock(&hp->mu);
	struct job *j = hp->done;
	hp->done = NULL;
	pthread_mutex_unlock(&hp->mu);
	while (j) {
		struct job *next = j->next;
		struct plain_host *h = j->h;
		h->resolving = 0;
		char old[INET6_ADDRSTRLEN];
		snprintf(old, sizeof(old), "%s", h->nips ? h->ips[h->ipi] : "");
		h->nips = 0;
		int refused = 0;
		for (struct addrinfo *a = j->rc == 0 ? j->res : NULL;
		     a && h->nips < PLAIN_MAX_ADDRS; a = a->ai_next) {
			if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
				continue;
			if (!hp->allow_link_local && push_config_forbidden_addr(a->ai_addr)) {
				refused = 1;
				continue;
			}
			const void *in =
				a->ai_family == AF_INET
					? (const void *)&((struct sockaddr_in *)a->ai_addr)
						  ->sin_addr
					: (const void *)&((struct sockaddr_in6 *)a->ai_addr)
						  ->sin6_addr;
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(a->ai_family, in, ip, sizeof(ip));
			int dup = 0;
			for (int k = 0; k < h->nips; k++)
				dup |= strcmp(h->ips[k], ip) == 0;
			if (!dup)
				snprintf(h->ips[h->nips++], sizeof(h->ips[0]), "%s", ip);
		}
		if (j->res)
			freeaddrinfo(j->res);
		/* Keep to the address in use when it is still listed; the
		 * connections are renumbered by the address they went to. */
		h->ipi = 0;
		for (int k = 0; k < h->nips; k++)
			if (strcmp(h->ips[k], old) == 0)
				h->ipi = k;
		for (int k = 0; k < h->nconns; k++) {
			char *ca = NULL;
			ev_uint16_t cp = 0;
			evhttp_connection_get_peer(h->conns[k]->evcon, &ca, &cp);
			h->conns[k]->ipi = -1;
			for (int q = 0; ca && q < h->nips; q++)
				if (strcmp(ca, h->ips[q]) == 0)
					h->conns[k]->ipi = q;
		}
		if (h->nips) {
			h->resolved_ms = now_ms();
			struct plain_req *w = h->waiting;
			h->waiting = NULL;
			while (w) {
				struct plain_req *wn = w->wnext;
				send_req(w);
				w = wn;
			}
		} else {
			if (refused)
				log_warn(
					"push: refused a connection to a link-local/metadata address");
			snprintf(h->error, sizeof(h->error), "%s",
				 refused ? "refused a connection to a link-local/metadata address"
				 : j->rc != 0 ? gai_strerror(j->rc)
					      : "no address");
			fail_waiting(h, h->error);
		}
		mem_free(j);
		j = next;
	}
}

static void resolve(struct http_plain *hp, struct plain_host *h)
{
	h->resolving = 1;
	struct job *j = mem_calloc(1, sizeof(*j));
	j->h = h;
	snprintf(j->host, sizeof(j->host), "%s", h->host);
	j->port = h->port;
	pthread_mutex_lock(&hp->mu);
	j->next = hp->todo;
	hp->todo = j;
	pthread_cond_signal(&hp->cv);
	pthread_mutex_unlock(&hp->mu);
}

/* ---- URLs ---------------------------------------------------------------- */

/* Splits an http:// URL; -1 for anything libcurl should handle. */
static int parse_url(const char *url, char *host, int *port, char *path, size_t path_cap)
{
	if (strncasecmp(url, "http://", 7) != 0)
		return -1;
	const char *p = url + 7, *hs, *he;
	if (strpbrk(p, "@#\\ ") != NULL)
		return -1; /* userinfo, fragments, oddities: libcurl's */
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			return -1;
		p = he + 1;
	} else {
		hs = p;
		while (*p && *p != ':' && *p != '/' && *p != '?')
			p++;
		he = p;
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 || hl >= HOST_MAX)
		return -1;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	*port = 80;
	if (*p == ':') {
		char *end;
		long v = strtol(p + 1, &end, 10);
		if (end == p + 1 || v <= 0 || v > 65535)
			return -1;
		*port = (int)v;
		p = end;
	}
	if (*p && *p != '/' && *p != '?')
		return -1;
	int n = snprintf(path, path_cap, "%s%s", *p == '/' ? "" : "/", p);
	return n > 0 && (size_t)n < path_cap ? 0 : -1;
}

/* 1 when the environment names a proxy libcurl would use for http://. */
static int proxy_configured(void)
{
	const char *v[] = { "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *s = getenv(v[i]);
		if (s && *s)
			return 1;
	}
	return 0;
}

/* ---- the client ------------------------------------------------------------ */

struct http_plain *http_plain_new(struct event_base *base, int allow_link_local)
{
	if (proxy_configured()) {
		log_info("push: a proxy is configured: every delivery goes through libcurl");
		return NULL;
	}
	struct http_plain *hp = mem_calloc(1, sizeof(*hp));
	hp->base = base;
	hp->allow_link_local = allow_link_local;
	pthread_mutex_init(&hp->mu, NULL);
	pthread_cond_init(&hp->cv, NULL);
	hp->done_ev = event_new(base, -1, 0, on_resolved, hp);
	if (pthread_create(&hp->thread, NULL, resolver_main, hp) != 0) {
		log_warn("push: no resolver thread: every delivery goes through libcurl");
		event_free(hp->done_ev);
		mem_free(hp);
		return NULL;
	}
	hp->started = 1;
	return hp;
}

void http_plain_free(struct http_plain *hp)
{
	if (hp == NULL)
		return;
	pthread_mutex_lock(&hp->mu);
	hp->stop = 1;
	pthread_cond_signal(&hp->cv);
	pthread_mutex_unlock(&hp->mu);
	pthread_join(hp->thread, NULL);
	/* The owners still hear about what was in flight. */
	while (hp->reqs) {
		struct plain_req *r = hp->reqs;
		if (r->req) {
			evhttp_cancel_request(r->req);
			r->req = NULL;
		}
		req_finish(r, 0, CURLE_ABORTED_BY_CALLBACK, "aborted at shutdown");
	}
	while (hp->hosts) {
		struct plain_host *h = hp->hosts;
		hp->hosts = h->next;
		for (int i = 0; i < h->nconns; i++) {
			evhttp_connection_free(h->conns[i]->evcon);
			mem_free(h->conns[i]);
		}
		mem_free(h);
	}
	for (struct job *j = hp->todo; j;) {
		struct job *n = j->next;
		mem_free(j);
		j = n;
	}
	for (struct job *j = hp->done; j;) {
		struct job *n = j->next;
		if (j->res)
			freeaddrinfo(j->res);
		mem_free(j);
		j = n;
	}
	event_free(hp->done_ev);
	pthread_mutex_destroy(&hp->mu);
	pthread_cond_destroy(&hp->cv);
	mem_free(hp);
}

int http_plain_post(struct http_plain *hp, const char *url, struct curl_slist *headers, char *body,
		    size_t len, long timeout_ms, http_done_cb cb, void *arg)
{
	char host[HOST_MAX], path[2048];
	int port;
	if (hp == NULL || parse_url(url, host, &port, path, sizeof(path)) != 0)
		return 0;
	struct plain_host *h = hp->hosts;
	while (h && (h->port != port || strcmp(h->host, host) != 0))
		h = h->next;
	if (h == NULL) {
		h = mem_calloc(1, sizeof(*h));
		snprintf(h->host, sizeof(h->host), "%s", host);
		h->port = port;
		int v6 = strchr(host, ':') != NULL;
		if (port == 80)
			snprintf(h->hostport, sizeof(h->hostport), v6 ? "[%s]" : "%s", host);
		else
			snprintf(h->hostport, sizeof(h->hostport), v6 ? "[%s]:%d" : "%s:%d", host,
				 port);
		h->next = hp->hosts;
		hp->hosts = h;
	}
	struct plain_req *r = mem_calloc(1, sizeof(*r));
	r->hp = hp;
	r->h = h;
	r->headers = headers;
	r->body = body;
	r->len = len;
	r->cb = cb;
	r->arg = arg;
	r->retry_after_s = -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->next = hp->reqs;
	if (hp->reqs)
		hp->reqs->prev = r;
	hp->reqs = r;
	r->timer = evtimer_new(hp->base, on_timeout, r);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(r->timer, &tv);
	if (h->resolved_ms && now_ms() - h->resolved_ms < PLAIN_DNS_TTL_MS) {
		send_req(r);
		return 1;
	}
	r->wnext = h->waiting;
	h->waiting = r;
	if (!h->resolving)
		resolve(hp, h);
	return 1;
}
