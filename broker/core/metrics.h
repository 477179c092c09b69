/* metrics.h - the per-process counters served as Prometheus text on GET
 * /metrics, and the writers other modules register for their own families
 * (registry ingest, push delivery). Loop thread only (no atomics needed). */
#ifndef RN_METRICS_H
#define RN_METRICS_H

struct evbuffer;

struct metrics {
	unsigned long long responses_by_class[6];   /* index = status / 100, every transport */
	unsigned long long published_messages;      /* stored by topics.publish */
	unsigned long long audit_denied_suppressed; /* Policy Denied entries over the rate */
};

/* The process-wide counters (one broker per process). */
extern struct metrics metrics;

/* Appends a module's families (Prometheus text) to out. */
typedef void (*metrics_writer)(void *arg, struct evbuffer *out);

#define METRICS_MAX_WRITERS 8

/* Registers a writer; returns 0, or -1 when the table is full (logged). */
int metrics_add_writer(metrics_writer fn, void *arg);

/* Forgets every writer (shutdown, tests). */
void metrics_clear_writers(void);

/* Writes every family: the writers' in registration order, then this
 * module's counters. */
void metrics_render(struct evbuffer *out);

#endif
