/* broker.c - the module lifecycle and the graceful shutdown. */
#include "broker.h"

#include "log.h"

#include <event2/event.h>
#include <time.h>

int64_t broker_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void broker_add_module(struct broker *b, const struct module_ops *ops, void *state)
{
	if (b->nmodules >= BROKER_MAX_MODULES) {
		log_error("broker: too many modules (%d); %s not registered", b->nmodules,
			  ops->name);
		return;
	}
	b->modules[b->nmodules].ops = ops;
	b->modules[b->nmodules].state = state;
	b->nmodules++;
}

void broker_stop_modules(struct broker *b)
{
	while (b->nmodules > 0) {
		b->nmodules--;
		if (b->modules[b->nmodules].ops->stop)
			b->modules[b->nmodules].ops->stop(b->modules[b->nmodules].state);
	}
}

/* Sums one counter over the modules. */
static long sum(const struct broker *b, int unflushed)
{
	long n = 0;
	for (int i = 0; i < b->nmodules; i++) {
		long (*f)(void *) =
			unflushed ? b->modules[i].ops->unflushed : b->modules[i].ops->pending;
		if (f)
			n += f(b->modules[i].state);
	}
	return n;
}

/* A reply whose client hung up before it was fully written never reports
 * completion; past this grace the shutdown stops waiting for such writes. */
#define FLUSH_GRACE_MS 1000

/* Every 10 ms while shutting down: done when nothing is in flight and every
 * answer has been written (a reply only queued in a bufferevent would be
 * lost when the loop ends and the connections are freed). */
static void on_shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	int64_t now = broker_now_ms();
	long pending = sum(b, 0);
	if (b->inflight == 0 && pending == 0) {
		if (b->idle_since_ms == 0)
			b->idle_since_ms = now;
		if (sum(b, 1) <= 0 || now - b->idle_since_ms >= FLUSH_GRACE_MS) {
			event_base_loopexit(b->base, NULL);
			return;
		}
	} else {
		b->idle_since_ms = 0;
	}
	if (now >= b->shutdown_deadline_ms) {
		log_warn(
			"shutdown: %ld requests and %ld push deliveries still in flight after %lld "
			"ms; exiting anyway",
			b->inflight, pending, (long long)b->cfg.shutdown_timeout_ms);
		event_base_loopexit(b->base, NULL);
	}
}

void broker_shutdown(struct broker *b, int exit_code)
{
	if (b->shutting_down) {
		event_base_loopbreak(b->base);
		return;
	}
	b->shutting_down = 1;
	b->exit_code = exit_code;
	b->shutdown_deadline_ms = broker_now_ms() + b->cfg.shutdown_timeout_ms;
	for (int i = 0; i < b->nmodules; i++)
		if (b->modules[i].ops->quiesce)
			b->modules[i].ops->quiesce(b->modules[i].state);
	struct timeval tv = { 0, 10000 };
	b->shutdown_timer = event_new(b->base, -1, EV_PERSIST, on_shutdown_poll, b);
	event_add(b->shutdown_timer, &tv);
}
