/* reload.h - SIGHUP: the configuration is read again (config file,
 * environment, the command line kept in struct broker) and the options
 * marked reloadable in the option table are applied to the running broker;
 * every change is logged, a change that needs a restart is logged as such,
 * and an invalid configuration changes nothing. Loop thread. */
#ifndef RN_RELOAD_H
#define RN_RELOAD_H

struct broker;
struct config;

/* Registers the SIGHUP handler as a module (stop frees it). Returns 0 or -1. */
int reload_start(struct broker *b);

/* Reads the configuration again and applies it (what SIGHUP runs).
 * Returns the number of changes applied, or -1 when the new configuration
 * is invalid (logged; the running one stays). */
int reload_now(struct broker *b);

/* Applies next to the running configuration: each reloadable option that
 * differs is copied and logged; each other one that differs is logged as
 * needing a restart, and *restart (may be NULL) counts them. Returns the
 * number of changes applied. */
int reload_apply(struct broker *b, const struct config *next, int *restart);

#endif
