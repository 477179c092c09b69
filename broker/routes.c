/* routes.c - the route table: method, path pattern, handler, body limit. */
#include "api.h"
#include "router.h"

#define KB 1024u
#define ADMIN_BODY (1024u * KB)
/* 10 MB of message data is ~13.4 MB once base64-encoded in JSON. */
#define PUBLISH_BODY (16u * 1024 * KB)

const struct route router_table[] = {
    {M_GET, "/healthz", api_health, 0, "healthz"},
    {M_GET, "/readyz", api_ready, 0, "readyz"},
    {M_GET, "/v1/projects/{}/topics", api_topics_list, 0, "topics.list"},
    {M_PUT, "/v1/projects/{}/topics/{}", api_topics_create, ADMIN_BODY, "topics.create"},
    {M_GET, "/v1/projects/{}/topics/{}", api_topics_get, 0, "topics.get"},
    {M_PATCH, "/v1/projects/{}/topics/{}", api_topics_patch, ADMIN_BODY, "topics.patch"},
    {M_DELETE, "/v1/projects/{}/topics/{}", api_topics_delete, 0, "topics.delete"},
    {M_POST, "/v1/projects/{}/topics/{}:publish", api_topics_publish, PUBLISH_BODY,
     "topics.publish"},
    {M_GET, "/v1/projects/{}/topics/{}/subscriptions", api_topics_subscriptions, 0,
     "topics.subscriptions.list"},
    {M_GET, "/v1/projects/{}/subscriptions", api_subs_list, 0, "subscriptions.list"},
    {M_PUT, "/v1/projects/{}/subscriptions/{}", api_subs_create, ADMIN_BODY,
     "subscriptions.create"},
    {M_GET, "/v1/projects/{}/subscriptions/{}", api_subs_get, 0, "subscriptions.get"},
    {M_PATCH, "/v1/projects/{}/subscriptions/{}", api_subs_patch, ADMIN_BODY,
     "subscriptions.patch"},
    {M_DELETE, "/v1/projects/{}/subscriptions/{}", api_subs_delete, 0,
     "subscriptions.delete"},
    {M_POST, "/v1/projects/{}/subscriptions/{}:pull", api_subs_pull, ADMIN_BODY,
     "subscriptions.pull"},
    {M_POST, "/v1/projects/{}/subscriptions/{}:acknowledge", api_subs_ack, PUBLISH_BODY,
     "subscriptions.acknowledge"},
    {M_POST, "/v1/projects/{}/subscriptions/{}:modifyAckDeadline", api_subs_modack,
     PUBLISH_BODY, "subscriptions.modifyAckDeadline"},
};

const size_t router_table_len = sizeof(router_table) / sizeof(router_table[0]);
