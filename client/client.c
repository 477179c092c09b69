/* client.c - the connection to a broker: one nng req0 socket with one
 * dialer (which reconnects by itself), one request = one context. Also the
 * mapping of replies to enum rn_err and the resolution of short names.
 *
 * Resend policy: req0 would resend a request whose reply has not come
 * after NNG_OPT_REQ_RESENDTIME. A long-poll pull legitimately waits up to
 * the broker's --pull-wait, and a resend while the first copy is still
 * waiting would make the broker lease messages for a reply nobody reads.
 * So the timer is off (NNG_DURATION_INFINITE). With it off, nng 1.5 fails
 * a request whose connection was lost (NNG_ECONNRESET); client_call then
 * sends it again, on the next connection, while its timeout lasts. That
 * gives at-least-once semantics on reconnect: a publish may be stored
 * twice, a pull may lease messages that come back after their ack
 * deadline, an ack is repeated (harmless). Requests not yet sent simply
 * wait for a connection. */
#include "internal.h"

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_REQUEST_TIMEOUT_MS 30000
#define DEFAULT_RECONNECT_MIN_MS 100
#define DEFAULT_RECONNECT_MAX_MS 5000
#define PROJECT_MAX 100
#define ID_MAX 255

int64_t client_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void client_abstime(int64_t at_ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(at_ms / 1000);
	ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

int client_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	if (pthread_condattr_init(&a) != 0)
		return -1;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int rv = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rv == 0 ? 0 : -1;
}

void client_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void client_log(struct rn_client *c, enum rn_log_level level, const char *fmt, ...)
{
	if (!c || !c->log || (int)level < c->log_level)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, level, buf);
}

/* ------------------------------------------------------------------ */
/* Options and names */

void rn_client_opts_init(struct rn_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = RN_DEFAULT_URL;
	o->project = RN_DEFAULT_PROJECT;
	o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	o->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
	o->reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
	o->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
	o->log_level = RN_LOG_INFO;
}

bool client_project_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > PROJECT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-_.~:", ch)))
			return false;
	}
	return true;
}

/* A topic or subscription id as the broker takes it in a URL path; the
 * broker checks the finer rules (first letter, "goog"). */
static bool id_ok(const char *id, size_t n)
{
	if (n == 0 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-_.~+%", ch)))
			return false;
	}
	return true;
}

static bool is_tls_scheme(const char *scheme)
{
	return strncmp(scheme, "tls+tcp", 7) == 0;
}

/* Parses url; returns RN_EADDRINVAL unless it is a tcp/ipc/tls+tcp URL
 * with what that transport needs. *tls tells whether it is TLS. */
static int url_check(const char *url, bool *tls)
{
	static const char *const schemes[] = { "tcp",     "tcp4",     "tcp6",     "ipc",
					       "tls+tcp", "tls+tcp4", "tls+tcp6", NULL };
	nng_url *u = NULL;
	if (!url || !*url || nng_url_parse(&u, url) != 0)
		return errors_set(RN_EADDRINVAL, "Invalid broker URL: %s", url ? url : "(null)");
	bool known = false;
	for (int i = 0; schemes[i]; i++)
		if (strcmp(u->u_scheme, schemes[i]) == 0)
			known = true;
	int rv = 0;
	if (!known)
		rv = errors_set(RN_EADDRINVAL,
				"Unsupported URL scheme '%s' (tcp://, ipc://, tls+tcp://): %s",
				u->u_scheme, url);
	else if (strcmp(u->u_scheme, "ipc") == 0) {
		if (!u->u_path || !*u->u_path)
			rv = errors_set(RN_EADDRINVAL, "ipc:// URL without a path: %s", url);
	} else {
		char *end = NULL;
		long port = u->u_port ? strtol(u->u_port, &end, 10) : 0;
		if (!u->u_hostname || !*u->u_hostname || !u->u_port || end == u->u_port ||
		    *end != '\0' || port <= 0 || port > 65535 || (u->u_path && *u->u_path))
			rv = errors_set(RN_EADDRINVAL, "URL needs host:port (tcp://HOST:PORT): %s",
					url);
	}
	*tls = known && is_tls_scheme(u->u_scheme);
	nng_url_free(u);
	return rv;
}

int client_opts_check(const struct rn_client_opts *o)
{
	bool tls = false;
	int rv = url_check(o->url ? o->url : RN_DEFAULT_URL, &tls);
	if (rv)
		return rv;
	if (o->project && !client_project_ok(o->project))
		return errors_set(RN_EINVAL,
				  "Invalid project '%s': 1-100 characters of [A-Za-z0-9-_.~:]",
				  o->project);
	if (o->connect_timeout_ms < 0 || o->request_timeout_ms < 0 || o->reconnect_min_ms < 0 ||
	    o->reconnect_max_ms < 0)
		return errors_set(RN_EINVAL, "Timeouts must not be negative");
	if (o->reconnect_min_ms && o->reconnect_max_ms && o->reconnect_min_ms > o->reconnect_max_ms)
		return errors_set(RN_EINVAL, "reconnect_min_ms is larger than reconnect_max_ms");
	if (o->log_level < RN_LOG_DEBUG || o->log_level > RN_LOG_ERROR)
		return errors_set(RN_EINVAL, "Invalid log_level %d", o->log_level);
	if (o->access_token && strlen(o->access_token) > WIRE_TOKEN_MAX)
		return errors_set(RN_EINVAL, "Access token longer than %d bytes", WIRE_TOKEN_MAX);
	if (o->key_file && *o->key_file && o->access_token && *o->access_token)
		return errors_set(RN_EINVAL, "Give access_token or key_file, not both");
	if (o->token_lifetime_s < 0 || o->token_lifetime_s > 3600)
		return errors_set(RN_EINVAL, "token_lifetime_s must be 1-3600 (0: 3600)");
	if (tls && (!o->tls_ca_file || !*o->tls_ca_file))
		return errors_set(RN_EINVAL, "tls+tcp:// needs tls_ca_file");
	return 0;
}

int client_resolve(const char *project, const char *kind, const char *name, char *buf, size_t cap)
{
	if (!name || !*name)
		return errors_set(RN_EINVAL, "Empty %s name", kind);
	int n;
	if (strncmp(name, "projects/", 9) == 0) {
		const char *p = name + 9, *slash = strchr(p, '/');
		size_t klen = strlen(kind);
		if (!slash || strncmp(slash + 1, kind, klen) != 0 || slash[1 + klen] != '/')
			return errors_set(RN_EINVAL, "Invalid %s name '%s' (projects/P/%s/ID)",
					  kind, name, kind);
		const char *id = slash + 2 + klen;
		char proj[PROJECT_MAX + 1];
		size_t plen = (size_t)(slash - p);
		if (plen == 0 || plen > PROJECT_MAX)
			return errors_set(RN_EINVAL, "Invalid project in '%s'", name);
		memcpy(proj, p, plen);
		proj[plen] = '\0';
		if (!client_project_ok(proj) || !id_ok(id, strlen(id)))
			return errors_set(RN_EINVAL, "Invalid %s name '%s'", kind, name);
		n = snprintf(buf, cap, "%s", name);
	} else {
		if (!id_ok(name, strlen(name)))
			return errors_set(RN_EINVAL, "Invalid %s id '%s'", kind, name);
		if (!project || !client_project_ok(project))
			return errors_set(RN_EINVAL, "Invalid project");
		n = snprintf(buf, cap, "projects/%s/%s/%s", project, kind, name);
	}
	if (n < 0 || (size_t)n >= cap)
		return errors_set(RN_EINVAL, "%s name too long", kind);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Error mapping */

int client_map_status(int status, const char *body, size_t body_len)
{
	if (status >= 200 && status < 300)
		return 0;
	const char *gstatus = "", *msg = NULL;
	json_t *js = body && body_len ? json_loadb(body, body_len, 0, NULL) : NULL;
	json_t *err = js ? json_object_get(js, "error") : NULL;
	if (json_is_object(err)) {
		if (json_is_string(json_object_get(err, "status")))
			gstatus = json_string_value(json_object_get(err, "status"));
		if (json_is_string(json_object_get(err, "message")))
			msg = json_string_value(json_object_get(err, "message"));
	} else if (json_is_string(err)) { /* OAuth's shape (POST /token) */
		msg = json_string_value(json_object_get(js, "error_description"));
	}
	int rv;
	switch (status) {
	case 400: rv = RN_EINVAL; break;
	case 401: rv = RN_EUNAUTH; break;
	case 403: rv = RN_EPERM; break;
	case 404: rv = RN_ENOTFOUND; break;
	case 405: rv = RN_ENOTSUP; break;
	case 409: rv = strcmp(gstatus, "ABORTED") == 0 ? RN_EABORTED : RN_EEXISTS; break;
	case 413: rv = RN_ETOOBIG; break;
	case 429: rv = RN_EUNAVAIL; break;
	case 500: rv = RN_EINTERNAL; break;
	case 501: rv = RN_ENOTSUP; break;
	case 502:
	case 503:
	case 504: rv = RN_EUNAVAIL; break;
	default:
		if (status >= 400 && status < 500)
			rv = RN_EINVAL;
		else if (status >= 500 && status < 600)
			rv = RN_EINTERNAL;
		else
			rv = RN_EPROTO;
	}
	if (msg)
		errors_set(rv, "%s", msg);
	else
		errors_set(rv, "The broker answered %d", status);
	json_decref(js);
	return rv;
}

int client_map_nng(int nng_err, bool connected)
{
	switch (nng_err) {
	case 0: return 0;
	case NNG_ETIMEDOUT:
		/* Waiting for a connection that never came is "could not be
		 * reached"; a connected broker that did not answer is a timeout. */
		if (!connected)
			return errors_set(RN_ECONNREFUSED, "Not connected to the broker");
		return errors_set(RN_ETIMEDOUT, "No reply from the broker within the timeout");
	case NNG_ECONNREFUSED:
		return errors_set(RN_ECONNREFUSED, "Connection to the broker refused");
	case NNG_ENOMEM: return errors_set(RN_ENOMEM, "Out of memory");
	case NNG_ECLOSED:
	case NNG_ECANCELED: return errors_set(RN_ECLOSED, "Request aborted: client closed");
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_ECONNSHUT: return errors_set(RN_EUNAVAIL, "Connection to the broker lost");
	case NNG_EMSGSIZE: return errors_set(RN_ETOOBIG, "Request too large");
	case NNG_EPROTO: return errors_set(RN_EPROTO, "Protocol error");
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH: return errors_set(RN_ETLS, "TLS error: %s", nng_strerror(nng_err));
	default: return errors_set(RN_EUNAVAIL, "nng: %s", nng_strerror(nng_err));
	}
}

/* ------------------------------------------------------------------ */
/* Requests */

void client_reply_cleanup(struct client_reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static bool is_connected(struct rn_client *c)
{
	pthread_mutex_lock(&c->mu);
	bool yes = c->npipes > 0;
	pthread_mutex_unlock(&c->mu);
	return yes;
}

/* Whether an nng error means the connection a request went on was lost
 * (the broker may or may not have executed it). */
static bool conn_lost(int nrv)
{
	return nrv == NNG_ECONNRESET || nrv == NNG_ECONNSHUT || nrv == NNG_ECONNABORTED;
}

/* Runs one nng operation on aio and waits for it. */
static int aio_run(nng_aio *aio, nng_ctx ctx, bool send, nng_duration tmo)
{
	nng_aio_set_timeout(aio, tmo);
	if (send)
		nng_ctx_send(ctx, aio);
	else
		nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	return nng_aio_result(aio);
}

/* Fills rep from a reply frame; maps its status. */
static int take_reply(nng_msg *msg, struct client_reply *rep, bool json)
{
	struct wire_rep wr;
	enum wire_result w = wire_rep_decode(nng_msg_body(msg), nng_msg_len(msg), &wr);
	if (w != WIRE_OK)
		return errors_set(RN_EPROTO, "Malformed reply: %s", wire_strerror(w));
	int rv = client_map_status(wr.status, wr.body, wr.body_len);
	if (rv)
		return rv;
	rep->status = wr.status;
	rep->body = malloc(wr.body_len + 1);
	if (!rep->body)
		return errors_set(RN_ENOMEM, "Out of memory");
	if (wr.body_len)
		memcpy(rep->body, wr.body, wr.body_len);
	rep->body[wr.body_len] = '\0';
	rep->body_len = wr.body_len;
	if (!json)
		return 0;
	rep->json = json_loadb(rep->body, rep->body_len, 0, NULL);
	if (!json_is_object(rep->json)) {
		client_reply_cleanup(rep);
		return errors_set(RN_EPROTO, "Reply body is not a JSON object");
	}
	return 0;
}

/* An idle context and aio from the pool, or new ones; NULL with *nrv set
 * when nng cannot make them. Any thread. */
static struct call_slot *slot_take(struct rn_client *c, int *nrv)
{
	pthread_mutex_lock(&c->slots_mu);
	struct call_slot *s = c->free_slots;
	if (s)
		c->free_slots = s->next;
	pthread_mutex_unlock(&c->slots_mu);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*nrv = NNG_ENOMEM;
		return NULL;
	}
	if ((*nrv = nng_ctx_open(&s->ctx, c->sock)) != 0) {
		free(s);
		return NULL;
	}
	if ((*nrv = nng_aio_alloc(&s->aio, NULL, NULL)) != 0) {
		nng_ctx_close(s->ctx);
		free(s);
		return NULL;
	}
	return s;
}

/* Returns a slot to the pool. A context whose request timed out may still
 * have it outstanding; the next send on the context cancels it. */
static void slot_give(struct rn_client *c, struct call_slot *s)
{
	pthread_mutex_lock(&c->slots_mu);
	s->next = c->free_slots;
	c->free_slots = s;
	pthread_mutex_unlock(&c->slots_mu);
}

static int call(struct rn_client *c, nng_ctx *ctx_in, enum wire_method m, const char *path,
		const char *body, size_t body_len, int timeout_ms, struct client_reply *rep,
		bool json)
{
	memset(rep, 0, sizeof(*rep));
	char token[WIRE_TOKEN_MAX + 1];
	int trv = creds_token(c, token, sizeof(token));
	if (trv)
		return trv;
	struct wire_req wr = { .method = m,
			       .path = path,
			       .path_len = strlen(path),
			       .token = token[0] ? token : NULL,
			       .token_len = strlen(token) };
	size_t head = WIRE_HEADER_LEN + wr.path_len + wr.token_len;
	nng_msg *msg = NULL;
	if (nng_msg_alloc(&msg, head + body_len) != 0)
		return errors_set(RN_ENOMEM, "Out of memory");
	uint8_t *p = nng_msg_body(msg);
	if (wire_req_encode_head(p, head, &wr) != head) {
		nng_msg_free(msg);
		return errors_set(RN_EINVAL, "Invalid request path or token");
	}
	if (body_len)
		memcpy(p + head, body, body_len);

	int nrv;
	struct call_slot *slot = slot_take(c, &nrv);
	if (slot == NULL) {
		nng_msg_free(msg);
		return client_map_nng(nrv, true);
	}
	nng_ctx ctx = ctx_in ? *ctx_in : slot->ctx;
	nng_aio *aio = slot->aio;
	int tmo = timeout_ms > 0 ? timeout_ms : c->request_timeout_ms;
	int64_t deadline = client_now_ms() + tmo;
	int rv = 0;
	for (;;) {
		/* req0 gives the message back only on a failed send; keep the
		 * original for a resend after a lost connection. */
		nng_msg *copy = NULL;
		if ((nrv = nng_msg_dup(&copy, msg)) != 0) {
			rv = client_map_nng(nrv, true);
			break;
		}
		int64_t left = deadline - client_now_ms();
		nng_aio_set_msg(aio, copy);
		nrv = aio_run(aio, ctx, true, left > 0 ? (nng_duration)left : 1);
		if (nrv != 0) {
			nng_msg_free(nng_aio_get_msg(aio));
		} else {
			left = deadline - client_now_ms();
			nrv = aio_run(aio, ctx, false, left > 0 ? (nng_duration)left : 1);
		}
		if (nrv == 0) {
			nng_msg *reply = nng_aio_get_msg(aio);
			rv = take_reply(reply, rep, json);
			nng_msg_free(reply);
			break;
		}
		if (conn_lost(nrv) && client_now_ms() < deadline) {
			client_log(c, RN_LOG_DEBUG, "%s %s: connection lost, resending",
				   wire_method_name(m), path);
			continue;
		}
		rv = client_map_nng(nrv, is_connected(c));
		break;
	}
	nng_msg_free(msg);
	slot_give(c, slot);
	return rv;
}

int client_call(struct rn_client *c, nng_ctx *ctx, enum wire_method m, const char *path,
		const char *body, size_t body_len, int timeout_ms, struct client_reply *rep)
{
	return call(c, ctx, m, path, body, body_len, timeout_ms, rep, true);
}

int client_pull(struct rn_client *c, nng_ctx *ctx, const char *path, int max, bool wait,
		int timeout_ms, struct rn_message ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	char body[64];
	int len = snprintf(body, sizeof(body), "{\"maxMessages\":%d,\"returnImmediately\":%s}", max,
			   wait ? "false" : "true");
	struct client_reply rep;
	int rv = call(c, ctx, WIRE_POST, path, body, (size_t)len, timeout_ms, &rep, false);
	if (rv)
		return rv;
	rv = message_scan_pull(rep.body, rep.body_len, out, n);
	if (rv == 1) {
		rep.json = json_loadb(rep.body, rep.body_len, 0, NULL);
		rv = json_is_object(rep.json)
			     ? message_parse_pull(rep.json, out, n)
			     : errors_set(RN_EPROTO, "Reply body is not a JSON object");
	} else if (rv == RN_ENOMEM) {
		errors_set(rv, "Out of memory");
	}
	client_reply_cleanup(&rep);
	return rv;
}

int client_call_json(struct rn_client *c, nng_ctx *ctx, enum wire_method m, const char *path,
		     const json_t *body, int timeout_ms, struct client_reply *rep)
{
	char *text = NULL;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		memset(rep, 0, sizeof(*rep));
		return errors_set(RN_ENOMEM, "Out of memory");
	}
	int rv = client_call(c, ctx, m, path, text, text ? strlen(text) : 0, timeout_ms, rep);
	free(text);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Connection */

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct rn_client *c = arg;
	pthread_mutex_lock(&c->mu);
	if (ev == NNG_PIPE_EV_ADD_POST)
		c->npipes++;
	else if (ev == NNG_PIPE_EV_REM_POST && c->npipes > 0)
		c->npipes--;
	int n = c->npipes;
	bool closing = c->closing;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (closing)
		return;
	if (ev == NNG_PIPE_EV_ADD_POST)
		client_log(c, RN_LOG_INFO, "connected to %s", c->url);
	else if (ev == NNG_PIPE_EV_REM_POST && n == 0)
		client_log(c, RN_LOG_WARN, "connection to %s lost; reconnecting", c->url);
}

/* The value of the dialer statistic name, or 0. */
static uint64_t dialer_stat(nng_stat *all, nng_dialer d, const char *name)
{
	nng_stat *ds = all ? nng_stat_find_dialer(all, d) : NULL;
	nng_stat *s = ds ? nng_stat_find(ds, name) : NULL;
	return s ? nng_stat_value(s) : 0;
}

/* Why the dialer has not connected yet, from its statistics. */
static int dial_failure(struct rn_client *c)
{
	nng_stat *all = NULL;
	if (nng_stats_get(&all) != 0)
		all = NULL;
	int rv;
	if (dialer_stat(all, c->dialer, "auth") > 0)
		rv = errors_set(RN_ETLS, "TLS handshake with %s failed", c->url);
	else if (dialer_stat(all, c->dialer, "refused") > 0 ||
		 dialer_stat(all, c->dialer, "other") > 0)
		rv = errors_set(RN_ECONNREFUSED, "Cannot connect to %s", c->url);
	else if (dialer_stat(all, c->dialer, "proto") > 0)
		rv = errors_set(RN_EPROTO, "Protocol error connecting to %s", c->url);
	else
		rv = errors_set(RN_ETIMEDOUT, "Timed out connecting to %s", c->url);
	if (all)
		nng_stats_free(all);
	return rv;
}

static int setup_tls(struct rn_client *c, const struct rn_client_opts *o)
{
	nng_url *u = NULL;
	int nrv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT);
	if (nrv != 0)
		return errors_set(RN_ETLS, "TLS not available: %s", nng_strerror(nrv));
	if ((nrv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (nrv = nng_tls_config_ca_file(c->tls, o->tls_ca_file)) != 0)
		return errors_set(RN_ETLS, "TLS CA file %s: %s", o->tls_ca_file, nng_strerror(nrv));
	const char *name = o->tls_server_name;
	if (!name && nng_url_parse(&u, c->url) == 0)
		name = u->u_hostname;
	if (name && *name && (nrv = nng_tls_config_server_name(c->tls, name)) != 0) {
		nng_url_free(u);
		return errors_set(RN_ETLS, "TLS server name: %s", nng_strerror(nrv));
	}
	nng_url_free(u);
	if ((nrv = nng_dialer_set_ptr(c->dialer, NNG_OPT_TLS_CONFIG, c->tls)) != 0)
		return errors_set(RN_ETLS, "TLS config: %s", nng_strerror(nrv));
	return 0;
}

/* Frees c once its socket is closed (which closed the pooled contexts). */
static void destroy(struct rn_client *c)
{
	while (c->free_slots) {
		struct call_slot *s = c->free_slots;
		c->free_slots = s->next;
		nng_aio_free(s->aio);
		free(s);
	}
	pthread_mutex_destroy(&c->slots_mu);
	if (c->tls)
		nng_tls_config_free(c->tls);
	free(c->url);
	free(c->project);
	creds_free(c);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int rn_client_new(struct rn_client **out, const struct rn_client_opts *o)
{
	struct rn_client_opts def;
	if (!out)
		return errors_set(RN_EINVAL, "out is NULL");
	*out = NULL;
	if (!o) {
		rn_client_opts_init(&def);
		o = &def;
	}
	int rv = client_opts_check(o);
	if (rv)
		return rv;
	struct rn_client *c = calloc(1, sizeof(*c));
	if (!c)
		return errors_set(RN_ENOMEM, "Out of memory");
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->slots_mu, NULL);
	client_cond_init(&c->cv);
	c->url = strdup(o->url ? o->url : RN_DEFAULT_URL);
	c->project = strdup(o->project ? o->project : RN_DEFAULT_PROJECT);
	c->request_timeout_ms =
		o->request_timeout_ms ? o->request_timeout_ms : DEFAULT_REQUEST_TIMEOUT_MS;
	c->log = o->log;
	c->log_arg = o->log_arg;
	c->log_level = o->log_level;
	bool sock_open = false;
	if (!c->url || !c->project) {
		rv = errors_set(RN_ENOMEM, "Out of memory");
		goto fail;
	}
	if ((rv = creds_init(c, o)) != 0)
		goto fail;
	int nrv;
	if ((nrv = nng_req0_open(&c->sock)) != 0) {
		rv = client_map_nng(nrv, false);
		goto fail;
	}
	sock_open = true;
	/* See the top of this file for why. Must be set before any context
	 * is opened: contexts copy it. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c);
	if ((nrv = nng_dialer_create(&c->dialer, c->sock, c->url)) != 0) {
		rv = errors_set(RN_EADDRINVAL, "Cannot dial %s: %s", c->url, nng_strerror(nrv));
		goto fail;
	}
	int rmin = o->reconnect_min_ms ? o->reconnect_min_ms : DEFAULT_RECONNECT_MIN_MS;
	int rmax = o->reconnect_max_ms ? o->reconnect_max_ms : DEFAULT_RECONNECT_MAX_MS;
	if (rmax < rmin)
		rmax = rmin;
	nng_dialer_set_ms(c->dialer, NNG_OPT_RECONNMINT, rmin);
	nng_dialer_set_ms(c->dialer, NNG_OPT_RECONNMAXT, rmax);
	bool tls = false;
	url_check(c->url, &tls);
	if (tls && (rv = setup_tls(c, o)) != 0)
		goto fail;
	/* Non-blocking: the dialer keeps retrying in the background, and we
	 * wait for the first connection here, bounded by connect_timeout. */
	if ((nrv = nng_dialer_start(c->dialer, NNG_FLAG_NONBLOCK)) != 0) {
		rv = client_map_nng(nrv, false);
		goto fail;
	}
	int ctmo = o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	struct timespec ts;
	client_abstime(client_now_ms() + ctmo, &ts);
	pthread_mutex_lock(&c->mu);
	while (c->npipes == 0)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
			break;
	bool up = c->npipes > 0;
	pthread_mutex_unlock(&c->mu);
	if (!up) {
		rv = dial_failure(c);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (sock_open)
		nng_close(c->sock);
	destroy(c);
	return rv;
}

void rn_client_free(struct rn_client *c)
{
	if (!c)
		return;
	/* Closing the socket closes the dialer and its pipes; the pipe
	 * callbacks (which use c->mu) have run when it returns. */
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_mutex_unlock(&c->mu);
	nng_close(c->sock);
	destroy(c);
}

const char *rn_client_project(const struct rn_client *c)
{
	return c ? c->project : NULL;
}
