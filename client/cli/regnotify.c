/* regnotify.c - the regnotify command-line tool: global options, the
 * command table and dispatch. The commands live in cli_<group>.c; see
 * regnotify(1) (docs/man/regnotify.1). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char main_help[] =
	"Usage: regnotify [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
	"Command-line client of regnotifyd, the container-image event broker.\n"
	"\n"
	"Commands:\n"
	"  topics create|list|describe|delete       manage topics\n"
	"  subscriptions create|list|describe|delete|pull|ack|seek\n"
	"                                           manage and consume subscriptions\n"
	"  publish TOPIC [DATA|-]                   publish one message\n"
	"  tail TOPIC                               print new messages as they arrive\n"
	"  pull, ack, seek                          short for subscriptions pull, ack, seek\n"
	"  auth activate-service-account|print-access-token|list\n"
	"                                           manage the credential commands send\n"
	"  iam service-accounts create|list|describe|delete|disable|enable|keys\n"
	"                                           manage service accounts and their keys\n"
	"  logs read [FILTER]                       print the project's audit log entries\n"
	"  logs tail [FILTER]                       follow new audit log entries\n"
	"\n"
	"Run 'regnotify COMMAND --help' for the options of a command.\n"
	"\n";

static const char main_help_end[] =
	"  --version           print the version and exit\n"
	"\n"
	"Durations are written like 500ms, 30s, 15m, 1h, 2d or 1h30m.\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  the broker refused or failed the request\n"
	"  2  usage error: unknown option, missing or invalid argument\n"
	"  3  the broker cannot be reached (connection refused, timeout, unavailable)\n"
	"  4  the topic or subscription does not exist\n"
	"  (a refused credential - 401 - or a missing permission - 403 - exits with 1)\n"
	"\n"
	"Example: regnotify tail gcr\n";

static int print_help(void)
{
	fputs(main_help, stdout);
	fputs(cli_global_help, stdout);
	fputs(main_help_end, stdout);
	return CLI_EXIT_OK;
}

static int run_help(struct cli *c, int argc, char **argv)
{
	return print_help();
}

static const struct cli_cmd commands[] = {
	{ "topics", cli_topics, "manage topics" },
	{ "subscriptions", cli_subscriptions, "manage and consume subscriptions" },
	{ "publish", cli_publish, "publish one message" },
	{ "tail", cli_tail, "print new messages as they arrive" },
	{ "pull", cli_subs_pull, "short for subscriptions pull" },
	{ "ack", cli_subs_ack, "short for subscriptions ack" },
	{ "seek", cli_subs_seek, "short for subscriptions seek" },
	{ "auth", cli_auth, "manage the credential commands send" },
	{ "iam", cli_iam, "manage service accounts and keys" },
	{ "logs", cli_logs, "read the audit logs" },
	{ "help", run_help, "show this help" },
};

enum { OPT_VERSION = CLI_OPT_LOCAL };

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && v[0] ? v : def;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, OPT_VERSION },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	struct cli c = { 0 };
	c.broker = env_or("REGNOTIFY_BROKER", RN_DEFAULT_URL);
	c.project = env_or("REGNOTIFY_PROJECT", RN_DEFAULT_PROJECT);
	c.token = env_or("REGNOTIFY_TOKEN", NULL);
	c.key_file = getenv("REGNOTIFY_KEY_FILE");
	const char *timeout = env_or("REGNOTIFY_TIMEOUT", NULL);
	if (timeout && cli_common_option(&c, CLI_OPT_TIMEOUT, timeout, argv) != 0)
		return CLI_EXIT_USAGE;

	int opt, rc;
	cli_getopt_reset();
	/* '+': stop at the command; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': return print_help();
		case OPT_VERSION:
			printf("regnotify %s (libregnotify %s, protocol %d)\n", RN_VERSION_STRING,
			       rn_version(), RN_PROTOCOL_VERSION);
			return CLI_EXIT_OK;
		default:
			rc = cli_common_option(&c, opt, optarg, argv);
			if (rc != 0)
				return rc;
		}
	}
	if (optind >= argc)
		return cli_usage_error(&c, "missing command");
	const char *name = argv[optind];
	const struct cli_cmd *cmd =
		cli_find_cmd(commands, sizeof(commands) / sizeof(commands[0]), name);
	if (cmd) {
		snprintf(c.cmd, sizeof(c.cmd), "%s", name);
		rc = cmd->run(&c, argc - optind, argv + optind);
	} else {
		rc = cli_usage_error(&c, "unknown command '%s'", name);
	}
	rn_client_free(c.client);
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	return rc;
}
