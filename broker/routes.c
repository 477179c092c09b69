/* routes.c - the route table: method, path pattern, handler, body limit. */
#include "api.h"
#include "ingest.h"
#include "metrics.h"
#include "router.h"

#define KB 1024u
#define ADMIN_BODY (1024u * KB)
/* 10 MB of message data is ~13.4 MB once base64-encoded in JSON. */
#define INGEST_BODY (4u * 1024 * KB)
#define PUBLISH_BODY (16u * 1024 * KB)

const struct route router_table[] = {
	{ M_GET, "/healthz", api_health, 0, "healthz", 0 },
	{ M_GET, "/readyz", api_ready, 0, "readyz", 0 },
	{ M_GET, "/metrics", metrics_serve, 0, "metrics", ROUTE_HTTP_ONLY },
	{ M_POST, "/v1/registry/distribution", ingest_distribution, INGEST_BODY,
	  "registry.distribution", ROUTE_INGEST_AUTH | ROUTE_HTTP_ONLY },
	{ M_POST, "/v1/registry/events", ingest_native, INGEST_BODY, "registry.events",
	  ROUTE_INGEST_AUTH | ROUTE_HTTP_ONLY },
	{ M_GET, "/v1/projects/{}/images:recentlyPulled", ingest_recently_pulled, 0,
	  "images.recentlyPulled", 0 },
	{ M_GET, "/v1/projects/{}/topics", api_topics_list, 0, "topics.list", 0 },
	{ M_PUT, "/v1/projects/{}/topics/{}", api_topics_create, ADMIN_BODY, "topics.create", 0 },
	{ M_GET, "/v1/projects/{}/topics/{}", api_topics_get, 0, "topics.get", 0 },
	{ M_PATCH, "/v1/projects/{}/topics/{}", api_topics_patch, ADMIN_BODY, "topics.patch", 0 },
	{ M_DELETE, "/v1/projects/{}/topics/{}", api_topics_delete, 0, "topics.delete", 0 },
	{ M_POST, "/v1/projects/{}/topics/{}:publish", api_topics_publish, PUBLISH_BODY,
	  "topics.publish", ROUTE_RAW_BODY },
	{ M_GET, "/v1/projects/{}/topics/{}/subscriptions", api_topics_subscriptions, 0,
	  "topics.subscriptions.list", 0 },
	{ M_GET, "/v1/projects/{}/subscriptions", api_subs_list, 0, "subscriptions.list", 0 },
	{ M_PUT, "/v1/projects/{}/subscriptions/{}", api_subs_create, ADMIN_BODY,
	  "subscriptions.create", 0 },
	{ M_GET, "/v1/projects/{}/subscriptions/{}", api_subs_get, 0, "subscriptions.get", 0 },
	{ M_PATCH, "/v1/projects/{}/subscriptions/{}", api_subs_patch, ADMIN_BODY,
	  "subscriptions.patch", 0 },
	{ M_DELETE, "/v1/projects/{}/subscriptions/{}", api_subs_delete, 0, "subscriptions.delete",
	  0 },
	{ M_POST, "/v1/projects/{}/subscriptions/{}:pull", api_subs_pull, ADMIN_BODY,
	  "subscriptions.pull", 0 },
	{ M_POST, "/v1/projects/{}/subscriptions/{}:acknowledge", api_subs_ack, PUBLISH_BODY,
	  "subscriptions.acknowledge", 0 },
	{ M_POST, "/v1/projects/{}/subscriptions/{}:modifyAckDeadline", api_subs_modack,
	  PUBLISH_BODY, "subscriptions.modifyAckDeadline", 0 },
	{ M_POST, "/v1/projects/{}/subscriptions/{}:modifyPushConfig", api_subs_modify_push,
	  ADMIN_BODY, "subscriptions.modifyPushConfig", 0 },
	{ M_POST, "/v1/projects/{}/subscriptions/{}:seek", api_subs_seek, ADMIN_BODY,
	  "subscriptions.seek", 0 },
};

const size_t router_table_len = sizeof(router_table) / sizeof(router_table[0]);
