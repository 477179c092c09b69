/* cli.h - shared declarations of the regnotify command-line tool.
 *
 * regnotify.c parses the global options and dispatches through a command
 * table; each cli_<group>.c implements the commands of one group on top of
 * libregnotify (include/regnotify/client.h) and cli_common.c holds the
 * helpers they share. Everything runs on the main thread except the tail
 * message callback (cli_tail.c). */
#ifndef RN_CLI_H
#define RN_CLI_H

#include <regnotify/client.h>

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, documented in `regnotify --help` and regnotify(1). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,        /* the broker refused or failed the request */
	CLI_EXIT_USAGE = 2,       /* bad flag, missing or invalid argument */
	CLI_EXIT_UNREACHABLE = 3, /* the broker cannot be reached */
	CLI_EXIT_NOTFOUND = 4,    /* the topic or subscription does not exist */
};

/* The state of one invocation: the global options and the connection. */
struct cli {
	const char *broker;       /* nng URL */
	const char *project;      /* project of short names */
	const char *token;        /* access token or NULL */
	const char *key_file;     /* --key-file / REGNOTIFY_KEY_FILE, or NULL */
	int timeout_ms;           /* --timeout; 0: the library's defaults */
	char cmd[64];             /* "tail", "topics create": in messages and hints */
	int long_poll;            /* tail, pull --wait: requests may wait on the broker */
	struct rn_client *client; /* after cli_connect */
};

/* Option values of the global options, shared by every command's
 * getopt_long table so that they may also follow the command. */
enum {
	CLI_OPT_BROKER = 0x100,
	CLI_OPT_PROJECT,
	CLI_OPT_TOKEN,
	CLI_OPT_TIMEOUT,
	CLI_OPT_KEY_FILE,
	CLI_OPT_LOCAL = 0x200, /* first value free for a command's own long options */
};

/* clang-format off */
#define CLI_GLOBAL_LONGOPTS \
	{ "broker", required_argument, NULL, CLI_OPT_BROKER }, \
	{ "project", required_argument, NULL, CLI_OPT_PROJECT }, \
	{ "token", required_argument, NULL, CLI_OPT_TOKEN }, \
	{ "key-file", required_argument, NULL, CLI_OPT_KEY_FILE }, \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT }, \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */

/* One command or subcommand: name, handler, one-line summary. The handler
 * gets argv[0] = its own name and returns an exit code. */
struct cli_cmd {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
};

/* How a command parses its options (cli_parse_options). */
struct cli_optspec {
	const char *optstring;         /* getopt_long's, starting with ':' (after '+') */
	const struct option *longopts; /* the command's own, then CLI_GLOBAL_LONGOPTS, { 0 } */
	const char *help;              /* printed on stdout for -h/--help */
	/* Takes one of the command's own options (not -h, not a global one)
	 * into ctx, the command's option values. Returns 0, or an exit code
	 * after printing the error. NULL when the command has none. */
	int (*take)(struct cli *c, int opt, const char *arg, void *ctx);
};

/* One kind of resource that has create, list, describe and delete
 * subcommands (cli_resource_run, cli_resource_created): its words, help
 * texts and library calls. */
struct cli_resource {
	const char *kind;   /* "topic": in error messages */
	const char *plural; /* "topics" */
	const char *arg;    /* "TOPIC": the positional argument */
	const char *list_help, *describe_help, *delete_help;
	int (*list)(struct rn_client *cl, const char *project, char **json_out);
	int (*get)(struct rn_client *cl, const char *name, char **json_out);
	int (*del)(struct rn_client *cl, const char *name);
};

/* The text of the global options and exit codes, appended to help texts. */
extern const char cli_global_help[];

/* --- cli_common.c ------------------------------------------------------ */

/* Handles what getopt_long returned that is not a command's own option: a
 * global option (CLI_OPT_*), or '?'/':' (an unknown option, a missing
 * argument). Returns 0 when a global option was taken, else the exit code
 * after printing the usage error. */
int cli_common_option(struct cli *c, int opt, const char *arg, char **argv);

/* Prints the usage error for the '?' or ':' that getopt_long (with opterr
 * 0 and an optstring starting with ':') returned, and the hint. Returns
 * CLI_EXIT_USAGE. */
int cli_getopt_error(struct cli *c, int ret, char **argv);

/* Resets getopt for a new argument vector. */
void cli_getopt_reset(void);

/* Prints "regnotify: CMD: MESSAGE" and the hint "Try 'regnotify CMD
 * --help'." on stderr. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "regnotify: CMD: WHAT: why" for library error err on stderr (why
 * = the broker's message, else rn_strerror) and returns the exit code of
 * err (cli_exit_code). what may be NULL. */
int cli_fail(const struct cli *c, int err, const char *what, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints "regnotify: CMD: MESSAGE" on stderr. */
void cli_warn(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code for a library error: 0, 3 (unreachable), 4 (not found),
 * 2 (bad broker URL) or 1. */
int cli_exit_code(int err);

/* Connects c->client with the global options. With c->long_poll set,
 * --timeout does not shorten the request timeout below the library's
 * default (30 s), which must outlast the broker's pull wait (10 s).
 * Returns 0 or an exit code (after printing the error). */
int cli_connect(struct cli *c);

/* Parses a duration "500ms", "30s", "15m", "1h", "2d", also combined
 * ("1h30m") and with a fraction ("1.5h"), into milliseconds (> 0 unless
 * allow_zero). Returns 0, or -1 for anything else. */
int cli_parse_duration(const char *s, int64_t *ms, int allow_zero);

/* Parses an RFC 3339 timestamp ("2026-11-28T10:01:02Z", with an optional
 * fraction and a Z or +HH:MM offset) into ms since the epoch. 0 or -1. */
int cli_parse_rfc3339(const char *s, int64_t *ms);

/* Formats ms since the epoch as "2026-11-28T10:01:02.123Z" (buf >= 32). */
void cli_format_rfc3339(int64_t ms, char *buf, size_t n);

/* Parses a base-10 integer in [min, max]. 0 or -1. */
int cli_parse_int(const char *s, long min, long max, long *out);

/* The current time in ms since the epoch. */
int64_t cli_now_ms(void);

/* 1 when colour may be used on stdout: a TTY and NO_COLOR unset or empty. */
int cli_use_color(void);

/* Prints the JSON text json pretty-printed (indent 2) and a newline on
 * stdout; non-JSON text as it is. Returns 0 or CLI_EXIT_FAIL. */
int cli_print_json(const char *json);

/* Parses a --format value (text or json) into *json. Returns 0 or
 * CLI_EXIT_USAGE after printing the error. */
int cli_parse_format(struct cli *c, const char *arg, int *json);

/* Checks that have positional arguments are within [min, max] (max < 0:
 * no limit); names says what is missing. Returns 0 or CLI_EXIT_USAGE. */
int cli_check_args(struct cli *c, int have, int min, int max, const char *names);

/* The data of a message as JSON: a decoded object or array when the data
 * is one, else a string; NULL when the data is not UTF-8.
 * Ownership: json_decref. */
json_t *cli_decode_data(const void *data, size_t len);

/* A received message as the JSON object printed by pull and tail:
 * {"ackId" (with_ack),"messageId","publishTime","attributes",
 * "orderingKey" (when set),"data" (cli_decode_data, else base64 with
 * "dataEncoding":"base64"),"deliveryAttempt" (with_ack, when known)}.
 * Ownership: json_decref. NULL when out of memory. */
json_t *cli_message_json(const struct rn_message *m, int with_ack);

/* The string fields of a gcr message's decoded data (NULL when absent). */
void cli_gcr_fields(const json_t *data, const char **action, const char **tag, const char **digest);

/* Writes len bytes to f with newlines, tabs, backslashes and other control
 * characters escaped, so that the text stays on one line. */
void cli_put_escaped(FILE *f, const void *data, size_t len);

/* The entry of table (n entries) called name, or NULL. */
const struct cli_cmd *cli_find_cmd(const struct cli_cmd *table, size_t n, const char *name);

/* Runs the subcommand of argv[1] from table (n entries) for group, or
 * prints group_help. Returns the exit code. */
int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *table, size_t n,
		 const char *group_help, int argc, char **argv);

/* Parses the options of a command as spec says: -h/--help prints
 * spec->help, the global options go to cli_common_option and the
 * command's own ones to spec->take with ctx. Returns -1 to go on
 * (positional arguments from optind), or an exit code to return at once
 * (CLI_EXIT_OK after --help). */
int cli_parse_options(struct cli *c, const struct cli_optspec *spec, void *ctx, int argc,
		      char **argv);

/* Parses a command with no options of its own (only the global ones and
 * --help). Returns -1 to go on (positional arguments from optind), or an
 * exit code to return at once. */
int cli_parse_plain(struct cli *c, int argc, char **argv, const char *help);

/* A --format option of a command whose cli_optspec ctx is an int (1:
 * json): the cli_optspec take function for commands with no other option. */
int cli_take_format(struct cli *c, int opt, const char *arg, void *ctx);

/* Parses the duration arg of option --name, at least one second, into
 * *ms; else prints "invalid --NAME 'ARG': expected a duration like LIKE".
 * Returns 0 or CLI_EXIT_USAGE. */
int cli_parse_duration_opt(struct cli *c, const char *name, const char *arg, const char *like,
			   int64_t *ms);

/* Ends a create command for the resource r called name, after the
 * library call returned err and the JSON text json (may be NULL): prints
 * the error, or the full "name" of json (else name) on stdout. Returns the
 * exit code. Ownership: frees json with rn_free. */
int cli_resource_created(struct cli *c, const struct cli_resource *r, int err, char *json,
			 const char *name);

/* Prints one message as a compact JSON line (cli_message_json) on stdout.
 * Returns 0, or -1 when out of memory. */
int cli_print_message_json(const struct rn_message *m, int with_ack);

/* Writes the attributes of m as KEY=VALUE escaped (cli_put_escaped) on
 * stdout, open before the first and sep between the others. */
void cli_put_attrs(const struct rn_message *m, const char *open, const char *sep);

/* Runs the list, describe or delete subcommand (argv[0], as cli_dispatch
 * passes it) for the resource r. Returns the exit code. */
int cli_resource_run(struct cli *c, const struct cli_resource *r, int argc, char **argv);

/* --- command groups ----------------------------------------------------- */

int cli_topics(struct cli *c, int argc, char **argv);
/* cli_auth.c, cli_iam.c */
int cli_auth(struct cli *c, int argc, char **argv);
int cli_iam(struct cli *c, int argc, char **argv);
int cli_logs(struct cli *c, int argc, char **argv); /* cli_logs.c */
/* Where 'auth activate-service-account' keeps the key file:
 * $XDG_CONFIG_HOME/regnotify/credentials.json, else
 * ~/.config/regnotify/credentials.json. 0 or -1 (no HOME). */
int cli_credentials_path(char *buf, size_t n);
/* The key file a command signs with when no token is given: --key-file /
 * REGNOTIFY_KEY_FILE ("" means none), else the activated one when it
 * exists, else NULL. buf holds the activated path. */
const char *cli_active_key_file(const struct cli *c, char *buf, size_t n);
int cli_subscriptions(struct cli *c, int argc, char **argv);
int cli_subs_pull(struct cli *c, int argc, char **argv);
int cli_subs_ack(struct cli *c, int argc, char **argv);
int cli_subs_seek(struct cli *c, int argc, char **argv);
int cli_publish(struct cli *c, int argc, char **argv);
int cli_tail(struct cli *c, int argc, char **argv);

#endif
