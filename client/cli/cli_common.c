/* cli_common.c - helpers shared by the regnotify commands: option and
 * error handling, exit codes, durations, RFC 3339 times, colour, JSON,
 * and the list, describe and delete subcommands of topics and
 * subscriptions. */
#include "cli.h"

#include "base64.h"
#include "duration.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char cli_global_help[] =
	"Global options (also accepted after the command):\n"
	"  --broker URL        broker nng URL (env REGNOTIFY_BROKER, default " RN_DEFAULT_URL ")\n"
	"  --project P         project of short names (env REGNOTIFY_PROJECT, default " RN_DEFAULT_PROJECT
	")\n"
	"  --token T           access token sent with every request (env REGNOTIFY_TOKEN)\n"
	"  --key-file FILE     sign tokens with this service-account key file (env\n"
	"                      REGNOTIFY_KEY_FILE; default: the one of 'regnotify auth\n"
	"                      activate-service-account', if any)\n"
	"  --timeout DURATION  connect and per-request timeout, e.g. 5s (env REGNOTIFY_TIMEOUT;\n"
	"                      default 5s to connect, 30s per request; tail and pull --wait\n"
	"                      keep at least 30s per request)\n"
	"  -h, --help          show help and exit\n";

int cli_exit_code(int err)
{
	switch (err) {
	case RN_OK: return CLI_EXIT_OK;
	case RN_ECONNREFUSED:
	case RN_ETIMEDOUT:
	case RN_EUNAVAIL: return CLI_EXIT_UNREACHABLE;
	case RN_ENOTFOUND: return CLI_EXIT_NOTFOUND;
	case RN_EADDRINVAL: return CLI_EXIT_USAGE;
	default: return CLI_EXIT_FAIL;
	}
}

/* Writes "regnotify: CMD: " (or "regnotify: " without a command). */
static void prefix(const struct cli *c)
{
	if (c && c->cmd[0])
		fprintf(stderr, "regnotify: %s: ", c->cmd);
	else
		fputs("regnotify: ", stderr);
}

/* Prints s on stderr with control characters (newlines) as spaces, so that
 * every error stays on one line. */
static void put_one_line(const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, stderr);
}

/* Prints "regnotify: CMD: MESSAGE" on stderr (cli_warn). */
static void vwarn(const struct cli *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vwarn(const struct cli *c, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	prefix(c);
	put_one_line(buf);
	fputc('\n', stderr);
}

void cli_warn(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(c, fmt, ap);
	va_end(ap);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(c, fmt, ap);
	va_end(ap);
	if (c && c->cmd[0])
		fprintf(stderr, "Try 'regnotify %s --help'.\n", c->cmd);
	else
		fputs("Try 'regnotify --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_fail(const struct cli *c, int err, const char *what, ...)
{
	/* Read the broker's message first: formatting must not disturb it. */
	const char *why = rn_last_error_message();
	char whybuf[512];
	snprintf(whybuf, sizeof(whybuf), "%s", why && why[0] ? why : rn_strerror(err));
	prefix(c);
	if (what) {
		char buf[512];
		va_list ap;
		va_start(ap, what);
		vsnprintf(buf, sizeof(buf), what, ap);
		va_end(ap);
		put_one_line(buf);
		fputs(": ", stderr);
	}
	put_one_line(whybuf);
	fputc('\n', stderr);
	return cli_exit_code(err);
}

int cli_common_option(struct cli *c, int opt, const char *arg, char **argv)
{
	int64_t ms;
	switch (opt) {
	case '?':
	case ':': return cli_getopt_error(c, opt, argv);
	case CLI_OPT_BROKER: c->broker = arg; return 0;
	case CLI_OPT_PROJECT:
		if (!arg[0])
			return cli_usage_error(c, "--project must not be empty");
		c->project = arg;
		return 0;
	case CLI_OPT_TOKEN: c->token = arg[0] ? arg : NULL; return 0;
	case CLI_OPT_KEY_FILE: c->key_file = arg; return 0;
	case CLI_OPT_TIMEOUT:
		if (cli_parse_duration(arg, &ms, 0) != 0 || ms > INT_MAX)
			return cli_usage_error(
				c, "invalid --timeout '%s': expected a duration like 5s or 500ms",
				arg);
		c->timeout_ms = (int)ms;
		return 0;
	default: return cli_getopt_error(c, '?', argv);
	}
}

void cli_getopt_reset(void)
{
	/* glibc: 0 also resets the scan of a partly read option cluster. */
	optind = 0;
	opterr = 0;
}

int cli_getopt_error(struct cli *c, int ret, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[64];
	if (strncmp(arg, "--", 2) == 0) {
		size_t n = strcspn(arg, "=");
		snprintf(name, sizeof(name), "%.*s", (int)(n > 60 ? 60 : n), arg);
	} else if (optopt > 0 && optopt < 0x100) {
		snprintf(name, sizeof(name), "-%c", optopt);
	} else {
		snprintf(name, sizeof(name), "%.60s", arg);
	}
	if (ret == ':')
		return cli_usage_error(c, "option '%s' requires an argument", name);
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') && optopt != 0)
		return cli_usage_error(c, "option '%s' does not take an argument", name);
	return cli_usage_error(c, "unknown option '%s'", name);
}

int cli_connect(struct cli *c)
{
	struct rn_client_opts o;
	rn_client_opts_init(&o);
	o.url = c->broker;
	o.project = c->project;
	o.access_token = c->token;
	char active[1024];
	if (c->token == NULL)
		o.key_file = cli_active_key_file(c, active, sizeof(active));
	if (c->timeout_ms > 0) {
		o.connect_timeout_ms = c->timeout_ms;
		if (!c->long_poll || c->timeout_ms > o.request_timeout_ms)
			o.request_timeout_ms = c->timeout_ms;
	}
	int err = rn_client_new(&c->client, &o);
	if (err != 0) {
		c->client = NULL;
		if (err == RN_EADDRINVAL)
			return cli_usage_error(c, "invalid broker URL '%s': %s", c->broker,
					       rn_strerror(err));
		if (err == RN_EINVAL && o.key_file) {
			cli_warn(c, "%s", rn_last_error_message());
			return CLI_EXIT_FAIL;
		}
		return cli_fail(c, err, "cannot reach the broker at %s", c->broker);
	}
	return 0;
}

int cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_duration(const char *s, int64_t *ms, int allow_zero)
{
	int64_t v;
	if (duration_parse(s, 0, &v) != 0 || (v < 1 && !(allow_zero && v == 0)))
		return -1;
	*ms = v;
	return 0;
}

int cli_parse_rfc3339(const char *s, int64_t *ms)
{
	int64_t v;
	if (timestamp_parse(s, &v) != 0 || v < 0)
		return -1;
	*ms = v;
	return 0;
}

void cli_format_rfc3339(int64_t ms, char *buf, size_t n)
{
	if (ms < 0) {
		snprintf(buf, n, "-");
		return;
	}
	timestamp_format(ms, buf, n);
}

int64_t cli_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
}

int cli_print_json(const char *json)
{
	json_error_t jerr;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
	int rc = 0;
	if (!v) {
		puts(json);
	} else {
		char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
		json_decref(v);
		if (!s)
			return CLI_EXIT_FAIL;
		puts(s);
		free(s);
	}
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_FAIL;
	return rc;
}

int cli_parse_options(struct cli *c, const struct cli_optspec *spec, void *ctx, int argc,
		      char **argv)
{
	int opt;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, spec->optstring, spec->longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(spec->help, stdout);
			return CLI_EXIT_OK;
		}
		/* getopt_long returns only what optstring and longopts name: past
		 * the global ones and the errors, the command's own. */
		int global =
			opt == '?' || opt == ':' || (opt >= CLI_OPT_BROKER && opt < CLI_OPT_LOCAL);
		int rc = global || !spec->take ? cli_common_option(c, opt, optarg, argv)
					       : spec->take(c, opt, optarg, ctx);
		if (rc != 0)
			return rc;
	}
	return -1;
}

/* Parses only the global options and --help, with optstring. Returns -1
 * to go on, else an exit code. */
static int parse_globals(struct cli *c, const char *optstring, int argc, char **argv,
			 const char *help)
{
	static const struct option longopts[] = { CLI_GLOBAL_LONGOPTS, { 0 } };
	const struct cli_optspec spec = { optstring, longopts, help, NULL };
	return cli_parse_options(c, &spec, NULL, argc, argv);
}

const struct cli_cmd *cli_find_cmd(const struct cli_cmd *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *table, size_t n,
		 const char *group_help, int argc, char **argv)
{
	snprintf(c->cmd, sizeof(c->cmd), "%s", group);
	/* '+': stop at the subcommand; its options are its own. */
	int rc = parse_globals(c, "+:h", argc, argv, group_help);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage_error(c, "missing command");
	const char *name = argv[optind];
	if (strcmp(name, "help") == 0) {
		fputs(group_help, stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_cmd *cmd = cli_find_cmd(table, n, name);
	if (!cmd)
		return cli_usage_error(c, "unknown command '%s'", name);
	snprintf(c->cmd, sizeof(c->cmd), "%s %s", group, name);
	return cmd->run(c, argc - optind, argv + optind);
}

int cli_parse_plain(struct cli *c, int argc, char **argv, const char *help)
{
	return parse_globals(c, ":h", argc, argv, help);
}

int cli_parse_format(struct cli *c, const char *arg, int *json)
{
	if (strcmp(arg, "text") == 0)
		*json = 0;
	else if (strcmp(arg, "json") == 0)
		*json = 1;
	else
		return cli_usage_error(c, "invalid --format '%s': expected text or json", arg);
	return 0;
}

int cli_take_format(struct cli *c, int opt, const char *arg, void *ctx)
{
	(void)opt; /* the only option of such commands */
	return cli_parse_format(c, arg, ctx);
}

int cli_parse_duration_opt(struct cli *c, const char *name, const char *arg, const char *like,
			   int64_t *ms)
{
	if (cli_parse_duration(arg, ms, 0) != 0 || *ms < 1000)
		return cli_usage_error(c, "invalid --%s '%s': expected a duration like %s", name,
				       arg, like);
	return 0;
}

int cli_check_args(struct cli *c, int have, int min, int max, const char *names)
{
	if (have < min)
		return cli_usage_error(c, "missing %s", names);
	if (max >= 0 && have > max)
		return cli_usage_error(c, "too many arguments");
	return 0;
}

/* Standard base64 of len bytes (RFC 4648, padded). Ownership: free(). */
static char *base64(const unsigned char *p, size_t len)
{
	char *out = malloc(base64_encoded_len(len) + 1);
	if (out)
		base64_encode(p, len, out);
	return out;
}

json_t *cli_decode_data(const void *data, size_t len)
{
	json_t *v = len ? json_loadb(data, len, JSON_DECODE_ANY, NULL) : NULL;
	if (v && (json_is_object(v) || json_is_array(v)))
		return v;
	json_decref(v);
	return json_stringn(data ? data : "", len); /* NULL unless valid UTF-8 */
}

json_t *cli_message_json(const struct rn_message *m, int with_ack)
{
	char when[40];
	size_t len;
	const void *data = rn_message_data(m, &len);
	json_t *o = json_object();
	json_t *attrs = json_object();
	if (!o || !attrs) {
		json_decref(o);
		json_decref(attrs);
		return NULL;
	}
	if (with_ack)
		json_object_set_new(o, "ackId", json_string(rn_message_ack_id(m)));
	json_object_set_new(o, "messageId", json_string(rn_message_id(m)));
	cli_format_rfc3339(rn_message_publish_time_ms(m), when, sizeof(when));
	json_object_set_new(o, "publishTime", json_string(when));
	for (size_t i = 0, n = rn_message_attr_count(m); i < n; i++) {
		const char *k, *v;
		if (rn_message_attr_at(m, i, &k, &v) == 0)
			json_object_set_new(attrs, k, json_string(v));
	}
	json_object_set_new(o, "attributes", attrs);
	const char *okey = rn_message_ordering_key(m);
	if (okey && okey[0])
		json_object_set_new(o, "orderingKey", json_string(okey));
	json_t *d = cli_decode_data(data, len);
	if (d) {
		json_object_set_new(o, "data", d);
	} else {
		/* Not UTF-8: a JSON string cannot hold it. */
		char *b = base64(data, len);
		json_object_set_new(o, "data", json_string(b ? b : ""));
		json_object_set_new(o, "dataEncoding", json_string("base64"));
		free(b);
	}
	/* Like Pub/Sub, the broker reports attempts only with dead-lettering. */
	int attempt = rn_message_delivery_attempt(m);
	if (with_ack && attempt > 0)
		json_object_set_new(o, "deliveryAttempt", json_integer(attempt));
	return o;
}

void cli_gcr_fields(const json_t *data, const char **action, const char **tag, const char **digest)
{
	*action = json_string_value(json_object_get(data, "action"));
	*tag = json_string_value(json_object_get(data, "tag"));
	*digest = json_string_value(json_object_get(data, "digest"));
}

void cli_put_escaped(FILE *f, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = p[i];
		if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '\\')
			fputs("\\\\", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

void cli_put_attrs(const struct rn_message *m, const char *open, const char *sep)
{
	for (size_t i = 0, n = rn_message_attr_count(m); i < n; i++) {
		const char *k, *v;
		if (rn_message_attr_at(m, i, &k, &v) != 0)
			continue;
		fputs(i == 0 ? open : sep, stdout);
		cli_put_escaped(stdout, k, strlen(k));
		fputc('=', stdout);
		cli_put_escaped(stdout, v, strlen(v));
	}
}

int cli_print_message_json(const struct rn_message *m, int with_ack)
{
	json_t *o = cli_message_json(m, with_ack);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
}

/* --- create, list, describe and delete of a resource -------------------- */

int cli_resource_created(struct cli *c, const struct cli_resource *r, int err, char *json,
			 const char *name)
{
	int rc = CLI_EXIT_OK;
	if (err != 0) {
		rc = cli_fail(c, err, "cannot create %s %s", r->kind, name);
	} else {
		json_t *v = json ? json_loads(json, 0, NULL) : NULL;
		const char *full = json_string_value(json_object_get(v, "name"));
		puts(full ? full : name);
		json_decref(v);
	}
	rn_free(json);
	return rc;
}

enum { OPT_FORMAT = CLI_OPT_LOCAL };

static int resource_list(struct cli *c, const struct cli_resource *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	const struct cli_optspec spec = { ":h", longopts, r->list_help, cli_take_format };
	int as_json = 0;
	int rc = cli_parse_options(c, &spec, &as_json, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 0, 0, "")) != 0)
		return rc;
	if ((rc = cli_connect(c)) != 0)
		return rc;
	char *json = NULL;
	int err = r->list(c->client, NULL, &json);
	if (err != 0)
		return cli_fail(c, err, "cannot list %s", r->plural);
	if (as_json) {
		rc = cli_print_json(json);
	} else {
		json_t *arr = json_loads(json, 0, NULL);
		size_t i;
		json_t *item;
		json_array_foreach(arr, i, item)
		{
			const char *name = json_string_value(json_object_get(item, "name"));
			if (name)
				puts(name);
		}
		json_decref(arr);
	}
	rn_free(json);
	return rc;
}

/* Parses the options and the one argument of describe and delete, and
 * connects. Returns -1 to go on with *name, else an exit code. */
static int resource_start(struct cli *c, const struct cli_resource *r, int argc, char **argv,
			  const char *help, const char **name)
{
	int rc = cli_parse_plain(c, argc, argv, help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, r->arg)) != 0)
		return rc;
	*name = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	return -1;
}

static int resource_describe(struct cli *c, const struct cli_resource *r, int argc, char **argv)
{
	const char *name = NULL;
	int rc = resource_start(c, r, argc, argv, r->describe_help, &name);
	if (rc >= 0)
		return rc;
	char *json = NULL;
	int err = r->get(c->client, name, &json);
	if (err != 0)
		return cli_fail(c, err, "%s %s", r->kind, name);
	rc = cli_print_json(json);
	rn_free(json);
	return rc;
}

static int resource_delete(struct cli *c, const struct cli_resource *r, int argc, char **argv)
{
	const char *name = NULL;
	int rc = resource_start(c, r, argc, argv, r->delete_help, &name);
	if (rc >= 0)
		return rc;
	int err = r->del(c->client, name);
	if (err != 0)
		return cli_fail(c, err, "cannot delete %s %s", r->kind, name);
	return CLI_EXIT_OK;
}

int cli_resource_run(struct cli *c, const struct cli_resource *r, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *c, const struct cli_resource *r, int argc, char **argv);
	} actions[] = {
		{ "list", resource_list },
		{ "describe", resource_describe },
		{ "delete", resource_delete },
	};
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, argv[0]) == 0)
			return actions[i].run(c, r, argc, argv);
	return cli_usage_error(c, "unknown command '%s'", argv[0]);
}
