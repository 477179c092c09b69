/* http_plain.h - push POSTs to plain http:// endpoints on evhttp client
 * connections (http_plain.c); http_client.c sends everything else through
 * libcurl. Loop thread. */
#ifndef RN_HTTP_PLAIN_H
#define RN_HTTP_PLAIN_H

#include "http_client.h"

struct http_plain;

/* NULL when the path is not to be used (a proxy is configured in the
 * environment, or no resolver thread): everything then goes to libcurl. */
struct http_plain *http_plain_new(struct event_base *base, int allow_link_local);

/* Answers what is in flight with CURLE_ABORTED_BY_CALLBACK, then frees. */
void http_plain_free(struct http_plain *hp);

/* 1: taken (headers and body too; cb will run); 0: not a URL for this
 * path (nothing taken: use libcurl). hp may be NULL (0). */
int http_plain_post(struct http_plain *hp, const char *url, struct curl_slist *headers, char *body,
		    size_t len, long timeout_ms, http_done_cb cb, void *arg);

#endif
