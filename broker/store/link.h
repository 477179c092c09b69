/* link.h - the broker's Redis link: one async hiredis connection on the
 * broker's libevent loop for commands (pipelined: every in-flight
 * request's commands share it and are flushed once per loop turn), plus one
 * subscriber connection for cross-broker wake-ups (handed to core/wake.c's
 * observers). Reconnects with backoff. Only store/ uses it. */
#ifndef RN_LINK_H
#define RN_LINK_H

#include "scripts.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct link;

/* Called once per command with its reply, or with NULL when the command
 * failed (connection lost, Redis not reachable, script cache flushed).
 * hiredis frees the reply after the callback returns: copy what you keep. */
typedef void (*link_cb)(redisReply *reply, void *arg);

/* Creates the link and starts connecting (b->cfg's redis_* fields).
 * Ownership: freed with link_free. Loop thread. */
struct link *link_new(struct broker *b);
void link_free(struct link *rc);

/* 1 when connected, authenticated, on the right DB and scripts loaded. */
int link_ready(const struct link *rc);

/* Sends a command. Returns 0 when queued (cb will run exactly once), -1
 * when Redis is not ready (cb will not run). argv is copied. Loop thread. */
int link_argv(struct link *rc, link_cb cb, void *arg, int argc, const char **argv,
	      const size_t *lens);

/* EVALSHA of script id with numkeys keys followed by args (argv holds keys
 * then args); numkeys is what the script declares (scripts.h), or the
 * caller's count for a script that declares a variable number. Same
 * contract as link_argv. */
int link_script(struct link *rc, enum script_id id, link_cb cb, void *arg, int numkeys, int argc,
		const char **argv, const size_t *lens);

/* Change notifications: fn(arg, payload) for each message PUBLISHed on
 * channel (borrowed, static), and fn(arg, NULL) each time the subscriber
 * connection (re)subscribes - changes may have been missed while it was
 * down, so a cache drops everything. One watcher per link. Loop thread. */
typedef void (*link_watch_fn)(void *arg, const char *payload);
void link_watch(struct link *rc, const char *channel, link_watch_fn fn, void *arg);

/* The audit entry (its stored text, audit_entry_stored) that the next
 * link_script of an audited script (scripts.h: audited) appends to stream
 * key of project's log (enum audit_log_name) in the same step, and exports
 * (the LogEntry it expands to, as a message whose attribute
 * logging.googleapis.com/timestamp is time_us) to the topics of project's
 * log sinks whose filters it matches (sinks.h); one-shot, dropped by that
 * call. */
void link_audit_next(struct link *rc, const char *project, int log, const char *key,
		     const char *entry, int64_t time_us);

/* This broker process's random id: the payload of its wake-up PUBLISHes,
 * so that it can ignore its own (it wakes locally right away). */
const char *link_instance(const struct link *rc);

/* The broker the link belongs to. */
struct broker *link_broker(const struct link *rc);

#endif
