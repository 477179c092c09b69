/* Vendored from the team's shared bench kit (http/evhttp_200.c there); unchanged but for this line. */
/* evhttp_200: the HTTP ceiling of this machine for a libevent evhttp server.
 * Single event loop (like a one-thread broker front end); answers
 * 200 {"ok":true} to any request after reading the whole body (POST or GET).
 * usage: evhttp_200 PORT        (binds 127.0.0.1 only; stop with SIGTERM/SIGINT)
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long nreq, nbytes;

static void on_req(struct evhttp_request *req, void *arg) {
    (void)arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    nbytes += evbuffer_get_length(in);
    nreq++;
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, "{\"ok\":true}", 11);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}
static void on_sig(evutil_socket_t s, short w, void *base) {
    (void)s; (void)w;
    event_base_loopexit(base, NULL);
}
int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 18080;
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, on_req, NULL);
    evhttp_set_max_body_size(http, 1 << 20);
    if (evhttp_bind_socket(http, "127.0.0.1", (unsigned short)port)) { perror("bind"); return 1; }
    struct event *s1 = evsignal_new(base, SIGTERM, on_sig, base), *s2 = evsignal_new(base, SIGINT, on_sig, base);
    event_add(s1, NULL); event_add(s2, NULL);
    event_base_dispatch(base);
    fprintf(stderr, "evhttp_200: served %llu requests, %llu body bytes\n", nreq, nbytes);
    evhttp_free(http); event_free(s1); event_free(s2); event_base_free(base);
    return 0;
}
