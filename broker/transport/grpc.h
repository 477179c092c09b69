/* grpc.h - the gRPC endpoint (h2c; docs/grpc.md): google.pubsub.v1
 * Publisher and Subscriber and google.iam.v1.IAMPolicy, each unary call
 * transcoded to its REST route (grpc_rpc.h) for the same gate and
 * handlers. nghttp2 on the broker's loop; no threads. */
#ifndef RN_GRPC_H
#define RN_GRPC_H

#include <event2/bufferevent.h>
#include <event2/util.h>
#include <stddef.h>
#include <sys/socket.h>

struct broker;
struct grpc_srv;

/* Sets b->grpc, listens on b->cfg.grpc_host:grpc_port (nothing more
 * when the port is 0) and registers the module (quiesce: StreamingPulls
 * end UNAVAILABLE, GOAWAY; stop: close and free). Returns 0, or -1 after
 * logging why. Loop thread, before the loop runs and before http_start. */
int grpc_start(struct broker *b);

/* evhttp's bufferevent callback for the REST port (arg: b->grpc): a
 * connection that opens with the HTTP/2 preface is served as gRPC, any
 * other as HTTP/1.1 by evhttp. */
struct bufferevent *grpc_h2c_bev(struct event_base *base, void *arg);

#endif
