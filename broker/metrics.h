/* metrics.h - counters of this broker process, served as Prometheus text on
 * GET /metrics. Loop thread only (no atomics needed). */
#ifndef RN_METRICS_H
#define RN_METRICS_H

struct call;

enum ingest_source { INGEST_SRC_DISTRIBUTION = 0, INGEST_SRC_NATIVE, INGEST_SRC_COUNT };
enum ingest_result {
	INGEST_PUBLISHED = 0, /* a message on the ingest topic */
	INGEST_DUPLICATE,     /* event id already seen in the window */
	INGEST_IGNORED,       /* blob / pull / mount / unknown digest delete */
	INGEST_REJECTED,      /* sent to registry-rejects */
	INGEST_DROPPED,       /* topic missing and creation disabled */
	INGEST_RESULT_COUNT
};

struct metrics {
	unsigned long long ingest[INGEST_SRC_COUNT][INGEST_RESULT_COUNT];
	unsigned long long ingest_requests[INGEST_SRC_COUNT];
	unsigned long long http_by_class[6]; /* index = status / 100 */
	unsigned long long published_messages;
};

/* The process-wide counters (one broker per process). */
extern struct metrics metrics;

/* GET /metrics handler. */
void metrics_serve(struct call *c);

#endif
