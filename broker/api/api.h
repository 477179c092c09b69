/* api.h - the Pub/Sub REST handlers (one file per resource or method
 * group) and the helpers they share. A handler receives a call that the
 * gate routed, checked and parsed; it validates with model/, stores and
 * reads through store/, and answers the call exactly once. */
#ifndef RN_API_H
#define RN_API_H

#include "call.h"
#include "names.h"
#include "store.h"

#include <stdint.h>
#include <stdio.h>

struct broker;

/* Read-modify-write attempts of a PATCH before it gives up with ABORTED. */
#define API_PATCH_TRIES 5

/* Starts the API layer's state: parked pulls (a module: answered at
 * shutdown), the wake-up observer that retries them, the ingest metrics.
 * Loop thread, before the loop runs. */
void api_start(struct broker *b);

/* Validates the call's {project} and {id} path parameters (nparams of
 * them); replies 400 INVALID_ARGUMENT and returns -1 when one is invalid.
 * kind is "topics" or "subscriptions" (for the message). */
int api_names_or_reply(struct call *c, int nparams, const char *kind);

/* The status word of a store script's reply when it is a success or a
 * condition the caller handles; replies 503/500 (store failure) or 404
 * (NOT_FOUND of the call's resource) itself and returns NULL. */
const char *api_status_or_reply(struct call *c, const redisReply *r);

/* 400 FAILED_PRECONDITION: the call's subscription is detached. */
void api_detached(struct call *c);

/* Replies to a failed store call: 503 when reply is NULL (link down), 500
 * with the script error otherwise. */
void api_store_failed(struct call *c, const redisReply *r);

/* A store call could not be queued (Redis not ready): 503. For
 * `if (store_x(...) != 0) api_not_queued(c);`. */
void api_not_queued(struct call *c);

/* Keeps o's compact JSON text as the call's state (a resource as GET
 * shows it, the answer once the store said yes); o is decref'd. */
void api_keep_json(struct call *c, json_t *o);

/* Reads a pageSize/pageToken pair; replies 400 and returns -1 on a bad
 * pageSize. Defaults: 100, max 1000. */
int api_page_or_reply(struct call *c, long *page_size, char *token, size_t toklen);
int api_page_size_or_reply(struct call *c, long *page_size);

/* topics.list (subs 0) and subscriptions.list (1). */
void api_list(struct call *c, int subs);

/* Prepares the Admin Activity entry of c (a route whose audit column is
 * AUDIT_ADMIN_WRITE; other routes: nothing) for the next store call, which
 * writes it in the same step as the change it records (audit.c).
 * response_text is the resource the call answers with (NULL: {}). Call
 * right before the store call. */
/* The broker's call_done hook: the entry of a failed admin write, of a
 * refused call (Policy Denied) and the Data Access entry of a read where
 * its project's auditConfigs ask for it. */
void api_audit_done(struct call *c, int status, const char *text, size_t len);
/* A Data Access entry of c in project (registry ingest: one per project
 * its events went to), written when the project's auditConfigs enable
 * the route's log type. */
void api_audit_data(struct call *c, const char *project, const char *resource_name,
		    const char *request_text);
void api_audit_admin(struct call *c, const char *project, const char *resource_name,
		     const char *response_text);

/* Route handlers, by file. */
void topics_create(struct call *c); /* topics.c */
void topics_get(struct call *c);
void topics_list(struct call *c);
void topics_patch(struct call *c);
void topics_delete(struct call *c);
void topics_subscriptions(struct call *c);
void publish_topic(struct call *c);        /* publish.c */
void subscriptions_create(struct call *c); /* subscriptions.c */
void subscriptions_get(struct call *c);
void subscriptions_list(struct call *c);
void subscriptions_patch(struct call *c);
void subscriptions_delete(struct call *c);
void subscriptions_detach(struct call *c);
void subscriptions_modify_push(struct call *c);
void pull_messages(struct call *c);   /* pull.c */
void ack_acknowledge(struct call *c); /* ack.c */
void ack_modify_deadline(struct call *c);
void seek_subscription(struct call *c); /* seek.c */
/* snapshots.c */
void snapshots_create(struct call *c);
void snapshots_get(struct call *c);
void snapshots_list(struct call *c);
void snapshots_patch(struct call *c);
void snapshots_delete(struct call *c);
void topics_snapshots(struct call *c);
/* Seeks the call's subscription to snapshot name ("projects/P/snapshots/N");
 * -1 after replying 400 for a bad name. */
int api_seek_snapshot(struct call *c, const char *name);
/* topics.subscriptions.list (0) and topics.snapshots.list (1): the names
 * of the topic's subscriptions or live snapshots, paged (topics.c). */
void api_topic_names(struct call *c, int snapshots);
void ingest_distribution(struct call *c); /* ingest.c */
void ingest_native(struct call *c);
void ingest_recently_pulled(struct call *c);
void ingest_reanalyze(struct call *c);
void iam_get_policy(struct call *c); /* iam.c */
void iam_set_policy(struct call *c);
void iam_test_permissions(struct call *c);
void iam_token(struct call *c);
void iam_jwks(struct call *c);
void sa_create(struct call *c); /* service_accounts.c */
void sa_get(struct call *c);
void sa_list(struct call *c);
void sa_delete(struct call *c);
void sa_disable(struct call *c); /* and enable, by route name */
void sa_key_create(struct call *c);
void sa_key_get(struct call *c);
void sa_key_list(struct call *c);
void sa_key_delete(struct call *c);
void logging_entries_list(struct call *c); /* logging.c */
void sinks_create(struct call *c);         /* sinks.c */
void sinks_list(struct call *c);
void sinks_get(struct call *c);
void sinks_update(struct call *c);
void sinks_delete(struct call *c);
void ops_health(struct call *c); /* ops.c */
void ops_ready(struct call *c);
void ops_metrics(struct call *c);

/* Every row has a permission ("" open) that model/iam.c knows and, for
 * a permission, a resource kind. Returns 0, or -1 with the first
 * offending row in err. api_start aborts on it; unit_router checks it. */
int api_routes_check(const struct route *t, size_t n, char *err, size_t errlen);

/* Prints the route table as JSON (name, pattern, methods, permission,
 * resource, transports): regnotifyd --print-routes, what the access-control
 * matrix test is generated from. */
void api_print_routes(FILE *out);

/* The route table (routes.c), for the gate. */
extern const struct route routes[];
extern const size_t routes_len;

#endif
