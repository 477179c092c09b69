/* wire.h - the framing of regnotify's nng request/reply protocol
 * (docs/protocol.md). Pure functions on byte buffers, shared by the broker
 * (nng_server.c) and the client library, unit-tested in test_wire.c.
 *
 * Request:  "RN" ver method u16:path_len u16:token_len  path token body
 * Reply:    "RN" ver 0      u16:status   u16:0          body
 * (integers big-endian; body = JSON text, possibly empty) */
#ifndef RN_WIRE_H
#define RN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION 1
#define WIRE_HEADER_LEN 8
#define WIRE_PATH_MAX 2048
#define WIRE_TOKEN_MAX 4096

/* Same values as the broker router's methods are mapped from. */
enum wire_method {
	WIRE_GET = 1,
	WIRE_PUT = 2,
	WIRE_POST = 3,
	WIRE_PATCH = 4,
	WIRE_DELETE = 5,
};

enum wire_result {
	WIRE_OK = 0,
	WIRE_ESHORT,   /* shorter than its header or than the lengths it declares */
	WIRE_EMAGIC,   /* does not start with "RN" */
	WIRE_EVERSION, /* another protocol version */
	WIRE_EMETHOD,  /* unknown method */
	WIRE_EPATH,    /* empty, too long, not starting with '/', or containing NUL */
	WIRE_ETOKEN,   /* too long or containing NUL */
};

/* A request; every pointer points into the frame (decode) or is borrowed
 * (encode). path includes an optional "?query". */
struct wire_req {
	enum wire_method method;
	const char *path;
	size_t path_len;
	const char *token; /* may be NULL / 0 */
	size_t token_len;
	const char *body; /* may be NULL / 0 */
	size_t body_len;
};

struct wire_rep {
	int status; /* HTTP status of the same call over REST */
	const char *body;
	size_t body_len;
};

/* Writes the request header, path and token (not the body: append it)
 * into buf. Returns the bytes written, or 0 when req is invalid or cap is
 * too small (WIRE_HEADER_LEN + path_len + token_len is enough). */
size_t wire_req_encode_head(uint8_t *buf, size_t cap, const struct wire_req *req);

/* Parses a request frame of len bytes. Returns WIRE_OK and fills out
 * (pointers into data), or the reason it is malformed. */
enum wire_result wire_req_decode(const void *data, size_t len, struct wire_req *out);

/* Writes the 8-byte reply header for status into buf. */
void wire_rep_encode_head(uint8_t buf[WIRE_HEADER_LEN], int status);

/* Parses a reply frame. Returns WIRE_OK and fills out, or why not. */
enum wire_result wire_rep_decode(const void *data, size_t len, struct wire_rep *out);

/* Text of a wire_result, for error messages. */
const char *wire_strerror(enum wire_result r);

/* "GET"... for a method, NULL when unknown. */
const char *wire_method_name(int method);

#endif
