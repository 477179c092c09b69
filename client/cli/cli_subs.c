/* cli_subs.c - regnotify subscriptions create|list|describe|delete|pull|
 * ack|seek (pull, ack and seek also as top-level commands). */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char subs_help[] =
	"Usage: regnotify subscriptions COMMAND [OPTIONS] [ARGS]\n"
	"Manage and consume subscriptions.\n"
	"\n"
	"Commands:\n"
	"  create SUB --topic TOPIC [OPTIONS]   create a subscription; prints its name\n"
	"  list [--format text|json]            list the project's subscriptions\n"
	"  describe SUB                         print a subscription as JSON\n"
	"  delete SUB                           delete a subscription and its backlog\n"
	"  pull SUB [--max N] [--wait] [--ack] [--format text|json]\n"
	"                                       pull messages (and optionally acknowledge them)\n"
	"  ack SUB ACKID...                     acknowledge messages by ack id\n"
	"  seek SUB --time RFC3339|--since DURATION\n"
	"                                       replay (or skip) messages from a time on\n"
	"\n"
	"SUB and TOPIC are short ids in the --project, or full names (projects/P/...).\n"
	"Run 'regnotify subscriptions COMMAND --help' for details; 'regnotify --help' for the\n"
	"global options and exit codes.\n";

static const char create_help[] =
	"Usage: regnotify subscriptions create SUB --topic TOPIC [OPTIONS]\n"
	"Create a subscription and print its full name.\n"
	"\n"
	"  --topic TOPIC               the topic to subscribe to (required)\n"
	"  --ack-deadline SECONDS      ack deadline, 10..600 (default 10)\n"
	"  --retention DURATION        keep unacknowledged messages this long (default 7d)\n"
	"  --expiration-ttl DURATION|never\n"
	"                              delete the subscription after this long without activity\n"
	"                              (default 31d; at least 1d)\n"
	"  --push-endpoint URL         push (webhook) subscription delivering to URL\n"
	"  --filter EXPR               deliver only the messages whose attributes match EXPR\n"
	"                              (Pub/Sub's filter language, at most 256 bytes; cannot be\n"
	"                              changed later), e.g. 'attributes.action = \"INSERT\"'\n"
	"  --retain-acked-messages     keep acked messages for the retention, so that a seek\n"
	"                              back replays them\n"
	"  -h, --help                  show this help\n";

static const char list_help[] =
	"Usage: regnotify subscriptions list [--format text|json]\n"
	"List the subscriptions of the project: one full name per line (text), or a JSON\n"
	"array of the Subscription resources (json).\n"
	"\n"
	"  --format text|json  output format (default text)\n"
	"  -h, --help          show this help\n";

static const char describe_help[] =
	"Usage: regnotify subscriptions describe SUB\n"
	"Print the Subscription resource as indented JSON. Exit status 4 when it does not exist.\n"
	"\n"
	"  -h, --help  show this help\n";

static const char delete_help[] =
	"Usage: regnotify subscriptions delete SUB\n"
	"Delete a subscription and its backlog. Exit status 4 when it does not exist.\n"
	"\n"
	"  -h, --help  show this help\n";

static const char pull_help[] =
	"Usage: regnotify subscriptions pull SUB [--max N] [--wait] [--ack] [--format text|json]\n"
	"Pull messages from a subscription and print them, one per line. Messages that are\n"
	"not acknowledged (see 'regnotify subscriptions ack') come back after the ack deadline.\n"
	"\n"
	"  --max N             pull at most N messages, 1..1000 (default 10)\n"
	"  --wait              wait for a message (up to the broker's pull wait, 10s by default)\n"
	"                      instead of returning at once\n"
	"  --ack               acknowledge the messages after printing them\n"
	"  --format text|json  text: ACKID  MESSAGEID  PUBLISHTIME  ATTRIBUTES  DATA, with ATTRIBUTES\n"
	"                      as k=v,k=v (or -) and DATA escaped onto one line;\n"
	"                      json: one object per line {\"ackId\",\"messageId\",\"publishTime\",\n"
	"                      \"attributes\",\"data\"} (and \"deliveryAttempt\" when the\n"
	"                      broker counts attempts) with data decoded (a JSON object, else\n"
	"                      a string; base64 with \"dataEncoding\":\"base64\" when not UTF-8)\n"
	"  -h, --help          show this help\n";

static const char ack_help[] = "Usage: regnotify subscriptions ack SUB ACKID...\n"
			       "Acknowledge messages by the ack ids that 'pull' printed.\n"
			       "\n"
			       "  -h, --help  show this help\n";

static const char seek_help[] =
	"Usage: regnotify subscriptions seek SUB --time RFC3339|--since DURATION\n"
	"Seek a subscription to a time: retained messages published at or after it are\n"
	"delivered again, earlier ones count as acknowledged. A future time purges the backlog.\n"
	"\n"
	"  --time RFC3339     e.g. 2026-11-28T10:00:00Z\n"
	"  --since DURATION   now minus DURATION, e.g. 1h\n"
	"  -h, --help         show this help\n";

enum {
	OPT_TOPIC = CLI_OPT_LOCAL,
	OPT_ACK_DEADLINE,
	OPT_RETENTION,
	OPT_EXPIRATION,
	OPT_PUSH,
	OPT_FILTER,
	OPT_RETAIN_ACKED,
	OPT_FORMAT,
	OPT_MAX,
	OPT_WAIT,
	OPT_ACK,
	OPT_TIME,
	OPT_SINCE,
};

static const struct cli_resource sub_resource = {
	.kind = "subscription",
	.plural = "subscriptions",
	.arg = "SUB",
	.list_help = list_help,
	.describe_help = describe_help,
	.delete_help = delete_help,
	.list = rn_subscription_list,
	.get = rn_subscription_get,
	.del = rn_subscription_delete,
};

/* The option values of subscriptions create. */
struct create_args {
	struct rn_subscription_opts so;
	const char *topic, *push;
};

static int take_create(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct create_args *a = ctx;
	int64_t ms;
	long v;
	switch (opt) {
	case OPT_TOPIC: a->topic = arg; return 0;
	case OPT_ACK_DEADLINE:
		if (cli_parse_int(arg, 10, 600, &v) != 0)
			return cli_usage_error(
				c, "invalid --ack-deadline '%s': expected seconds, 10..600", arg);
		a->so.ack_deadline_s = (int)v;
		return 0;
	case OPT_RETENTION:
		if (cli_parse_duration_opt(c, "retention", arg, "7d", &ms) != 0)
			return CLI_EXIT_USAGE;
		a->so.retention_s = ms / 1000;
		return 0;
	case OPT_EXPIRATION:
		if (strcmp(arg, "never") == 0) {
			a->so.expiration_ttl_s = -1;
			return 0;
		}
		if (cli_parse_duration_opt(c, "expiration-ttl", arg, "31d, or never", &ms) != 0)
			return CLI_EXIT_USAGE;
		a->so.expiration_ttl_s = ms / 1000;
		return 0;
	case OPT_PUSH: a->push = arg; return 0;
	case OPT_FILTER: a->so.filter = arg; return 0;
	case OPT_RETAIN_ACKED: a->so.retain_acked = 1; return 0;
	}
	return 0; /* getopt_long returns no other */
}

static int subs_create(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "ack-deadline", required_argument, NULL, OPT_ACK_DEADLINE },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "expiration-ttl", required_argument, NULL, OPT_EXPIRATION },
		{ "push-endpoint", required_argument, NULL, OPT_PUSH },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "retain-acked-messages", no_argument, NULL, OPT_RETAIN_ACKED },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, create_help, take_create };
	struct create_args a = { 0 };
	int rc = cli_parse_options(c, &spec, &a, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	if (!a.topic)
		return cli_usage_error(c, "missing --topic TOPIC");
	const char *sub = argv[optind];
	char *extra = NULL;
	if (a.push) {
		json_t *e = json_pack("{s:{s:s}}", "pushConfig", "pushEndpoint", a.push);
		extra = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
		if (!extra)
			return cli_usage_error(c, "invalid --push-endpoint '%s'", a.push);
		a.so.extra_json = extra;
	}
	if ((rc = cli_connect(c)) != 0) {
		free(extra);
		return rc;
	}
	char *json = NULL;
	int err = rn_subscription_create(c->client, sub, a.topic, &a.so, &json);
	free(extra);
	return cli_resource_created(c, &sub_resource, err, json, sub);
}

/* list, describe, delete */
static int subs_resource(struct cli *c, int argc, char **argv)
{
	return cli_resource_run(c, &sub_resource, argc, argv);
}

/* One pulled message as a text line: ACKID  MESSAGEID  TIME  ATTRS  DATA. */
static void print_text(const struct rn_message *m)
{
	char when[40];
	size_t len;
	const void *data = rn_message_data(m, &len);
	cli_format_rfc3339(rn_message_publish_time_ms(m), when, sizeof(when));
	printf("%s  %s  %s  ", rn_message_ack_id(m), rn_message_id(m), when);
	if (rn_message_attr_count(m) == 0)
		fputc('-', stdout);
	cli_put_attrs(m, "", ",");
	fputs("  ", stdout);
	cli_put_escaped(stdout, data, len);
	fputc('\n', stdout);
}

/* The option values of pull. */
struct pull_args {
	long max;
	int wait, ack, as_json;
};

static int take_pull(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct pull_args *a = ctx;
	switch (opt) {
	case OPT_MAX:
		if (cli_parse_int(arg, 1, 1000, &a->max) != 0)
			return cli_usage_error(c, "invalid --max '%s': expected 1..1000", arg);
		return 0;
	case OPT_WAIT: a->wait = 1; return 0;
	case OPT_ACK: a->ack = 1; return 0;
	case OPT_FORMAT: return cli_parse_format(c, arg, &a->as_json);
	}
	return 0; /* getopt_long returns no other */
}

int cli_subs_pull(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, OPT_MAX },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "ack", no_argument, NULL, OPT_ACK },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, pull_help, take_pull };
	struct pull_args a = { .max = 10 };
	int rc = cli_parse_options(c, &spec, &a, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	const char *sub = argv[optind];
	c->long_poll = a.wait;
	if ((rc = cli_connect(c)) != 0)
		return rc;
	struct rn_message **msgs = NULL;
	size_t n = 0;
	int err = rn_pull(c->client, sub, (int)a.max, a.wait, &msgs, &n);
	if (err != 0)
		return cli_fail(c, err, "cannot pull from %s", sub);
	rc = CLI_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		if (a.as_json) {
			if (cli_print_message_json(msgs[i], 1) != 0)
				rc = CLI_EXIT_FAIL;
		} else {
			print_text(msgs[i]);
		}
	}
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_FAIL;
	/* Acknowledge only what was printed: a failed write keeps them. */
	if (a.ack && n > 0 && rc == CLI_EXIT_OK) {
		const char **ids = calloc(n, sizeof(*ids));
		if (!ids) {
			rn_messages_free(msgs, n);
			cli_warn(c, "out of memory");
			return CLI_EXIT_FAIL;
		}
		for (size_t i = 0; i < n; i++)
			ids[i] = rn_message_ack_id(msgs[i]);
		err = rn_ack(c->client, sub, ids, n);
		free(ids);
		if (err != 0)
			rc = cli_fail(c, err, "cannot acknowledge the pulled messages");
	}
	rn_messages_free(msgs, n);
	return rc;
}

int cli_subs_ack(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse_plain(c, argc, argv, ack_help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 2, -1, "SUB and ACKID")) != 0)
		return rc;
	const char *sub = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	int err = rn_ack(c->client, sub, (const char *const *)(argv + optind + 1),
			 (size_t)(argc - optind - 1));
	if (err != 0)
		return cli_fail(c, err, "cannot acknowledge");
	return CLI_EXIT_OK;
}

/* The option values of seek. */
struct seek_args {
	int64_t when;
	int given;
};

static int take_seek(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct seek_args *a = ctx;
	int64_t ms;
	if (opt == OPT_TIME) {
		if (cli_parse_rfc3339(arg, &a->when) != 0)
			return cli_usage_error(
				c,
				"invalid --time '%s': expected RFC 3339, e.g. 2026-11-28T10:00:00Z",
				arg);
	} else { /* OPT_SINCE */
		if (cli_parse_duration(arg, &ms, 1) != 0)
			return cli_usage_error(
				c, "invalid --since '%s': expected a duration like 1h", arg);
		a->when = cli_now_ms() - ms;
		if (a->when < 0)
			a->when = 0;
	}
	a->given++;
	return 0;
}

int cli_subs_seek(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, OPT_TIME },
		{ "since", required_argument, NULL, OPT_SINCE },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, seek_help, take_seek };
	struct seek_args a = { .when = -1 };
	int rc = cli_parse_options(c, &spec, &a, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	if (a.given != 1)
		return cli_usage_error(c, "give exactly one of --time and --since");
	const char *sub = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	int err = rn_subscription_seek(c->client, sub, a.when);
	if (err != 0)
		return cli_fail(c, err, "cannot seek %s", sub);
	return CLI_EXIT_OK;
}

static const struct cli_cmd subs_cmds[] = {
	{ "create", subs_create, "create a subscription" },
	{ "list", subs_resource, "list subscriptions" },
	{ "describe", subs_resource, "print a subscription" },
	{ "delete", subs_resource, "delete a subscription" },
	{ "pull", cli_subs_pull, "pull messages" },
	{ "ack", cli_subs_ack, "acknowledge messages" },
	{ "seek", cli_subs_seek, "seek to a time" },
};

int cli_subscriptions(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "subscriptions", subs_cmds, sizeof(subs_cmds) / sizeof(subs_cmds[0]),
			    subs_help, argc, argv);
}
