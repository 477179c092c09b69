/* cli_auth.c - credentials, shaped like gcloud: regnotify auth
 * activate-service-account|print-access-token|list, and regnotify iam
 * service-accounts create|list|describe|delete|disable|enable and
 * iam service-accounts keys create|list|delete. */
#include "cli.h"

#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_credentials_path(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0])
		snprintf(buf, n, "%s/regnotify/credentials.json", xdg);
	else if (home && home[0])
		snprintf(buf, n, "%s/.config/regnotify/credentials.json", home);
	else
		return -1;
	return 0;
}

/* ------------------------------------------------------------ auth */

static const char auth_help[] =
	"Usage: regnotify auth COMMAND [OPTIONS]\n"
	"Manage the credential the other commands send.\n"
	"\n"
	"Commands:\n"
	"  activate-service-account --key-file FILE  remember a service account's key file\n"
	"  print-access-token [--key-file FILE]       print an access token of the broker\n"
	"  list                                       print the active account\n"
	"\n"
	"Every command sends, in this order: --token (REGNOTIFY_TOKEN), or tokens signed with\n"
	"--key-file (REGNOTIFY_KEY_FILE), or the activated key file\n"
	"($XDG_CONFIG_HOME/regnotify/credentials.json, default ~/.config/regnotify/).\n";

static const char activate_help[] =
	"Usage: regnotify auth activate-service-account --key-file FILE\n"
	"Check FILE (a service account's JSON key file) and copy it to\n"
	"~/.config/regnotify/credentials.json (mode 0600), where every later command finds it.\n"
	"\n"
	"  --key-file FILE  the key file (from 'regnotify iam service-accounts keys create')\n"
	"  -h, --help       show this help\n";

static const char print_help[] =
	"Usage: regnotify auth print-access-token [--key-file FILE]\n"
	"Exchange a signed assertion of the key file (default: the active credential) for an\n"
	"access token of the broker (POST /token) and print it. It is valid for 1 hour (or\n"
	"the broker's token_lifetime).\n"
	"\n"
	"  --key-file FILE  the key file to use\n"
	"  -h, --help       show this help\n";

static int write_private(const char *path, const char *text)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t n = strlen(text);
	int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The options of an auth command: the global ones only, no arguments.
 * Returns -1 to go on, else the exit code. */
static int parse_no_args(struct cli *c, const char *help, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_GLOBAL_LONGOPTS, { 0 } };
	const struct cli_optspec spec = { ":h", longopts, help, NULL };
	int rc = cli_parse_options(c, &spec, NULL, argc, argv);
	if (rc >= 0)
		return rc;
	if ((rc = cli_check_args(c, argc - optind, 0, 0, "")) != 0)
		return rc;
	return -1;
}

static int auth_activate(struct cli *c, int argc, char **argv)
{
	int rc = parse_no_args(c, activate_help, argc, argv);
	if (rc >= 0)
		return rc;
	const char *file = c->key_file && c->key_file[0] ? c->key_file : NULL;
	if (file == NULL)
		return cli_usage_error(c, "--key-file is required");
	struct keyfile kf;
	char err[600], path[1024];
	if (keyfile_load(file, &kf, err, sizeof(err)) != 0) {
		cli_warn(c, "%s", err);
		return CLI_EXIT_FAIL;
	}
	keyfile_free(&kf);
	FILE *f = fopen(file, "rb");
	char *text = calloc(1, 65537);
	size_t n = f && text ? fread(text, 1, 65536, f) : 0;
	if (f)
		fclose(f);
	if (cli_credentials_path(path, sizeof(path)) != 0 || n == 0 ||
	    write_private(path, text) != 0) {
		cli_warn(c, "cannot write the credentials file %s: %s", path, strerror(errno));
		free(text);
		return CLI_EXIT_FAIL;
	}
	free(text);
	fprintf(stderr, "Activated service account credentials for: [%s]\n", kf.email);
	return CLI_EXIT_OK;
}

const char *cli_active_key_file(const struct cli *c, char *buf, size_t n)
{
	if (c->key_file)
		return c->key_file[0] ? c->key_file : NULL;
	if (cli_credentials_path(buf, n) == 0 && access(buf, R_OK) == 0)
		return buf;
	return NULL;
}

static int auth_print_token(struct cli *c, int argc, char **argv)
{
	int rc = parse_no_args(c, print_help, argc, argv);
	if (rc >= 0)
		return rc;
	const char *file = c->key_file && c->key_file[0] ? c->key_file : NULL;
	char buf[1024];
	if (file == NULL)
		file = cli_active_key_file(c, buf, sizeof(buf));
	if (file == NULL)
		return cli_usage_error(c, "no key file: give --key-file or run 'regnotify auth "
					  "activate-service-account --key-file FILE'");
	struct keyfile kf;
	char err[600];
	if (keyfile_load(file, &kf, err, sizeof(err)) != 0) {
		cli_warn(c, "%s", err);
		return CLI_EXIT_FAIL;
	}
	/* The assertion: aud = the key file's token_uri (RFC 7523). */
	long long now = (long long)time(NULL);
	json_t *claims =
		json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "iss", kf.email, "sub", kf.email, "aud",
			  kf.token_uri, "iat", (json_int_t)now, "exp", (json_int_t)(now + 600),
			  "scope", "https://www.googleapis.com/auth/pubsub");
	char *jwt = jwt_sign(kf.key, kf.key_id, claims);
	json_decref(claims);
	keyfile_free(&kf);
	if (jwt == NULL) {
		cli_warn(c, "cannot sign with the key file %s", file);
		return CLI_EXIT_FAIL;
	}
	size_t blen = strlen(jwt) + 128;
	char *body = malloc(blen);
	snprintf(body, blen,
		 "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer"
		 "&assertion=%s",
		 jwt);
	free(jwt);
	/* The exchange itself carries no credential. */
	const char *saved_token = c->token, *saved_kf = c->key_file;
	c->token = NULL;
	c->key_file = "";
	rc = cli_connect(c);
	c->token = saved_token;
	c->key_file = saved_kf;
	if (rc != 0) {
		free(body);
		return rc;
	}
	char *reply = NULL;
	int e = rn_request(c->client, "POST", "/token", body, &reply);
	free(body);
	if (e != RN_OK)
		return cli_fail(c, e, "the broker refused the key file");
	json_t *js = json_loads(reply, 0, NULL);
	rn_free(reply);
	const char *tok = json_string_value(json_object_get(js, "access_token"));
	if (tok)
		printf("%s\n", tok);
	else
		cli_warn(c, "the broker's answer has no access_token");
	json_decref(js);
	return tok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int auth_list(struct cli *c, int argc, char **argv)
{
	int rc = parse_no_args(
		c, "Usage: regnotify auth list\nPrint the account of the active credential.\n",
		argc, argv);
	if (rc >= 0)
		return rc;
	char buf[1024], err[600];
	const char *file = cli_active_key_file(c, buf, sizeof(buf));
	struct keyfile kf;
	if (c->token) {
		printf("an access token (--token / REGNOTIFY_TOKEN)\n");
		return CLI_EXIT_OK;
	}
	if (file == NULL || !file[0]) {
		printf("No credentialed accounts.\n");
		return CLI_EXIT_OK;
	}
	if (keyfile_load(file, &kf, err, sizeof(err)) != 0) {
		cli_warn(c, "%s", err);
		return CLI_EXIT_FAIL;
	}
	printf("%s (key %s, %s)\n", kf.email, kf.key_id, file);
	keyfile_free(&kf);
	return CLI_EXIT_OK;
}

static const struct cli_cmd auth_cmds[] = {
	{ "activate-service-account", auth_activate, "remember a key file" },
	{ "print-access-token", auth_print_token, "print an access token" },
	{ "list", auth_list, "print the active account" },
};

int cli_auth(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "auth", auth_cmds, sizeof(auth_cmds) / sizeof(auth_cmds[0]),
			    auth_help, argc, argv);
}
