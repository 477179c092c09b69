/* http_client.h - outbound HTTP POSTs through libcurl's multi interface,
 * driven by the broker's libevent loop (socket and timer callbacks): the
 * loop never blocks on a webhook. Connections are reused across requests. */
#ifndef RN_HTTP_CLIENT_H
#define RN_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

struct event_base;
struct http_client;

struct http_result {
	long status;        /* HTTP status, 0 when no response */
	CURLcode code;      /* CURLE_OK, CURLE_OPERATION_TIMEDOUT, ... */
	const char *error;  /* curl's message when code != CURLE_OK */
	double seconds;     /* total time */
	long retry_after_s; /* Retry-After in seconds (delta form), -1 when absent */
};

/* Called once per request on the loop thread. */
typedef void (*http_done_cb)(const struct http_result *res, void *arg);

/* Creates the client on base. allow_link_local: see push_config.h (the
 * address check runs on every connection, after DNS). libcurl_only: no
 * http_plain.c path (--push-client libcurl). Loop thread. */
struct http_client *http_client_new(struct event_base *base, int allow_link_local,
				    int libcurl_only);

/* Aborts pending transfers (their callbacks run with CURLE_ABORTED_BY_CALLBACK)
 * and frees the client. */
void http_client_free(struct http_client *hc);

/* POSTs body to url. Ownership: headers (a curl_slist) and body (malloc'd)
 * are taken in every case. timeout_ms bounds the whole request; ca_file may
 * be NULL or "". Returns 0 (cb will run), -1 on an immediate failure (cb
 * will not run). */
int http_client_post(struct http_client *hc, const char *url, struct curl_slist *headers,
		     char *body, size_t len, long timeout_ms, const char *ca_file, http_done_cb cb,
		     void *arg);

#endif
