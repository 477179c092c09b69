/* cli_iam.c - regnotify iam service-accounts create|list|describe|delete|
 * disable|enable and iam service-accounts keys create|list|delete, over the
 * broker's IAM API (docs/security.md), shaped like gcloud's. */
#include "cli.h"

#include "base64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char iam_help[] =
	"Usage: regnotify iam service-accounts COMMAND [OPTIONS] [ARGS]\n"
	"Manage service accounts and their keys (docs/security.md).\n"
	"\n"
	"Commands:\n"
	"  create ID [--display-name N] [--description D]   create ID@PROJECT.iam.regnotify\n"
	"  list [--format text|json]                         list the project's accounts\n"
	"  describe EMAIL                                    print an account as JSON\n"
	"  delete EMAIL                                      delete an account and its keys\n"
	"  disable EMAIL, enable EMAIL                       refuse / accept its tokens again\n"
	"  keys create FILE --iam-account EMAIL              write a new key file to FILE\n"
	"  keys list --iam-account EMAIL                     list the account's keys\n"
	"  keys delete KEY_ID --iam-account EMAIL            delete a key (refused at once)\n"
	"\n"
	"Run 'regnotify --help' for the global options and exit codes.\n";

static const char keys_help[] =
	"Usage: regnotify iam service-accounts keys create FILE --iam-account EMAIL\n"
	"       regnotify iam service-accounts keys list --iam-account EMAIL\n"
	"       regnotify iam service-accounts keys delete KEY_ID --iam-account EMAIL\n"
	"Create a key (its JSON key file is written to FILE, mode 0600, and exists nowhere\n"
	"else), list an account's keys, or delete one.\n"
	"\n"
	"  --iam-account EMAIL  the service account\n"
	"  -h, --help           show this help\n";

enum { OPT_IAM_ACCOUNT = CLI_OPT_LOCAL, OPT_DISPLAY_NAME, OPT_DESCRIPTION, OPT_FORMAT };

struct iam_opts {
	const char *account, *display, *description;
	int json;
};

static int take_iam(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct iam_opts *o = ctx;
	switch (opt) {
	case OPT_IAM_ACCOUNT: o->account = arg; return 0;
	case OPT_DISPLAY_NAME: o->display = arg; return 0;
	case OPT_DESCRIPTION: o->description = arg; return 0;
	case OPT_FORMAT: return cli_parse_format(c, arg, &o->json);
	}
	return CLI_EXIT_USAGE;
}

static const struct option iam_longopts[] = {
	{ "iam-account", required_argument, NULL, OPT_IAM_ACCOUNT },
	{ "display-name", required_argument, NULL, OPT_DISPLAY_NAME },
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
	{ "format", required_argument, NULL, OPT_FORMAT },
	CLI_GLOBAL_LONGOPTS,
	{ 0 },
};

/* Parses options and connects; -1 to go on, else an exit code. */
static int prepare(struct cli *c, struct iam_opts *o, int argc, char **argv, int min, int max,
		   const char *names)
{
	static const struct cli_optspec spec = { ":h", iam_longopts, iam_help, take_iam };
	int rc = cli_parse_options(c, &spec, o, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, min, max, names)) != 0)
		return rc;
	if ((rc = cli_connect(c)) != 0)
		return rc;
	return -1;
}

/* A request; prints the reply with print (1: pretty JSON). */
static int request(struct cli *c, const char *method, const char *path, const char *body, int print,
		   char **out, const char *what)
{
	char *reply = NULL;
	int e = rn_request(c->client, method, path, body, &reply);
	if (e != RN_OK)
		return cli_fail(c, e, "%s", what);
	int rc = print ? cli_print_json(reply) : CLI_EXIT_OK;
	if (out)
		*out = reply;
	else
		rn_free(reply);
	return rc;
}

static int sa_create(struct cli *c, int argc, char **argv)
{
	struct iam_opts o = { 0 };
	int rc = prepare(c, &o, argc, argv, 1, 1, "ID");
	if (rc >= 0)
		return rc;
	json_t *sa = json_object();
	if (o.display)
		json_object_set_new(sa, "displayName", json_string(o.display));
	if (o.description)
		json_object_set_new(sa, "description", json_string(o.description));
	json_t *body = json_pack("{s:s,s:o}", "accountId", argv[optind], "serviceAccount", sa);
	char *text = json_dumps(body, JSON_COMPACT), path[300], *reply = NULL;
	json_decref(body);
	snprintf(path, sizeof(path), "/v1/projects/%s/serviceAccounts", c->project);
	rc = request(c, "POST", path, text, 0, &reply, "cannot create the service account");
	free(text);
	if (rc == CLI_EXIT_OK) {
		json_t *js = json_loads(reply, 0, NULL);
		fprintf(stderr, "Created service account [%s].\n",
			json_string_value(json_object_get(js, "email")));
		json_decref(js);
	}
	rn_free(reply);
	return rc;
}

static int sa_list(struct cli *c, int argc, char **argv)
{
	struct iam_opts o = { 0 };
	int rc = prepare(c, &o, argc, argv, 0, 0, "");
	if (rc >= 0)
		return rc;
	json_t *all = json_array();
	char token[512] = "", path[1024];
	do {
		snprintf(path, sizeof(path), "/v1/projects/%s/serviceAccounts?pageSize=100%s%s",
			 c->project, token[0] ? "&pageToken=" : "", token);
		char *reply = NULL;
		if ((rc = request(c, "GET", path, NULL, 0, &reply, "cannot list service accounts")))
			break;
		json_t *js = json_loads(reply, 0, NULL);
		rn_free(reply);
		json_array_extend(all, json_object_get(js, "accounts"));
		const char *next = json_string_value(json_object_get(js, "nextPageToken"));
		/* A page token is base64: escape what a query string needs. */
		size_t o2 = 0;
		token[0] = '\0';
		for (const char *p = next; p && *p && o2 + 4 < sizeof(token); p++)
			o2 += (size_t)snprintf(token + o2, sizeof(token) - o2,
					       (*p == '+' || *p == '/' || *p == '=') ? "%%%02X"
										     : "%c",
					       (unsigned char)*p);
		json_decref(js);
	} while (token[0]);
	if (rc == CLI_EXIT_OK) {
		if (o.json) {
			char *t = json_dumps(all, JSON_INDENT(2));
			printf("%s\n", t);
			free(t);
		} else {
			size_t i;
			json_t *a;
			json_array_foreach(all, i, a) printf(
				"%s%s\n", json_string_value(json_object_get(a, "email")),
				json_is_true(json_object_get(a, "disabled")) ? " (disabled)" : "");
		}
	}
	json_decref(all);
	return rc;
}

/* describe, delete, disable, enable: one EMAIL. */
static int sa_one(struct cli *c, int argc, char **argv)
{
	struct iam_opts o = { 0 };
	int rc = prepare(c, &o, argc, argv, 1, 1, "EMAIL");
	if (rc >= 0)
		return rc;
	const char *cmd = argv[0], *email = argv[optind];
	char path[700];
	if (strcmp(cmd, "describe") == 0 || strcmp(cmd, "delete") == 0) {
		snprintf(path, sizeof(path), "/v1/projects/-/serviceAccounts/%s", email);
		int del = cmd[2] == 'l';
		rc = request(c, del ? "DELETE" : "GET", path, NULL, !del, NULL,
			     "cannot find the service account");
		if (rc == CLI_EXIT_OK && del)
			fprintf(stderr, "Deleted service account [%s].\n", email);
		return rc;
	}
	snprintf(path, sizeof(path), "/v1/projects/-/serviceAccounts/%s:%s", email, cmd);
	rc = request(c, "POST", path, "{}", 0, NULL, "cannot change the service account");
	if (rc == CLI_EXIT_OK)
		fprintf(stderr, "%s service account [%s].\n",
			cmd[0] == 'd' ? "Disabled" : "Enabled", email);
	return rc;
}

/* keys create FILE | list | delete KEY_ID, with --iam-account. */
static int sa_keys(struct cli *c, int argc, char **argv)
{
	static const struct cli_optspec spec = { ":h", iam_longopts, keys_help, take_iam };
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(keys_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	const char *sub = argv[1];
	int create = strcmp(sub, "create") == 0, list = strcmp(sub, "list") == 0,
	    del = strcmp(sub, "delete") == 0;
	if (!create && !list && !del)
		return cli_usage_error(c, "unknown keys command '%s'", sub);
	struct iam_opts o = { 0 };
	int rc = cli_parse_options(c, &spec, &o, argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - 1 - optind, list ? 0 : 1, list ? 0 : 1,
				 create ? "FILE" : "KEY_ID")) != 0)
		return rc;
	if (o.account == NULL)
		return cli_usage_error(c, "--iam-account EMAIL is required");
	const char *arg = list ? NULL : argv[1 + optind];
	/* The file is claimed before the key exists: never overwritten. */
	int fd = -1;
	if (create && (fd = open(arg, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		cli_warn(c, "cannot create %s: %s", arg, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if ((rc = cli_connect(c)) != 0) {
		if (fd >= 0) {
			close(fd);
			unlink(arg);
		}
		return rc;
	}
	char path[900], *reply = NULL;
	if (list) {
		snprintf(path, sizeof(path), "/v1/projects/-/serviceAccounts/%s/keys", o.account);
		return request(c, "GET", path, NULL, 1, NULL, "cannot list the keys");
	}
	if (del) {
		snprintf(path, sizeof(path), "/v1/projects/-/serviceAccounts/%s/keys/%s", o.account,
			 arg);
		rc = request(c, "DELETE", path, NULL, 0, NULL, "cannot delete the key");
		if (rc == CLI_EXIT_OK)
			fprintf(stderr, "Deleted key [%s] for service account [%s].\n", arg,
				o.account);
		return rc;
	}
	snprintf(path, sizeof(path), "/v1/projects/-/serviceAccounts/%s/keys", o.account);
	rc = request(c, "POST", path, "{}", 0, &reply, "cannot create a key");
	if (rc != CLI_EXIT_OK) {
		close(fd);
		unlink(arg);
		return rc;
	}
	json_t *js = json_loads(reply, 0, NULL);
	rn_free(reply);
	const char *data = json_string_value(json_object_get(js, "privateKeyData"));
	const char *name = json_string_value(json_object_get(js, "name"));
	size_t dl = data ? strlen(data) : 0;
	unsigned char *kf = malloc(BASE64_DECODED_MAX(dl) + 1);
	long kl = data ? base64_decode(data, dl, kf) : -1;
	int ok = kl > 0 && write(fd, kf, (size_t)kl) == kl;
	ok = close(fd) == 0 && ok;
	free(kf);
	if (!ok) {
		unlink(arg);
		cli_warn(c, "cannot write the key file %s", arg);
		rc = CLI_EXIT_FAIL;
	} else {
		const char *kid = name ? strrchr(name, '/') : NULL;
		fprintf(stderr, "created key [%s] of type [json] as [%s] for [%s]\n",
			kid ? kid + 1 : "?", arg, o.account);
	}
	json_decref(js);
	return rc;
}

static const struct cli_cmd sa_cmds[] = {
	{ "create", sa_create, "create a service account" },
	{ "list", sa_list, "list service accounts" },
	{ "describe", sa_one, "print a service account" },
	{ "delete", sa_one, "delete a service account" },
	{ "disable", sa_one, "disable a service account" },
	{ "enable", sa_one, "enable a service account" },
	{ "keys", sa_keys, "manage keys" },
};

static int iam_service_accounts(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "iam service-accounts", sa_cmds,
			    sizeof(sa_cmds) / sizeof(sa_cmds[0]), iam_help, argc, argv);
}

static const struct cli_cmd iam_cmds[] = {
	{ "service-accounts", iam_service_accounts, "manage service accounts and keys" },
};

int cli_iam(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "iam", iam_cmds, 1, iam_help, argc, argv);
}
