/* nodelay_shim.so: LD_PRELOAD diagnostic, NOT part of the broker.
 * Sets TCP_NODELAY on every socket returned by accept()/accept4(), i.e. on
 * regnotifyd's HTTP connections, without touching broker code. run_bench.sh
 * uses it for the "what-if" rows (ids *.nodelay) that show how much of the
 * broker's throughput/latency is lost to Nagle's algorithm + delayed ACK on
 * multi-write responses (evhttp writes 16 KB per write and never sets
 * TCP_NODELAY). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd)
{
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int accept(int s, struct sockaddr *a, socklen_t *l)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
	int fd = real(s, a, l);
	nodelay(fd);
	return fd;
}

int accept4(int s, struct sockaddr *a, socklen_t *l, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT,
										"accept4");
	int fd = real(s, a, l, flags);
	nodelay(fd);
	return fd;
}
