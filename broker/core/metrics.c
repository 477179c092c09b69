/* metrics.c - Prometheus text exposition of the broker's counters. */
#include "metrics.h"

#include "log.h"

#include <event2/buffer.h>

struct metrics metrics;

static struct {
	metrics_writer fn;
	void *arg;
} writers[METRICS_MAX_WRITERS];
static int nwriters;

int metrics_add_writer(metrics_writer fn, void *arg)
{
	if (nwriters >= METRICS_MAX_WRITERS) {
		log_error("metrics: more than %d writers", METRICS_MAX_WRITERS);
		return -1;
	}
	writers[nwriters].fn = fn;
	writers[nwriters].arg = arg;
	nwriters++;
	return 0;
}

void metrics_clear_writers(void)
{
	nwriters = 0;
}

void metrics_render(struct evbuffer *out)
{
	for (int i = 0; i < nwriters; i++)
		writers[i].fn(writers[i].arg, out);
	evbuffer_add_printf(out,
			    "# HELP regnotify_published_messages_total Messages stored by "
			    "topics.publish.\n# TYPE regnotify_published_messages_total counter\n"
			    "regnotify_published_messages_total %llu\n",
			    metrics.published_messages);
	evbuffer_add_printf(out, "# HELP regnotify_http_responses_total HTTP responses by status "
				 "class.\n# TYPE regnotify_http_responses_total counter\n");
	for (int k = 1; k < 6; k++)
		evbuffer_add_printf(out, "regnotify_http_responses_total{class=\"%dxx\"} %llu\n", k,
				    metrics.responses_by_class[k]);
	evbuffer_add_printf(out,
			    "# HELP regnotify_audit_denied_suppressed_total Policy Denied audit "
			    "entries not written because refused calls came faster than 50/s.\n"
			    "# TYPE regnotify_audit_denied_suppressed_total counter\n"
			    "regnotify_audit_denied_suppressed_total %llu\n",
			    metrics.audit_denied_suppressed);
}
