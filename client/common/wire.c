/* wire.c - encode and decode regnotify's nng frames (see wire.h). */
#include "wire.h"

#include <string.h>

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static int path_ok(const char *p, size_t n)
{
	return n > 0 && n <= WIRE_PATH_MAX && p[0] == '/' && memchr(p, '\0', n) == NULL;
}

static int token_ok(const char *t, size_t n)
{
	return n <= WIRE_TOKEN_MAX && (n == 0 || memchr(t, '\0', n) == NULL);
}

size_t wire_req_encode_head(uint8_t *buf, size_t cap, const struct wire_req *req)
{
	size_t tlen = req->token ? req->token_len : 0;
	if (wire_method_name(req->method) == NULL || !path_ok(req->path, req->path_len) ||
	    !token_ok(req->token, tlen))
		return 0;
	size_t need = WIRE_HEADER_LEN + req->path_len + tlen;
	if (cap < need)
		return 0;
	buf[0] = 'R';
	buf[1] = 'N';
	buf[2] = WIRE_VERSION;
	buf[3] = (uint8_t)req->method;
	put16(buf + 4, (unsigned)req->path_len);
	put16(buf + 6, (unsigned)tlen);
	memcpy(buf + WIRE_HEADER_LEN, req->path, req->path_len);
	if (tlen)
		memcpy(buf + WIRE_HEADER_LEN + req->path_len, req->token, tlen);
	return need;
}

static enum wire_result check_head(const uint8_t *p, size_t len)
{
	if (len < WIRE_HEADER_LEN)
		return WIRE_ESHORT;
	if (p[0] != 'R' || p[1] != 'N')
		return WIRE_EMAGIC;
	if (p[2] != WIRE_VERSION)
		return WIRE_EVERSION;
	return WIRE_OK;
}

enum wire_result wire_req_decode(const void *data, size_t len, struct wire_req *out)
{
	const uint8_t *p = data;
	enum wire_result r = check_head(p, len);
	if (r != WIRE_OK)
		return r;
	if (wire_method_name(p[3]) == NULL)
		return WIRE_EMETHOD;
	size_t plen = get16(p + 4), tlen = get16(p + 6);
	if (WIRE_HEADER_LEN + plen + tlen > len)
		return WIRE_ESHORT;
	const char *path = (const char *)p + WIRE_HEADER_LEN;
	if (!path_ok(path, plen))
		return WIRE_EPATH;
	if (!token_ok(path + plen, tlen))
		return WIRE_ETOKEN;
	out->method = (enum wire_method)p[3];
	out->path = path;
	out->path_len = plen;
	out->token = tlen ? path + plen : NULL;
	out->token_len = tlen;
	out->body = path + plen + tlen;
	out->body_len = len - WIRE_HEADER_LEN - plen - tlen;
	if (out->body_len == 0)
		out->body = NULL;
	return WIRE_OK;
}

void wire_rep_encode_head(uint8_t buf[WIRE_HEADER_LEN], int status)
{
	buf[0] = 'R';
	buf[1] = 'N';
	buf[2] = WIRE_VERSION;
	buf[3] = 0;
	put16(buf + 4, (unsigned)status & 0xffffu);
	put16(buf + 6, 0);
}

enum wire_result wire_rep_decode(const void *data, size_t len, struct wire_rep *out)
{
	const uint8_t *p = data;
	enum wire_result r = check_head(p, len);
	if (r != WIRE_OK)
		return r;
	out->status = (int)get16(p + 4);
	out->body = len > WIRE_HEADER_LEN ? (const char *)p + WIRE_HEADER_LEN : NULL;
	out->body_len = len - WIRE_HEADER_LEN;
	return WIRE_OK;
}

const char *wire_strerror(enum wire_result r)
{
	switch (r) {
	case WIRE_OK: return "ok";
	case WIRE_ESHORT: return "frame shorter than its header or declared lengths";
	case WIRE_EMAGIC: return "frame does not start with \"RN\"";
	case WIRE_EVERSION: return "unsupported protocol version";
	case WIRE_EMETHOD: return "unknown method";
	case WIRE_EPATH: return "invalid path";
	case WIRE_ETOKEN: return "invalid access token";
	}
	return "unknown wire error";
}

const char *wire_method_name(int method)
{
	switch (method) {
	case WIRE_GET: return "GET";
	case WIRE_PUT: return "PUT";
	case WIRE_POST: return "POST";
	case WIRE_PATCH: return "PATCH";
	case WIRE_DELETE: return "DELETE";
	default: return NULL;
	}
}
