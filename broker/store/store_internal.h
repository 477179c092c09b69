/* store_internal.h - helpers of the store's own files. */
#ifndef RN_STORE_INTERNAL_H
#define RN_STORE_INTERNAL_H

#include "store.h"

/* Runs script id with nkeys keys then nargs args (NUL-terminated strings). */
int store_run(struct link *l, enum script_id id, store_cb cb, void *arg, int nkeys,
	      const char *const *keys, int nargs, const char *const *args);

/* The publish coalescer (publish.c), one per link: made by link_new,
 * freed by link_free (pending publishes answered with NULL). */
struct event_base;
struct pubbatch;
struct pubbatch *pubbatch_new(struct link *l, struct event_base *base);
void pubbatch_free(struct pubbatch *pb);
struct pubbatch *link_pubbatch(struct link *l);

/* The split pull's table (messages.c), one per link, as the above. */
struct pullsplit;
struct pullsplit *pullsplit_new(void);
void pullsplit_free(struct pullsplit *ps);
struct pullsplit *link_pullsplit(struct link *l);

#endif
