/* config.c - the option table and the three layers that set options
 * (defaults < config file < environment < flags). */
#include "config.h"
#include "config_table.h"

#include "duration.h"
#include "names.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NOPTS config_noptions

/* The index of v in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	int i = 0;
	for (const char *c = choices; *c; i++) {
		const char *bar = strchr(c, '|');
		size_t cl = bar ? (size_t)(bar - c) : strlen(c);
		if (cl == vl && strncmp(c, v, cl) == 0)
			return i;
		c += cl + (bar ? 1 : 0);
	}
	return -1;
}

/* Choice number i of "a|b|c" into buf. */
static void choice_text(const char *choices, int i, char *buf, size_t n)
{
	const char *c = choices;
	while (i-- > 0 && c) {
		c = strchr(c, '|');
		c = c ? c + 1 : NULL;
	}
	size_t cl = c ? strcspn(c, "|") : 0;
	snprintf(buf, n, "%.*s", (int)cl, c ? c : "");
}

void config_option_text(const struct config *cfg, const struct option_def *o, char *buf, size_t n)
{
	const char *field = (const char *)cfg + o->offset;
	switch (o->type) {
	case OPT_STRING: snprintf(buf, n, "%s", field); break;
	case OPT_COUNT: snprintf(buf, n, "%ld", *(const long *)(const void *)field); break;
	case OPT_DURATION: duration_format(*(const int64_t *)(const void *)field, buf, n); break;
	case OPT_ENUM: choice_text(o->choices, *(const int *)(const void *)field, buf, n); break;
	case OPT_BOOL:
		snprintf(buf, n, "%s", *(const int *)(const void *)field ? "true" : "false");
		break;
	case OPT_CUSTOM: o->show(cfg, buf, n); break;
	}
}

void config_option_text_for_log(const struct config *cfg, const struct option_def *o, char *buf,
				size_t n)
{
	if (!(o->flags & OPT_SECRET)) {
		config_option_text(cfg, o, buf, n);
	} else if (o->offset == offsetof(struct config, ingest_tokens)) {
		snprintf(buf, n, "%d token%s", cfg->ingest_tokens.n,
			 cfg->ingest_tokens.n == 1 ? "" : "s");
	} else {
		char text[2048];
		config_option_text(cfg, o, text, sizeof(text));
		config_mask_url(text, buf, n);
	}
}

/* Converts one option's final text into its field: the type's parser,
 * then the row's validator or setter. */
static int apply(struct config *cfg, const struct option_def *o, const char *v, char *err,
		 size_t errlen)
{
	void *field = (char *)cfg + o->offset;
	switch (o->type) {
	case OPT_STRING:
		if (o->check && o->check(o->name, v, err, errlen))
			return -1;
		if (strlen(v) >= o->size) {
			snprintf(err, errlen, "invalid %s: longer than %zu characters", o->name,
				 o->size - 1);
			return -1;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case OPT_COUNT: {
		char *end;
		errno = 0;
		long w = strtol(v, &end, 10);
		if (errno || *v == '\0' || *end || w < 1 || w > o->max) {
			snprintf(err, errlen, "invalid %s '%s': a number 1-%ld", o->name, v,
				 o->max);
			return -1;
		}
		*(long *)field = w;
		return 0;
	}
	case OPT_DURATION: {
		int64_t ms;
		if (duration_parse(v, 0, &ms) || ms < 0 || (ms == 0 && !(o->flags & OPT_ZERO))) {
			snprintf(err, errlen,
				 "invalid %s '%s': expected a %s duration like "
				 "\"10s\"",
				 o->name, v, o->flags & OPT_ZERO ? "non-negative" : "positive");
			return -1;
		}
		*(int64_t *)field = ms;
		return 0;
	}
	case OPT_ENUM:
	case OPT_BOOL: {
		int i = choice_index(o->choices, v);
		if (i < 0) {
			snprintf(err, errlen, "invalid %s '%s': expected one of %s", o->name, v,
				 o->choices);
			return -1;
		}
		*(int *)field = o->type == OPT_BOOL ? i == 0 : i;
		return 0;
	}
	case OPT_CUSTOM: return o->set(cfg, v, err, errlen);
	}
	return -1;
}

static int find_option(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int load_file(const char *path, const char **vals, json_t **keep, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (root == NULL) {
		snprintf(err, errlen, "config file %s: %s (line %d)", path, je.text, je.line);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "config file %s: expected a JSON object", path);
		json_decref(root);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v)
	{
		int i = find_option(k);
		if (i < 0 || strcmp(k, "config") == 0) {
			snprintf(err, errlen, "config file %s: unknown option \"%s\"", path, k);
			json_decref(root);
			return -1;
		}
		if (json_is_string(v)) {
			vals[i] = json_string_value(v);
		} else if (json_is_integer(v) && config_options[i].type == OPT_DURATION) {
			/* A bare number of seconds is accepted for durations. */
			char buf[32];
			snprintf(buf, sizeof(buf), "%llds", (long long)json_integer_value(v));
			json_object_set_new(root, k, json_string(buf));
			vals[i] = json_string_value(json_object_get(root, k));
		} else {
			snprintf(err, errlen, "config file %s: option \"%s\" must be a string",
				 path, k);
			json_decref(root);
			return -1;
		}
	}
	*keep = root;
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	const char *vals[CONFIG_MAX_OPTIONS];
	const char *flagv[CONFIG_MAX_OPTIONS] = { 0 };
	json_t *file = NULL;
	int rc = -1;
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTS; i++)
		vals[i] = config_options[i].def;
	/* Flags first (they win), so --config is known before the file loads. */
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			cfg->help = 1;
			return 0;
		}
		if (strcmp(arg, "--version") == 0) {
			cfg->version = 1;
			return 0;
		}
		if (strcmp(arg, "--print-routes") == 0) {
			cfg->print_routes = 1;
			return 0;
		}
		if (strncmp(arg, "--print-config-docs", 19) == 0 &&
		    (arg[19] == '\0' || arg[19] == '=')) {
			const char *f = arg[19] ? arg + 20 : a + 1 < argc ? argv[a + 1] : "";
			if (strcmp(f, "markdown") != 0 && strcmp(f, "man") != 0) {
				snprintf(
					err, errlen,
					"invalid --print-config-docs '%s': expected markdown or man",
					f);
				return -1;
			}
			snprintf(cfg->print_docs, sizeof(cfg->print_docs), "%s", f);
			return 0;
		}
		const char *eq = strchr(arg, '=');
		size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
		int found = -1;
		for (size_t i = 0; i < NOPTS; i++) {
			char f[64];
			config_flag_name(&config_options[i], f, sizeof(f));
			if (strlen(f) == nl && strncmp(f, arg, nl) == 0)
				found = (int)i;
		}
		if (found < 0) {
			snprintf(err, errlen, "unknown option '%.*s' (see --help)", (int)nl, arg);
			return -1;
		}
		if (eq) {
			flagv[found] = eq + 1;
		} else if (a + 1 < argc) {
			flagv[found] = argv[++a];
		} else {
			snprintf(err, errlen, "option '%s' needs a value", arg);
			return -1;
		}
	}
	int ci = find_option("config");
	const char *cpath = flagv[ci] ? flagv[ci] : getenv("REGNOTIFYD_CONFIG");
	if (cpath && cpath[0] && load_file(cpath, vals, &file, err, errlen))
		return -1;
	if (cpath && apply(cfg, &config_options[ci], cpath, err, errlen))
		goto out;
	for (size_t i = 0; i < NOPTS; i++) {
		char e[64];
		config_env_name(&config_options[i], e, sizeof(e));
		const char *ev = getenv(e);
		if (ev && i != (size_t)ci)
			vals[i] = ev;
		if (flagv[i])
			vals[i] = flagv[i];
	}
	for (size_t i = 0; i < NOPTS; i++) {
		if (i != (size_t)ci && apply(cfg, &config_options[i], vals[i], err, errlen))
			goto out;
	}
	if (!cfg->auth_required && cfg->ingest_tokens.n == 0 &&
	    !config_is_loopback(cfg->listen_host)) {
		snprintf(err, errlen,
			 "listening on %s without ingest_tokens would let anyone inject "
			 "registry events: set --ingest-tokens (or listen on loopback)",
			 cfg->listen_host);
		goto out;
	}
	if (cfg->token_clock_skew_ms > 600000) {
		snprintf(err, errlen, "invalid token_clock_skew: at most 10m");
		goto out;
	}
	if (cfg->token_lifetime_ms > 3600000) {
		snprintf(err, errlen, "invalid token_lifetime: at most 1h");
		goto out;
	}
	if (!cfg->auth_required) {
		const char *off = NULL;
		char nhost[256] = "";
		if (!config_is_loopback(cfg->listen_host))
			off = cfg->listen_host;
		else if (cfg->grpc_port && !config_is_loopback(cfg->grpc_host))
			off = cfg->grpc_host;
		else if (strncmp(cfg->nng_listen, "tcp://", 6) == 0 ||
			 strncmp(cfg->nng_listen, "tls+tcp://", 10) == 0) {
			int port;
			const char *hp = strstr(cfg->nng_listen, "://") + 3;
			if (config_parse_listen(hp, nhost, sizeof(nhost), &port) != 0 ||
			    !config_is_loopback(nhost))
				off = nhost[0] ? nhost : hp;
		}
		if (off) {
			snprintf(err, errlen,
				 "--auth off (no access control) is allowed only when every "
				 "listener is on loopback, and %s is not: set --auth required "
				 "(docs/security.md)",
				 off);
			goto out;
		}
	}
	if (cfg->grpc_tls_cert_key[0] && cfg->grpc_port == 0) {
		snprintf(err, errlen,
			 "grpc_tls_cert_key is set but grpc_listen is not: TLS is served on "
			 "grpc_listen (the REST port's gRPC stays h2c)");
		goto out;
	}
	if (strncmp(cfg->nng_listen, "tls+tcp://", 10) == 0 && !cfg->nng_tls_cert_key[0]) {
		snprintf(err, errlen,
			 "nng_listen %s needs nng_tls_cert_key (a PEM file with the certificate "
			 "and key)",
			 cfg->nng_listen);
		goto out;
	}
	rc = 0;
out:
	json_decref(file);
	return rc;
}
