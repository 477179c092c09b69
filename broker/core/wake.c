/* wake.c - the observer list of publish wake-ups. */
#include "wake.h"

#include "broker.h"
#include "log.h"
#include "mem.h"

struct wake {
	struct {
		wake_fn fn;
		void *arg;
	} obs[WAKE_MAX_OBSERVERS];
	int n;
};

void wake_init(struct broker *b)
{
	b->wake = mem_calloc(1, sizeof(*b->wake));
}

void wake_cleanup(struct broker *b)
{
	mem_free(b->wake);
	b->wake = NULL;
}

int wake_observe(struct broker *b, wake_fn fn, void *arg)
{
	struct wake *w = b->wake;
	if (w->n >= WAKE_MAX_OBSERVERS) {
		log_error("wake: more than %d observers", WAKE_MAX_OBSERVERS);
		return -1;
	}
	w->obs[w->n].fn = fn;
	w->obs[w->n].arg = arg;
	w->n++;
	return 0;
}

void wake_topic(struct broker *b, const char *topic)
{
	struct wake *w = b->wake;
	if (w == NULL)
		return;
	for (int i = 0; i < w->n; i++)
		w->obs[i].fn(w->obs[i].arg, topic);
}
