/* main.c - regnotifyd: configuration, startup, the event loop, and the
 * graceful shutdown on SIGTERM/SIGINT (stop accepting, answer parked pulls,
 * finish in-flight requests, stop the embedded Redis, exit 0). */
#include "broker.h"
#include "config.h"
#include "http_server.h"
#include "log.h"
#include "pull.h"
#include "redis_conn.h"
#include "redis_embed.h"
#include "sweeper.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef RN_VERSION
#define RN_VERSION "0.0.0"
#endif

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	log_warn("shutdown: %ld requests still in flight after %lld ms; exiting anyway",
		 b->inflight, (long long)b->cfg.shutdown_timeout_ms);
	event_base_loopexit(b->base, NULL);
}

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
	b->shutting_down = 1;
	http_server_stop_accepting(b);
	pull_flush_all(b);
	if (b->inflight == 0) {
		event_base_loopexit(b->base, NULL);
		return;
	}
	int64_t ms = b->cfg.shutdown_timeout_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	b->shutdown_timer = evtimer_new(b->base, on_shutdown_timeout, b);
	evtimer_add(b->shutdown_timer, &tv);
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
	b->base = event_base_new();
	if (b->base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	int rc = 1;
	if (b->cfg.redis_url[0] == '\0' && redis_embed_start(b) != 0)
		goto out;
	if (http_server_start(b, b->cfg.listen_host, b->cfg.listen_port) != 0)
		goto out;
	b->redis = redis_conn_new(b);
	pull_init(b);
	sweeper_start(b);
	b->sigterm_ev = evsignal_new(b->base, SIGTERM, on_signal, b);
	b->sigint_ev = evsignal_new(b->base, SIGINT, on_signal, b);
	event_add(b->sigterm_ev, NULL);
	event_add(b->sigint_ev, NULL);
	log_info("regnotifyd %s listening on http://%s:%d (redis: %s%s)", RN_VERSION,
		 b->cfg.listen_host, b->cfg.listen_port,
		 b->embed ? "embedded, unix://" : b->cfg.redis_url,
		 b->embed ? b->cfg.redis_path : "");
	event_base_dispatch(b->base);
	rc = b->exit_code;
	log_info("stopped");
out:
	sweeper_stop(b);
	pull_cleanup(b);
	/* Redis first: its pending callbacks still answer their requests. */
	redis_conn_free(b->redis);
	http_server_free(b);
	redis_embed_stop(b->embed);
	if (b->sigterm_ev)
		event_free(b->sigterm_ev);
	if (b->sigint_ev)
		event_free(b->sigint_ev);
	if (b->shutdown_timer)
		event_free(b->shutdown_timer);
	event_base_free(b->base);
	return rc;
}
