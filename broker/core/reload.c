/* reload.c - SIGHUP reloads what may change while the broker runs. */
#include "reload.h"

#include "broker.h"
#include "config_table.h"
#include "log.h"
#include "mem.h"

#include <event2/event.h>
#include <signal.h>
#include <string.h>

/* The value texts of a token list: 16 tokens of 255 characters. */
#define TEXT_MAX 8192

int reload_apply(struct broker *b, const struct config *next, int *restart)
{
	struct config *live = &b->cfg;
	char *was = mem_alloc(TEXT_MAX), *now = mem_alloc(TEXT_MAX);
	int applied = 0, later = 0;
	for (size_t i = 0; i < config_noptions; i++) {
		const struct option_def *o = &config_options[i];
		if (o->offset == offsetof(struct config, config_path))
			continue; /* where the file is comes from the command line */
		config_option_text(live, o, was, TEXT_MAX);
		config_option_text(next, o, now, TEXT_MAX);
		if (strcmp(was, now) == 0)
			continue;
		config_option_text_for_log(live, o, was, TEXT_MAX);
		config_option_text_for_log(next, o, now, TEXT_MAX);
		if (o->flags & OPT_RELOADABLE) {
			memcpy((char *)live + o->offset, (const char *)next + o->offset, o->size);
			applied++;
			if (strcmp(was, now) == 0) /* a secret: same summary, new value */
				log_info("config: %s changed (%s)", o->name, now);
			else
				log_info("config: %s changed from %s to %s", o->name, was, now);
		} else {
			later++;
			log_warn("config: %s changed to %s, which needs a restart; the running "
				 "value %s stays",
				 o->name, now, was);
		}
	}
	mem_free(was);
	mem_free(now);
	log_set_threshold(live->log_level);
	if (restart)
		*restart = later;
	return applied;
}

int reload_now(struct broker *b)
{
	struct config *next = mem_alloc(sizeof(*next));
	char err[1024];
	if (config_load(next, b->argc, b->argv, err, sizeof(err)) != 0) {
		log_error("SIGHUP: configuration not reloaded, the running one stays: %s", err);
		mem_free(next);
		return -1;
	}
	int later = 0, applied = reload_apply(b, next, &later);
	mem_free(next);
	if (applied == 0 && later == 0)
		log_info("SIGHUP: configuration reloaded%s%s: no change",
			 b->cfg.config_path[0] ? " from " : "", b->cfg.config_path);
	else
		log_info("SIGHUP: configuration reloaded%s%s: %d change%s applied, %d "
			 "need%s a restart",
			 b->cfg.config_path[0] ? " from " : "", b->cfg.config_path, applied,
			 applied == 1 ? "" : "s", later, later == 1 ? "s" : "");
	return applied;
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct broker *b = arg;
	if (b->shutting_down) {
		log_info("SIGHUP during shutdown: ignored");
		return;
	}
	reload_now(b);
}

static void reload_stop(void *state)
{
	event_free(state);
}

static const struct module_ops reload_module = { .name = "reload", .stop = reload_stop };

int reload_start(struct broker *b)
{
	struct event *ev = evsignal_new(b->base, SIGHUP, on_sighup, b);
	if (ev == NULL || event_add(ev, NULL) != 0) {
		log_error("cannot install the SIGHUP handler");
		if (ev)
			event_free(ev);
		return -1;
	}
	broker_add_module(b, &reload_module, ev);
	return 0;
}
