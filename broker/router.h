/* router.h - the route table of the REST surface and path matching. */
#ifndef RN_ROUTER_H
#define RN_ROUTER_H

#include <stddef.h>

struct call;

enum http_method { M_GET = 1, M_PUT = 2, M_POST = 4, M_PATCH = 8, M_DELETE = 16 };

typedef void (*route_handler)(struct call *c);

struct route {
	int method;          /* one enum http_method */
	const char *pattern; /* "/v1/projects/{}/topics/{}:publish" */
	route_handler handler;
	size_t body_limit; /* bytes; 0: no body read */
	const char *name;  /* for logs: "topics.publish" */
	int flags;         /* ROUTE_* */
};

#define ROUTE_INGEST_AUTH 1 /* bearer token of ingest_tokens required */
#define ROUTE_RAW_BODY 2    /* the handler parses the body itself (fast path) */
#define ROUTE_HTTP_ONLY 4   /* uses HTTP headers: not served over nng */

enum route_result { ROUTE_OK = 0, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

#define ROUTE_MAX_PARAMS 2
#define ROUTE_PARAM_MAX 1024

/* Finds the route for method+path (path without the query string). On
 * ROUTE_OK *out is the route and params hold the {} captures (up to two,
 * NUL-terminated, truncated captures make the match fail). ROUTE_BAD_METHOD
 * means the path exists with another method. Any thread; no allocation. */
enum route_result router_match(const struct route *table, size_t n, int method, const char *path,
			       const struct route **out,
			       char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX]);

/* The broker's table (api_*.c handlers). */
extern const struct route router_table[];
extern const size_t router_table_len;

#endif
