/* broker.c - broker-wide helpers used by every module. */
#include "broker.h"

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
	if (b->shutting_down && b->inflight == 0)
		event_base_loopexit(b->base, NULL);
}
