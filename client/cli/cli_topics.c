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

enum { OPT_RETENTION = CLI_OPT_LOCAL };

static const struct cli_resource topic_resource = {
	.kind = "topic",
	.plural = "topics",
	.arg = "TOPIC",
	.list_help = list_help,
	.describe_help = describe_help,
	.delete_help = delete_help,
	.list = rn_topic_list,
	.get = rn_topic_get,
	.del = rn_topic_delete,
};

static int take_create(struct cli *c, int opt, const char *arg, void *ctx)
{
	(void)opt; /* --retention, the only one */
	return cli_parse_duration_opt(c, "retention", arg, "7d", ctx);
}

static int topics_create(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "retention", required_argument, NULL, OPT_RETENTION },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":h", longopts, create_help, take_create };
	int64_t retention_ms = 0;
	int rc = cli_parse_options(c, &spec, &retention_ms, argc, argv);
	if (rc >= 0)
		return rc;
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
	return cli_resource_created(c, &topic_resource, err, json, topic);
}

/* list, describe, delete */
static int topics_resource(struct cli *c, int argc, char **argv)
{
	return cli_resource_run(c, &topic_resource, argc, argv);
}

static const struct cli_cmd topics_cmds[] = {
	{ "create", topics_create, "create a topic" },
	{ "list", topics_resource, "list topics" },
	{ "describe", topics_resource, "print a topic" },
	{ "delete", topics_resource, "delete a topic" },
};

int cli_topics(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "topics", topics_cmds, sizeof(topics_cmds) / sizeof(topics_cmds[0]),
			    topics_help, argc, argv);
}
