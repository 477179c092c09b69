/* scanner.c - the skeleton of an image scanner on libregnotify: pulls the
 * INSERT events of the gcr topic, "scans" each image, and announces the
 * result the way Container Analysis does, as an occurrence notification
 * {"name","kind","notificationTime"} on container-analysis-occurrences-v1.
 *
 *   scanner [-b URL] [-p PROJECT] [-s SUBSCRIPTION] [-n COUNT]
 *
 * The scan itself is left to you (scan_image below only decides a kind);
 * the point is the loop: synchronous pull, publish the result, then ack, so
 * an event is acknowledged only once its occurrence is stored (a crash in
 * between rescans, never loses). -n stops after COUNT images.
 *
 * Build: cc scanner.c $(pkg-config --cflags --libs regnotify jansson) */
#define _POSIX_C_SOURCE 200809L
#include <regnotify/client.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OCCURRENCES "container-analysis-occurrences-v1"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Your scanner goes here. Returns the occurrence kind to report. */
static const char *scan_image(const char *digest)
{
	(void)digest;
	return "DISCOVERY";
}

static void now_rfc3339(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char sec[32];
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%06ldZ", sec, ts.tv_nsec / 1000);
}

/* Publishes the occurrence of one scanned image. */
static int report(struct rn_client *c, const char *project, const char *digest,
		  const char *message_id)
{
	char when[64], name[512];
	now_rfc3339(when, sizeof(when));
	snprintf(name, sizeof(name), "projects/%s/occurrences/%s", project, message_id);
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", name, "kind", scan_image(digest),
			      "notificationTime", when);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return RN_ENOMEM;
	struct rn_pubmsg m = { .data = text, .len = strlen(text) };
	int rc = rn_publish(c, OCCURRENCES, &m, 1, NULL);
	free(text);
	return rc;
}

static int usage(FILE *out, int rc)
{
	fprintf(out,
		"usage: scanner [-b URL] [-p PROJECT] [-s SUBSCRIPTION] [-n COUNT]\n"
		"  pulls image INSERTs from gcr and publishes an occurrence for each to\n"
		"  " OCCURRENCES "\n"
		"  -b URL           broker (default $REGNOTIFY_BROKER or " RN_DEFAULT_URL ")\n"
		"  -p PROJECT       project (default $REGNOTIFY_PROJECT or " RN_DEFAULT_PROJECT
		")\n"
		"  -s SUBSCRIPTION  subscription on gcr, created if missing (default scanner)\n"
		"  -n COUNT         exit after COUNT images\n");
	return rc;
}

int main(int argc, char **argv)
{
	struct rn_client_opts co;
	rn_client_opts_init(&co);
	co.url = getenv("REGNOTIFY_BROKER");
	co.project = getenv("REGNOTIFY_PROJECT");
	const char *sub = "scanner";
	long count = -1;
	int opt;
	while ((opt = getopt(argc, argv, "b:p:s:n:h")) != -1) {
		switch (opt) {
		case 'b': co.url = optarg; break;
		case 'p': co.project = optarg; break;
		case 's': sub = optarg; break;
		case 'n': {
			char *end;
			count = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || count < 1)
				return usage(stderr, 2);
			break;
		}
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	struct rn_client *c;
	int rc = rn_client_new(&c, &co);
	if (rc) {
		fprintf(stderr, "scanner: %s\n", rn_strerror(rc));
		return 1;
	}
	const char *project = rn_client_project(c);
	rc = rn_topic_create(c, OCCURRENCES, NULL, NULL);
	if (rc == 0 || rc == RN_EEXISTS)
		rc = rn_subscription_create(c, sub, "gcr", NULL, NULL);
	if (rc && rc != RN_EEXISTS) {
		fprintf(stderr, "scanner: setup: %s %s\n", rn_strerror(rc),
			rn_last_error_message());
		rn_client_free(c);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int status = 0;
	while (!stop && count != 0) {
		struct rn_message **msgs;
		size_t n;
		rc = rn_pull(c, sub, 10, 1, &msgs, &n);
		if (rc) {
			fprintf(stderr, "scanner: pull: %s %s\n", rn_strerror(rc),
				rn_last_error_message());
			if (rc == RN_ENOTFOUND) {
				status = 1;
				break;
			}
			sleep(1);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			struct rn_message *m = msgs[i];
			const char *ack = rn_message_ack_id(m);
			size_t len;
			const char *data = rn_message_data(m, &len);
			json_t *ev = json_loadb(data, len, 0, NULL);
			const char *action = json_string_value(json_object_get(ev, "action"));
			const char *digest = json_string_value(json_object_get(ev, "digest"));
			int is_insert = action && digest && strcmp(action, "INSERT") == 0;
			int ok = 1;
			if (is_insert && count != 0) {
				rc = report(c, project, digest, rn_message_id(m));
				if (rc) {
					fprintf(stderr, "scanner: publish: %s %s\n",
						rn_strerror(rc), rn_last_error_message());
					ok = 0;
				} else {
					printf("scanned %s\n", digest);
					fflush(stdout);
					if (count > 0)
						count--;
				}
			} else if (is_insert) {
				ok = 0; /* past -n: leave it for the next run */
			}
			if (ok)
				rc = rn_ack(c, sub, &ack, 1);
			else
				rc = rn_nack(c, sub, &ack, 1);
			if (rc)
				fprintf(stderr, "scanner: ack: %s\n", rn_strerror(rc));
			json_decref(ev);
		}
		rn_messages_free(msgs, n);
	}
	rn_client_free(c);
	return status;
}
