/* regnotify/client.h - libregnotify: a C client of regnotifyd over nng.
 *
 * The broker serves the Pub/Sub resource model (topics, subscriptions,
 * messages with at-least-once delivery) on an nng req/rep socket
 * (docs/protocol.md). This library wraps it:
 *
 *   struct rn_client      one connection (reconnects by itself)
 *   topics/subscriptions  create, get, list, delete (resources as JSON text)
 *   rn_publish            synchronous publish of a batch
 *   struct rn_publisher   asynchronous batched publish with a callback each
 *   rn_pull/rn_ack/...    synchronous pull and acknowledgement
 *   struct rn_subscriber  streaming: a callback per message on library
 *                         threads, flow control, automatic lease extension
 *
 * Names: a topic or subscription is either a short id ("gcr"), resolved in
 * the client's project, or a full name ("projects/P/topics/gcr").
 *
 * Errors: every function returning int returns 0 or an enum rn_err value;
 * when the broker refused the call, rn_last_error_message() gives its
 * message. The library never prints; see rn_client_opts.log.
 *
 * Memory: strings and arrays returned through out-parameters are allocated
 * by the library and freed with rn_free() unless stated otherwise. All
 * pointer arguments are borrowed for the duration of the call. */
#ifndef REGNOTIFY_CLIENT_H
#define REGNOTIFY_CLIENT_H

#include <regnotify/errors.h>
#include <regnotify/version.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RN_DEFAULT_URL "tcp://127.0.0.1:8086"
#define RN_DEFAULT_PROJECT "registry"

struct rn_client;
struct rn_message;
struct rn_publisher;
struct rn_subscriber;

/* ------------------------------------------------------------------ */
/* Client */

enum rn_log_level { RN_LOG_DEBUG = 0, RN_LOG_INFO = 1, RN_LOG_WARN = 2, RN_LOG_ERROR = 3 };

/* Receives the library's diagnostics (reconnects, dropped acks...). Called
 * on any library thread; must not call back into the library. */
typedef void (*rn_log_fn)(void *arg, enum rn_log_level level, const char *msg);

/* Client options. Initialise with rn_client_opts_init() and change the
 * fields you need; NULL strings and 0 numbers mean the default. */
struct rn_client_opts {
	const char *url;             /* default RN_DEFAULT_URL; tcp://, ipc://, tls+tcp:// */
	const char *project;         /* project of short names; default RN_DEFAULT_PROJECT */
	const char *access_token;    /* sent with every request when set */
	int connect_timeout_ms;      /* rn_client_new waits this long to connect; default 5000 */
	int request_timeout_ms;      /* one request and its reply; default 30000 (long-poll
				      * pulls: at least 40000, the broker holds them 10 s) */
	int reconnect_min_ms;        /* backoff after a lost connection; default 100 */
	int reconnect_max_ms;        /* backoff cap; default 5000 */
	const char *tls_ca_file;     /* tls+tcp://: PEM file of CAs; required for tls+tcp:// */
	const char *tls_server_name; /* tls+tcp://: name checked in the certificate; default host */
	rn_log_fn log;               /* optional */
	void *log_arg;
	int log_level; /* lowest enum rn_log_level passed to log; rn_client_opts_init sets
			* RN_LOG_INFO (0 is RN_LOG_DEBUG) */
	/* A service account's JSON key file (Google's format, as regnotify's
	 * keys.create makes it): the client signs its own short-lived tokens
	 * with it (RS256, as Google's libraries do) and makes a new one before
	 * the current one expires. Not together with access_token. */
	const char *key_file;
	int token_lifetime_s; /* key_file tokens: 1-3600 s; default 3600 */
};

/* Fills o with the defaults. Thread-safe. */
RN_API void rn_client_opts_init(struct rn_client_opts *o);

/* Connects to a broker. o may be NULL (all defaults). Fails with
 * RN_EADDRINVAL for a bad URL, RN_EINVAL for a bad option,
 * RN_ECONNREFUSED/RN_ETIMEDOUT when the broker cannot be reached within
 * connect_timeout_ms. Once connected, a lost connection is re-established
 * in the background (with backoff) and requests wait for it (up to their
 * timeout). Ownership: *out is freed with rn_client_free. Thread-safe. */
RN_API int rn_client_new(struct rn_client **out, const struct rn_client_opts *o);

/* Closes the connection and frees the client. Publishers and subscribers
 * made from it must be freed first. Accepts NULL. Not concurrent with
 * other calls on c. */
RN_API void rn_client_free(struct rn_client *c);

/* The project that short names resolve in. Thread-safe; the string lives
 * as long as c. */
RN_API const char *rn_client_project(const struct rn_client *c);

/* The broker's message for the last call that failed on this thread
 * ("Resource not found (resource=gcr)."), or a library message, or "".
 * Thread-local; valid until the next call on this thread. */
RN_API const char *rn_last_error_message(void);

/* One request of the broker's REST surface over the client's connection,
 * for the calls without a function of their own (the IAM API: service
 * accounts, keys, policies; POST /token): method "GET", "PUT", "POST",
 * "PATCH" or "DELETE", path "/v1/projects/P/serviceAccounts", body the
 * request body (JSON, or the form of /token; NULL for none). On success
 * *reply is the response body (free with rn_free). A 4xx/5xx answer
 * fails with the matching RN_E code and rn_last_error_message() set.
 * Thread-safe. */
RN_API int rn_request(struct rn_client *c, const char *method, const char *path, const char *body,
		      char **reply);

/* Frees memory returned by this library (strings, arrays). Accepts NULL. */
RN_API void rn_free(void *p);

/* ------------------------------------------------------------------ */
/* Topics and subscriptions. Resources are exchanged as the JSON objects of
 * the Pub/Sub REST API (docs/api.md), e.g. {"name":"projects/P/topics/T",
 * "messageRetentionDuration":"604800s"}. All are thread-safe. */

/* Creates a topic. config_json: optional JSON object of Topic fields (may be
 * NULL). On success and when json_out is not NULL, *json_out is the created
 * resource. Ownership: *json_out is freed with rn_free. */
RN_API int rn_topic_create(struct rn_client *c, const char *topic, const char *config_json,
			   char **json_out);

/* Gets a topic. Ownership: *json_out is freed with rn_free. */
RN_API int rn_topic_get(struct rn_client *c, const char *topic, char **json_out);

/* Lists the topics of project (NULL: the client's) as one JSON array of
 * Topic objects (all pages). Ownership: *json_out is freed with rn_free. */
RN_API int rn_topic_list(struct rn_client *c, const char *project, char **json_out);

/* Deletes a topic (its subscriptions stay, detached). */
RN_API int rn_topic_delete(struct rn_client *c, const char *topic);

/* Optional settings of a new subscription; zero/NULL fields are left to
 * the broker's defaults. */
struct rn_subscription_opts {
	int ack_deadline_s;       /* 10..600 */
	int64_t retention_s;      /* messageRetentionDuration */
	int retain_acked;         /* retainAckedMessages */
	int64_t expiration_ttl_s; /* expirationPolicy.ttl; -1: never expire */
	const char *filter;       /* Pub/Sub filter expression */
	const char *extra_json;   /* JSON object merged into the body (pushConfig...) */
};

/* Creates subscription sub on topic. o may be NULL. Ownership: *json_out
 * (optional) is freed with rn_free. */
RN_API int rn_subscription_create(struct rn_client *c, const char *sub, const char *topic,
				  const struct rn_subscription_opts *o, char **json_out);

/* Gets a subscription. Ownership: *json_out is freed with rn_free. */
RN_API int rn_subscription_get(struct rn_client *c, const char *sub, char **json_out);

/* Lists the subscriptions of project (NULL: the client's), all pages, as a
 * JSON array. Ownership: *json_out is freed with rn_free. */
RN_API int rn_subscription_list(struct rn_client *c, const char *project, char **json_out);

/* Deletes a subscription. */
RN_API int rn_subscription_delete(struct rn_client *c, const char *sub);

/* Seeks sub to a time (ms since the Unix epoch): retained messages published
 * at or after it become unacknowledged, earlier ones acknowledged. */
RN_API int rn_subscription_seek(struct rn_client *c, const char *sub, int64_t time_ms);

/* ------------------------------------------------------------------ */
/* Publishing */

/* One attribute of a message to publish. */
struct rn_attr {
	const char *key;
	const char *value;
};

/* A message to publish; every pointer is borrowed for the call. */
struct rn_pubmsg {
	const void *data;
	size_t len;
	const struct rn_attr *attrs;
	size_t nattrs;
	const char *ordering_key; /* optional */
};

/* Publishes n messages (1..1000) to topic in one request; returns once the
 * broker has stored them all (or none). ids_out is optional: an array of n
 * pointers the caller provides, filled with the message ids. Ownership:
 * each ids_out[i] is freed with rn_free. Thread-safe. */
RN_API int rn_publish(struct rn_client *c, const char *topic, const struct rn_pubmsg *msgs,
		      size_t n, char **ids_out);

/* Completion of an asynchronous publish: err is 0 and message_id the id
 * (borrowed for the call), or err is set and message_id NULL. Called once
 * per message on a library thread; may call rn_publish_async. */
typedef void (*rn_publish_cb)(void *arg, int err, const char *message_id);

struct rn_publisher_opts {
	size_t max_batch_messages; /* default 100, at most 1000 */
	size_t max_batch_bytes;    /* default 1000000 */
	int max_latency_ms;        /* a batch is sent after this long at most; default 5; 0: as soon
				    * as a sender is free (batches form only under load) */
	size_t max_outstanding;    /* queued + in flight; rn_publish_async blocks beyond it; default
				      10000 */
	int max_inflight_batches;  /* concurrent publish requests; default 4 */
};

/* Fills o with the defaults. */
RN_API void rn_publisher_opts_init(struct rn_publisher_opts *o);

/* Makes a batching publisher for topic. o may be NULL. Ownership: *out is
 * freed with rn_publisher_free, before c. Thread-safe. */
RN_API int rn_publisher_new(struct rn_publisher **out, struct rn_client *c, const char *topic,
			    const struct rn_publisher_opts *o);

/* Queues a copy of m; cb (optional) runs when the broker stored or refused
 * it. Blocks while max_outstanding messages are pending. Returns RN_ECLOSED
 * after rn_publisher_free began, RN_EINVAL for a bad message (cb not
 * called then). Thread-safe. */
RN_API int rn_publish_async(struct rn_publisher *p, const struct rn_pubmsg *m, rn_publish_cb cb,
			    void *arg);

/* Sends what is queued and waits until every message queued before the call
 * has completed. Returns 0, or the first error of those messages.
 * Thread-safe; not from a publish callback. */
RN_API int rn_publisher_flush(struct rn_publisher *p);

/* Flushes, then frees p. Accepts NULL. Not from a publish callback. */
RN_API void rn_publisher_free(struct rn_publisher *p);

/* ------------------------------------------------------------------ */
/* Received messages. Accessors are thread-safe and return memory owned by
 * the message (valid until it is freed, acked or nacked). */

RN_API const void *rn_message_data(const struct rn_message *m, size_t *len);
RN_API const char *rn_message_id(const struct rn_message *m);
RN_API int64_t rn_message_publish_time_ms(const struct rn_message *m);
/* The value of attribute key, or NULL. */
RN_API const char *rn_message_attr(const struct rn_message *m, const char *key);
RN_API size_t rn_message_attr_count(const struct rn_message *m);
/* The i-th attribute (0 <= i < count) into *key and *value; RN_EINVAL past the end. */
RN_API int rn_message_attr_at(const struct rn_message *m, size_t i, const char **key,
			      const char **value);
RN_API const char *rn_message_ordering_key(const struct rn_message *m); /* "" when none */
RN_API const char *rn_message_ack_id(const struct rn_message *m);
/* The deliveryAttempt the broker reported (1 for the first delivery): as in
 * Pub/Sub, only for subscriptions with a dead-letter policy; 0 otherwise. */
RN_API int rn_message_delivery_attempt(const struct rn_message *m);

/* ------------------------------------------------------------------ */
/* Synchronous pull */

/* Pulls up to max (1..1000) messages from sub. wait 0 returns at once;
 * otherwise the broker holds the request until a message arrives or its
 * pull_wait (default 10 s) ends. *msgs_out gets an array of *n_out
 * messages (possibly 0). Ownership: free with rn_messages_free. */
RN_API int rn_pull(struct rn_client *c, const char *sub, int max, int wait,
		   struct rn_message ***msgs_out, size_t *n_out);

/* Frees an array from rn_pull and its messages (not acked). Accepts NULL. */
RN_API void rn_messages_free(struct rn_message **msgs, size_t n);

/* Acknowledges ack ids of sub. Thread-safe. */
RN_API int rn_ack(struct rn_client *c, const char *sub, const char *const *ack_ids, size_t n);

/* Negative acknowledgement: the messages are redelivered at once. */
RN_API int rn_nack(struct rn_client *c, const char *sub, const char *const *ack_ids, size_t n);

/* Sets the ack deadline of ack ids to seconds from now (0..600). */
RN_API int rn_modify_ack_deadline(struct rn_client *c, const char *sub, const char *const *ack_ids,
				  size_t n, int seconds);

/* ------------------------------------------------------------------ */
/* Streaming subscriber */

/* Called once per message on a library thread. The callback owns m and
 * must, now or later, from any thread, call exactly one of rn_message_ack
 * or rn_message_nack on it (which also frees it). Until then the library
 * extends the message's lease. */
typedef void (*rn_message_cb)(void *arg, struct rn_message *m);

/* Reports the subscriber's state changes: err 0 = (re)connected and
 * receiving, else why receiving stopped or is being retried
 * (RN_EUNAVAIL, RN_ECONNREFUSED, RN_ENOTFOUND when the subscription was
 * deleted...). Called on a library thread; optional. */
typedef void (*rn_subscriber_status_cb)(void *arg, int err);

struct rn_subscriber_opts {
	size_t max_outstanding_messages; /* delivered and not yet acked/nacked; default 1000 */
	size_t max_outstanding_bytes;    /* their data bytes; default 100 MiB */
	int threads;                     /* callback threads; default 4 */
	int pullers;                     /* concurrent long-poll pulls; default 2 */
	int max_extension_s;             /* lease extension stops after this long; default 3600 */
	int lease_s;                     /* lease asked for per extension (10..600); default 30 */
	rn_subscriber_status_cb status;  /* optional */
	void *status_arg;
};

/* Fills o with the defaults. */
RN_API void rn_subscriber_opts_init(struct rn_subscriber_opts *o);

/* Starts receiving from sub: cb runs for each message. At most
 * max_outstanding_messages (and _bytes, a single larger message still
 * passes alone) are handed out and not yet acked/nacked. When the broker
 * goes away the subscriber keeps retrying with backoff; messages that were
 * not acked come back. o may be NULL. Ownership: *out is freed with
 * rn_subscriber_free, before c. Thread-safe. */
RN_API int rn_subscriber_new(struct rn_subscriber **out, struct rn_client *c, const char *sub,
			     const struct rn_subscriber_opts *o, rn_message_cb cb, void *arg);

/* Acknowledges m (streaming messages only) and frees it. Any thread; at
 * most once per message. Acks are batched and sent within a few ms. */
RN_API void rn_message_ack(struct rn_message *m);

/* Negatively acknowledges m (redelivered soon) and frees it. Any thread. */
RN_API void rn_message_nack(struct rn_message *m);

/* Stops the subscriber: no new callbacks start, messages received but not
 * yet handed to the callback are nacked, running callbacks are waited for,
 * and pending acks are sent (each request waits at most 2 s here: with the
 * broker gone, unsent acks mean redelivery, not a hung stop). Long-poll
 * pulls still waiting are abandoned; a
 * message the broker leased to one of them in that instant comes back after
 * its ack deadline (as with Pub/Sub's streaming pull). Messages the application still holds may be
 * acked/nacked afterwards until rn_subscriber_free. Idempotent; not from a
 * message callback. */
RN_API void rn_subscriber_stop(struct rn_subscriber *s);

/* Stops (if needed) and frees s; messages still held are nacked and must
 * not be used afterwards. Accepts NULL. Not from a message callback. */
RN_API void rn_subscriber_free(struct rn_subscriber *s);

/* Counters for tests and monitoring. Thread-safe. */
struct rn_subscriber_stats {
	uint64_t received;   /* messages received from the broker */
	uint64_t acked;      /* acks sent */
	uint64_t nacked;     /* nacks sent (including those of stop) */
	uint64_t extensions; /* lease extensions (modifyAckDeadline ids) sent */
	uint64_t reconnects; /* pull failures followed by a retry */
	size_t outstanding;  /* handed to the callback, not yet acked/nacked */
	size_t outstanding_bytes;
	size_t max_outstanding_seen; /* highest outstanding so far */
};
RN_API void rn_subscriber_stats(struct rn_subscriber *s, struct rn_subscriber_stats *st);

#ifdef __cplusplus
}
#endif

#endif
