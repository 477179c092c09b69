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

int cli_publish(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attribute", required_argument, NULL, 'a' },
		{ "ordering-key", required_argument, NULL, OPT_ORDERING_KEY },
		CLI_GLOBAL_LONGOPTS,
		{ 0 },
	};
	struct rn_attr attrs[MAX_ATTRS];
	char *owned[MAX_ATTRS];
	size_t nattrs = 0;
	const char *okey = NULL;
	int opt, rc = CLI_EXIT_OK;
	cli_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":ha:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': fputs(publish_help, stdout); goto out;
		case 'a': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				rc = cli_usage_error(
					c, "invalid --attribute '%s': expected KEY=VALUE", optarg);
				goto out;
			}
			if (nattrs == MAX_ATTRS) {
				rc = cli_usage_error(c, "too many attributes: at most %d",
						     MAX_ATTRS);
				goto out;
			}
			char *key = strndup(optarg, (size_t)(eq - optarg));
			if (!key) {
				cli_warn(c, "out of memory");
				rc = CLI_EXIT_FAIL;
				goto out;
			}
			owned[nattrs] = key;
			attrs[nattrs].key = key;
			attrs[nattrs].value = eq + 1;
			nattrs++;
			break;
		}
		case OPT_ORDERING_KEY: okey = optarg; break;
		default:
			rc = cli_common_option(c, opt, optarg, argv);
			if (rc != 0)
				goto out;
		}
	}
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
			.attrs = attrs,
			.nattrs = nattrs,
			.ordering_key = okey,
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
	for (size_t i = 0; i < nattrs; i++)
		free(owned[i]);
	return rc;
}
