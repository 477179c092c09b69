/* cli_publish.c - regnotify publish TOPIC [--attribute k=v]... [DATA|-]. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char publish_help[] =
	"Usage: regnotify publish TOPIC [--attribute KEY=VALUE]... [--ordering-key KEY] [DATA|-]\n"
	"Publish one message and print its message id.\n"
	"The data is the DATA argument; with '-' or without DATA it is read from standard input\n"
	"(all of it, as bytes).\n"
	"\n"
	"  -a, --attribute KEY=VALUE  add an attribute (repeatable, at most 100)\n"
	"  --ordering-key KEY         the message's ordering key\n"
	"  -h, --help                 show this help\n"
	"\n"
	"Example: regnotify publish gcr -a action=INSERT \\\n"
	"           '{\"action\":\"INSERT\",\"tag\":\"registry.example/team/app:1.2\"}'\n";

enum { OPT_ORDERING_KEY = CLI_OPT_LOCAL };

#define MAX_ATTRS 100

/* Reads all of stdin. Ownership: *out is freed with free(). */
static int read_stdin(char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (n == cap) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, stdin);
		n += r;
		if (r == 0) {
			if (ferror(stdin)) {
				free(buf);
				return -1;
			}
			break;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The option values of publish. Ownership: cli_publish frees the keys. */
struct publish_args {
	struct rn_attr attrs[MAX_ATTRS];
	char *owned[MAX_ATTRS]; /* the keys of attrs */
	size_t nattrs;
	const char *okey;
};

static int take_publish(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct publish_args *a = ctx;
	if (opt == OPT_ORDERING_KEY) {
		a->okey = arg;
		return 0;
	}
	/* -a, --attribute */
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cli_usage_error(c, "invalid --attribute '%s': expected KEY=VALUE", arg);
	if (a->nattrs == MAX_ATTRS)
		return cli_usage_error(c, "too many attributes: at most %d", MAX_ATTRS);
	char *key = strndup(arg, (size_t)(eq - arg));
	if (!key) {
		cli_warn(c, "out of memory");
		return CLI_EXIT_FAIL;
	}
	a->owned[a->nattrs] = key;
	a->attrs[a->nattrs].key = key;
	a->attrs[a->nattrs].value = eq + 1;
	a->nattrs++;
	return 0;
}

int cli_publish(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attribute", required_argument, NULL, 'a' },
		{ "ordering-key", required_argument, NULL, OPT_ORDERING_KEY },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	static const struct cli_optspec spec = { ":ha:", longopts, publish_help, take_publish };
	struct publish_args a = { .nattrs = 0 };
	int rc = cli_parse_options(c, &spec, &a, argc, argv);
	if (rc >= 0)
		goto out;
	if ((rc = cli_check_args(c, argc - optind, 1, 2, "TOPIC")) != 0)
		goto out;
	const char *topic = argv[optind];
	const char *arg = argc - optind == 2 ? argv[optind + 1] : "-";
	char *buf = NULL;
	size_t len;
	if (strcmp(arg, "-") == 0) {
		if (isatty(STDIN_FILENO))
			cli_warn(c, "reading the data from standard input (end it with Ctrl-D)");
		if (read_stdin(&buf, &len) != 0) {
			cli_warn(c, "cannot read the data from standard input");
			rc = CLI_EXIT_FAIL;
			goto out;
		}
	} else {
		len = strlen(arg);
	}
	if ((rc = cli_connect(c)) == 0) {
		struct rn_pubmsg m = {
			.data = buf ? buf : arg,
			.len = len,
			.attrs = a.attrs,
			.nattrs = a.nattrs,
			.ordering_key = a.okey,
		};
		char *id = NULL;
		int err = rn_publish(c->client, topic, &m, 1, &id);
		if (err != 0) {
			rc = cli_fail(c, err, "cannot publish to %s", topic);
		} else {
			puts(id ? id : "");
			rn_free(id);
		}
	}
	free(buf);
out:
	for (size_t i = 0; i < a.nattrs; i++)
		free(a.owned[i]);
	return rc;
}
