/* http_client.c - libcurl multi "socket" interface on libevent (the pattern
 * of curl's hiper/evhiperfifo examples): curl tells us which sockets to
 * watch and when to wake it; we tell curl what happened. */
#include "http_client.h"

#include "http_plain.h"

#include "log.h"
#include "mem.h"
#include "push_config.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	int running;
	int allow_link_local;
	struct xfer *xfers; /* every transfer in progress (for http_client_free) */
	CURL *idle[256];    /* reset easy handles kept for reuse */
	int nidle;
	struct http_plain *plain; /* http:// without libcurl (http_plain.c) */
};

struct xfer {
	struct http_client *hc;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	http_done_cb cb;
	void *arg;
	long retry_after_s;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

struct sock {
	struct event *ev;
};

static void xfer_free(struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else if (x->hc->xfers == x)
		x->hc->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (x->easy && x->hc->nidle < (int)(sizeof(x->hc->idle) / sizeof(x->hc->idle[0]))) {
		curl_easy_reset(x->easy);
		x->hc->idle[x->hc->nidle++] = x->easy;
	} else {
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	free(x->body);
	mem_free(x);
}

static void check_done(struct http_client *hc)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		struct http_result res = { 0 };
		res.code = msg->data.result;
		res.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(res.code);
		res.retry_after_s = x->retry_after_s;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
		curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &res.seconds);
		curl_multi_remove_handle(hc->multi, x->easy);
		x->cb(&res, x->arg);
		xfer_free(x);
	}
}

static void on_socket_event(evutil_socket_t fd, short kind, void *arg)
{
	struct http_client *hc = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(hc->multi, fd, action, &hc->running);
	check_done(hc);
	if (hc->running <= 0 && evtimer_pending(hc->timer, NULL))
		evtimer_del(hc->timer);
}

static void on_timer(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	struct http_client *hc = arg;
	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &hc->running);
	check_done(hc);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	struct http_client *hc = userp;
	struct sock *sk = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			mem_free(sk);
			curl_multi_assign(hc->multi, s, NULL);
		}
		return 0;
	}
	short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (sk == NULL) {
		sk = mem_calloc(1, sizeof(*sk));
		curl_multi_assign(hc->multi, s, sk);
	} else {
		event_free(sk->ev);
	}
	sk->ev = event_new(hc->base, s, kind, on_socket_event, hc);
	event_add(sk->ev, NULL);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct http_client *hc = userp;
	if (timeout_ms < 0) {
		evtimer_del(hc->timer);
		return 0;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(hc->timer, &tv);
	return 0;
}

/* SSRF guard after DNS: refuse link-local and metadata addresses, whatever
 * name resolved to them. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http_client *hc = clientp;
	(void)purpose;
	if (!hc->allow_link_local && push_config_forbidden_addr(&a->addr)) {
		log_warn("push: refused a connection to a link-local/metadata address");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		char tmp[32];
		size_t l = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;
		memcpy(tmp, buf + 12, l);
		tmp[l] = '\0';
		char *end;
		long v = strtol(tmp, &end, 10);
		/* The delta-seconds form; an HTTP-date is ignored. */
		if (end != tmp && v >= 0)
			x->retry_after_s = v;
	}
	return len;
}

static size_t discard(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
}

struct http_client *http_client_new(struct event_base *base, int allow_link_local, int libcurl_only)
{
	struct http_client *hc = mem_calloc(1, sizeof(*hc));
	hc->base = base;
	hc->allow_link_local = allow_link_local;
	hc->multi = curl_multi_init();
	hc->timer = evtimer_new(base, on_timer, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	/* HTTP/1.1 carries one request per connection at a time: without a
	 * cap a window of 1000 would open 1000 connections to one receiver
	 * (and churn them). Requests beyond the cap wait inside curl for a
	 * free connection, which is then reused. */
	curl_multi_setopt(hc->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	curl_multi_setopt(hc->multi, CURLMOPT_MAXCONNECTS, 256L);
	if (!libcurl_only)
		hc->plain = http_plain_new(base, allow_link_local);
	return hc;
}

void http_client_free(struct http_client *hc)
{
	if (hc == NULL)
		return;
	http_plain_free(hc->plain);
	while (hc->xfers) {
		/* The owner still hears about it (and frees its state). */
		struct xfer *x = hc->xfers;
		struct http_result res = { 0 };
		res.code = CURLE_ABORTED_BY_CALLBACK;
		res.error = "aborted at shutdown";
		res.retry_after_s = -1;
		curl_multi_remove_handle(hc->multi, x->easy);
		x->cb(&res, x->arg);
		xfer_free(x);
	}
	while (hc->nidle)
		curl_easy_cleanup(hc->idle[--hc->nidle]);
	curl_multi_cleanup(hc->multi);
	event_free(hc->timer);
	mem_free(hc);
}

int http_client_post(struct http_client *hc, const char *url, struct curl_slist *headers,
		     char *body, size_t len, long timeout_ms, const char *ca_file, http_done_cb cb,
		     void *arg)
{
	if ((ca_file == NULL || ca_file[0] == '\0') &&
	    http_plain_post(hc->plain, url, headers, body, len, timeout_ms, cb, arg))
		return 0;
	struct xfer *x = mem_calloc(1, sizeof(*x));
	x->hc = hc;
	x->headers = headers;
	x->body = body;
	x->cb = cb;
	x->arg = arg;
	x->retry_after_s = -1;
	x->easy = hc->nidle ? hc->idle[--hc->nidle] : curl_easy_init();
	if (x->easy == NULL) {
		xfer_free(x);
		return -1;
	}
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a 3xx is a nack */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, hc);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "regnotify-push/" RN_VERSION);
	if (ca_file && ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
	if (curl_multi_add_handle(hc->multi, e) != CURLM_OK) {
		xfer_free(x);
		return -1;
	}
	x->next = hc->xfers;
	if (hc->xfers)
		hc->xfers->prev = x;
	hc->xfers = x;
	return 0;
}
