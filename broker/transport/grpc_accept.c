/* grpc_accept.c - how connections reach the gRPC endpoint: the
 * --grpc-listen listener (h2c, or TLS with h2 chosen by ALPN when
 * --grpc-tls-cert-key is set) and, on the REST port, the connections that
 * open with the HTTP/2 preface, taken over from evhttp. docs/grpc.md. */
#include "grpc_internal.h"

#include "broker.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct grpc_srv *srv = arg;
	(void)lis;
	(void)salen;
	SSL *ssl = NULL;
	if (srv->tls && (ssl = SSL_new(srv->tls)) == NULL) {
		log_error("grpc: cannot start TLS on a connection");
		evutil_closesocket(fd);
		return;
	}
	grpc_serve(srv, fd, sa, ssl, NULL, 0);
}

/* ---- TLS ----------------------------------------------------------------- */

/* gRPC over TLS is HTTP/2 chosen by ALPN: a client that does not offer
 * "h2" is refused at the handshake. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = "\x02h2";
	(void)ssl;
	(void)arg;
	unsigned char *o;
	if (SSL_select_next_proto(&o, outlen, h2, sizeof(h2) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *tls_context(const char *file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char e[256];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		log_error("grpc: TLS certificate/key %s: %s", file, e);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
}

/* ---- HTTP/2 on the REST port -------------------------------------------- */

/* The client connection preface (RFC 9113 3.4). */
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

/* The REST port's connections are evhttp's; this sees their first bytes
 * (libevent calls it with no other argument than the bufferevent, and
 * one broker runs per process). */
static struct grpc_srv *h2c_srv;

/* A connection being taken over: its duplicate for nghttp2, the dummy
 * socketpair, and the bytes evhttp already read. */
struct takeover {
	struct bufferevent *bev;
	evutil_socket_t fd, nfd;
	int sp[2];
	struct sockaddr_storage ss;
	uint8_t *bytes;
	size_t len;
};

/* The second step, on the next loop turn: the loop's epoll changelist
 * (main.c) applies a bufferevent_disable only when it next polls, and
 * dup2 over a descriptor still registered would leave the client's socket
 * in epoll under evhttp's number. Now it is off epoll: evhttp's
 * descriptor becomes one end of a closed socketpair, so evhttp reads EOF
 * and frees its side (its shutdown and close hit the dummy, not the
 * client), and nghttp2 gets the duplicate. */
static void take_over_finish(evutil_socket_t unused, short what, void *arg)
{
	(void)unused;
	(void)what;
	struct takeover *t = arg;
	dup2(t->sp[0], t->fd);
	close(t->sp[0]);
	close(t->sp[1]);
	bufferevent_enable(t->bev, EV_READ);
	grpc_serve(h2c_srv, t->nfd, (struct sockaddr *)&t->ss, NULL, t->bytes, t->len);
	mem_free(t->bytes);
	mem_free(t);
}

/* Takes a connection that opened with the preface away from evhttp: the
 * socket is duplicated for nghttp2 and taken off epoll now, and
 * take_over_finish hands it over on the next turn. */
static void take_over(struct bufferevent *bev, struct evbuffer *in)
{
	struct takeover *t = mem_calloc(1, sizeof(*t));
	t->bev = bev;
	t->fd = bufferevent_getfd(bev);
	t->nfd = -1;
	t->sp[0] = t->sp[1] = -1;
	socklen_t sl = sizeof(t->ss);
	struct timeval now = { 0, 0 };
	if (getpeername(t->fd, (struct sockaddr *)&t->ss, &sl) != 0 ||
	    (t->nfd = fcntl(t->fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t->sp) != 0) {
		log_error("grpc: cannot take over an HTTP/2 connection: %s", strerror(errno));
		if (t->nfd >= 0)
			close(t->nfd);
		shutdown(t->fd, SHUT_RDWR); /* evhttp sees EOF and frees it */
		evbuffer_drain(in, evbuffer_get_length(in));
		mem_free(t);
		return;
	}
	t->len = evbuffer_get_length(in);
	t->bytes = mem_alloc(t->len ? t->len : 1);
	evbuffer_remove(in, t->bytes, t->len);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	if (event_base_once(bufferevent_get_base(bev), -1, EV_TIMEOUT, take_over_finish, t, &now) !=
	    0) {
		log_error("grpc: cannot take over an HTTP/2 connection: no event");
		close(t->nfd);
		close(t->sp[0]);
		close(t->sp[1]);
		shutdown(t->fd, SHUT_RDWR);
		bufferevent_enable(bev, EV_READ);
		mem_free(t->bytes);
		mem_free(t);
	}
}

/* The input callback of a REST connection until its first bytes decide:
 * evhttp reads nothing before PREFACE_LEN bytes (the low watermark)
 * unless they already differ from the preface. */
static void sniff(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent *bev = arg;
	if (info->n_added == 0)
		return;
	size_t len = evbuffer_get_length(in);
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;
	char head[PREFACE_LEN];
	evbuffer_copyout(in, head, n);
	int h2 = memcmp(head, preface, n) == 0;
	if (h2 && n < PREFACE_LEN)
		return; /* not decided yet */
	evbuffer_remove_cb(in, sniff, arg);
	if (!h2) {
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
		return;
	}
	take_over(bev, in);
}

struct bufferevent *grpc_h2c_bev(struct event_base *base, void *arg)
{
	(void)arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
	if (bev == NULL)
		return NULL;
	bufferevent_setwatermark(bev, EV_READ, PREFACE_LEN, 0);
	evbuffer_add_cb(bufferevent_get_input(bev), sniff, bev);
	return bev;
}

int grpc_accept_start(struct grpc_srv *srv)
{
	struct broker *b = srv->b;
	h2c_srv = srv;
	if (b->cfg.grpc_port == 0)
		return 0;
	if (b->cfg.grpc_tls_cert_key[0] &&
	    (srv->tls = tls_context(b->cfg.grpc_tls_cert_key)) == NULL)
		return -1;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char spec[300];
	snprintf(spec, sizeof(spec), strchr(b->cfg.grpc_host, ':') ? "[%s]:%d" : "%s:%d",
		 b->cfg.grpc_host, b->cfg.grpc_port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sl) != 0) {
		log_error("grpc: cannot listen on %s: not an address", spec);
		return -1;
	}
	srv->lis = evconnlistener_new_bind(b->base, on_accept, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					   (struct sockaddr *)&ss, sl);
	if (srv->lis == NULL) {
		log_error("grpc: cannot listen on %s: %s", spec, strerror(errno));
		return -1;
	}
	log_info("grpc: listening on %s (%s)", spec, srv->tls ? "TLS, h2" : "h2c");
	return 0;
}

void grpc_accept_quiesce(struct grpc_srv *srv)
{
	if (srv->lis)
		evconnlistener_free(srv->lis);
	srv->lis = NULL;
}

void grpc_accept_stop(struct grpc_srv *srv)
{
	grpc_accept_quiesce(srv);
	if (srv->tls)
		SSL_CTX_free(srv->tls);
	srv->tls = NULL;
	if (h2c_srv == srv)
		h2c_srv = NULL;
}
