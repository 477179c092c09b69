/* main.c - regnotifyd: wiring only. Builds the modules bottom-up (store,
 * API state, delivery, transports), runs the loop, and stops them in the
 * reverse order on the way out (core/broker.c's lifecycle). */
#include "api.h"
#include "auth.h"
#include "broker.h"
#include "config.h"
#include "embed.h"
#include "http.h"
#include "link.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "push.h"
#include "reload.h"
#include "grpc.h"
#include "reqrep.h"
#include "sweeper.h"
#include "wake.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef RN_VERSION
#define RN_VERSION "0.0.0"
#endif

struct signals {
	struct broker *b;
	struct embed *embed;
	struct event *term, *intr, *chld;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct broker *b = ((struct signals *)arg)->b;
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
	struct signals *s = arg;
	char why[64];
	if (s->embed && embed_reap(s->embed, why, sizeof(why)) && !s->b->shutting_down) {
		log_error("embedded redis-server %s; shutting down (exit status 1)", why);
		broker_shutdown(s->b, 1);
	}
}

/* The Redis URL for logs, with any password masked. */
static void redis_for_log(const struct config *cfg, int embedded, char *buf, size_t n)
{
	if (embedded) {
		snprintf(buf, n, "embedded, unix://%s", cfg->redis_path);
		return;
	}
	config_mask_url(cfg->redis_url, buf, n);
}

/* The embedded Redis as a module: stopped last, after everything that
 * still talks to it. */
static void embed_module_stop(void *state)
{
	embed_stop(state);
}
static const struct module_ops embed_module = { .name = "redis-server", .stop = embed_module_stop };

/* The link as a module, stopped before the transports: its pending
 * callbacks still answer their requests. */
static void link_module_stop(void *state)
{
	struct broker *b = state;
	link_free(b->link);
	b->link = NULL;
}
static const struct module_ops link_module = { .name = "redis", .stop = link_module_stop };

static void *jansson_alloc(size_t n)
{
	return mem_alloc(n);
}

int main(int argc, char **argv)
{
	static struct broker broker;
	struct broker *b = &broker;
	struct signals sig = { .b = b };
	char err[1024];
	if (config_load(&b->cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "regnotifyd: %s\n", err);
		return 2;
	}
	if (b->cfg.help) {
		config_usage(stdout);
		return 0;
	}
	if (b->cfg.print_routes) {
		api_print_routes(stdout);
		return 0;
	}
	if (b->cfg.print_docs[0])
		return config_print_docs(stdout, b->cfg.print_docs) == 0 ? 0 : 2;
	if (b->cfg.version) {
		printf("regnotifyd %s\n", RN_VERSION);
		return 0;
	}
	b->argc = argc;
	b->argv = argv;
	log_set_threshold(b->cfg.log_level);
	/* One allocator for everything the broker frees: jansson's texts are
	 * released with mem_free like the rest. */
	json_set_alloc_funcs(jansson_alloc, mem_free);
	signal(SIGPIPE, SIG_IGN);
	/* nng's threads wake the loop with event_active (transport/reqrep.c). */
	evthread_use_pthreads();
	/* The epoll changelist: the disable/enable pairs evhttp makes on a
	 * connection within one loop turn cost no epoll_ctl (docs/performance.md,
	 * "Single publish": 4 epoll_ctl per request were a sixth of the broker's
	 * CPU). Its one hazard, a descriptor dup'ed over while registered, is
	 * handled where it happens (transport/grpc_accept.c take_over). */
	struct event_config *ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	b->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (b->base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	b->routes = routes;
	b->nroutes = routes_len;
	wake_init(b);
	int rc = 1;
	if (b->cfg.redis_url[0] == '\0') {
		if (embed_start(&b->cfg, &sig.embed) != 0)
			goto out;
		broker_add_module(b, &embed_module, sig.embed);
	}
	if (reqrep_start(b) != 0 || grpc_start(b) != 0 || http_start(b) != 0)
		goto out;
	b->link = link_new(b);
	broker_add_module(b, &link_module, b);
	auth_start(b);
	api_start(b);
	push_start(b);
	sweeper_start(b);
	if (reload_start(b) != 0)
		goto out;
	sig.term = evsignal_new(b->base, SIGTERM, on_signal, &sig);
	sig.intr = evsignal_new(b->base, SIGINT, on_signal, &sig);
	sig.chld = evsignal_new(b->base, SIGCHLD, on_sigchld, &sig);
	event_add(sig.term, NULL);
	event_add(sig.intr, NULL);
	event_add(sig.chld, NULL);
	char rlog[1100];
	redis_for_log(&b->cfg, sig.embed != NULL, rlog, sizeof(rlog));
	log_info("regnotifyd %s listening on http://%s:%d%s%s (redis: %s)", RN_VERSION,
		 b->cfg.listen_host, b->cfg.listen_port, b->cfg.nng_listen[0] ? " and " : "",
		 b->cfg.nng_listen, rlog);
	event_base_dispatch(b->base);
	rc = b->exit_code;
	log_info("stopped");
out:
	broker_stop_modules(b);
	metrics_clear_writers();
	wake_cleanup(b);
	if (sig.term)
		event_free(sig.term);
	if (sig.intr)
		event_free(sig.intr);
	if (sig.chld)
		event_free(sig.chld);
	if (b->shutdown_timer)
		event_free(b->shutdown_timer);
	event_base_free(b->base);
	curl_global_cleanup();
	return rc;
}
