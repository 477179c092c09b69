/* grpc_rpc.h - the gRPC methods the endpoint serves, each transcoded to
 * the REST route its google.api.http rule names (pubsub.proto,
 * iam_policy.proto): the request message's JSON (pbjson.h) becomes the
 * body ("*") or the query, its resource-name fields the path. So a gRPC
 * call runs the same gate and handler as the REST call (docs/grpc.md).
 * Pure: any thread. */
#ifndef RN_GRPC_RPC_H
#define RN_GRPC_RPC_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct grpc_rpc {
	const char *path; /* "/google.pubsub.v1.Publisher/CreateTopic" */
	int method;       /* router.h M_* */
	/* "/v1/{topic=PATTERN}:publish": JSON field paths in braces with the
	 * pattern of the rule their value must match (literal segments, a
	 * star for one segment; '|' separates alternatives) */
	const char *tmpl;
	int body; /* 1: the request's JSON is the body (rule body "*") */
	const ProtobufCMessageDescriptor *request, *response;
	int streaming; /* StreamingPull: bidirectional, not transcoded */
};

/* Every method (n of them). */
const struct grpc_rpc *grpc_rpc_table(size_t *n);

/* The method of a gRPC :path, or NULL (UNIMPLEMENTED). */
const struct grpc_rpc *grpc_rpc_find(const char *path);

/* The REST "path?query" of request JSON req under r's rule into buf: the
 * template's fields (each matching its pattern, so a topic's method cannot
 * reach a subscription's route; percent-encoded but for '/'), then - without a body -
 * the request's other scalar fields as query parameters ("pageSize=10").
 * Returns 0, or -1 with err ("topic" is empty, the name is too long). */
int grpc_rpc_rest_path(const struct grpc_rpc *r, json_t *req, char *buf, size_t n, char *err,
		       size_t errn);

/* A path that r's rule could produce (each pattern star an "x"), to
 * look its route up: 0, or -1 when it does not fit. */
int grpc_rpc_probe_path(const struct grpc_rpc *r, char *buf, size_t n);

/* Takes the fields the template binds out of req (the rule's body "*" is
 * every field the path does not bind): "topic" of a publish, "name"
 * inside "subscription" of an update. */
void grpc_rpc_strip_path_fields(const struct grpc_rpc *r, json_t *req);

#endif
