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

/* OPT_ENUM fields are ints: enum durability and enum log_level must be too. */
_Static_assert(sizeof(enum durability) == sizeof(int), "enum durability is an int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum log_level is an int");

#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

static int set_listen(struct config *cfg, const char *v, char *err, size_t errlen)
{
	if (config_parse_listen(v, cfg->listen_host, sizeof(cfg->listen_host), &cfg->listen_port)) {
		snprintf(err, errlen, "invalid listen address '%s': expected HOST:PORT", v);
		return -1;
	}
	return 0;
}

static void show_listen(const struct config *cfg, char *buf, size_t n)
{
	int v6 = strchr(cfg->listen_host, ':') != NULL;
	snprintf(buf, n, "%s%s%s:%d", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "",
		 cfg->listen_port);
}

static int set_redis(struct config *cfg, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= sizeof(cfg->redis_url)) {
		snprintf(err, errlen, "invalid redis URL: longer than %zu characters",
			 sizeof(cfg->redis_url) - 1);
		return -1;
	}
	snprintf(cfg->redis_url, sizeof(cfg->redis_url), "%s", v);
	return v[0] ? config_parse_redis_url(cfg, v, err, errlen) : 0;
}

static void show_redis(const struct config *cfg, char *buf, size_t n)
{
	snprintf(buf, n, "%s", cfg->redis_url);
}

static int set_tokens(struct config *cfg, const char *v, char *err, size_t errlen)
{
	struct config_tokens *t = &cfg->ingest_tokens;
	t->n = 0;
	while (*v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		const char *next = v + n + (comma ? 1 : 0);
		while (n && *v == ' ')
			v++, n--;
		while (n && v[n - 1] == ' ')
			n--;
		if (n) {
			if (n >= sizeof(t->v[0]) || t->n >= CONFIG_MAX_TOKENS) {
				snprintf(err, errlen,
					 "invalid ingest_tokens: at most %d tokens of at most "
					 "255 characters",
					 CONFIG_MAX_TOKENS);
				return -1;
			}
			memcpy(t->v[t->n], v, n);
			t->v[t->n++][n] = '\0';
		}
		v = next;
	}
	return 0;
}

static void show_tokens(const struct config *cfg, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < cfg->ingest_tokens.n && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "",
					 cfg->ingest_tokens.v[i]);
}

static int check_nng_listen(const char *name, const char *v, char *err, size_t errlen)
{
	if (v[0] && strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0 &&
	    strncmp(v, "tls+tcp://", 10) != 0) {
		snprintf(err, errlen,
			 "invalid %s '%s': expected tcp://HOST:PORT, ipc:///PATH or "
			 "tls+tcp://HOST:PORT",
			 name, v);
		return -1;
	}
	return 0;
}

static int check_not_empty(const char *name, const char *v, char *err, size_t errlen)
{
	if (!v[0]) {
		snprintf(err, errlen, "invalid %s: must not be empty", name);
		return -1;
	}
	return 0;
}

static int check_host(const char *name, const char *v, char *err, size_t errlen)
{
	if (v[0] && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789.-:[]") != strlen(v)) {
		snprintf(err, errlen, "invalid %s '%s': expected HOST[:PORT]", name, v);
		return -1;
	}
	return 0;
}

static int check_project(const char *name, const char *v, char *err, size_t errlen)
{
	if (names_valid_project(v)) {
		snprintf(err, errlen, "invalid %s '%s': not a valid project ID", name, v);
		return -1;
	}
	return 0;
}

static int check_topic(const char *name, const char *v, char *err, size_t errlen)
{
	if (names_valid_id(v)) {
		snprintf(err, errlen, "invalid %s '%s': not a valid topic ID", name, v);
		return -1;
	}
	return 0;
}

/* The one table: --help, the config file, env vars, docs/config.md,
 * regnotifyd.json(5) and SIGHUP all follow it. */
const struct option_def config_options[] = {
	{ .name = "config",
	  .type = OPT_STRING,
	  FIELD(config_path),
	  .def = "",
	  .metavar = "FILE",
	  .help = "JSON config file whose keys are the option names below" },
	{ .name = "listen",
	  .type = OPT_CUSTOM,
	  FIELD(listen_host),
	  .def = "127.0.0.1:8085",
	  .metavar = "HOST:PORT",
	  .set = set_listen,
	  .show = show_listen,
	  .help = "HTTP listen address HOST:PORT (Pub/Sub REST API, /healthz, /readyz)" },
	{ .name = "nng_listen",
	  .type = OPT_STRING,
	  FIELD(nng_listen),
	  .def = "tcp://127.0.0.1:8086",
	  .metavar = "URL",
	  .check = check_nng_listen,
	  .help = "nng listen URL of the client-library protocol (tcp://, ipc://, tls+tcp://); "
		  "empty: off" },
	{ .name = "nng_tls_cert_key",
	  .type = OPT_STRING,
	  FIELD(nng_tls_cert_key),
	  .def = "",
	  .metavar = "FILE",
	  .help = "PEM file with the certificate and private key of a tls+tcp:// nng listener" },
	{ .name = "nng_max_requests",
	  .type = OPT_COUNT,
	  FIELD(nng_max_requests),
	  .def = "4096",
	  .metavar = "N",
	  .max = 1000000,
	  .help = "most nng requests handled at once (parked long-poll pulls count)" },
	{ .name = "redis",
	  .type = OPT_CUSTOM,
	  FIELD(redis_url),
	  .def = "",
	  .metavar = "URL",
	  .set = set_redis,
	  .show = show_redis,
	  .flags = OPT_SECRET,
	  .help = "external Redis: redis://[:PASSWORD@]HOST[:PORT][/DB] or "
		  "unix:///PATH[?db=N&password=P]; empty starts an embedded redis-server" },
	{ .name = "data_dir",
	  .type = OPT_STRING,
	  FIELD(data_dir),
	  .def = "./var",
	  .metavar = "DIR",
	  .check = check_not_empty,
	  .help = "directory of the embedded redis-server's AOF and socket" },
	{ .name = "redis_server",
	  .type = OPT_STRING,
	  FIELD(redis_server_bin),
	  .def = "redis-server",
	  .metavar = "PATH",
	  .help = "redis-server binary used for the embedded Redis" },
	{ .name = "durability",
	  .type = OPT_ENUM,
	  FIELD(durability),
	  .def = "everysec",
	  .choices = "everysec|always",
	  .help = "AOF fsync policy: applied to the embedded Redis, checked on an external one" },
	{ .name = "log_level",
	  .type = OPT_ENUM,
	  FIELD(log_level),
	  .def = "info",
	  .choices = "debug|info|warn|error",
	  .flags = OPT_RELOADABLE,
	  .help = "lowest level logged" },
	{ .name = "pull_wait",
	  .type = OPT_DURATION,
	  FIELD(pull_wait_ms),
	  .def = "10s",
	  .flags = OPT_RELOADABLE,
	  .help = "longest a pull with returnImmediately=false waits for messages" },
	{ .name = "retention_interval",
	  .type = OPT_DURATION,
	  FIELD(retention_interval_ms),
	  .def = "60s",
	  .help = "how often retention trimming and subscription expiry run" },
	{ .name = "shutdown_timeout",
	  .type = OPT_DURATION,
	  FIELD(shutdown_timeout_ms),
	  .def = "10s",
	  .help = "on SIGTERM, longest wait for in-flight requests" },
	{ .name = "registry_host",
	  .type = OPT_STRING,
	  FIELD(registry_host),
	  .def = "",
	  .metavar = "HOST",
	  .check = check_host,
	  .help = "public registry host in image references (HOST/REPO@DIGEST); empty: the "
		  "event's request.host" },
	{ .name = "ingest_project_mode",
	  .type = OPT_ENUM,
	  FIELD(ingest_fixed),
	  .def = "namespace",
	  .choices = "namespace|fixed",
	  .help = "namespace: a repository's first path segment is its project "
		  "(gcr.io/PROJECT/image); fixed: every event goes to ingest_project" },
	{ .name = "ingest_project",
	  .type = OPT_STRING,
	  FIELD(ingest_project),
	  .def = "registry",
	  .metavar = "PROJECT",
	  .check = check_project,
	  .help = "project of fixed mode, and of repositories without a namespace" },
	{ .name = "ingest_topic",
	  .type = OPT_STRING,
	  FIELD(ingest_topic),
	  .def = "gcr",
	  .metavar = "TOPIC",
	  .check = check_topic,
	  .help = "topic that image events are published to" },
	{ .name = "ingest_create_topics",
	  .type = OPT_BOOL,
	  FIELD(ingest_create_topics),
	  .def = "true",
	  .choices = "true|false",
	  .help = "create the ingest topic, registry-rejects and the container-analysis topics "
		  "on first use" },
	{ .name = "ingest_dedup_window",
	  .type = OPT_DURATION,
	  FIELD(ingest_dedup_window_ms),
	  .def = "86400s",
	  .help = "how long a registry event id is remembered to drop re-sent events" },
	{ .name = "ingest_tokens",
	  .type = OPT_CUSTOM,
	  FIELD(ingest_tokens),
	  .def = "",
	  .metavar = "TOKENS",
	  .set = set_tokens,
	  .show = show_tokens,
	  .flags = OPT_RELOADABLE | OPT_SECRET,
	  .help = "comma-separated bearer tokens accepted on /v1/registry/*; required unless "
		  "listening on loopback" },
	{ .name = "pulled_window",
	  .type = OPT_DURATION,
	  FIELD(pulled_window_ms),
	  .def = "2592000s",
	  .help = "default window of the recently-pulled images listing" },
	{ .name = "push_allow_link_local",
	  .type = OPT_BOOL,
	  FIELD(push_allow_link_local),
	  .def = "false",
	  .choices = "true|false",
	  .help = "allow push endpoints on link-local / cloud metadata addresses "
		  "(169.254.0.0/16, fe80::/10, fd00:ec2::/32)" },
	{ .name = "push_max_window",
	  .type = OPT_COUNT,
	  FIELD(push_max_window),
	  .def = "1000",
	  .metavar = "N",
	  .max = 100000,
	  .flags = OPT_RELOADABLE,
	  .help = "most concurrent push requests per subscription and broker (the slow-start "
		  "window's cap)" },
};
const size_t config_noptions = sizeof(config_options) / sizeof(config_options[0]);
#define NOPTS (sizeof(config_options) / sizeof(config_options[0]))

void config_flag_name(const struct option_def *o, char *buf, size_t n)
{
	snprintf(buf, n, "--%s", o->name);
	for (char *p = buf + 2; *p; p++)
		if (*p == '_')
			*p = '-';
}

void config_env_name(const struct option_def *o, char *buf, size_t n)
{
	snprintf(buf, n, "REGNOTIFYD_%s", o->name);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

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
		if (duration_parse(v, 0, &ms) || ms <= 0) {
			snprintf(err, errlen,
				 "invalid %s '%s': expected a positive duration like "
				 "\"10s\"",
				 o->name, v);
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
	const char *vals[NOPTS];
	const char *flagv[NOPTS] = { 0 };
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
	if (cfg->ingest_tokens.n == 0 && !config_is_loopback(cfg->listen_host)) {
		snprintf(err, errlen,
			 "listening on %s without ingest_tokens would let anyone inject "
			 "registry events: set --ingest-tokens (or listen on loopback)",
			 cfg->listen_host);
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
