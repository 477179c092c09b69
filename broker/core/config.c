/* config.c - the option table and the three layers that set options. */
#include "config.h"

#include "duration.h"
#include "names.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STRING, OPT_DURATION, OPT_ENUM, OPT_FLAG };

struct option_def {
	const char *name; /* config-file key; flag is --name with '_' as '-' */
	enum opt_type type;
	const char *def;     /* default, as text */
	const char *choices; /* OPT_ENUM: "a|b|c" */
	const char *help;
};

/* The one table: --help, the config file, env vars and docs/config.md all
 * follow it. */
static const struct option_def options[] = {
	{ "config", OPT_STRING, "", NULL,
	  "JSON config file whose keys are the option names below" },
	{ "listen", OPT_STRING, "127.0.0.1:8085", NULL,
	  "HTTP listen address HOST:PORT (Pub/Sub REST API, /healthz, /readyz)" },
	{ "nng_listen", OPT_STRING, "tcp://127.0.0.1:8086", NULL,
	  "nng listen URL of the client-library protocol (tcp://, ipc://, tls+tcp://); empty: off" },
	{ "nng_tls_cert_key", OPT_STRING, "", NULL,
	  "PEM file with the certificate and private key of a tls+tcp:// nng listener" },
	{ "nng_max_requests", OPT_STRING, "4096", NULL,
	  "most nng requests handled at once (parked long-poll pulls count)" },
	{ "redis", OPT_STRING, "", NULL,
	  "external Redis: redis://[:PASSWORD@]HOST[:PORT][/DB] or "
	  "unix:///PATH[?db=N&password=P]; "
	  "empty starts an embedded redis-server" },
	{ "data_dir", OPT_STRING, "./var", NULL,
	  "directory of the embedded redis-server's AOF and socket" },
	{ "redis_server", OPT_STRING, "redis-server", NULL,
	  "redis-server binary used for the embedded Redis" },
	{ "durability", OPT_ENUM, "everysec", "everysec|always",
	  "AOF fsync policy: applied to the embedded Redis, checked on an external one" },
	{ "log_level", OPT_ENUM, "info", "debug|info|warn|error", "lowest level logged" },
	{ "pull_wait", OPT_DURATION, "10s", NULL,
	  "longest a pull with returnImmediately=false waits for messages" },
	{ "retention_interval", OPT_DURATION, "60s", NULL,
	  "how often retention trimming and subscription expiry run" },
	{ "shutdown_timeout", OPT_DURATION, "10s", NULL,
	  "on SIGTERM, longest wait for in-flight requests" },
	{ "registry_host", OPT_STRING, "", NULL,
	  "public registry host in image references (HOST/REPO@DIGEST); empty: the event's "
	  "request.host" },
	{ "ingest_project_mode", OPT_ENUM, "namespace", "namespace|fixed",
	  "namespace: a repository's first path segment is its project (gcr.io/PROJECT/image); "
	  "fixed: every event goes to ingest_project" },
	{ "ingest_project", OPT_STRING, "registry", NULL,
	  "project of fixed mode, and of repositories without a namespace" },
	{ "ingest_topic", OPT_STRING, "gcr", NULL, "topic that image events are published to" },
	{ "ingest_create_topics", OPT_ENUM, "true", "true|false",
	  "create the ingest topic, registry-rejects and the container-analysis topics on first use" },
	{ "ingest_dedup_window", OPT_DURATION, "86400s", NULL,
	  "how long a registry event id is remembered to drop re-sent events" },
	{ "ingest_tokens", OPT_STRING, "", NULL,
	  "comma-separated bearer tokens accepted on /v1/registry/*; required unless listening on "
	  "loopback" },
	{ "pulled_window", OPT_DURATION, "2592000s", NULL,
	  "default window of the recently-pulled images listing" },
	{ "push_allow_link_local", OPT_ENUM, "false", "true|false",
	  "allow push endpoints on link-local / cloud metadata addresses (169.254.0.0/16, "
	  "fe80::/10, fd00:ec2::/32)" },
	{ "push_max_window", OPT_STRING, "1000", NULL,
	  "most concurrent push requests per subscription and broker (the slow-start window's cap)" },
};
#define NOPTS (sizeof(options) / sizeof(options[0]))

static void flag_name(const struct option_def *o, char *buf, size_t n)
{
	snprintf(buf, n, "--%s", o->name);
	for (char *p = buf + 2; *p; p++)
		if (*p == '_')
			*p = '-';
}

static void env_name(const struct option_def *o, char *buf, size_t n)
{
	snprintf(buf, n, "REGNOTIFYD_%s", o->name);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

void config_usage(FILE *out)
{
	fprintf(out,
		"Usage: regnotifyd [OPTIONS]\n"
		"Container-image event broker with a Pub/Sub v1 REST API, durable in Redis.\n\n"
		"Options (each also settable as a config-file key and an environment variable):\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char f[64], e[64], arg[160];
		flag_name(&options[i], f, sizeof(f));
		env_name(&options[i], e, sizeof(e));
		snprintf(arg, sizeof(arg), "%s %s", f,
			 options[i].type == OPT_ENUM       ? options[i].choices
			 : options[i].type == OPT_DURATION ? "DURATION"
							   : "VALUE");
		fprintf(out, "  %-34s %s\n  %-34s   env %s", arg, options[i].help, "", e);
		if (options[i].def[0])
			fprintf(out, ", default %s", options[i].def);
		fprintf(out, "\n");
	}
	fprintf(out, "  %-34s %s\n  %-34s %s\n\n", "-h, --help", "show this help and exit",
		"--version", "print the version and exit");
	fprintf(out, "Durations are written like \"10s\" or \"0.5s\".\n"
		     "Exit status: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad "
		     "configuration.\n");
}

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* url with any password replaced by ***, for error messages. */
static void masked(const char *url, char *out, size_t n)
{
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	const char *pw = strstr(url, "password=");
	if (at && scheme && at > scheme)
		snprintf(out, n, "%.*s***%s", (int)(scheme + 3 - url), url, at);
	else if (pw)
		snprintf(out, n, "%.*spassword=***", (int)(pw - url), url);
	else
		snprintf(out, n, "%s", url);
}

int config_parse_redis_url(struct config *cfg, const char *url_in, char *err, size_t errlen)
{
	char url[1100];
	masked(url_in, url, sizeof(url));
	const char *raw = url_in;
	char *end;
	cfg->redis_db = 0;
	cfg->redis_password[0] = '\0';
	if (strncmp(raw, "unix://", 7) == 0) {
		const char *path = raw + 7;
		const char *q = strchr(path, '?');
		size_t pl = q ? (size_t)(q - path) : strlen(path);
		if (pl == 0 || path[0] != '/' || pl >= sizeof(cfg->redis_path)) {
			snprintf(err, errlen,
				 "invalid redis URL '%s': expected unix:///absolute/path", url);
			return -1;
		}
		memcpy(cfg->redis_path, path, pl);
		cfg->redis_path[pl] = '\0';
		/* Query: db=N and/or password=P, separated by '&'. */
		const char *p = q ? q + 1 : NULL;
		while (p && *p) {
			const char *amp = strchr(p, '&');
			size_t l = amp ? (size_t)(amp - p) : strlen(p);
			if (strncmp(p, "db=", 3) == 0) {
				errno = 0;
				long db = strtol(p + 3, &end, 10);
				if (errno || l == 3 || end != p + l || db < 0 || db > 15)
					goto bad_db;
				cfg->redis_db = (int)db;
			} else if (strncmp(p, "password=", 9) == 0 &&
				   l - 9 < sizeof(cfg->redis_password)) {
				memcpy(cfg->redis_password, p + 9, l - 9);
				cfg->redis_password[l - 9] = '\0';
			} else {
				snprintf(err, errlen,
					 "invalid redis URL '%s': unix:// takes "
					 "?db=N&password=P",
					 url);
				return -1;
			}
			p = amp ? amp + 1 : NULL;
		}
		cfg->redis_unix = 1;
		return 0;
	}
	if (strncmp(raw, "redis://", 8) != 0) {
		snprintf(err, errlen,
			 "invalid redis URL '%s': use redis://HOST:PORT/DB or "
			 "unix:///PATH",
			 url);
		return -1;
	}
	const char *p = raw + 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *pw = memchr(p, ':', (size_t)(at - p));
		pw = pw ? pw + 1 : p;
		size_t l = (size_t)(at - pw);
		if (l >= sizeof(cfg->redis_password))
			goto bad;
		memcpy(cfg->redis_password, pw, l);
		cfg->redis_password[l] = '\0';
		p = at + 1;
	}
	const char *slash = strchr(p, '/');
	char hostport[256];
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(hostport))
		goto bad;
	memcpy(hostport, p, hl);
	hostport[hl] = '\0';
	if (strchr(hostport, ':') && hostport[0] != '[') {
		if (config_parse_listen(hostport, cfg->redis_host, sizeof(cfg->redis_host),
					&cfg->redis_port) ||
		    cfg->redis_port == 0)
			goto bad;
	} else if (hostport[0] == '[') {
		if (config_parse_listen(hostport, cfg->redis_host, sizeof(cfg->redis_host),
					&cfg->redis_port))
			goto bad;
	} else {
		snprintf(cfg->redis_host, sizeof(cfg->redis_host), "%s", hostport);
		cfg->redis_port = 6379;
	}
	if (slash && slash[1]) {
		errno = 0;
		long db = strtol(slash + 1, &end, 10);
		if (errno || *end || db < 0 || db > 15)
			goto bad_db;
		cfg->redis_db = (int)db;
	}
	cfg->redis_unix = 0;
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid redis URL '%s': expected redis://[:PASSWORD@]HOST[:PORT][/DB]", url);
	return -1;
bad_db:
	snprintf(err, errlen, "invalid redis URL '%s': the database must be a number 0-15", url);
	return -1;
}

static int parse_tokens(struct config *cfg, const char *v, char *err, size_t errlen)
{
	cfg->ingest_ntokens = 0;
	while (*v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		while (n && *v == ' ')
			v++, n--;
		while (n && v[n - 1] == ' ')
			n--;
		if (n) {
			if (n >= sizeof(cfg->ingest_tokens[0]) ||
			    cfg->ingest_ntokens >= CONFIG_MAX_TOKENS) {
				snprintf(err, errlen,
					 "invalid ingest_tokens: at most %d tokens of at most "
					 "255 characters",
					 CONFIG_MAX_TOKENS);
				return -1;
			}
			memcpy(cfg->ingest_tokens[cfg->ingest_ntokens], v, n);
			cfg->ingest_tokens[cfg->ingest_ntokens++][n] = '\0';
		}
		v += comma ? (size_t)(comma - v) + 1 : strlen(v);
	}
	return 0;
}

int config_is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

/* Converts one option's final text into cfg. */
/* A count option: a decimal number 1..max into *out, else -1 with the
 * message "invalid NAME 'V': a number 1-MAX". */
static int parse_count(const char *name, const char *v, long max, long *out, char *err,
		       size_t errlen)
{
	char *end;
	errno = 0;
	long w = strtol(v, &end, 10);
	if (errno || *v == '\0' || *end || w < 1 || w > max) {
		snprintf(err, errlen, "invalid %s '%s': a number 1-%ld", name, v, max);
		return -1;
	}
	*out = w;
	return 0;
}

static int apply(struct config *cfg, const struct option_def *o, const char *v, char *err,
		 size_t errlen)
{
	const char *n = o->name;
	if (o->type == OPT_ENUM) {
		size_t vl = strlen(v);
		const char *c = o->choices;
		int ok = 0;
		while (*c) {
			const char *bar = strchr(c, '|');
			size_t cl = bar ? (size_t)(bar - c) : strlen(c);
			if (cl == vl && strncmp(c, v, cl) == 0)
				ok = 1;
			c += cl + (bar ? 1 : 0);
		}
		if (!ok) {
			snprintf(err, errlen, "invalid %s '%s': expected one of %s", n, v,
				 o->choices);
			return -1;
		}
	}
	if (strcmp(n, "listen") == 0) {
		if (config_parse_listen(v, cfg->listen_host, sizeof(cfg->listen_host),
					&cfg->listen_port)) {
			snprintf(err, errlen, "invalid listen address '%s': expected HOST:PORT", v);
			return -1;
		}
	} else if (strcmp(n, "nng_listen") == 0) {
		if (v[0] && strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0 &&
		    strncmp(v, "tls+tcp://", 10) != 0) {
			snprintf(
				err, errlen,
				"invalid nng_listen '%s': expected tcp://HOST:PORT, ipc:///PATH or "
				"tls+tcp://HOST:PORT",
				v);
			return -1;
		}
		snprintf(cfg->nng_listen, sizeof(cfg->nng_listen), "%s", v);
	} else if (strcmp(n, "nng_tls_cert_key") == 0) {
		snprintf(cfg->nng_tls_cert_key, sizeof(cfg->nng_tls_cert_key), "%s", v);
	} else if (strcmp(n, "nng_max_requests") == 0) {
		return parse_count(n, v, 1000000, &cfg->nng_max_requests, err, errlen);
	} else if (strcmp(n, "redis") == 0) {
		snprintf(cfg->redis_url, sizeof(cfg->redis_url), "%s", v);
		if (v[0] && config_parse_redis_url(cfg, v, err, errlen))
			return -1;
	} else if (strcmp(n, "data_dir") == 0) {
		if (!v[0]) {
			snprintf(err, errlen, "invalid data_dir: must not be empty");
			return -1;
		}
		snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", v);
	} else if (strcmp(n, "redis_server") == 0) {
		snprintf(cfg->redis_server_bin, sizeof(cfg->redis_server_bin), "%s", v);
	} else if (strcmp(n, "durability") == 0) {
		cfg->durability =
			strcmp(v, "always") == 0 ? DURABILITY_ALWAYS : DURABILITY_EVERYSEC;
	} else if (strcmp(n, "log_level") == 0) {
		log_parse_level(v, &cfg->log_level);
	} else if (strcmp(n, "registry_host") == 0) {
		if (v[0] && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789.-:[]") != strlen(v)) {
			snprintf(err, errlen, "invalid registry_host '%s': expected HOST[:PORT]",
				 v);
			return -1;
		}
		snprintf(cfg->registry_host, sizeof(cfg->registry_host), "%s", v);
	} else if (strcmp(n, "ingest_project_mode") == 0) {
		cfg->ingest_fixed = strcmp(v, "fixed") == 0;
	} else if (strcmp(n, "ingest_project") == 0 || strcmp(n, "ingest_topic") == 0) {
		int proj = n[7] == 'p';
		if (proj ? names_valid_project(v) : names_valid_id(v)) {
			snprintf(err, errlen, "invalid %s '%s': not a valid %s ID", n, v,
				 proj ? "project" : "topic");
			return -1;
		}
		if (proj)
			snprintf(cfg->ingest_project, sizeof(cfg->ingest_project), "%s", v);
		else
			snprintf(cfg->ingest_topic, sizeof(cfg->ingest_topic), "%s", v);
	} else if (strcmp(n, "push_allow_link_local") == 0) {
		cfg->push_allow_link_local = strcmp(v, "true") == 0;
	} else if (strcmp(n, "push_max_window") == 0) {
		return parse_count(n, v, 100000, &cfg->push_max_window, err, errlen);
	} else if (strcmp(n, "ingest_create_topics") == 0) {
		cfg->ingest_create_topics = strcmp(v, "true") == 0;
	} else if (strcmp(n, "ingest_tokens") == 0) {
		return parse_tokens(cfg, v, err, errlen);
	} else if (o->type == OPT_DURATION) {
		int64_t ms;
		if (duration_parse(v, 0, &ms) || ms <= 0) {
			snprintf(err, errlen,
				 "invalid %s '%s': expected a positive duration like "
				 "\"10s\"",
				 n, v);
			return -1;
		}
		if (strcmp(n, "pull_wait") == 0)
			cfg->pull_wait_ms = ms;
		else if (strcmp(n, "retention_interval") == 0)
			cfg->retention_interval_ms = ms;
		else if (strcmp(n, "ingest_dedup_window") == 0)
			cfg->ingest_dedup_window_ms = ms;
		else if (strcmp(n, "pulled_window") == 0)
			cfg->pulled_window_ms = ms;
		else
			cfg->shutdown_timeout_ms = ms;
	}
	return 0;
}

static int find_option(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(options[i].name, name) == 0)
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
		} else if (json_is_integer(v) && options[i].type == OPT_DURATION) {
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
		vals[i] = options[i].def;
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
		const char *eq = strchr(arg, '=');
		size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
		int found = -1;
		for (size_t i = 0; i < NOPTS; i++) {
			char f[64];
			flag_name(&options[i], f, sizeof(f));
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
	for (size_t i = 0; i < NOPTS; i++) {
		char e[64];
		env_name(&options[i], e, sizeof(e));
		const char *ev = getenv(e);
		if (ev && i != (size_t)ci)
			vals[i] = ev;
		if (flagv[i])
			vals[i] = flagv[i];
	}
	for (size_t i = 0; i < NOPTS; i++) {
		if (i != (size_t)ci && apply(cfg, &options[i], vals[i], err, errlen))
			goto out;
	}
	if (cfg->ingest_ntokens == 0 && !config_is_loopback(cfg->listen_host)) {
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
