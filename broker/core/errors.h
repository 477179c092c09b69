/* errors.h - the one error enum of the broker, below every transport.
 * Handlers, the model and the store speak enum err; each transport maps it
 * once: HTTP status + Pub/Sub status word (REST and nng, which carries the
 * HTTP status), and the gRPC status code for the coming gRPC endpoint. */
#ifndef RN_ERRORS_H
#define RN_ERRORS_H

/* google.rpc.Code names, plus the two HTTP-only conditions the REST
 * surface answers (405 and 413 have no code of their own). */
enum err {
	ERR_OK = 0,
	ERR_INVALID_ARGUMENT,
	ERR_NOT_FOUND,
	ERR_ALREADY_EXISTS,
	ERR_PERMISSION_DENIED,
	ERR_UNAUTHENTICATED,
	ERR_ABORTED,
	ERR_FAILED_PRECONDITION,
	ERR_RESOURCE_EXHAUSTED,
	ERR_UNAVAILABLE,
	ERR_INTERNAL,
	ERR_UNIMPLEMENTED,
	ERR_METHOD_NOT_ALLOWED, /* HTTP 405, status UNIMPLEMENTED */
	ERR_PAYLOAD_TOO_LARGE,  /* HTTP 413, status INVALID_ARGUMENT */
	ERR_COUNT
};

/* The HTTP status of e (200 for ERR_OK). Any thread. */
int errors_http_status(enum err e);

/* The google.rpc.Code name Pub/Sub writes in "status" ("NOT_FOUND"). */
const char *errors_status_name(enum err e);

/* The numeric google.rpc.Code (gRPC status) of e: 0 OK, 3 INVALID_ARGUMENT... */
int errors_grpc_code(enum err e);

#endif
