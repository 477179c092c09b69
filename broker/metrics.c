/* metrics.c - Prometheus text exposition of the broker's counters. */
#include "metrics.h"

#include "http_server.h"
#include "deliver_push.h"
#include "mem.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

struct metrics metrics;

static const char *const source_names[] = { "distribution", "native" };
static const char *const result_names[] = { "published", "duplicate", "ignored", "rejected",
					    "dropped" };

void metrics_serve(struct call *c)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out,
			    "# HELP regnotify_ingest_events_total Registry events by source and "
			    "outcome.\n# TYPE regnotify_ingest_events_total counter\n");
	for (int s = 0; s < INGEST_SRC_COUNT; s++)
		for (int r = 0; r < INGEST_RESULT_COUNT; r++)
			evbuffer_add_printf(out,
					    "regnotify_ingest_events_total{source=\"%s\","
					    "result=\"%s\"} %llu\n",
					    source_names[s], result_names[r], metrics.ingest[s][r]);
	evbuffer_add_printf(out,
			    "# HELP regnotify_ingest_requests_total Registry notification "
			    "requests stored.\n# TYPE regnotify_ingest_requests_total counter\n");
	for (int s = 0; s < INGEST_SRC_COUNT; s++)
		evbuffer_add_printf(out, "regnotify_ingest_requests_total{source=\"%s\"} %llu\n",
				    source_names[s], metrics.ingest_requests[s]);
	evbuffer_add_printf(out,
			    "# HELP regnotify_published_messages_total Messages stored by "
			    "topics.publish.\n# TYPE regnotify_published_messages_total counter\n"
			    "regnotify_published_messages_total %llu\n",
			    metrics.published_messages);
	evbuffer_add_printf(out, "# HELP regnotify_http_responses_total HTTP responses by status "
				 "class.\n# TYPE regnotify_http_responses_total counter\n");
	for (int k = 1; k < 6; k++)
		evbuffer_add_printf(out, "regnotify_http_responses_total{class=\"%dxx\"} %llu\n", k,
				    metrics.http_by_class[k]);
	deliver_push_metrics(c->b, out);
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	size_t len = evbuffer_get_length(out);
	call_reply_text(c, 200, (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}
