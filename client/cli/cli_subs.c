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
	OPT_FORMAT,
	OPT_MAX,
	OPT_WAIT,
	OPT_ACK,
	OPT_TIME,
	OPT_SINCE,
};

static int subs_create(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "ack-deadline", required_argument, NULL, OPT_ACK_DEADLINE },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "expiration-ttl", required_argument, NULL, OPT_EXPIRATION },
		{ "push-endpoint", required_argument, NULL, OPT_PUSH },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	struct rn_subscription_opts so = { 0 };
	const char *topic = NULL, *push = NULL;
	int64_t ms;
	long v;
	int opt, rc;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(create_help, stdout); return CLI_EXIT_OK;
		case OPT_TOPIC: topic = optarg; break;
		case OPT_ACK_DEADLINE:
			if (cli_parse_int(optarg, 10, 600, &v) != 0)
				return cli_usage_error(
					c, "invalid --ack-deadline '%s': expected seconds, 10..600",
					optarg);
			so.ack_deadline_s = (int)v;
			break;
		case OPT_RETENTION:
			if (cli_parse_duration(optarg, &ms, 0) != 0 || ms < 1000)
				return cli_usage_error(
					c, "invalid --retention '%s': expected a duration like 7d",
					optarg);
			so.retention_s = ms / 1000;
			break;
		case OPT_EXPIRATION:
			if (strcmp(optarg, "never") == 0) {
				so.expiration_ttl_s = -1;
				break;
			}
			if (cli_parse_duration(optarg, &ms, 0) != 0 || ms < 1000)
				return cli_usage_error(
					c,
					"invalid --expiration-ttl '%s': expected a duration like 31d, or never",
					optarg);
			so.expiration_ttl_s = ms / 1000;
			break;
		case OPT_PUSH: push = optarg; break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	if (!topic)
		return cli_usage_error(c, "missing --topic TOPIC");
	const char *sub = argv[optind];
	char *extra = NULL;
	if (push) {
		json_t *e = json_pack("{s:{s:s}}", "pushConfig", "pushEndpoint", push);
		extra = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
		if (!extra)
			return cli_usage_error(c, "invalid --push-endpoint '%s'", push);
		so.extra_json = extra;
	}
	if ((rc = cli_connect(c)) != 0) {
		free(extra);
		return rc;
	}
	char *json = NULL;
	int err = rn_subscription_create(c->client, sub, topic, &so, &json);
	free(extra);
	if (err != 0)
		return cli_fail(c, err, "cannot create subscription %s", sub);
	json_t *r = json ? json_loads(json, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(r, "name"));
	puts(name ? name : sub);
	json_decref(r);
	rn_free(json);
	return CLI_EXIT_OK;
}

static int subs_list(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	int as_json = 0, opt, rc;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(list_help, stdout); return CLI_EXIT_OK;
		case OPT_FORMAT:
			if ((rc = cli_parse_format(c, optarg, &as_json)) != 0)
				return rc;
			break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = cli_check_args(c, argc - optind, 0, 0, "")) != 0)
		return rc;
	if ((rc = cli_connect(c)) != 0)
		return rc;
	char *json = NULL;
	int err = rn_subscription_list(c->client, NULL, &json);
	if (err != 0)
		return cli_fail(c, err, "cannot list subscriptions");
	if (as_json) {
		rc = cli_print_json(json);
	} else {
		json_t *arr = json_loads(json, 0, NULL);
		size_t i;
		json_t *s;
		json_array_foreach(arr, i, s)
		{
			const char *name = json_string_value(json_object_get(s, "name"));
			if (name)
				puts(name);
		}
		json_decref(arr);
	}
	rn_free(json);
	return rc;
}

static int subs_describe(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse_plain(c, argc, argv, describe_help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	const char *sub = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	char *json = NULL;
	int err = rn_subscription_get(c->client, sub, &json);
	if (err != 0)
		return cli_fail(c, err, "subscription %s", sub);
	rc = cli_print_json(json);
	rn_free(json);
	return rc;
}

static int subs_delete(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse_plain(c, argc, argv, delete_help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	const char *sub = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	int err = rn_subscription_delete(c->client, sub);
	if (err != 0)
		return cli_fail(c, err, "cannot delete subscription %s", sub);
	return CLI_EXIT_OK;
}

/* One pulled message as a text line: ACKID  MESSAGEID  TIME  ATTRS  DATA. */
static void print_text(const struct rn_message *m)
{
	char when[40];
	size_t len, n = rn_message_attr_count(m);
	const void *data = rn_message_data(m, &len);
	cli_format_rfc3339(rn_message_publish_time_ms(m), when, sizeof(when));
	printf("%s  %s  %s  ", rn_message_ack_id(m), rn_message_id(m), when);
	if (n == 0)
		fputc('-', stdout);
	for (size_t i = 0; i < n; i++) {
		const char *k, *v;
		if (rn_message_attr_at(m, i, &k, &v) != 0)
			continue;
		if (i > 0)
			fputc(',', stdout);
		cli_put_escaped(stdout, k, strlen(k));
		fputc('=', stdout);
		cli_put_escaped(stdout, v, strlen(v));
	}
	fputs("  ", stdout);
	cli_put_escaped(stdout, data, len);
	fputc('\n', stdout);
}

static int print_json_line(const struct rn_message *m)
{
	json_t *o = cli_message_json(m, 1);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
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
	long max = 10;
	int wait = 0, ack = 0, as_json = 0, opt, rc;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(pull_help, stdout); return CLI_EXIT_OK;
		case OPT_MAX:
			if (cli_parse_int(optarg, 1, 1000, &max) != 0)
				return cli_usage_error(c, "invalid --max '%s': expected 1..1000",
						       optarg);
			break;
		case OPT_WAIT: wait = 1; break;
		case OPT_ACK: ack = 1; break;
		case OPT_FORMAT:
			if ((rc = cli_parse_format(c, optarg, &as_json)) != 0)
				return rc;
			break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	const char *sub = argv[optind];
	c->long_poll = wait;
	if ((rc = cli_connect(c)) != 0)
		return rc;
	struct rn_message **msgs = NULL;
	size_t n = 0;
	int err = rn_pull(c->client, sub, (int)max, wait, &msgs, &n);
	if (err != 0)
		return cli_fail(c, err, "cannot pull from %s", sub);
	rc = CLI_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		if (as_json) {
			if (print_json_line(msgs[i]) != 0)
				rc = CLI_EXIT_FAIL;
		} else {
			print_text(msgs[i]);
		}
	}
	if (fflush(stdout) != 0)
		rc = CLI_EXIT_FAIL;
	/* Acknowledge only what was printed: a failed write keeps them. */
	if (ack && n > 0 && rc == CLI_EXIT_OK) {
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

int cli_subs_seek(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, OPT_TIME },
		{ "since", required_argument, NULL, OPT_SINCE },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	int64_t when = -1, ms;
	int opt, rc, given = 0;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(seek_help, stdout); return CLI_EXIT_OK;
		case OPT_TIME:
			if (cli_parse_rfc3339(optarg, &when) != 0)
				return cli_usage_error(
					c,
					"invalid --time '%s': expected RFC 3339, e.g. 2026-11-28T10:00:00Z",
					optarg);
			given++;
			break;
		case OPT_SINCE:
			if (cli_parse_duration(optarg, &ms, 1) != 0)
				return cli_usage_error(
					c, "invalid --since '%s': expected a duration like 1h",
					optarg);
			when = cli_now_ms() - ms;
			if (when < 0)
				when = 0;
			given++;
			break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "SUB")) != 0)
		return rc;
	if (given != 1)
		return cli_usage_error(c, "give exactly one of --time and --since");
	const char *sub = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	int err = rn_subscription_seek(c->client, sub, when);
	if (err != 0)
		return cli_fail(c, err, "cannot seek %s", sub);
	return CLI_EXIT_OK;
}

static const struct cli_cmd subs_cmds[] = {
	{ "create", subs_create, "create a subscription" },
	{ "list", subs_list, "list subscriptions" },
	{ "describe", subs_describe, "print a subscription" },
	{ "delete", subs_delete, "delete a subscription" },
	{ "pull", cli_subs_pull, "pull messages" },
	{ "ack", cli_subs_ack, "acknowledge messages" },
	{ "seek", cli_subs_seek, "seek to a time" },
};

int cli_subscriptions(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "subscriptions", subs_cmds, sizeof(subs_cmds) / sizeof(subs_cmds[0]),
			    subs_help, argc, argv);
}
