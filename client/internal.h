/* internal.h - declarations shared by the files of libregnotify (not
 * installed). Module prefixes follow the file names: errors_ (errors.c),
 * client_ (client.c), b64_ (b64.c), resources_ (resources.c), message_
 * (message.c), subscriber_ (subscriber.c). The contracts of the exported
 * rn_* functions are in include/regnotify/ (client.h, errors.h, version.h);
 * those of the internal functions are here. */
#ifndef RN_CLIENT_INTERNAL_H
#define RN_CLIENT_INTERNAL_H

#include <regnotify/client.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Largest number of ids or messages the broker takes in one request. */
#define CLIENT_MAX_BATCH 1000

#define RN_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------ */
/* errors.c */

/* Sets this thread's rn_last_error_message() to the formatted text
 * (truncated to 1 KiB). Returns err, so callers can `return
 * errors_set(RN_EINVAL, "...")`. Any thread. */
int errors_set(int err, const char *fmt, ...) RN_PRINTF(2, 3);

/* ------------------------------------------------------------------ */
/* b64.c: standard base64 (RFC 4648 section 4) */

/* Encodes len bytes into a NUL-terminated string. Returns NULL when out of
 * memory. Ownership: the caller frees the result with free(). */
char *b64_encode(const void *data, size_t len);

/* Decodes standard or URL-safe base64 (padding optional) of slen chars.
 * Returns 0 and *out (NUL-terminated for convenience, free() it) and
 * *out_len, or -1 for invalid input or no memory. */
int b64_decode(const char *s, size_t slen, unsigned char **out, size_t *out_len);

/* ------------------------------------------------------------------ */
/* credentials.c */

/* Takes the access token or loads the key file of o. 0 or an RN_E code. */
int creds_init(struct rn_client *c, const struct rn_client_opts *o);
void creds_free(struct rn_client *c);

/* The token for the next request into buf ("" for none): the fixed one,
 * or the key file's current self-signed token, renewed when less than a
 * tenth of its lifetime (at most 5 minutes) is left. Thread-safe. */
int creds_token(struct rn_client *c, char *buf, size_t n);

/* ------------------------------------------------------------------ */
/* client.c */

struct rn_client {
	nng_socket sock;
	nng_dialer dialer;
	nng_tls_config *tls;
	char *url;
	char *project;
	/* credentials.c: a fixed token, or a key file's self-signed ones. */
	pthread_mutex_t tok_mu;
	char *token;
	struct keyfile *kf;
	int64_t token_exp_s; /* of token when kf signs it */
	int token_lifetime_s;
	int request_timeout_ms;
	rn_log_fn log;
	void *log_arg;
	int log_level;

	/* Connected pipes, maintained by the pipe notifications (nng threads). */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int npipes;
	bool closing; /* rn_client_free began: no "connection lost" logs */

	/* Idle request contexts with their aio, reused by client_call: opening
	 * a context and allocating an aio per request costs allocations and
	 * the socket's lock on a path every request takes. */
	pthread_mutex_t slots_mu;
	struct call_slot *free_slots;
};

struct call_slot {
	nng_ctx ctx;
	nng_aio *aio;
	struct call_slot *next;
};

/* The reply of one request. body is the JSON text (NUL-terminated, may be
 * ""), json its parse (NULL when the body was empty or not JSON). */
struct client_reply {
	int status;
	char *body;
	size_t body_len;
	json_t *json;
};

/* The broker holds a long-poll pull up to its pull_wait (10 s by default):
 * such requests get max(request_timeout_ms, this). */
#define CLIENT_LONGPOLL_MIN_MS 40000

/* The timeout of a long-poll pull request on c. Any thread. */
static inline int client_longpoll_timeout(const struct rn_client *c)
{
	return c->request_timeout_ms > CLIENT_LONGPOLL_MIN_MS ? c->request_timeout_ms
							      : CLIENT_LONGPOLL_MIN_MS;
}

/* Frees what the reply holds (not r itself). Accepts a zeroed reply. */
void client_reply_cleanup(struct client_reply *r);

/* Checks the client options: 0, RN_EINVAL or RN_EADDRINVAL (with
 * rn_last_error_message set). Pure; any thread. */
int client_opts_check(const struct rn_client_opts *o);

/* Resolves a topic or subscription name: a short id is put in project,
 * a full "projects/P/<kind>/ID" is checked. kind is "topics" or
 * "subscriptions". Writes the full name into buf. Returns 0 or RN_EINVAL
 * (with the last error message set). Pure; any thread. */
int client_resolve(const char *project, const char *kind, const char *name, char *buf, size_t cap);

/* Whether p is a valid project id (1-100 of [A-Za-z0-9-_.~:]). Pure. */
bool client_project_ok(const char *p);

/* Maps a broker reply (HTTP status + JSON error body) to an rn_err and sets
 * the last error message from error.message. Returns 0 for 2xx. Pure;
 * any thread. */
int client_map_status(int status, const char *body, size_t body_len);

/* Maps an nng error of a request to an rn_err. connected: whether the
 * socket had a connection at the time. */
int client_map_nng(int nng_err, bool connected);

/* Sends one request and waits for its reply (at most timeout_ms; 0 = the
 * client's request timeout). ctx: a context of c's socket to use (so that
 * another thread can abort the request by closing it), or NULL for a
 * fresh one. body may be NULL. On 0 the reply is in *rep (2xx only; other
 * statuses are mapped to their error and the reply freed). Thread-safe. */
int client_call(struct rn_client *c, nng_ctx *ctx, enum wire_method m, const char *path,
		const char *body, size_t body_len, int timeout_ms, struct client_reply *rep);

/* Same with a JSON body (borrowed; NULL for none). */
/* POSTs a pull of at most max messages (wait: long-poll) to path and
 * returns the reply's messages, read in place (message_scan_pull) or, for
 * another shape, through jansson. Same contract as client_call. */
int client_pull(struct rn_client *c, nng_ctx *ctx, const char *path, int max, bool wait,
		int timeout_ms, struct rn_message ***out, size_t *n);

int client_call_json(struct rn_client *c, nng_ctx *ctx, enum wire_method m, const char *path,
		     const json_t *body, int timeout_ms, struct client_reply *rep);

/* Passes a diagnostic to the client's log callback if level passes its
 * threshold. Any thread. */
void client_log(struct rn_client *c, enum rn_log_level level, const char *fmt, ...) RN_PRINTF(3, 4);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t client_now_ms(void);

/* Turns an absolute CLOCK_MONOTONIC time in ms into a timespec for
 * pthread_cond_timedwait on a monotonic condition variable. */
void client_abstime(int64_t at_ms, struct timespec *ts);

/* Initialises a condition variable that waits on CLOCK_MONOTONIC. */
int client_cond_init(pthread_cond_t *cv);

/* Frees an array of n strings and the strings. Accepts NULL. */
void client_strv_free(char **v, size_t n);

/* ------------------------------------------------------------------ */
/* resources.c */

/* Acknowledges (seconds < 0) or sets the ack deadline of (seconds >= 0)
 * n ack ids of the full subscription name sub, in requests of at most
 * CLIENT_MAX_BATCH ids, each with timeout_ms (0: the client's request
 * timeout). Returns 0 or the first error. Thread-safe. */
int resources_ack_ids(struct rn_client *c, const char *sub, const char *const *ids, size_t n,
		      int seconds, int timeout_ms);

/* Publishes the JSON array of PubsubMessages msgs (borrowed) to the full
 * topic name topic. On success, when ids is not NULL, ids[i] gets the id
 * of message i (the caller provides json_array_size(msgs) slots and
 * frees the strings). Thread-safe. */
int resources_publish(struct rn_client *c, const char *topic, const json_t *msgs, char **ids);

/* Gets the ackDeadlineSeconds of the full subscription name sub. */
int resources_sub_deadline(struct rn_client *c, const char *sub, int *seconds);

/* ------------------------------------------------------------------ */
/* message.c */

struct subscriber_core;

struct rn_message {
	unsigned char *data;
	size_t len;
	char *id;
	int64_t publish_ms;
	char **keys; /* nattrs keys and values, sorted by key */
	char **values;
	size_t nattrs;
	char *ordering_key;
	char *ack_id;
	int delivery_attempt;
	bool one_block; /* pullscan.c's: one allocation (ack_id apart) */

	/* Streaming messages only (NULL core otherwise); guarded by core->mu. */
	struct subscriber_core *core;
	int64_t received_ms; /* monotonic */
	int64_t lease_until_ms;
	struct rn_message *prev, *next; /* core's outstanding list */
	struct rn_message *qnext;       /* core's queue of messages to hand out */
};

/* Builds a message from one ReceivedMessage JSON object of a pull reply.
 * Returns 0 or RN_EPROTO / RN_ENOMEM. Ownership: *out is freed with
 * message_free. Any thread. */
int message_from_json(const json_t *rm, struct rn_message **out);

/* Frees m and everything it owns (not its core). Accepts NULL. */
void message_free(struct rn_message *m);

/* Parses an RFC 3339 UTC timestamp ("2026-11-28T08:10:28.464Z", fraction
 * optional, any digits) into ms since the epoch. Returns 0 or -1. Pure. */
int message_parse_time(const char *s, int64_t *ms);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into buf
 * (at least 32 bytes). Returns 0 or -1. Pure. */
int message_format_time(int64_t ms, char *buf, size_t cap);

/* Builds the JSON PubsubMessage of m ({"data":base64,"attributes":{..},
 * "orderingKey":..}) into *out and its size (data + attribute bytes, as
 * the broker counts them) into *bytes (optional). Returns 0, RN_EINVAL
 * for an invalid message or RN_ENOMEM. Ownership: json_decref(*out). */
int message_pub_json(const struct rn_pubmsg *m, json_t **out, size_t *bytes);

/* Parses the messages of a pull reply ({} or {"receivedMessages":[..]}).
 * Returns 0 and an array of *n messages (NULL when 0), or RN_EPROTO /
 * RN_ENOMEM. Ownership: rn_messages_free. */
int message_parse_pull(const json_t *reply, struct rn_message ***out, size_t *n);

/* Reads a pull reply body in place (pullscan.c): 0 with *out and *n set
 * as message_parse_pull does, 1 when the body is not the shape the broker
 * writes (parse it with jansson and message_parse_pull), or RN_ENOMEM.
 * Pure: any thread. */
int message_scan_pull(const char *body, size_t len, struct rn_message ***out, size_t *n);

/* Sorts keys and values together by key (message attributes). */
void client_sort_attrs(char **keys, char **values, size_t n);

/* ------------------------------------------------------------------ */
/* subscriber.c */

/* Acknowledges (nack false) or nacks a streaming message through its core
 * and frees it. Any thread. */
void subscriber_settle(struct rn_message *m, bool nack);

#endif
