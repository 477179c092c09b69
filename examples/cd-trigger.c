/* cd-trigger.c - run a command for every image pushed to a matching
 * repository/tag: the smallest useful CD hook on libregnotify.
 *
 *   cd-trigger [-b URL] [-p PROJECT] [-s SUBSCRIPTION] [-t TOPIC] PATTERN -- CMD [ARG...]
 *
 * PATTERN is a shell glob (fnmatch) over the image's tag reference,
 * "host/repo:tag", e.g. 'registry.example.com/team/app:v*'. For each INSERT
 * whose tag matches, CMD runs with IMAGE_TAG, IMAGE_DIGEST and IMAGE_ACTION in
 * its environment; exit status 0 acks the event, anything else nacks it (it
 * is redelivered, so a failed deploy is retried). The subscription is
 * created on TOPIC (default gcr) if it does not exist, so events pushed while
 * cd-trigger is down are not missed. Stop with Ctrl-C.
 *
 * Build: cc cd-trigger.c $(pkg-config --cflags --libs regnotify jansson) */
#define _POSIX_C_SOURCE 200809L
#include <regnotify/client.h>

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct trigger {
	const char *pattern;
	char **cmd;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Runs cmd with the image in its environment; returns its exit status. */
static int run(char **cmd, const char *action, const char *tag, const char *digest)
{
	setenv("IMAGE_ACTION", action, 1);
	setenv("IMAGE_TAG", tag, 1);
	setenv("IMAGE_DIGEST", digest, 1);
	pid_t pid;
	int rc = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ);
	if (rc != 0) {
		fprintf(stderr, "cd-trigger: cannot run %s: %s\n", cmd[0], strerror(rc));
		return 127;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One message at a time (max_outstanding_messages 1): deploys run in
 * order, and the callback may block as long as a deploy takes, since the
 * library extends the lease meanwhile. */
static void on_message(void *arg, struct rn_message *m)
{
	struct trigger *t = arg;
	size_t len;
	const char *data = rn_message_data(m, &len);
	json_t *ev = json_loadb(data, len, 0, NULL);
	const char *action = json_string_value(json_object_get(ev, "action"));
	const char *tag = json_string_value(json_object_get(ev, "tag"));
	const char *digest = json_string_value(json_object_get(ev, "digest"));
	if (action == NULL || strcmp(action, "INSERT") != 0 || tag == NULL ||
	    fnmatch(t->pattern, tag, 0) != 0) {
		rn_message_ack(m); /* not ours: done with it */
		json_decref(ev);
		return;
	}
	fprintf(stderr, "cd-trigger: %s %s: running %s\n", action, tag, t->cmd[0]);
	int rc = run(t->cmd, action, tag, digest ? digest : "");
	if (rc == 0) {
		rn_message_ack(m);
	} else {
		fprintf(stderr, "cd-trigger: %s exited with %d; the event will be retried\n",
			t->cmd[0], rc);
		rn_message_nack(m);
	}
	json_decref(ev);
}

static void on_status(void *arg, int err)
{
	(void)arg;
	if (err)
		fprintf(stderr, "cd-trigger: receiving interrupted (%s); retrying\n",
			rn_strerror(err));
}

static int usage(FILE *out, int rc)
{
	fprintf(out, "usage: cd-trigger [-b URL] [-p PROJECT] [-s SUBSCRIPTION] [-t TOPIC] "
		     "PATTERN -- CMD [ARG...]\n"
		     "  runs CMD for each pushed image whose host/repo:tag matches the glob "
		     "PATTERN\n"
		     "  -b URL           broker (default $REGNOTIFY_BROKER or " RN_DEFAULT_URL ")\n"
		     "  -p PROJECT       project (default $REGNOTIFY_PROJECT or " RN_DEFAULT_PROJECT
		     ")\n"
		     "  -s SUBSCRIPTION  subscription, created if missing (default cd-trigger)\n"
		     "  -t TOPIC         topic of a new subscription (default gcr)\n");
	return rc;
}

int main(int argc, char **argv)
{
	struct rn_client_opts co;
	rn_client_opts_init(&co);
	co.url = getenv("REGNOTIFY_BROKER");
	co.project = getenv("REGNOTIFY_PROJECT");
	const char *sub = "cd-trigger", *topic = "gcr";
	int opt;
	/* '+': options end at PATTERN, so CMD's own options stay CMD's. */
	while ((opt = getopt(argc, argv, "+b:p:s:t:h")) != -1) {
		switch (opt) {
		case 'b': co.url = optarg; break;
		case 'p': co.project = optarg; break;
		case 's': sub = optarg; break;
		case 't': topic = optarg; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	if (argc - optind < 2)
		return usage(stderr, 2);
	struct trigger t = { argv[optind], argv + optind + 1 };
	if (strcmp(t.cmd[0], "--") == 0)
		t.cmd++;
	if (t.cmd[0] == NULL)
		return usage(stderr, 2);

	struct rn_client *c;
	int rc = rn_client_new(&c, &co);
	if (rc) {
		fprintf(stderr, "cd-trigger: %s\n", rn_strerror(rc));
		return 1;
	}
	rc = rn_subscription_create(c, sub, topic, NULL, NULL);
	if (rc && rc != RN_EEXISTS) {
		fprintf(stderr, "cd-trigger: subscription %s: %s %s\n", sub, rn_strerror(rc),
			rn_last_error_message());
		rn_client_free(c);
		return 1;
	}
	struct rn_subscriber_opts so;
	rn_subscriber_opts_init(&so);
	so.max_outstanding_messages = 1;
	so.threads = 1;
	so.status = on_status;
	struct rn_subscriber *s;
	rc = rn_subscriber_new(&s, c, sub, &so, on_message, &t);
	if (rc) {
		fprintf(stderr, "cd-trigger: %s\n", rn_strerror(rc));
		rn_client_free(c);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "cd-trigger: waiting for pushes matching %s on %s\n", t.pattern, sub);
	while (!stop)
		pause();
	rn_subscriber_free(s);
	rn_client_free(c);
	return 0;
}
