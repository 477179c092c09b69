/* Unit tests: configuration layers, validation and URL parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "config_table.h"
#include "reload.h"

static int load(struct config *cfg, char *err, int argc, ...)
{
	char *argv[16] = { "regnotifyd" };
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	return config_load(cfg, argc + 1, argv, err, 256);
}

static void defaults(void **state)
{
	(void)state;
	struct config cfg;
	char err[256];
	assert_int_equal(load(&cfg, err, 0), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8085);
	assert_string_equal(cfg.redis_url, "");
	assert_string_equal(cfg.data_dir, "./var");
	assert_int_equal(cfg.durability, DURABILITY_EVERYSEC);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.pull_wait_ms, 10000);
	assert_int_equal(cfg.retention_interval_ms, 60000);
}

static void flags(void **state)
{
	(void)state;
	struct config cfg;
	char err[256];
	assert_int_equal(load(&cfg, err, 5, "--listen", "[::1]:9000", "--redis=redis://:pw@h:7/3",
			      "--durability", "always"),
			 0);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	assert_string_equal(cfg.redis_host, "h");
	assert_int_equal(cfg.redis_port, 7);
	assert_int_equal(cfg.redis_db, 3);
	assert_string_equal(cfg.redis_password, "pw");
	assert_int_equal(cfg.durability, DURABILITY_ALWAYS);
	assert_int_equal(load(&cfg, err, 2, "--redis", "unix:///run/r.sock?db=2"), 0);
	assert_int_equal(cfg.redis_unix, 1);
	assert_string_equal(cfg.redis_path, "/run/r.sock");
	assert_int_equal(cfg.redis_db, 2);
	assert_int_equal(load(&cfg, err, 2, "--redis", "unix:///r.sock?password=pw&db=4"), 0);
	assert_string_equal(cfg.redis_password, "pw");
	assert_int_equal(cfg.redis_db, 4);
	assert_int_equal(load(&cfg, err, 2, "--redis", "unix:///r.sock?user=x"), -1);
	assert_int_equal(load(&cfg, err, 2, "--redis", "redis://localhost"), 0);
	assert_int_equal(cfg.redis_port, 6379);
	assert_int_equal(load(&cfg, err, 1, "--help"), 0);
	assert_int_equal(cfg.help, 1);
}

static void bad_values(void **state)
{
	(void)state;
	struct config cfg;
	char err[256];
	const char *cases[][2] = {
		{ "--listen", "nonsense" },
		{ "--listen", "1.2.3.4:99999" },
		{ "--durability", "sometimes" },
		{ "--redis", "ftp://x" },
		{ "--redis", "redis://h:0" },
		{ "--redis", "redis://h:1/99" },
		{ "--redis", "unix://rel" },
		{ "--log-level", "loud" },
		{ "--pull-wait", "10" },
		{ "--retention-interval", "0s" },
		{ "--bogus", "1" },
		{ "--grpc-listen", "nonsense" },
		{ "--grpc-listen", "127.0.0.1:0" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(&cfg, err, 2, cases[i][0], cases[i][1]), -1);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(load(&cfg, err, 1, "--listen"), -1);
	/* A gRPC port off loopback needs access control, as --listen does. */
	assert_int_equal(load(&cfg, err, 4, "--grpc-listen", "0.0.0.0:8087", "--auth", "off"), -1);
	assert_non_null(strstr(err, "0.0.0.0"));
	assert_int_equal(load(&cfg, err, 2, "--grpc-listen", "127.0.0.1:8087"), 0);
	assert_int_equal(cfg.grpc_port, 8087);
}

static void layers(void **state)
{
	(void)state;
	struct config cfg;
	char err[256];
	char path[] = "/tmp/rn-config-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *json = "{\"listen\":\"127.0.0.1:1111\",\"log_level\":\"debug\","
			   "\"pull_wait\":3,\"durability\":\"always\"}";
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	setenv("REGNOTIFYD_LOG_LEVEL", "warn", 1);
	setenv("REGNOTIFYD_DURABILITY", "everysec", 1);
	assert_int_equal(load(&cfg, err, 4, "--config", path, "--durability", "always"), 0);
	assert_int_equal(cfg.listen_port, 1111);             /* file */
	assert_int_equal(cfg.pull_wait_ms, 3000);            /* file, number of seconds */
	assert_int_equal(cfg.log_level, LOG_WARN);           /* env beats file */
	assert_int_equal(cfg.durability, DURABILITY_ALWAYS); /* flag beats env */
	unsetenv("REGNOTIFYD_LOG_LEVEL");
	unsetenv("REGNOTIFYD_DURABILITY");
	/* Unknown key and invalid JSON in the file. */
	FILE *f = fopen(path, "w");
	fputs("{\"lisen\":\"x\"}", f);
	fclose(f);
	assert_int_equal(load(&cfg, err, 2, "--config", path), -1);
	assert_non_null(strstr(err, "lisen"));
	f = fopen(path, "w");
	fputs("{\"listen\":", f);
	fclose(f);
	assert_int_equal(load(&cfg, err, 2, "--config", path), -1);
	unlink(path);
	assert_int_equal(load(&cfg, err, 2, "--config", "/nonexistent/rn.json"), -1);
}

/* Every option's value, printed and read back, is the same value: what
 * reload compares and logs is what config_load accepts. */
static void round_trip(void **state)
{
	(void)state;
	struct config a, b;
	char err[256], text[4096], flag[64];
	assert_int_equal(load(&a, err, 6, "--listen", "[::1]:9000", "--ingest-tokens", "x, y",
			      "--pull-wait", "1h30m"),
			 0);
	for (size_t i = 0; i < config_noptions; i++) {
		const struct option_def *o = &config_options[i];
		if (o->offset == offsetof(struct config, config_path))
			continue;
		config_option_text(&a, o, text, sizeof(text));
		config_flag_name(o, flag, sizeof(flag));
		assert_int_equal(load(&b, err, 2, flag, text), 0);
		char again[4096];
		config_option_text(&b, o, again, sizeof(again));
		assert_string_equal(text, again);
	}
}

static void table_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < config_noptions; i++) {
		const struct option_def *o = &config_options[i];
		assert_true(o->size > 0);
		assert_true(o->offset + o->size <= sizeof(struct config));
		assert_true(o->help && o->help[0]);
		if (o->type == OPT_ENUM || o->type == OPT_BOOL)
			assert_non_null(o->choices);
		if (o->type == OPT_CUSTOM)
			assert_true(o->set && o->show);
	}
}

static void grammar_and_limits(void **state)
{
	(void)state;
	struct config cfg;
	char err[256], big[700];
	assert_int_equal(load(&cfg, err, 2, "--pull-wait", "1h30m"), 0);
	assert_int_equal(cfg.pull_wait_ms, 5400000);
	assert_int_equal(load(&cfg, err, 2, "--pull-wait", "500ms"), 0);
	assert_int_equal(cfg.pull_wait_ms, 500);
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(load(&cfg, err, 2, "--data-dir", big), -1);
	assert_string_equal(err, "invalid data_dir: longer than 511 characters");
	assert_int_equal(load(&cfg, err, 2, "--push-max-window", "0"), -1);
	assert_string_equal(err, "invalid push_max_window '0': a number 1-100000");
	assert_int_equal(load(&cfg, err, 2, "--ingest-create-topics", "yes"), -1);
	assert_string_equal(err, "invalid ingest_create_topics 'yes': expected one of true|false");
	assert_int_equal(load(&cfg, err, 2, "--listen", "0.0.0.0:8085"), -1);
	assert_non_null(strstr(err, "without ingest_tokens"));
	assert_int_equal(load(&cfg, err, 1, "--print-config-docs=man"), 0);
	assert_string_equal(cfg.print_docs, "man");
	assert_int_equal(load(&cfg, err, 2, "--print-config-docs", "markdown"), 0);
	assert_string_equal(cfg.print_docs, "markdown");
	assert_int_equal(load(&cfg, err, 1, "--print-config-docs=html"), -1);
	assert_string_equal(err, "invalid --print-config-docs 'html': expected markdown or man");
}

/* What SIGHUP applies: the reloadable options change, the others keep
 * their running value and are counted as needing a restart. */
static void reload_diff(void **state)
{
	(void)state;
	static struct broker b;
	struct config next;
	char err[256];
	assert_int_equal(load(&b.cfg, err, 2, "--ingest-tokens", "old"), 0);
	assert_int_equal(load(&next, err, 10, "--ingest-tokens", "new1,new2", "--log-level",
			      "debug", "--listen", "127.0.0.1:9", "--push-max-window", "5",
			      "--durability", "always"),
			 0);
	int restart = -1;
	assert_int_equal(reload_apply(&b, &next, &restart), 3);
	assert_int_equal(restart, 2);
	assert_int_equal(b.cfg.log_level, LOG_DEBUG);
	assert_int_equal(log_threshold, LOG_DEBUG);
	assert_int_equal(b.cfg.ingest_tokens.n, 2);
	assert_string_equal(b.cfg.ingest_tokens.v[1], "new2");
	assert_int_equal(b.cfg.push_max_window, 5);
	assert_int_equal(b.cfg.listen_port, 8085);
	assert_int_equal(b.cfg.durability, DURABILITY_EVERYSEC);
	/* The same configuration again: nothing to do. */
	assert_int_equal(reload_apply(&b, &b.cfg, &restart), 0);
	assert_int_equal(restart, 0);
	/* A secret is logged as a summary, never as itself. */
	char text[256];
	for (size_t i = 0; i < config_noptions; i++) {
		if (!(config_options[i].flags & OPT_SECRET) ||
		    config_options[i].offset != offsetof(struct config, ingest_tokens))
			continue;
		config_option_text_for_log(&b.cfg, &config_options[i], text, sizeof(text));
		assert_string_equal(text, "2 tokens");
	}
	log_set_threshold(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),           cmocka_unit_test(flags),
		cmocka_unit_test(bad_values),         cmocka_unit_test(layers),
		cmocka_unit_test(round_trip),         cmocka_unit_test(table_rows),
		cmocka_unit_test(grammar_and_limits), cmocka_unit_test(reload_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
