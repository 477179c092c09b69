/* config_table.h - the option table, for the parts of core that read it
 * (config.c loads, config_docs.c prints --help and the docs, reload.c
 * compares). Like Redis' standardConfig: each row carries the field it
 * sets, its type, its validator and whether SIGHUP may change it. */
#ifndef RN_CONFIG_TABLE_H
#define RN_CONFIG_TABLE_H

#include "config.h"

#include <stddef.h>

enum opt_type {
	OPT_STRING,   /* char[size]; .check validates */
	OPT_COUNT,    /* long, a decimal number 1...max */
	OPT_DURATION, /* int64_t milliseconds, > 0 */
	OPT_ENUM,     /* int: the index of the value in .choices */
	OPT_BOOL,     /* int: 1 for "true", 0 for "false" */
	OPT_CUSTOM,   /* .set parses, .show prints */
};

/* OPT_RELOADABLE: SIGHUP copies a changed value into the running broker
 * (only options whose field is read at use, on the loop thread).
 * OPT_SECRET: the value is never printed (logs show a summary). */
#define OPT_RELOADABLE 1u
#define OPT_SECRET 2u
/* OPT_ZERO: an OPT_DURATION that may be 0 (off). */
#define OPT_ZERO 4u

struct option_def {
	const char *name; /* config-file key; the flag is --name with '_' as '-' */
	enum opt_type type;
	size_t offset, size; /* the field in struct config (size 0: none) */
	const char *def;     /* default, as text */
	const char *choices; /* OPT_ENUM, OPT_BOOL: "a|b|c" */
	const char *metavar; /* the value's name in --help and the man page */
	long max;            /* OPT_COUNT */
	/* OPT_STRING: extra validation; -1 with the message in err. */
	int (*check)(const char *name, const char *v, char *err, size_t errlen);
	/* OPT_CUSTOM: parses v into cfg; -1 with the message in err. */
	int (*set)(struct config *cfg, const char *v, char *err, size_t errlen);
	/* OPT_CUSTOM: the value as text (the form set accepts). */
	void (*show)(const struct config *cfg, char *buf, size_t n);
	unsigned flags;
	const char *help;
};

/* Room config_load keeps per option (checked where the table is). */
#define CONFIG_MAX_OPTIONS 64

extern const struct option_def config_options[];
extern const size_t config_noptions;

/* The option's current value in cfg, as text that config_load accepts
 * ("10s", "true", "127.0.0.1:8085"). Secrets included: never log it. */
void config_option_text(const struct config *cfg, const struct option_def *o, char *buf, size_t n);

/* The same for logs: a secret becomes "N tokens" / a masked URL. */
void config_option_text_for_log(const struct config *cfg, const struct option_def *o, char *buf,
				size_t n);

/* "--name-with-dashes" and "REGNOTIFYD_NAME" of an option. */
void config_flag_name(const struct option_def *o, char *buf, size_t n);
void config_env_name(const struct option_def *o, char *buf, size_t n);

#endif
