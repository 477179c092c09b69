/* config.h - regnotifyd configuration: one option table gives the JSON
 * config file keys, the command-line flags, the environment variables and
 * --help. Precedence: defaults < config file < environment < flags. */
#ifndef RN_CONFIG_H
#define RN_CONFIG_H

#include "log.h"

#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_TOKENS 16

enum durability { DURABILITY_EVERYSEC = 0, DURABILITY_ALWAYS };

struct config {
	char listen_host[256];
	int listen_port;
	/* Client-library protocol (nng_server.c). */
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
	int64_t shutdown_timeout_ms;
	/* Registry ingest (ingest.c). */
	char registry_host[256];
	int ingest_fixed; /* 0: namespace mode */
	char ingest_project[101];
	char ingest_topic[256];
	int ingest_create_topics;
	int64_t ingest_dedup_window_ms;
	char ingest_tokens[CONFIG_MAX_TOKENS][256];
	int ingest_ntokens;
	int64_t pulled_window_ms;
	/* Push delivery (deliver_push.c). */
	int push_allow_link_local;
	long push_max_window;
	int help, version;
};

/* Fills cfg from defaults, the optional --config FILE (or REGNOTIFYD_CONFIG),
 * the environment (REGNOTIFYD_*) and argv. Returns 0, or -1 with a one-line
 * message in err. Main thread, before anything starts. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Parses "redis://[:password@]host[:port][/db]" or "unix:///path[?db=N]"
 * into cfg's redis_* fields. Returns 0 or -1 with a message. */
int config_parse_redis_url(struct config *cfg, const char *url, char *err, size_t errlen);

/* Parses "host:port" / "[v6]:port". Returns 0 or -1. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);

/* 1 when host is a loopback address (127.0.0.0/8, ::1, localhost). */
int config_is_loopback(const char *host);

/* Prints the usage text generated from the option table. */
void config_usage(FILE *out);

#endif
