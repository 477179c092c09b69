/* Unit tests (broker/store alone) against a real redis-server on a free
 * port in a temp dir: the link becomes ready, the store's commands create a
 * topic and a subscription, publish, pull (through the one decoder), ack,
 * and every script declares its KEYS. No handler, no transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "link.h"
#include "store.h"
#include "subscription.h"

static struct broker b;
static pid_t redis_pid;
static char dir[] = "/tmp/rn-test-store-XXXXXX";

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

/* Runs the loop until *flag is set (at most ~5 s). */
static void loop_until(int *flag)
{
	struct timeval tv = { 0, 10000 };
	for (int i = 0; i < 500 && !*flag; i++) {
		event_base_loopexit(b.base, &tv);
		event_base_dispatch(b.base);
	}
	assert_true(*flag);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	int port = free_port();
	char ports[16];
	snprintf(ports, sizeof(ports), "%d", port);
	redis_pid = fork();
	if (redis_pid == 0) {
		execlp("redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1",
		       "--dir", dir, "--save", "", "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	b.base = event_base_new();
	snprintf(b.cfg.redis_host, sizeof(b.cfg.redis_host), "127.0.0.1");
	b.cfg.redis_port = port;
	b.link = link_new(&b);
	struct timeval tv = { 0, 20000 };
	for (int i = 0; i < 300 && !link_ready(b.link); i++) {
		event_base_loopexit(b.base, &tv);
		event_base_dispatch(b.base);
	}
	return link_ready(b.link) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	link_free(b.link);
	event_base_free(b.base);
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct {
	int done;
	char status[32];
	char text[512];
	long long n;
	int split; /* the reply was a split pull's (XREADGROUP entries) */
} got;

static void on_status(redisReply *r, void *arg)
{
	(void)arg;
	const char *st = store_status(r);
	snprintf(got.status, sizeof(got.status), "%s", st ? st : "(none)");
	got.done = 1;
}

static void on_string(redisReply *r, void *arg)
{
	(void)arg;
	snprintf(got.text, sizeof(got.text), "%s",
		 r && r->type == REDIS_REPLY_STRING ? r->str : "(nil)");
	got.done = 1;
}

static void on_published(void *arg, redisReply *failed, int not_found, redisReply **ids, size_t n)
{
	(void)arg;
	(void)failed;
	got.n = ids ? (long long)n : not_found ? -2 : -1;
	if (ids && n && ids[0]->type == REDIS_REPLY_STRING)
		snprintf(got.text, sizeof(got.text), "%s", ids[0]->str);
	else
		snprintf(got.text, sizeof(got.text), "(nil)");
	got.done = 1;
}

static char pulled_id[64];

static void on_pulled(redisReply *r, void *arg)
{
	(void)arg;
	struct store_pulled p;
	enum err e = store_pulled_decode(r, &p);
	got.n = e == ERR_OK ? (long long)p.n : -(long long)e;
	got.split = e == ERR_OK && p.split;
	if (e == ERR_OK && p.n >= 1) {
		struct store_msg m;
		store_pulled_msg(&p, p.n - 1, &m);
		snprintf(got.text, sizeof(got.text), "%.*s|%.*s|%ld|%.*s", (int)m.data_len, m.data,
			 (int)m.attrs_len, m.attrs, m.attempt, (int)p.topic_len, p.topic);
		snprintf(pulled_id, sizeof(pulled_id), "%.*s", (int)m.id_len, m.id);
	}
	got.done = 1;
}

#define RUN(call)                                                                                  \
	do {                                                                                       \
		memset(&got, 0, sizeof(got));                                                      \
		assert_int_equal(call, 0);                                                         \
		loop_until(&got.done);                                                             \
	} while (0)

static void topic_sub_publish_pull_ack(void **state)
{
	(void)state;
	RUN(store_topic_create(b.link, "p", "top", "{\"name\":\"projects/p/topics/top\"}", 0,
			       broker_now_ms(), on_status, NULL));
	assert_string_equal(got.status, "OK");
	RUN(store_topic_create(b.link, "p", "top", "{}", 0, broker_now_ms(), on_status, NULL));
	assert_string_equal(got.status, "ALREADY_EXISTS");
	RUN(store_topic_get(b.link, "p", "top", on_string, NULL));
	assert_string_equal(got.text, "{\"name\":\"projects/p/topics/top\"}");
	RUN(store_topic_get(b.link, "p", "none", on_string, NULL));
	assert_string_equal(got.text, "(nil)");

	struct sub_cfg cfg = { .ack_deadline_s = 10,
			       .retention_ms = 600000,
			       .expiration_ttl_ms = -1 };
	snprintf(cfg.topic, sizeof(cfg.topic), "projects/p/topics/top");
	RUN(store_sub_create(b.link, "p", "sub", "{}", &cfg, NULL, NULL, broker_now_ms(), on_status,
			     NULL));
	assert_string_equal(got.status, "OK");
	snprintf(cfg.topic, sizeof(cfg.topic), "projects/p/topics/missing");
	RUN(store_sub_create(b.link, "p", "sub2", "{}", &cfg, NULL, NULL, broker_now_ms(),
			     on_status, NULL));
	assert_string_equal(got.status, "TOPIC_NOT_FOUND");

	struct store_msg_in m = { (const unsigned char *)"hello", 5, "{\"k\":\"v\"}", 9, NULL, 0 };
	RUN(store_publish(b.link, "p", "top", &m, 1, on_published, NULL));
	assert_int_equal(got.n, 1);
	assert_non_null(strchr(got.text, '-')); /* a stream entry id */
	RUN(store_publish(b.link, "p", "missing", &m, 1, on_published, NULL));
	assert_int_equal(got.n, -2); /* NOT_FOUND: no topic */

	RUN(store_pull(b.link, "p/sub", broker_now_ms(), 10, 0, 0, on_pulled, NULL));
	assert_int_equal(got.n, 1);
	assert_string_equal(got.text, "hello|{\"k\":\"v\"}|1|p/top");
	RUN(store_pull(b.link, "p/nosub", broker_now_ms(), 10, 0, 0, on_pulled, NULL));
	assert_int_equal(got.n, -(long long)ERR_NOT_FOUND);

	const char *ids[] = { pulled_id };
	const char *attempts[] = { "1" };
	RUN(store_ack(b.link, "p/sub", broker_now_ms(), ids, attempts, 1, on_status, NULL));
	assert_string_equal(got.status, "OK");
	/* Acked: an expired lease would have come back; nothing does. */
	RUN(store_pull(b.link, "p/sub", broker_now_ms() + 60000, 10, 0, 0, on_pulled, NULL));
	assert_int_equal(got.n, 0);
	/* A backlog: once a whole pull returned 100 or more, the store reads
	 * p/sub's new entries itself (MULTI, XREADGROUP, pull.lua, EXEC). */
	static char texts[150][8];
	struct store_msg_in many[150];
	for (int i = 0; i < 150; i++) {
		snprintf(texts[i], sizeof(texts[i]), "m%03d", i);
		many[i] = (struct store_msg_in){
			(const unsigned char *)texts[i], 4, NULL, 0, NULL, 0
		};
	}
	RUN(store_publish(b.link, "p", "top", many, 150, on_published, NULL));
	RUN(store_pull(b.link, "p/sub", broker_now_ms(), 1000, 0, 0, on_pulled, NULL));
	assert_int_equal(got.n, 150);
	assert_false(got.split);
	many[149].attrs = "{\"k\":\"w\"}";
	many[149].attrs_len = 9;
	RUN(store_publish(b.link, "p", "top", many, 150, on_published, NULL));
	RUN(store_pull(b.link, "p/sub", broker_now_ms(), 1000, 0, 0, on_pulled, NULL));
	assert_true(got.split);
	assert_int_equal(got.n, 150);
	assert_string_equal(got.text, "m149|{\"k\":\"w\"}|1|p/top");
	/* Their leases were set by the script: all 300 come back once due, as
	 * redeliveries (attempt 2) in the script's part of the reply. */
	RUN(store_pull(b.link, "p/sub", broker_now_ms() + 60000, 1000, 0, 0, on_pulled, NULL));
	assert_true(got.split);
	assert_int_equal(got.n, 300);
	assert_int_not_equal(strstr(got.text, "|2|p/top"), NULL);
	/* Nothing new, nothing due: a split pull that reads nothing. */
	RUN(store_pull(b.link, "p/sub", broker_now_ms(), 1000, 0, 0, on_pulled, NULL));
	assert_int_equal(got.n, 0);

	RUN(store_topic_delete(b.link, "p", "top", on_status, NULL));
	assert_string_equal(got.status, "OK");
	RUN(store_sub_delete(b.link, "p", "sub", on_status, NULL));
	assert_string_equal(got.status, "OK");
	RUN(store_sub_delete(b.link, "p", "sub", on_status, NULL));
	assert_string_equal(got.status, "NOT_FOUND");
}

static void scripts_declare_keys(void **state)
{
	(void)state;
	for (int i = 0; i < SCRIPT_COUNT; i++) {
		assert_non_null(scripts[i].name);
		assert_true(scripts[i].nkeys != 0); /* numkeys > 0: routable in a cluster */
		/* ...and the script reads what it declares (an audited one
		 * at least its audit stream, through the prelude's audit_add). */
		const char *decl = strstr(scripts[i].source, "\n-- KEYS: ");
		assert_non_null(decl);
		const char *body = strchr(decl + 1, '\n');
		assert_non_null(body);
		if (strstr(body, "KEYS") == NULL &&
		    !(scripts[i].audited && strstr(body, "audit_add()")))
			fail_msg("%s declares KEYS but never reads them", scripts[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scripts_declare_keys),
		cmocka_unit_test(topic_sub_publish_pull_ack),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
