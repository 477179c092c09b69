/* cli_tail.c - regnotify tail: print a topic's messages as they arrive.
 *
 * tail creates an ephemeral subscription (tail-<hex>, labelled
 * regnotify-ephemeral=true, expirationPolicy ttl 300 s so that it goes
 * away by itself even when tail is killed), optionally seeks it back,
 * and runs the library's streaming subscriber on it with one callback
 * thread so that messages print in arrival order. The main thread only
 * waits for SIGINT/SIGTERM (blocked in every thread, taken with
 * sigtimedwait) or for the callback to report that -n N messages were
 * printed, then stops the subscriber and deletes the subscription. */
#include "cli.h"
#include "filter.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char tail_help[] =
	"Usage: regnotify tail TOPIC [OPTIONS]\n"
	"       regnotify tail --subscription SUB [OPTIONS]\n"
	"Print the messages of a topic as they arrive, until interrupted (Ctrl-C).\n"
	"\n"
	"tail creates an ephemeral subscription (tail-<hex>, label regnotify-ephemeral=true,\n"
	"expiring after 5 minutes without activity) and deletes it when it exits. Each message\n"
	"is acknowledged after it was printed. Messages that do not match --filter are\n"
	"acknowledged without being printed.\n"
	"\n"
	"  --subscription SUB      read an existing subscription instead (it is kept; its\n"
	"                          messages are consumed)\n"
	"  --since DURATION        first replay the retained messages of the last DURATION\n"
	"                          (e.g. 30s, 15m, 1h, 2d)\n"
	"  --from-beginning        first replay every retained message\n"
	"  --filter EXPR           print only matching messages (see below)\n"
	"  --format text|json      text (default): TIME  ACTION  IMAGE per line, e.g.\n"
	"                            2026-11-28T10:01:02.123Z  INSERT  reg.example/team/app:1.2@sha256:...\n"
	"                          json: one object per line {\"messageId\",\"publishTime\",\n"
	"                            \"attributes\",\"data\"} with data decoded (a JSON object, else a string)\n"
	"  -n, --count N           exit 0 after printing N messages\n"
	"  -h, --help              show this help\n"
	"\n"
	"Filters: Pub/Sub's filter language (as subscription filters), evaluated by regnotify:\n"
	"  attributes.KEY = \"v\"   attributes.KEY != \"v\"   attributes:KEY   hasPrefix(attributes.KEY, \"p\")\n"
	"  combined with NOT (or -), AND, OR and parentheses (AND and OR cannot be mixed without\n"
	"  parentheses). Extension: data.action, data.tag and data.digest (the fields of a gcr\n"
	"  message) in the same forms, e.g. data.action = \"DELETE\", data:tag,\n"
	"  hasPrefix(data.tag, \"reg.example/team/\").\n"
	"\n"
	"Colour (the action) is used when standard output is a terminal and NO_COLOR is unset.\n"
	"Exit status: 0 after Ctrl-C/SIGINT/SIGTERM or -n N, 1 refused, 2 usage,\n"
	"3 unreachable (also when the subscription cannot be deleted at exit), 4 topic or\n"
	"subscription not found (also when it is deleted meanwhile).\n";

enum { OPT_SUBSCRIPTION = CLI_OPT_LOCAL, OPT_SINCE, OPT_FROM_BEGINNING, OPT_FILTER, OPT_FORMAT };

#define TAIL_TTL_S 300
#define TAIL_LABELS "{\"labels\":{\"regnotify-ephemeral\":\"true\"}}"

struct tail {
	struct cli *c;
	pthread_mutex_t mu;
	struct filter *filter; /* optional */
	int json, color;
	long limit;   /* 0: no limit */
	long printed; /* under mu */
	int done;     /* under mu: limit reached or stdout failed */
	int gone;     /* under mu: the subscription was deleted */
	int status;   /* under mu: last status reported */
};

static const char *msg_attr(void *arg, const char *key)
{
	return rn_message_attr(arg, key);
}

/* Writes the image reference of a gcr message: the tag and the digest
 * combined as HOST/REPO:TAG@sha256:..., or whichever is present. */
static void put_image(const char *tag, const char *digest)
{
	const char *at = digest ? strchr(digest, '@') : NULL;
	if (tag && at && strncmp(tag, digest, (size_t)(at - digest)) == 0)
		printf("%s%s", tag, at);
	else if (tag && digest)
		printf("%s %s", tag, digest);
	else
		fputs(tag ? tag : digest, stdout);
}

static void print_text(const struct tail *t, const struct rn_message *m, const json_t *data)
{
	char when[40];
	const char *action, *tag, *digest;
	cli_format_rfc3339(rn_message_publish_time_ms(m), when, sizeof(when));
	cli_gcr_fields(data, &action, &tag, &digest);
	if (action && (tag || digest)) {
		const char *col = !t->color                       ? NULL
				  : strcmp(action, "INSERT") == 0 ? "\033[32m"
				  : strcmp(action, "DELETE") == 0 ? "\033[31m"
								  : "\033[33m";
		printf("%s  %s%-6s%s  ", when, col ? col : "", action, col ? "\033[0m" : "");
		put_image(tag, digest);
		fputc('\n', stdout);
		return;
	}
	/* Not a gcr message: the data on one line, then the attributes. */
	size_t len, n = rn_message_attr_count(m);
	const void *d = rn_message_data(m, &len);
	printf("%s  %-6s  ", when, "-");
	cli_put_escaped(stdout, d, len);
	cli_put_attrs(m, "  [", " ");
	fputs(n ? "]\n" : "\n", stdout);
}

/* The subscriber's message callback (one library thread). Prints under
 * t->mu, then acks; what comes after -n N or a failed write is nacked. */
static void on_message(void *arg, struct rn_message *m)
{
	struct tail *t = arg;
	size_t len;
	const void *data = rn_message_data(m, &len);
	json_t *decoded = cli_decode_data(data, len);
	pthread_mutex_lock(&t->mu);
	if (t->done) {
		pthread_mutex_unlock(&t->mu);
		json_decref(decoded);
		rn_message_nack(m);
		return;
	}
	if (t->filter) {
		struct filter_msg fm = { .attr = msg_attr, .arg = m };
		cli_gcr_fields(decoded, &fm.action, &fm.tag, &fm.digest);
		if (!filter_match(t->filter, &fm)) {
			pthread_mutex_unlock(&t->mu);
			json_decref(decoded);
			rn_message_ack(m);
			return;
		}
	}
	int failed = 0;
	if (t->json)
		failed = cli_print_message_json(m, 0) != 0;
	else
		print_text(t, m, decoded);
	json_decref(decoded);
	/* One flush per message: a reader (a pipe, a test) sees it at once. */
	if (fflush(stdout) != 0 || failed) {
		t->done = 1;
		pthread_mutex_unlock(&t->mu);
		rn_message_nack(m);
		return;
	}
	t->printed++;
	if (t->limit > 0 && t->printed >= t->limit)
		t->done = 1;
	pthread_mutex_unlock(&t->mu);
	rn_message_ack(m);
}

static void on_status(void *arg, int err)
{
	struct tail *t = arg;
	pthread_mutex_lock(&t->mu);
	if (err == RN_ENOTFOUND)
		t->gone = 1;
	else if (err != 0 && err != t->status)
		cli_warn(t->c, "receiving failed: %s", rn_strerror(err));
	else if (err == 0 && t->status != 0)
		cli_warn(t->c, "receiving again");
	t->status = err;
	pthread_mutex_unlock(&t->mu);
}

/* "tail-" and 16 random hex digits. */
static void ephemeral_name(char *buf, size_t n)
{
	unsigned char r[8] = { 0 };
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy source: time and pid still make a clash unlikely. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
			     ((uint64_t)getpid() << 44);
		memcpy(r, &x, sizeof(r));
	}
	snprintf(buf, n, "tail-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
		 r[5], r[6], r[7]);
}

/* The full name of a topic or subscription given as a short id or a name. */
static void full_name(char *buf, size_t n, struct rn_client *cl, const char *kind, const char *id)
{
	if (strncmp(id, "projects/", 9) == 0)
		snprintf(buf, n, "%s", id);
	else
		snprintf(buf, n, "projects/%s/%s/%s", rn_client_project(cl), kind, id);
}

/* Checks that the existing subscription sub exists and, when topic is
 * given, is attached to it. Returns 0 or an exit code. */
static int check_existing(struct cli *c, const char *sub, const char *topic)
{
	char *json = NULL;
	int err = rn_subscription_get(c->client, sub, &json);
	if (err != 0)
		return cli_fail(c, err, "subscription %s", sub);
	int rc = 0;
	if (topic) {
		char want[512];
		full_name(want, sizeof(want), c->client, "topics", topic);
		json_t *v = json_loads(json, 0, NULL);
		const char *have = json_string_value(json_object_get(v, "topic"));
		if (have && strcmp(have, want) != 0) {
			rc = cli_usage_error(c, "subscription %s is attached to %s, not %s", sub,
					     have, want);
		}
		json_decref(v);
	}
	rn_free(json);
	return rc;
}

/* 1 when stdout was closed by its reader (a pipe to `head`): as tail -f
 * does, notice it without waiting for the next message to fail. */
static int stdout_closed(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)) != 0;
}

/* Waits for SIGINT/SIGTERM, for the callbacks to finish (t->done,
 * t->gone) or for stdout to close. Returns the signal number, or 0. */
static int wait_for_end(struct tail *t, const sigset_t *set)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (;;) {
		int sig = sigtimedwait(set, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			return sig;
		pthread_mutex_lock(&t->mu);
		int end = t->done || t->gone;
		pthread_mutex_unlock(&t->mu);
		if (end || stdout_closed())
			return 0;
	}
}

/* The option values of tail besides those kept in struct tail. */
struct tail_args {
	struct tail *t;
	const char *sub, *filter_expr;
	int64_t since_ms;
	int from_beginning;
};

static int take_tail(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct tail_args *a = ctx;
	switch (opt) {
	case OPT_SUBSCRIPTION: a->sub = arg; return 0;
	case OPT_SINCE:
		if (cli_parse_duration(arg, &a->since_ms, 0) != 0)
			return cli_usage_error(
				c,
				"invalid --since '%s': expected a duration like 30s, 15m, 1h or 2d",
				arg);
		return 0;
	case OPT_FROM_BEGINNING: a->from_beginning = 1; return 0;
	case OPT_FILTER: a->filter_expr = arg; return 0;
	case OPT_FORMAT: return cli_parse_format(c, arg, &a->t->json);
	case 'n':
		if (cli_parse_int(arg, 1, 1000000, &a->t->limit) != 0)
			return cli_usage_error(c, "invalid -n '%s': expected a count, 1..1000000",
					       arg);
		return 0;
	}
	return 0; /* getopt_long returns no other */
}

/* Longest the exit of tail waits to delete its subscription. */
#define CLEANUP_TIMEOUT_MS 3000

/* Deletes the ephemeral subscription on exit over a connection of its own
 * with short timeouts: with the broker gone, Ctrl-C must not wait a whole
 * request timeout (the subscription expires by itself). Returns 0 or an
 * enum rn_err. */
static int delete_ephemeral(struct cli *c, const char *sub)
{
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = c->broker;
	o.project = c->project;
	o.access_token = c->token;
	char active[1024];
	if (c->token == NULL)
		o.key_file = cli_active_key_file(c, active, sizeof(active));
	o.connect_timeout_ms = CLEANUP_TIMEOUT_MS;
	o.request_timeout_ms = CLEANUP_TIMEOUT_MS;
	struct rn_client *dc;
	int err = rn_client_new(&dc, &o);
	if (err == 0) {
		err = rn_subscription_delete(dc, sub);
		rn_client_free(dc);
	}
	return err;
}

int cli_tail(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "subscription", required_argument, NULL, OPT_SUBSCRIPTION },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "from-beginning", no_argument, NULL, OPT_FROM_BEGINNING },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "count", required_argument, NULL, 'n' },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":hn:", longopts, tail_help, take_tail };
	struct tail t = { .c = c };
	struct tail_args a = { .t = &t, .since_ms = -1 };
	int rc = cli_parse_options(c, &spec, &a, argc, argv);
	if (rc >= 0)
		return rc;
	const char *sub = a.sub; /* becomes the ephemeral one's without --subscription */
	if ((rc = cli_check_args(c, argc - optind, sub ? 0 : 1, 1, "TOPIC")) != 0)
		return rc;
	const char *topic = optind < argc ? argv[optind] : NULL;
	if (a.since_ms >= 0 && a.from_beginning)
		return cli_usage_error(c, "--since and --from-beginning exclude each other");
	if (a.filter_expr) {
		char err[256];
		size_t pos = 0;
		if (filter_parse(a.filter_expr, &t.filter, err, sizeof(err), &pos) != 0)
			return cli_usage_error(c, "invalid --filter at column %zu: %s", pos + 1,
					       err);
	}
	t.color = !t.json && cli_use_color();

	/* Block the stop signals before the library starts threads, so that
	 * they inherit the mask and only sigtimedwait below takes them. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows as a failed fflush */
	pthread_mutex_init(&t.mu, NULL);

	char name[512] = "", ephemeral[64];
	int created = 0;
	struct rn_subscriber *s = NULL;
	c->long_poll = 1;
	if ((rc = cli_connect(c)) != 0)
		goto out;
	if (sub) {
		if ((rc = check_existing(c, sub, topic)) != 0)
			goto out;
	} else {
		struct rn_subscription_opts so = { 0 };
		so.expiration_ttl_s = TAIL_TTL_S;
		so.extra_json = TAIL_LABELS;
		ephemeral_name(ephemeral, sizeof(ephemeral));
		int err = rn_subscription_create(c->client, ephemeral, topic, &so, NULL);
		if (err != 0) {
			rc = cli_fail(c, err, "cannot subscribe to %s", topic);
			goto out;
		}
		created = 1;
		sub = ephemeral;
	}
	full_name(name, sizeof(name), c->client, "subscriptions", sub);
	if (a.since_ms >= 0 || a.from_beginning) {
		int64_t when = a.from_beginning ? 0 : cli_now_ms() - a.since_ms;
		int err = rn_subscription_seek(c->client, sub, when < 0 ? 0 : when);
		if (err != 0) {
			rc = cli_fail(c, err, "cannot seek %s", name);
			goto out;
		}
	}
	struct rn_subscriber_opts o;
	rn_subscriber_opts_init(&o);
	o.threads = 1; /* print in arrival order */
	o.pullers = 1;
	if (t.limit > 0 && (size_t)t.limit < o.max_outstanding_messages)
		o.max_outstanding_messages = (size_t)t.limit;
	o.status = on_status;
	o.status_arg = &t;
	int err = rn_subscriber_new(&s, c->client, sub, &o, on_message, &t);
	if (err != 0) {
		rc = cli_fail(c, err, "cannot receive from %s", name);
		goto out;
	}
	cli_warn(c, "listening on %s", name);
	/* Stopping by a signal is a normal end: exit 0. */
	wait_for_end(&t, &set);

out:
	/* From here a second Ctrl-C ends the process at once. */
	signal(SIGINT, SIG_DFL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rn_subscriber_free(s);
	if (t.gone && rc == 0) {
		cli_warn(c, "subscription %s was deleted", name);
		rc = CLI_EXIT_NOTFOUND;
		created = 0;
	}
	if (created) {
		int derr = delete_ephemeral(c, sub);
		if (derr != 0 && derr != RN_ENOTFOUND) {
			int frc = cli_fail(c, derr,
					   "cannot delete subscription %s (it expires after %d s "
					   "without activity)",
					   name, TAIL_TTL_S);
			if (rc == 0)
				rc = frc;
		}
	}
	pthread_mutex_destroy(&t.mu);
	filter_free(t.filter);
	return rc;
}
