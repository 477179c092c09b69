/* config.h - regnotifyd configuration: one option table (config.c) gives
 * the JSON config file keys, the command-line flags, the environment
 * variables, --help, docs/config.md's option table and regnotifyd.json(5),
 * and says which options SIGHUP reloads (reload.c).
 * Precedence: defaults < config file < environment < flags. */
#ifndef RN_CONFIG_H
#define RN_CONFIG_H

#include "log.h"

#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_TOKENS 16

enum durability { DURABILITY_EVERYSEC = 0, DURABILITY_ALWAYS };

/* Bearer tokens of the registry-ingest routes (core/gate.c). */
struct config_tokens {
	int n;
	char v[CONFIG_MAX_TOKENS][256];
};

struct config {
	char config_path[512]; /* the --config / REGNOTIFYD_CONFIG file; "" without */
	char listen_host[256];
	int listen_port;
	char metrics_host[256]; /* --metrics-listen; metrics_port 0: off */
	int metrics_port;
	char grpc_host[256]; /* --grpc-listen; grpc_port 0: off */
	int grpc_port;
	char grpc_tls_cert_key[512]; /* TLS (h2 by ALPN) on grpc_listen; "" plaintext */
	/* Client-library protocol (transport/reqrep.c). */
	char nng_listen[512];
	char nng_tls_cert_key[512];
	long nng_max_requests;
	/* Redis: external when redis_url is set, else an embedded child. */
	char redis_url[1024];
	int redis_unix; /* 1: redis_path is a unix socket */
	char redis_host[256];
	int redis_port;
	char redis_path[512];
	int redis_db;
	char redis_password[256];
	char data_dir[512];
	char redis_server_bin[512];
	enum durability durability;
	enum log_level log_level;
	int64_t pull_wait_ms;
	int64_t retention_interval_ms;
	int64_t reanalyze_interval_ms; /* 0: off */
	int64_t shutdown_timeout_ms;
	/* Registry ingest (api/ingest.c). */
	char registry_host[256];
	int ingest_fixed; /* 0: namespace mode */
	char ingest_project[101];
	char ingest_topic[256];
	int ingest_create_topics;
	int64_t ingest_dedup_window_ms;
	struct config_tokens ingest_tokens;
	int64_t pulled_window_ms;
	/* Push delivery (deliver/push.c). */
	int push_allow_link_local;
	int push_client; /* 0 auto, 1 libcurl (config_table.c) */
	long push_max_window;
	/* Access control (auth/). */
	int auth_required; /* --auth required|off */
	char admin_key_file[512];
	char public_url[512]; /* "" : http://listen */
	int64_t token_lifetime_ms;
	int64_t token_clock_skew_ms;
	/* Audit logs: how long entries are kept (sweeper). */
	int64_t audit_retention_activity_ms;
	int64_t audit_retention_data_access_ms;
	int help, version;
	char print_docs[16]; /* --print-config-docs FORMAT: "markdown" or "man" */
	int print_routes;    /* --print-routes: the route table as JSON, for tests */
};

/* Fills cfg from defaults, the optional --config FILE (or REGNOTIFYD_CONFIG),
 * the environment (REGNOTIFYD_*) and argv. Returns 0, or -1 with a one-line
 * message in err. Main thread: at start, and again on SIGHUP (reload.c)
 * into a second struct that the running one is compared with. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Parses "redis://[:password@]host[:port][/db]" or "unix:///path[?db=N]"
 * into cfg's redis_* fields. Returns 0 or -1 with a message. */
int config_parse_redis_url(struct config *cfg, const char *url, char *err, size_t errlen);

/* url with any password replaced by "***" (for logs and messages). */
void config_mask_url(const char *url, char *out, size_t n);

/* Parses "host:port" / "[v6]:port". Returns 0 or -1. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);

/* The broker's URL as clients reach it: public_url, else
 * http://HOST:PORT of listen (no trailing slash). */
void config_public_url(const struct config *cfg, char *buf, size_t n);

/* 1 when host is a loopback address (127.0.0.0/8, ::1, localhost). */
int config_is_loopback(const char *host);

/* Prints the usage text generated from the option table (config_docs.c). */
void config_usage(FILE *out);

/* Prints the reference generated from the option table: "markdown" (the
 * generated block of docs/config.md) or "man" (docs/man/regnotifyd.json.5).
 * Returns 0, or -1 for another format. */
int config_print_docs(FILE *out, const char *format);

#endif
