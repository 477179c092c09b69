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

#include "config.h"

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
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(&cfg, err, 2, cases[i][0], cases[i][1]), -1);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(load(&cfg, err, 1, "--listen"), -1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(flags),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(layers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
