/* mem.c - allocation wrappers that abort on exhaustion. */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n) __attribute__((noreturn));
static void oom(size_t n)
{
	fprintf(stderr, "regnotifyd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *mem_alloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *mem_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *mem_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

char *mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *mem_strndup(const char *s, size_t n)
{
	char *d = mem_alloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void mem_free(void *p)
{
	free(p);
}

void mem_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "regnotifyd: assertion failed: %s (%s:%d)\n", what, file, line);
	abort();
}
