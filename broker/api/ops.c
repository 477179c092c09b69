/* ops.c - what operators and load balancers ask: /healthz, /readyz and
 * /metrics (HTTP only: Prometheus scrapes it). */
#include "api.h"

#include "broker.h"
#include "metrics.h"

#include <event2/buffer.h>

void ops_health(struct call *c)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	call_reply_text(c, 200, ok, sizeof(ok) - 1);
}

void ops_ready(struct call *c)
{
	static const char ready[] = "{\"status\":\"ready\"}";
	if (c->b->shutting_down) {
		call_error(c, ERR_UNAVAILABLE, "not ready: shutting down");
		return;
	}
	if (!store_ready(c->b->link)) {
		call_error(c, ERR_UNAVAILABLE,
			   "not ready: the message store (Redis) is not "
			   "reachable");
		return;
	}
	call_reply_text(c, 200, ready, sizeof(ready) - 1);
}

void ops_metrics(struct call *c)
{
	struct evbuffer *out = evbuffer_new();
	metrics_render(out);
	call_set_header(c, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	size_t len = evbuffer_get_length(out);
	call_reply_text(c, 200, (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}
