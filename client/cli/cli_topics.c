/* cli_topics.c - regnotify topics create|list|describe|delete. */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char topics_help[] =
	"Usage: regnotify topics COMMAND [OPTIONS] [ARGS]\n"
	"Manage topics.\n"
	"\n"
	"Commands:\n"
	"  create TOPIC [--retention DURATION]   create a topic; prints its name\n"
	"  list [--format text|json]             list the project's topics\n"
	"  describe TOPIC                        print a topic as JSON\n"
	"  delete TOPIC                          delete a topic (its subscriptions stay, detached)\n"
	"\n"
	"TOPIC is a short id (gcr) in the --project, or a full name (projects/P/topics/T).\n"
	"Run 'regnotify topics COMMAND --help' for details; 'regnotify --help' for the\n"
	"global options and exit codes.\n";

static const char create_help[] =
	"Usage: regnotify topics create TOPIC [--retention DURATION]\n"
	"Create a topic and print its full name.\n"
	"\n"
	"  --retention DURATION  keep the topic's messages this long (10m..31d), so that\n"
	"                        subscriptions can seek back into them (messageRetentionDuration)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 created, 1 refused (e.g. it already exists), 2 usage, 3 unreachable.\n";

static const char list_help[] =
	"Usage: regnotify topics list [--format text|json]\n"
	"List the topics of the project: one full name per line (text), or a JSON array of\n"
	"the Topic resources (json).\n"
	"\n"
	"  --format text|json  output format (default text)\n"
	"  -h, --help          show this help\n";

static const char describe_help[] =
	"Usage: regnotify topics describe TOPIC\n"
	"Print the Topic resource as indented JSON. Exit status 4 when it does not exist.\n"
	"\n"
	"  -h, --help  show this help\n";

static const char delete_help[] =
	"Usage: regnotify topics delete TOPIC\n"
	"Delete a topic. Its subscriptions stay, detached. Exit status 4 when it does not exist.\n"
	"\n"
	"  -h, --help  show this help\n";

enum { OPT_RETENTION = CLI_OPT_LOCAL, OPT_FORMAT };

static int topics_create(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "retention", required_argument, NULL, OPT_RETENTION },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	int64_t retention_ms = 0;
	int opt, rc;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(create_help, stdout); return CLI_EXIT_OK;
		case OPT_RETENTION:
			if (cli_parse_duration(optarg, &retention_ms, 0) != 0 ||
			    retention_ms < 1000)
				return cli_usage_error(
					c, "invalid --retention '%s': expected a duration like 7d",
					optarg);
			break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "TOPIC")) != 0)
		return rc;
	const char *topic = argv[optind];
	char config[128];
	if (retention_ms > 0)
		snprintf(config, sizeof(config), "{\"messageRetentionDuration\":\"%llds\"}",
			 (long long)(retention_ms / 1000));
	if ((rc = cli_connect(c)) != 0)
		return rc;
	char *json = NULL;
	int err = rn_topic_create(c->client, topic, retention_ms > 0 ? config : NULL, &json);
	if (err != 0)
		return cli_fail(c, err, "cannot create topic %s", topic);
	json_t *v = json ? json_loads(json, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(v, "name"));
	puts(name ? name : topic);
	json_decref(v);
	rn_free(json);
	return CLI_EXIT_OK;
}

static int topics_list(struct cli *c, int argc, char **argv)
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
	int err = rn_topic_list(c->client, NULL, &json);
	if (err != 0)
		return cli_fail(c, err, "cannot list topics");
	if (as_json) {
		rc = cli_print_json(json);
	} else {
		json_t *arr = json_loads(json, 0, NULL);
		size_t i;
		json_t *t;
		json_array_foreach(arr, i, t)
		{
			const char *name = json_string_value(json_object_get(t, "name"));
			if (name)
				puts(name);
		}
		json_decref(arr);
	}
	rn_free(json);
	return rc;
}

static int topics_describe(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse_plain(c, argc, argv, describe_help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "TOPIC")) != 0)
		return rc;
	const char *topic = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	char *json = NULL;
	int err = rn_topic_get(c->client, topic, &json);
	if (err != 0)
		return cli_fail(c, err, "topic %s", topic);
	rc = cli_print_json(json);
	rn_free(json);
	return rc;
}

static int topics_delete(struct cli *c, int argc, char **argv)
{
	int rc = cli_parse_plain(c, argc, argv, delete_help);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 1, 1, "TOPIC")) != 0)
		return rc;
	const char *topic = argv[optind];
	if ((rc = cli_connect(c)) != 0)
		return rc;
	int err = rn_topic_delete(c->client, topic);
	if (err != 0)
		return cli_fail(c, err, "cannot delete topic %s", topic);
	return CLI_EXIT_OK;
}

static const struct cli_cmd topics_cmds[] = {
	{ "create", topics_create, "create a topic" },
	{ "list", topics_list, "list topics" },
	{ "describe", topics_describe, "print a topic" },
	{ "delete", topics_delete, "delete a topic" },
};

int cli_topics(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "topics", topics_cmds, sizeof(topics_cmds) / sizeof(topics_cmds[0]),
			    topics_help, argc, argv);
}
