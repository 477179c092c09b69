/* config_table.c - the option table: every option's field, type,
 * validator, default, help and reload flag (config_table.h), with the
 * validators and parsers of the options that need their own. */
#include "config.h"
#include "config_table.h"

#include "names.h"

#include <stddef.h>
#include <stdio.h>
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

/* An optional HOST:PORT option (name): "" turns it off (port 0). */
static int set_optional_listen(const char *name, const char *v, char *host, size_t hostn, int *port,
			       char *err, size_t errlen)
{
	*port = 0;
	host[0] = '\0';
	if (v[0] == '\0')
		return 0;
	if (config_parse_listen(v, host, hostn, port) || *port == 0) {
		snprintf(err, errlen, "invalid %s '%s': expected HOST:PORT", name, v);
		return -1;
	}
	return 0;
}

/* HOST:PORT ([v6]:PORT) of a listener; "" for an optional one that is
 * off (port 0). */
static void show_hostport(const char *host, int port, int optional, char *buf, size_t n)
{
	if (optional && port == 0) {
		buf[0] = '\0';
		return;
	}
	int v6 = strchr(host, ':') != NULL;
	snprintf(buf, n, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static int set_metrics_listen(struct config *cfg, const char *v, char *err, size_t errlen)
{
	if (set_optional_listen("metrics_listen", v, cfg->metrics_host, sizeof(cfg->metrics_host),
				&cfg->metrics_port, err, errlen) != 0)
		return -1;
	if (cfg->metrics_port && !config_is_loopback(cfg->metrics_host)) {
		snprintf(err, errlen,
			 "invalid metrics_listen '%s': /metrics without a permission check is "
			 "served on loopback only",
			 v);
		return -1;
	}
	return 0;
}

static void show_metrics_listen(const struct config *cfg, char *buf, size_t n)
{
	show_hostport(cfg->metrics_host, cfg->metrics_port, 1, buf, n);
}

static int set_grpc_listen(struct config *cfg, const char *v, char *err, size_t errlen)
{
	return set_optional_listen("grpc_listen", v, cfg->grpc_host, sizeof(cfg->grpc_host),
				   &cfg->grpc_port, err, errlen);
}

static void show_grpc_listen(const struct config *cfg, char *buf, size_t n)
{
	show_hostport(cfg->grpc_host, cfg->grpc_port, 1, buf, n);
}

static void show_listen(const struct config *cfg, char *buf, size_t n)
{
	show_hostport(cfg->listen_host, cfg->listen_port, 0, buf, n);
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

static int check_url(const char *name, const char *v, char *err, size_t errlen)
{
	if (v[0] && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "invalid %s '%s': expected http://HOST[:PORT] or https://...",
			 name, v);
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
	  .help = "HTTP listen address HOST:PORT (Pub/Sub REST API, /healthz, /readyz; "
		  "gRPC for connections that open with HTTP/2)" },
	{ .name = "metrics_listen",
	  .type = OPT_CUSTOM,
	  FIELD(metrics_host),
	  .def = "",
	  .metavar = "HOST:PORT",
	  .set = set_metrics_listen,
	  .show = show_metrics_listen,
	  .help = "a loopback-only port that serves GET /metrics without a permission check "
		  "(for a local Prometheus agent); empty: off, /metrics only on listen, where it "
		  "needs regnotify.metrics.get" },
	{ .name = "grpc_listen",
	  .type = OPT_CUSTOM,
	  FIELD(grpc_host),
	  .def = "",
	  .metavar = "HOST:PORT",
	  .set = set_grpc_listen,
	  .show = show_grpc_listen,
	  .help = "a port of its own for the gRPC endpoint (google.pubsub.v1 and "
		  "google.iam.v1 over HTTP/2 without TLS, docs/grpc.md; listen serves it "
		  "too, to connections that open with HTTP/2); empty: off" },
	{ .name = "grpc_tls_cert_key",
	  .type = OPT_STRING,
	  FIELD(grpc_tls_cert_key),
	  .def = "",
	  .metavar = "FILE",
	  .help = "PEM file with the certificate (chain) and private key: grpc_listen serves "
		  "gRPC over TLS 1.2+ (HTTP/2 by ALPN) instead of h2c; empty: h2c" },
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
	{ .name = "reanalyze_interval",
	  .type = OPT_DURATION,
	  FIELD(reanalyze_interval_ms),
	  .def = "0s",
	  .flags = OPT_ZERO,
	  .help = "continuous analysis: this often, publish a REANALYZE message per image "
		  "pulled within pulled_window to each project's container-analysis-reanalyze "
		  "topic (one broker per interval); 0: only on POST images:reanalyze" },
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
	{ .name = "push_client",
	  .type = OPT_ENUM,
	  FIELD(push_client),
	  .def = "auto",
	  .choices = "auto|libcurl",
	  .help = "auto: POSTs to plain http:// endpoints go on the broker's own keep-alive "
		  "connections (evhttp), https:// and everything behind a proxy through "
		  "libcurl; libcurl: every delivery through libcurl" },
	{ .name = "push_max_window",
	  .type = OPT_COUNT,
	  FIELD(push_max_window),
	  .def = "1000",
	  .metavar = "N",
	  .max = 100000,
	  .flags = OPT_RELOADABLE,
	  .help = "most concurrent push requests per subscription and broker (the slow-start "
		  "window's cap)" },
	{ .name = "auth",
	  .type = OPT_ENUM,
	  FIELD(auth_required),
	  .def = "off",
	  .choices = "off|required",
	  .help = "required: every call needs a service-account token or key and an IAM "
		  "permission (docs/security.md); off: no access control, allowed only when "
		  "every listener is on loopback" },
	{ .name = "admin_key_file",
	  .type = OPT_STRING,
	  FIELD(admin_key_file),
	  .def = "",
	  .metavar = "PATH",
	  .help = "bootstrap: when no service account exists, create admin@regnotify.iam "
		  "(roles/owner everywhere) and write its key file here (mode 0600, never "
		  "overwritten)" },
	{ .name = "public_url",
	  .type = OPT_STRING,
	  FIELD(public_url),
	  .def = "",
	  .metavar = "URL",
	  .check = check_url,
	  .help = "the broker's URL as clients reach it: token_uri of key files, token "
		  "audience and issuer; empty: http://LISTEN" },
	{ .name = "audit_retention_activity",
	  .type = OPT_DURATION,
	  FIELD(audit_retention_activity_ms),
	  .def = "400d",
	  .help = "how long Admin Activity (and system event) audit entries are kept" },
	{ .name = "audit_retention_data_access",
	  .type = OPT_DURATION,
	  FIELD(audit_retention_data_access_ms),
	  .def = "30d",
	  .help = "how long Data Access and Policy Denied audit entries are kept" },
	{ .name = "token_clock_skew",
	  .type = OPT_DURATION,
	  FIELD(token_clock_skew_ms),
	  .def = "5m",
	  .help = "clock skew tolerated on the iat and exp of tokens (at most 10m)" },
	{ .name = "token_lifetime",
	  .type = OPT_DURATION,
	  FIELD(token_lifetime_ms),
	  .def = "1h",
	  .flags = OPT_RELOADABLE,
	  .help = "lifetime of the access tokens POST /token issues (at most 1h)" },
};
const size_t config_noptions = sizeof(config_options) / sizeof(config_options[0]);
_Static_assert(sizeof(config_options) / sizeof(config_options[0]) <= CONFIG_MAX_OPTIONS,
	       "raise CONFIG_MAX_OPTIONS");

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
