/* cli_logs.c - regnotify logs read [FILTER], like gcloud logging read: the
 * project's audit entries (POST /v2/entries:list, docs/audit.md), newest
 * first. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char logs_help[] =
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

enum { OPT_FRESHNESS = CLI_OPT_LOCAL, OPT_LIMIT, OPT_FORMAT };

struct logs_opts {
	int64_t freshness_ms;
	long limit;
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
		if (cli_parse_int(arg, 1, 1000, &o->limit) != 0)
			return cli_usage_error(c, "invalid --limit '%s': a number 1-1000", arg);
		return 0;
	case OPT_FORMAT: return cli_parse_format(c, arg, &o->json);
	}
	return CLI_EXIT_USAGE;
}

static const char *field(json_t *e, const char *a, const char *b, const char *c2)
{
	json_t *v = json_object_get(e, a);
	if (b)
		v = json_object_get(v, b);
	if (c2)
		v = json_object_get(v, c2);
	const char *s = json_string_value(v);
	return s && s[0] ? s : "-";
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
	static const struct cli_optspec spec = { ":h", longopts, logs_help, take };
	struct logs_opts o = { .freshness_ms = 86400000, .limit = 100 };
	int rc = cli_parse_options(c, &spec, &o, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 0, 1, "FILTER")) != 0)
		return rc;
	char since[40], *filter;
	cli_format_rfc3339(cli_now_ms() - o.freshness_ms, since, sizeof(since));
	const char *user = argc > optind ? argv[optind] : NULL;
	size_t n = (user ? strlen(user) : 0) + 64;
	filter = malloc(n);
	if (user && user[0])
		snprintf(filter, n, "timestamp>=\"%s\" AND (%s)", since, user);
	else
		snprintf(filter, n, "timestamp>=\"%s\"", since);
	char rn[160];
	snprintf(rn, sizeof(rn), "projects/%s", c->project);
	json_t *body = json_pack("{s:[s],s:s,s:s,s:I}", "resourceNames", rn, "filter", filter,
				 "orderBy", "timestamp desc", "pageSize", (json_int_t)o.limit);
	free(filter);
	char *text = json_dumps(body, JSON_COMPACT), *reply = NULL;
	json_decref(body);
	if ((rc = cli_connect(c)) != 0) {
		free(text);
		return rc;
	}
	int err = rn_request(c->client, "POST", "/v2/entries:list", text, &reply);
	free(text);
	if (err != RN_OK)
		return cli_fail(c, err, "cannot read the audit log");
	json_t *js = json_loads(reply, 0, NULL);
	rn_free(reply);
	json_t *entries = json_object_get(js, "entries");
	if (o.json) {
		char *t = json_dumps(entries ? entries : json_array(), JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e)
		{
			const char *method = field(e, "protoPayload", "methodName", NULL);
			const char *dot = strrchr(method, '.');
			printf("%s %s %s %s by %s from %s\n", field(e, "timestamp", NULL, NULL),
			       field(e, "severity", NULL, NULL), dot ? dot + 1 : method,
			       field(e, "protoPayload", "resourceName", NULL),
			       field(e, "protoPayload", "authenticationInfo", "principalEmail"),
			       field(e, "protoPayload", "requestMetadata", "callerIp"));
		}
	}
	json_decref(js);
	return CLI_EXIT_OK;
}

static const struct cli_cmd logs_cmds[] = {
	{ "read", logs_read, "print audit log entries" },
};

int cli_logs(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "logs", logs_cmds, 1, logs_help, argc, argv);
}
