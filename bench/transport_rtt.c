/* transport_rtt.c - the round-trip floor of the library's transport: one
 * 100-byte request and its echo, N times, over nng 1.5 req0/rep0 (tcp://
 * and ipc://) and over a plain TCP socket (TCP_NODELAY), each echo served
 * by a thread of this process (docs/performance.md "Where the nng rows
 * stand"). No broker: what the transport alone costs per round trip.
 *   transport_rtt [-n N]      (default 20000)
 * Prints one line per transport: p50, p99, p999 in microseconds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SIZE 100

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *name, double *lat, int n)
{
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("id=rtt.%s n=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f\n", name, n, lat[n / 2] * 1e6,
	       lat[(int)(n * 0.99)] * 1e6, lat[(int)(n * 0.999)] * 1e6);
}

/* ---- nng ---------------------------------------------------------------- */

static void *nng_echo(void *arg)
{
	nng_socket *s = arg;
	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(*s, &m, 0) != 0)
			break;
		if (nng_sendmsg(*s, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

static int run_nng(const char *name, const char *url, int n)
{
	nng_socket srv, cli;
	nng_listener l;
	nng_sockaddr sa;
	pthread_t t;
	char dial[128];
	if (nng_rep0_open(&srv) != 0 || nng_listener_create(&l, srv, url) != 0 ||
	    nng_listener_start(l, 0) != 0 || nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) != 0) {
		fprintf(stderr, "nng: cannot listen on %s\n", url);
		return 1;
	}
	/* tcp://127.0.0.1:0 got a free port: dial that one. */
	if (sa.s_family == NNG_AF_INET)
		snprintf(dial, sizeof(dial), "tcp://127.0.0.1:%u",
			 (unsigned)ntohs(sa.s_in.sa_port));
	else
		snprintf(dial, sizeof(dial), "%s", url);
	pthread_create(&t, NULL, nng_echo, &srv);
	if (nng_req0_open(&cli) != 0 || nng_dial(cli, dial, NULL, 0) != 0) {
		fprintf(stderr, "nng: cannot dial %s\n", dial);
		return 1;
	}
	double *lat = malloc(sizeof(*lat) * (size_t)n);
	for (int i = -n / 10; i < n; i++) { /* a tenth as warm-up */
		nng_msg *m;
		double t0 = now_s();
		if (nng_msg_alloc(&m, SIZE) != 0 || nng_sendmsg(cli, m, 0) != 0 ||
		    nng_recvmsg(cli, &m, 0) != 0) {
			fprintf(stderr, "nng: round trip failed\n");
			return 1;
		}
		nng_msg_free(m);
		if (i >= 0)
			lat[i] = now_s() - t0;
	}
	report(name, lat, n);
	free(lat);
	nng_close(cli);
	nng_close(srv);
	pthread_join(t, NULL);
	return 0;
}

/* ---- TCP ---------------------------------------------------------------- */

static void *tcp_echo(void *arg)
{
	int lfd = *(int *)arg, one = 1;
	int c = accept(lfd, NULL, NULL);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char b[SIZE];
	ssize_t r;
	while ((r = read(c, b, sizeof(b))) > 0)
		if (write(c, b, (size_t)r) != r)
			break;
	close(c);
	return NULL;
}

static int run_tcp(int n)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("tcp listen");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, tcp_echo, &lfd);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("tcp connect");
		return 1;
	}
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double *lat = malloc(sizeof(*lat) * (size_t)n);
	char b[SIZE] = { 0 };
	for (int i = -n / 10; i < n; i++) {
		double t0 = now_s();
		if (write(c, b, sizeof(b)) != (ssize_t)sizeof(b))
			return 1;
		size_t got = 0;
		while (got < sizeof(b)) {
			ssize_t r = read(c, b + got, sizeof(b) - got);
			if (r <= 0)
				return 1;
			got += (size_t)r;
		}
		if (i >= 0)
			lat[i] = now_s() - t0;
	}
	report("tcp", lat, n);
	free(lat);
	close(c);
	pthread_join(t, NULL);
	close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 20000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			n = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: transport_rtt [-n N]\n");
			return 2;
		}
	}
	if (n < 10) {
		fprintf(stderr, "transport_rtt: -n must be at least 10\n");
		return 2;
	}
	char ipc[64];
	snprintf(ipc, sizeof(ipc), "ipc:///tmp/transport_rtt.%d", (int)getpid());
	int rc = run_tcp(n);
	rc |= run_nng("nng.tcp", "tcp://127.0.0.1:0", n);
	rc |= run_nng("nng.ipc", ipc, n);
	unlink(ipc + 6);
	return rc;
}
