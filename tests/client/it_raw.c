/* it_raw: sends hand-made frames to a broker's nng listener, to test how
 * the broker answers frames the library would never send.
 *
 *   it_raw URL CASE
 *
 * CASE: version (a request of protocol version 9), short (3 bytes), magic
 * (wrong magic), method (method 42), healthz (GET /healthz), metrics (GET
 * /metrics), ingest (POST /v1/registry/events). Prints
 * "status=N version=V body=..." of the reply, or "noreply=1" when none came
 * within 5 s. Exit 0 unless the arguments or nng itself fail. */
#include "wire.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <string.h>

static size_t frame(uint8_t *buf, size_t cap, int method, const char *path, const char *body)
{
	struct wire_req r = { .method = WIRE_GET, .path = path, .path_len = strlen(path) };
	size_t n = wire_req_encode_head(buf, cap, &r);
	buf[3] = (uint8_t)method;
	size_t bl = body ? strlen(body) : 0;
	if (n + bl > cap)
		return 0;
	if (bl)
		memcpy(buf + n, body, bl);
	return n + bl;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr,
			"usage: it_raw URL version|short|magic|method|healthz|metrics|ingest\n");
		return 2;
	}
	uint8_t buf[1024];
	size_t n;
	const char *c = argv[2];
	if (strcmp(c, "version") == 0) {
		n = frame(buf, sizeof(buf), WIRE_GET, "/healthz", NULL);
		buf[2] = 9;
	} else if (strcmp(c, "short") == 0) {
		n = 3;
		memcpy(buf, "RN\1", 3);
	} else if (strcmp(c, "magic") == 0) {
		n = frame(buf, sizeof(buf), WIRE_GET, "/healthz", NULL);
		buf[0] = 'X';
	} else if (strcmp(c, "method") == 0) {
		n = frame(buf, sizeof(buf), 42, "/healthz", NULL);
	} else if (strcmp(c, "healthz") == 0) {
		n = frame(buf, sizeof(buf), WIRE_GET, "/healthz", NULL);
	} else if (strcmp(c, "metrics") == 0) {
		n = frame(buf, sizeof(buf), WIRE_GET, "/metrics", NULL);
	} else if (strcmp(c, "ingest") == 0) {
		n = frame(buf, sizeof(buf), WIRE_POST, "/v1/registry/events", "{\"events\":[]}");
	} else {
		fprintf(stderr, "it_raw: unknown case %s\n", c);
		return 2;
	}
	nng_socket s;
	int rv = nng_req0_open(&s);
	if (rv == 0)
		rv = nng_dial(s, argv[1], NULL, 0);
	if (rv != 0) {
		fprintf(stderr, "it_raw: %s: %s\n", argv[1], nng_strerror(rv));
		return 1;
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	if ((rv = nng_send(s, buf, n, 0)) != 0) {
		fprintf(stderr, "it_raw: send: %s\n", nng_strerror(rv));
		return 1;
	}
	nng_msg *m;
	if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
		printf("noreply=1 err=%d\n", rv);
		nng_close(s);
		return 0;
	}
	const uint8_t *p = nng_msg_body(m);
	size_t len = nng_msg_len(m);
	if (len < WIRE_HEADER_LEN) {
		printf("short_reply=%zu\n", len);
	} else {
		printf("status=%u version=%u\n", (unsigned)(p[4] << 8 | p[5]), (unsigned)p[2]);
		printf("body=%.*s\n", (int)(len - WIRE_HEADER_LEN),
		       (const char *)p + WIRE_HEADER_LEN);
	}
	nng_msg_free(m);
	nng_close(s);
	return 0;
}
