/* mem.h - the broker's allocation wrappers. Out of memory is not a run-time
 * condition we can answer usefully (like Redis' zmalloc), so the wrappers
 * log and abort instead of returning NULL. */
#ifndef RN_MEM_H
#define RN_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t n);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
void mem_free(void *p);

/* rn_assert: invariants only; anything that can happen at run time gets an
 * error return instead. */
#define rn_assert(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			mem_assert_fail(#cond, __FILE__, __LINE__);                                \
	} while (0)
void mem_assert_fail(const char *what, const char *file, int line) __attribute__((noreturn));

#endif
