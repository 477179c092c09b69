/* errors.c - the mapping of enum err to HTTP, Pub/Sub and gRPC, in one table. */
#include "errors.h"

static const struct {
	int http;
	int grpc;
	const char *name;
} table[ERR_COUNT] = {
	[ERR_OK] = { 200, 0, "OK" },
	[ERR_INVALID_ARGUMENT] = { 400, 3, "INVALID_ARGUMENT" },
	[ERR_NOT_FOUND] = { 404, 5, "NOT_FOUND" },
	[ERR_ALREADY_EXISTS] = { 409, 6, "ALREADY_EXISTS" },
	[ERR_PERMISSION_DENIED] = { 403, 7, "PERMISSION_DENIED" },
	[ERR_UNAUTHENTICATED] = { 401, 16, "UNAUTHENTICATED" },
	[ERR_ABORTED] = { 409, 10, "ABORTED" },
	[ERR_FAILED_PRECONDITION] = { 400, 9, "FAILED_PRECONDITION" },
	[ERR_RESOURCE_EXHAUSTED] = { 429, 8, "RESOURCE_EXHAUSTED" },
	[ERR_UNAVAILABLE] = { 503, 14, "UNAVAILABLE" },
	[ERR_INTERNAL] = { 500, 13, "INTERNAL" },
	[ERR_UNIMPLEMENTED] = { 501, 12, "UNIMPLEMENTED" },
	[ERR_METHOD_NOT_ALLOWED] = { 405, 12, "UNIMPLEMENTED" },
	[ERR_PAYLOAD_TOO_LARGE] = { 413, 3, "INVALID_ARGUMENT" },
};

static enum err valid(enum err e)
{
	return (unsigned)e < ERR_COUNT ? e : ERR_INTERNAL;
}

int errors_http_status(enum err e)
{
	return table[valid(e)].http;
}

const char *errors_status_name(enum err e)
{
	return table[valid(e)].name;
}

int errors_grpc_code(enum err e)
{
	return table[valid(e)].grpc;
}
