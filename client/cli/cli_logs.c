/* cli_logs.c - regnotify logs read|tail [FILTER], like gcloud logging
 * read|tail: the project's audit entries (POST /v2/entries:list,
 * docs/audit.md), newest first, or followed as they are written.
 *
 * tail polls entries:list oldest first with the filter
 * timestamp>="T" AND (FILTER), T the newest timestamp printed (minus
 * --buffer-window), follows nextPageToken within a poll and remembers the
 * insertIds of the entries since T, so that none is printed twice. It
 * starts at the newest entry the broker has (read first, not printed), so
 * that what existed before is not shown whatever the clocks say. */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char logs_help[] =
	"Usage: regnotify logs read [FILTER] [OPTIONS]\n"
	"       regnotify logs tail [FILTER] [OPTIONS]\n"
	"The project's audit log entries (Admin Activity, docs/audit.md).\n"
	"\n"
	"Commands:\n"
	"  read [FILTER]   print the entries of the recent past, newest first\n"
	"  tail [FILTER]   print new entries as they are written, until interrupted\n"
	"\n"
	"Run 'regnotify logs COMMAND --help' for the options of a command.\n";

static const char read_help[] =
	"Usage: regnotify logs read [FILTER] [--freshness DURATION] [--limit N]\n"
	"                           [--format text|json]\n"
	"Print the project's audit log entries (Admin Activity), newest first. FILTER is the\n"
	"Logging filter subset of docs/audit.md, e.g.\n"
	"  'protoPayload.methodName:DeleteSubscription protoPayload.resourceName:\"cd\"'\n"
	"\n"
	"  --freshness DURATION  only entries of the last DURATION (default 1d)\n"
	"  --limit N             at most N entries (default 100, at most 1000)\n"
	"  --format text|json    one line per entry (default), or the entries as JSON\n"
	"  -h, --help            show this help\n"
	"\n"
	"Needs logging.logEntries.list on the project (roles/viewer, roles/logging.viewer).\n";

static const char tail_help[] =
	"Usage: regnotify logs tail [FILTER] [--format text|json] [--buffer-window DURATION]\n"
	"                           [--interval DURATION] [--limit N]\n"
	"Print the project's audit log entries (Admin Activity) as they are written, each\n"
	"once, until interrupted (Ctrl-C, SIGINT or SIGTERM: exit 0). Entries written before\n"
	"the command started are not shown ('regnotify logs read' prints those): the start\n"
	"is the newest entry the broker has then, whatever the local clock says. FILTER is\n"
	"the Logging filter subset of docs/audit.md, as for 'logs read', e.g.\n"
	"  'protoPayload.methodName=\"google.pubsub.v1.Publisher.DeleteTopic\"'\n"
	"\n"
	"  --format text|json        text (default): one line per entry, as 'logs read' prints\n"
	"                              TIME SEVERITY METHOD RESOURCE by PRINCIPAL from IP\n"
	"                            json: one entry per line, a compact JSON LogEntry\n"
	"  --buffer-window DURATION  how late an entry may come and still be printed (default\n"
	"                            2s; 0s: never): an entry whose timestamp is older than\n"
	"                            the newest one printed (another broker's clock, a write\n"
	"                            that was retried) by at most DURATION. Entries are printed\n"
	"                            as they are read, not reordered.\n"
	"  --interval DURATION       wait between two polls of the broker (default 1s; e.g.\n"
	"                            500ms, 2s)\n"
	"  --limit N                 exit 0 after printing N entries\n"
	"  -h, --help                show this help\n"
	"\n"
	"tail polls POST /v2/entries:list (oldest first, every page) and prints each entry as\n"
	"soon as it is read; standard output is flushed after every entry. When the broker\n"
	"cannot be reached (or answers 503) tail says so on standard error and tries again,\n"
	"waiting 1s, 2s, 4s... up to 30s; entries written meanwhile are printed when it is\n"
	"back. Any other error of the broker (a refused filter, 401, 403) ends it with the\n"
	"broker's message. A line on standard error says when tail follows the log.\n"
	"\n"
	"Needs logging.logEntries.list on the project (roles/viewer, roles/logging.viewer).\n"
	"Exit status: 0 after Ctrl-C/SIGINT/SIGTERM, --limit N or when standard output is\n"
	"closed, 1 refused (filter, credential, permission), 2 usage.\n";

enum { OPT_FRESHNESS = CLI_OPT_LOCAL, OPT_LIMIT, OPT_FORMAT, OPT_BUFFER_WINDOW, OPT_INTERVAL };

struct logs_opts {
	int64_t freshness_ms; /* read */
	int64_t window_ms;    /* tail */
	int64_t interval_ms;  /* tail */
	long limit;
	long max_limit; /* 1000 for read */
	int json;
};

static int take(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct logs_opts *o = ctx;
	switch (opt) {
	case OPT_FRESHNESS:
		if (cli_parse_duration(arg, &o->freshness_ms, 0) != 0)
			return cli_usage_error(c, "invalid --freshness '%s': a duration like 1d",
					       arg);
		return 0;
	case OPT_LIMIT:
		if (cli_parse_int(arg, 1, o->max_limit, &o->limit) != 0)
			return cli_usage_error(c, "invalid --limit '%s': a number 1-%ld", arg,
					       o->max_limit);
		return 0;
	case OPT_FORMAT: return cli_parse_format(c, arg, &o->json);
	case OPT_BUFFER_WINDOW:
		if (cli_parse_duration(arg, &o->window_ms, 1) != 0 || o->window_ms > 3600000)
			return cli_usage_error(
				c, "invalid --buffer-window '%s': a duration like 2s, 0s-1h", arg);
		return 0;
	case OPT_INTERVAL:
		if (cli_parse_duration(arg, &o->interval_ms, 0) != 0 || o->interval_ms > 3600000)
			return cli_usage_error(
				c, "invalid --interval '%s': a duration like 500ms or 2s, up to 1h",
				arg);
		return 0;
	}
	return CLI_EXIT_USAGE;
}

static const char *field(const json_t *e, const char *a, const char *b, const char *c2)
{
	json_t *v = json_object_get(e, a);
	if (b)
		v = json_object_get(v, b);
	if (c2)
		v = json_object_get(v, c2);
	const char *s = json_string_value(v);
	return s && s[0] ? s : "-";
}

/* Prints the text line of entry e on stdout:
 * TIME SEVERITY METHOD RESOURCE by PRINCIPAL from IP. */
static void print_entry_text(const json_t *e)
{
	const char *method = field(e, "protoPayload", "methodName", NULL);
	const char *dot = strrchr(method, '.');
	printf("%s %s %s %s by %s from %s\n", field(e, "timestamp", NULL, NULL),
	       field(e, "severity", NULL, NULL), dot ? dot + 1 : method,
	       field(e, "protoPayload", "resourceName", NULL),
	       field(e, "protoPayload", "authenticationInfo", "principalEmail"),
	       field(e, "protoPayload", "requestMetadata", "callerIp"));
}

/* The filter timestamp>="SINCE" AND (user), without the first part when
 * since_ms < 0 and without the second when user is NULL or "". NULL for
 * no filter at all. Ownership: free. */
static char *filter_since(const char *user, int64_t since_ms)
{
	char since[40];
	size_t n = (user ? strlen(user) : 0) + 64;
	char *filter = malloc(n);
	if (filter == NULL)
		return NULL;
	if (since_ms >= 0)
		cli_format_rfc3339(since_ms, since, sizeof(since));
	if (since_ms >= 0 && user && user[0])
		snprintf(filter, n, "timestamp>=\"%s\" AND (%s)", since, user);
	else if (since_ms >= 0)
		snprintf(filter, n, "timestamp>=\"%s\"", since);
	else if (user && user[0])
		snprintf(filter, n, "%s", user);
	else
		filter[0] = '\0';
	return filter;
}

/* One POST /v2/entries:list of the project: filter (NULL or "": none),
 * order "timestamp asc" or "timestamp desc", page entries, token the
 * pageToken (NULL: the first page). Returns 0 with *out the answer
 * ({"entries":[...],"nextPageToken":"..."}, entries absent when none), or
 * an enum rn_err with rn_last_error_message() set (RN_EPROTO with an empty
 * message when the answer is not a JSON object). Ownership: json_decref. */
static int list_entries(struct cli *c, const char *filter, const char *order, long page,
			const char *token, json_t **out)
{
	char rn[160];
	snprintf(rn, sizeof(rn), "projects/%s", c->project);
	json_t *body = json_pack("{s:[s],s:s,s:I}", "resourceNames", rn, "orderBy", order,
				 "pageSize", (json_int_t)page);
	if (body == NULL)
		return RN_ENOMEM;
	if (filter && filter[0])
		json_object_set_new(body, "filter", json_string(filter));
	if (token)
		json_object_set_new(body, "pageToken", json_string(token));
	char *text = json_dumps(body, JSON_COMPACT), *reply = NULL;
	json_decref(body);
	if (text == NULL)
		return RN_ENOMEM;
	int err = rn_request(c->client, "POST", "/v2/entries:list", text, &reply);
	free(text);
	if (err != RN_OK)
		return err;
	json_t *js = json_loads(reply ? reply : "", 0, NULL);
	rn_free(reply);
	if (!json_is_object(js)) {
		json_decref(js);
		return RN_EPROTO;
	}
	*out = js;
	return RN_OK;
}

/* cli_fail for a failed list_entries. Returns the exit code. */
static int list_failed(struct cli *c, int err)
{
	if (err == RN_EPROTO && !rn_last_error_message()[0]) {
		cli_warn(c, "cannot read the audit log: the broker's answer is not a JSON object");
		return CLI_EXIT_FAIL;
	}
	return cli_fail(c, err, "cannot read the audit log");
}

static int logs_read(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "freshness", required_argument, NULL, OPT_FRESHNESS },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, read_help, take };
	struct logs_opts o = { .freshness_ms = 86400000, .limit = 100, .max_limit = 1000 };
	int rc = cli_parse_options(c, &spec, &o, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 0, 1, "FILTER")) != 0)
		return rc;
	char *filter =
		filter_since(argc > optind ? argv[optind] : NULL, cli_now_ms() - o.freshness_ms);
	if (filter == NULL)
		return cli_fail(c, RN_ENOMEM, NULL);
	if ((rc = cli_connect(c)) != 0) {
		free(filter);
		return rc;
	}
	json_t *js = NULL;
	int err = list_entries(c, filter, "timestamp desc", o.limit, NULL, &js);
	free(filter);
	if (err != RN_OK)
		return list_failed(c, err);
	json_t *entries = json_object_get(js, "entries");
	if (o.json) {
		char *t = entries ? json_dumps(entries, JSON_INDENT(2)) : NULL;
		printf("%s\n", t ? t : "[]");
		free(t);
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e)
		{
			print_entry_text(e);
		}
	}
	json_decref(js);
	return CLI_EXIT_OK;
}

/* --- logs tail ------------------------------------------------------------ */

#define TAIL_PAGE 1000           /* entries per request of a poll */
#define TAIL_START_PAGE 100      /* entries per request when reading where to start */
#define TAIL_BACKOFF_MIN_MS 1000 /* first wait after a failure to reach the broker */
#define TAIL_BACKOFF_MAX_MS 30000

/* SIGINT/SIGTERM end tail at once (_exit: nothing is left to clean up on
 * the broker), except while an entry is being printed: then the main loop
 * ends after it, so that a reader never gets half an entry. */
static volatile sig_atomic_t tail_stop, tail_printing;

static void on_stop_signal(int sig)
{
	tail_stop = 1;
	if (!tail_printing)
		_exit(CLI_EXIT_OK);
}

struct follow {
	struct cli *c;
	const char *user; /* FILTER, or NULL */
	int json;
	long limit, printed; /* limit 0: none */
	int64_t window_ms;
	int64_t last_ms; /* the newest timestamp printed or at the start; -1: none yet */
	/* insertId -> timestamp (ms) of every entry printed or at the start
	 * since last_ms - window_ms: what a poll may return again. */
	json_t *seen;
	int end; /* -1: go on; else the exit code */
};

/* The timestamp of entry e in ms (what the broker's filter compares), or
 * def when it has none. */
static int64_t entry_ms(const json_t *e, int64_t def)
{
	int64_t ms;
	const char *ts = json_string_value(json_object_get(e, "timestamp"));
	return ts && cli_parse_rfc3339(ts, &ms) == 0 ? ms : def;
}

/* Adds e (at ts) to f->seen. Returns 1 when it was there already. */
static int seen_before(struct follow *f, const json_t *e, int64_t ts)
{
	const char *id = json_string_value(json_object_get(e, "insertId"));
	char *own = NULL;
	if (id == NULL || !id[0]) /* not from regnotifyd: the entry is its own id */
		id = own = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	int was = id == NULL || json_object_get(f->seen, id) != NULL;
	if (!was)
		json_object_set_new(f->seen, id, json_integer(ts));
	free(own);
	return was;
}

/* Forgets the entries that no poll can return any more. */
static void seen_prune(struct follow *f)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(f->seen, tmp, k, v)
	{
		if (json_integer_value(v) < f->last_ms - f->window_ms)
			json_object_del(f->seen, k);
	}
}

/* 1 when stdout was closed by its reader (a pipe to `head`), noticed
 * without waiting for the next entry to fail, as cli_tail.c does. */
static int stdout_closed(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)) != 0;
}

/* Prints entry e and flushes; sets f->end when tail must stop (--limit,
 * a signal during the print, standard output closed or failing). */
static void print_entry(struct follow *f, const json_t *e)
{
	tail_printing = 1;
	int failed = 0;
	if (f->json) {
		char *t = json_dumps(e, JSON_COMPACT);
		failed = t == NULL || printf("%s\n", t) < 0;
		free(t);
	} else {
		print_entry_text(e);
	}
	/* One flush per entry: a reader (a pipe, a test) sees it at once. */
	if (fflush(stdout) != 0 || failed || ferror(stdout)) {
		if (errno != EPIPE) {
			cli_warn(f->c, "cannot write to standard output: %s", strerror(errno));
			f->end = CLI_EXIT_FAIL;
		} else {
			f->end = CLI_EXIT_OK; /* the reader is gone, as with -n */
		}
	} else if (f->limit > 0 && ++f->printed >= f->limit) {
		f->end = CLI_EXIT_OK;
	}
	tail_printing = 0;
	if (tail_stop && f->end < 0)
		f->end = CLI_EXIT_OK;
}

/* Reads where to start: the newest entries of the project (no filter, so
 * that this is one short read) back to window_ms before the newest one go
 * to f->seen, unprinted; f->last_ms becomes the newest timestamp (stays -1
 * when the log is empty). Returns 0 or the enum rn_err of the request. */
static int tail_start(struct follow *f)
{
	char *token = NULL;
	int64_t first = -1;
	for (;;) {
		json_t *js = NULL;
		int err = list_entries(f->c, NULL, "timestamp desc", TAIL_START_PAGE, token, &js);
		free(token);
		token = NULL;
		if (err != RN_OK)
			return err;
		size_t i;
		json_t *e;
		int more = 1;
		json_array_foreach(json_object_get(js, "entries"), i, e)
		{
			int64_t ts = entry_ms(e, first);
			if (first < 0)
				first = ts;
			if (ts < first - f->window_ms) {
				more = 0;
				break;
			}
			seen_before(f, e, ts);
			if (ts > f->last_ms)
				f->last_ms = ts;
		}
		const char *next = json_string_value(json_object_get(js, "nextPageToken"));
		if (more && next)
			token = strdup(next);
		json_decref(js);
		if (token == NULL)
			return RN_OK;
	}
}

/* One poll: every page of the entries since last_ms - window_ms that match
 * the filter, oldest first; prints those not seen before. Returns 0 or the
 * enum rn_err of the failed request (what was printed stays in f->seen, so
 * that the poll can be repeated). Sets f->end when tail must stop. */
static int tail_poll(struct follow *f)
{
	char *filter = filter_since(f->user, f->last_ms < 0 ? -1 : f->last_ms - f->window_ms);
	if (filter == NULL)
		return RN_ENOMEM;
	char *token = NULL;
	int err = RN_OK;
	do {
		json_t *js = NULL;
		err = list_entries(f->c, filter, "timestamp asc", TAIL_PAGE, token, &js);
		free(token);
		token = NULL;
		if (err != RN_OK)
			break;
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(js, "entries"), i, e)
		{
			int64_t ts = entry_ms(e, f->last_ms < 0 ? 0 : f->last_ms);
			if (seen_before(f, e, ts))
				continue;
			if (ts > f->last_ms)
				f->last_ms = ts;
			print_entry(f, e);
			if (f->end >= 0)
				break;
		}
		const char *next = json_string_value(json_object_get(js, "nextPageToken"));
		if (f->end < 0 && next)
			token = strdup(next);
		json_decref(js);
	} while (token);
	free(filter);
	seen_prune(f);
	return err;
}

/* Sleeps ms, ending early when a signal asked to stop. */
static void tail_sleep(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (!tail_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The broker could not be reached (or was unavailable): a request may be
 * repeated after a while. */
static int transient(int err)
{
	return err == RN_ECONNREFUSED || err == RN_ETIMEDOUT || err == RN_EUNAVAIL;
}

/* Says that the broker cannot be reached (with why unless said: err's
 * message was printed already) and waits the next, doubled, backoff delay. */
static void tail_backoff(struct cli *c, int64_t *delay_ms, int err, int said)
{
	*delay_ms = *delay_ms == 0 ? TAIL_BACKOFF_MIN_MS : *delay_ms * 2;
	if (*delay_ms > TAIL_BACKOFF_MAX_MS)
		*delay_ms = TAIL_BACKOFF_MAX_MS;
	if (said) {
		cli_warn(c, "retrying in %llds", (long long)(*delay_ms / 1000));
	} else {
		const char *why = rn_last_error_message();
		cli_warn(c, "cannot read the audit log: %s; retrying in %llds",
			 why && why[0] ? why : rn_strerror(err), (long long)(*delay_ms / 1000));
	}
	tail_sleep(*delay_ms);
}

static int logs_tail(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "buffer-window", required_argument, NULL, OPT_BUFFER_WINDOW },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, tail_help, take };
	struct logs_opts o = { .window_ms = 2000, .interval_ms = 1000, .max_limit = 1000000 };
	int rc = cli_parse_options(c, &spec, &o, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 0, 1, "FILTER")) != 0)
		return rc;
	struct follow f = { .c = c,
			    .user = argc > optind ? argv[optind] : NULL,
			    .json = o.json,
			    .limit = o.limit,
			    .window_ms = o.window_ms,
			    .last_ms = -1,
			    .seen = json_object(),
			    .end = -1 };
	if (f.seen == NULL)
		return cli_fail(c, RN_ENOMEM, NULL);

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows as a failed fflush */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int64_t delay_ms = 0; /* the last backoff; 0 while the broker answers */
	int started = 0, following = 0;
	rc = CLI_EXIT_OK;
	while (f.end < 0 && !tail_stop) {
		if (c->client == NULL) {
			rc = cli_connect(c); /* says why it failed */
			if (rc == CLI_EXIT_UNREACHABLE) {
				tail_backoff(c, &delay_ms, 0, 1);
				continue;
			}
			if (rc != 0)
				break;
		}
		int err = started ? tail_poll(&f) : tail_start(&f);
		if (f.end >= 0)
			break;
		if (err != RN_OK && transient(err)) {
			tail_backoff(c, &delay_ms, err, 0);
			continue;
		}
		if (err != RN_OK) {
			rc = list_failed(c, err);
			break;
		}
		if (delay_ms != 0 && following)
			cli_warn(c, "reading the audit log again");
		delay_ms = 0;
		if (!started) {
			started = 1; /* poll at once: the filter is checked */
			continue;
		}
		if (!following) {
			cli_warn(c, "following the audit log of projects/%s; Ctrl-C to stop",
				 c->project);
			following = 1;
		}
		if (stdout_closed())
			break;
		tail_sleep(o.interval_ms);
	}
	if (f.end >= 0)
		rc = f.end;
	else if (tail_stop)
		rc = CLI_EXIT_OK;
	json_decref(f.seen);
	return rc;
}

static const struct cli_cmd logs_cmds[] = {
	{ "read", logs_read, "print audit log entries" },
	{ "tail", logs_tail, "follow new audit log entries" },
};

int cli_logs(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "logs", logs_cmds, sizeof(logs_cmds) / sizeof(logs_cmds[0]),
			    logs_help, argc, argv);
}
