/* main.c - regnotifyd: configuration, startup, the event loop, and the
 * graceful shutdown on SIGTERM/SIGINT (stop accepting, answer parked pulls,
 * finish in-flight requests, stop the embedded Redis, exit 0). */
#include "broker.h"
#include "config.h"
#include "deliver_push.h"
#include "http_server.h"
#include "log.h"
#include "nng_server.h"
#include "pull.h"
#include "redis_conn.h"
#include "redis_embed.h"
#include "sweeper.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef RN_VERSION
#define RN_VERSION "0.0.0"
#endif

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct broker *b = arg;
	if (b->shutting_down) {
		log_warn("second signal: exiting now");
		event_base_loopbreak(b->base);
		return;
	}
	log_info("%s received: shutting down (%ld requests in flight)",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT", b->inflight);
	broker_shutdown(b, 0);
}

/* The embedded Redis is part of this broker: if it dies, so does the
 * broker (exit 1), rather than answering 503 forever with a zombie child.
 * A supervisor restarts both; the AOF keeps what was acknowledged. */
static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct broker *b = arg;
	char why[64];
	if (b->embed && redis_embed_reap(b->embed, why, sizeof(why)) && !b->shutting_down) {
		log_error("embedded redis-server %s; shutting down (exit status 1)", why);
		broker_shutdown(b, 1);
	}
}

/* The Redis URL for logs, with any password masked. */
static void redis_for_log(const struct broker *b, char *buf, size_t n)
{
	if (b->embed) {
		snprintf(buf, n, "embedded, unix://%s", b->cfg.redis_path);
		return;
	}
	const char *url = b->cfg.redis_url, *at = strchr(url, '@');
	const char *scheme_end = strstr(url, "://"), *pw = strstr(url, "password=");
	if (at && scheme_end && at > scheme_end) {
		snprintf(buf, n, "%.*s***%s", (int)(scheme_end + 3 - url), url, at);
	} else if (pw) {
		const char *amp = strchr(pw, '&');
		snprintf(buf, n, "%.*spassword=***%s", (int)(pw - url), url, amp ? amp : "");
	} else {
		snprintf(buf, n, "%s", url);
	}
}

int main(int argc, char **argv)
{
	static struct broker broker;
	struct broker *b = &broker;
	char err[1024];
	if (config_load(&b->cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "regnotifyd: %s\n", err);
		return 2;
	}
	if (b->cfg.help) {
		config_usage(stdout);
		return 0;
	}
	if (b->cfg.version) {
		printf("regnotifyd %s\n", RN_VERSION);
		return 0;
	}
	log_threshold = b->cfg.log_level;
	signal(SIGPIPE, SIG_IGN);
	/* nng's threads wake the loop with event_active (nng_server.c). */
	evthread_use_pthreads();
	b->base = event_base_new();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (b->base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	int rc = 1;
	if (b->cfg.redis_url[0] == '\0' && redis_embed_start(b) != 0)
		goto out;
	if (http_server_start(b, b->cfg.listen_host, b->cfg.listen_port) != 0)
		goto out;
	if (nng_server_start(b) != 0)
		goto out;
	b->redis = redis_conn_new(b);
	pull_init(b);
	sweeper_start(b);
	deliver_push_start(b);
	b->sigterm_ev = evsignal_new(b->base, SIGTERM, on_signal, b);
	b->sigint_ev = evsignal_new(b->base, SIGINT, on_signal, b);
	b->sigchld_ev = evsignal_new(b->base, SIGCHLD, on_sigchld, b);
	event_add(b->sigterm_ev, NULL);
	event_add(b->sigint_ev, NULL);
	event_add(b->sigchld_ev, NULL);
	char rlog[1100];
	redis_for_log(b, rlog, sizeof(rlog));
	log_info("regnotifyd %s listening on http://%s:%d%s%s (redis: %s)", RN_VERSION,
		 b->cfg.listen_host, b->cfg.listen_port, b->cfg.nng_listen[0] ? " and " : "",
		 b->cfg.nng_listen, rlog);
	event_base_dispatch(b->base);
	rc = b->exit_code;
	log_info("stopped");
out:
	sweeper_stop(b);
	deliver_push_stop(b);
	pull_cleanup(b);
	/* Redis first: its pending callbacks still answer their requests. */
	redis_conn_free(b->redis);
	http_server_free(b);
	nng_server_free(b);
	redis_embed_stop(b->embed);
	if (b->sigterm_ev)
		event_free(b->sigterm_ev);
	if (b->sigint_ev)
		event_free(b->sigint_ev);
	if (b->sigchld_ev)
		event_free(b->sigchld_ev);
	if (b->shutdown_timer)
		event_free(b->shutdown_timer);
	event_base_free(b->base);
	curl_global_cleanup();
	return rc;
}
