/* router.h - the route table's row type and path matching. The table
 * itself is the API layer's (api/routes.c); the gate (gate.c) runs every
 * check a row asks for before its handler. */
#ifndef RN_ROUTER_H
#define RN_ROUTER_H

#include <stddef.h>

struct call;

enum http_method { M_GET = 1, M_PUT = 2, M_POST = 4, M_PATCH = 8, M_DELETE = 16 };

/* Transports a route is served on (bits; call_ops.transport is one). */
#define VIA_HTTP 1u
#define VIA_NNG 2u
#define VIA_GRPC 8u
#define VIA_ALL (VIA_HTTP | VIA_NNG | VIA_GRPC)
/* The loopback --metrics-listen port: only routes that name it (not in
 * VIA_ALL), and without a permission check. */
#define VIA_METRICS 4u

/* Who the gate lets through before the handler runs. */
enum route_authn {
	AUTHN_NONE = 0,     /* no credential checked (yet: access control fills this in) */
	AUTHN_INGEST_TOKEN, /* a bearer token of ingest_tokens, when any are configured */
};

/* The Cloud Audit Logs log a call's entry goes to (docs/security.md; the
 * entries themselves come with the audit-log issue). Every route names
 * one: AUDIT_UNSET stops the broker at start and fails unit_router. */
enum route_audit {
	AUDIT_UNSET = 0,
	AUDIT_NONE,        /* never logged, as Pub/Sub: publish, pull, ack, probes */
	AUDIT_ADMIN_WRITE, /* Admin Activity (always on): configuration and metadata changes */
	AUDIT_ADMIN_READ,  /* Data Access ADMIN_READ: IAM policy reads, seek, account reads */
	AUDIT_DATA_READ,   /* Data Access DATA_READ: topic and subscription reads */
	AUDIT_DATA_WRITE,  /* Data Access DATA_WRITE: registry notifications */
};

typedef void (*route_handler)(struct call *c);

struct route {
	int method;          /* one enum http_method */
	const char *pattern; /* "/v1/projects/{}/topics/{}:publish" */
	route_handler handler;
	const char *name;  /* for logs: "topics.publish" */
	size_t body_limit; /* bytes; 0: no body read */
	int raw_body;      /* 1: the handler parses the body itself (publish fast path) */
	unsigned via;      /* VIA_* bits; 0 means VIA_ALL */
	enum route_authn authn;
	/* Access control (empty until that issue lands): the IAM permission the
	 * caller needs ("pubsub.topics.publish") on the resource that
	 * resource names ("topic", "subscription", "project"). */
	const char *permission;
	const char *resource;
	/* A second permission some methods need on another resource, named
	 * by the body ("body.topic": the "topic" field, as subscriptions.create
	 * needs pubsub.topics.attachSubscription on its topic). */
	const char *also_permission;
	const char *also_resource;
	/* What may stand in for permission when the body is an ephemeral
	 * subscription (model/iam.h), checked on its topic. */
	const char *ephemeral_permission;
	/* Where the body may carry a pushConfig whose oidcToken names a
	 * service account ("pushConfig", "subscription.pushConfig"): the
	 * caller then needs iam.serviceAccounts.actAs on that account. */
	const char *act_as_field;
	enum route_audit audit;
	/* The audit entry's protoPayload.methodName: the gRPC method, as
	 * "google.pubsub.v1.Publisher.CreateTopic". */
	const char *method_name;
};

enum route_result { ROUTE_OK = 0, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

#define ROUTE_MAX_PARAMS 3
#define ROUTE_PARAM_MAX 1024

/* Finds the route for method+path (path without the query string). On
 * ROUTE_OK *out is the route and params hold the {} captures (up to three,
 * NUL-terminated, truncated captures make the match fail). ROUTE_BAD_METHOD
 * means the path exists with another method. Any thread; no allocation. */
enum route_result router_match(const struct route *table, size_t n, int method, const char *path,
			       const struct route **out,
			       char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX]);

#endif
