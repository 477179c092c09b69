/* broker.c - broker-wide helpers used by every module. */
#include "broker.h"

#include "deliver_push.h"
#include "http_server.h"
#include "log.h"
#include "nng_server.h"
#include "pull.h"

#include <event2/event.h>
#include <time.h>

int64_t broker_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void broker_request_done(struct broker *b)
{
	(void)b; /* the shutdown poll below watches the counters */
}

/* Every 10 ms while shutting down: done when nothing is in flight and every
 * answer has been written (a reply only queued in a bufferevent would be
 * lost when the loop ends and the connections are freed). */
/* A reply whose client hung up before it was fully written never reports
 * completion; past this grace the shutdown stops waiting for such writes. */
#define FLUSH_GRACE_MS 1000

static void on_shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct broker *b = arg;
	int64_t now = broker_now_ms();
	if (b->inflight == 0 && deliver_push_inflight(b) == 0) {
		if (b->idle_since_ms == 0)
			b->idle_since_ms = now;
		if ((b->unflushed <= 0 && nng_server_unsent(b) == 0) ||
		    now - b->idle_since_ms >= FLUSH_GRACE_MS) {
			event_base_loopexit(b->base, NULL);
			return;
		}
	} else {
		b->idle_since_ms = 0;
	}
	if (now >= b->shutdown_deadline_ms) {
		log_warn("shutdown: %ld requests and %d push deliveries still in flight after %lld "
			 "ms; exiting anyway",
			 b->inflight, deliver_push_inflight(b),
			 (long long)b->cfg.shutdown_timeout_ms);
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
	http_server_stop_accepting(b);
	pull_flush_all(b);
	deliver_push_quiesce(b);
	struct timeval tv = { 0, 10000 };
	b->shutdown_timer = event_new(b->base, -1, EV_PERSIST, on_shutdown_poll, b);
	event_add(b->shutdown_timer, &tv);
}
