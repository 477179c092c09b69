/* store_internal.h - helpers of the store's own files. */
#ifndef RN_STORE_INTERNAL_H
#define RN_STORE_INTERNAL_H

#include "store.h"

/* Runs script id with nkeys keys then nargs args (NUL-terminated strings). */
int store_run(struct link *l, enum script_id id, store_cb cb, void *arg, int nkeys,
	      const char *const *keys, int nargs, const char *const *args);

#endif
