/* redis_conn.h - the broker's Redis link: one async hiredis connection on
 * the broker's libevent loop for commands (pipelined: every in-flight
 * request's commands share it and are flushed once per loop turn), plus one
 * subscriber connection for cross-broker wake-ups. Reconnects with backoff. */
#ifndef RN_REDIS_CONN_H
#define RN_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>

struct broker;
struct redis_conn;

/* Called once per command with its reply, or with NULL when the command
 * failed (connection lost, Redis not reachable, script cache flushed).
 * hiredis frees the reply after the callback returns: copy what you keep. */
typedef void (*redis_cb)(redisReply *reply, void *arg);

/* Called for every wake-up published on rn:v1:wake:<project>/<topic>. */
typedef void (*redis_wake_cb)(const char *topic, void *arg);

/* The Lua scripts in broker/scripts/ (one per enum value). */
enum script_id {
	SCRIPT_TOPIC_CREATE,
	SCRIPT_TOPIC_DELETE,
	SCRIPT_TOPIC_PATCH,
	SCRIPT_SUB_CREATE,
	SCRIPT_SUB_PATCH,
	SCRIPT_SUB_DELETE,
	SCRIPT_PULL,
	SCRIPT_ACK,
	SCRIPT_MODACK,
	SCRIPT_TRIM,
	SCRIPT_EXPIRE,
	SCRIPT_LIST,
	SCRIPT_TOPIC_SUBS,
	SCRIPT_INGEST,
	SCRIPT_PULLED,
	SCRIPT_PUSH_LIST,
	SCRIPT_SEEK,
	SCRIPT_COUNT
};

/* Creates the link and starts connecting. Ownership: the broker frees it
 * with redis_conn_free. Loop thread. */
struct redis_conn *redis_conn_new(struct broker *b);
void redis_conn_free(struct redis_conn *rc);

/* 1 when connected, authenticated, on the right DB and scripts loaded. */
int redis_conn_ready(const struct redis_conn *rc);

/* Sends a command. Returns 0 when queued (cb will run exactly once), -1
 * when Redis is not ready (cb will not run). argv is copied. Loop thread. */
int redis_conn_argv(struct redis_conn *rc, redis_cb cb, void *arg, int argc, const char **argv,
		    const size_t *lens);

/* EVALSHA of script id with numkeys keys followed by args (argv holds keys
 * then args). Same contract as redis_conn_argv. */
int redis_conn_script(struct redis_conn *rc, enum script_id id, redis_cb cb, void *arg, int numkeys,
		      int argc, const char **argv, const size_t *lens);

/* This broker process's random id: the payload of its wake-up PUBLISHes,
 * so that it can ignore its own (it wakes locally right away). */
const char *redis_conn_instance(const struct redis_conn *rc);

/* Registers the wake-up handler (one). */
void redis_conn_on_wake(struct redis_conn *rc, redis_wake_cb cb, void *arg);

/* The script sources, generated from broker/scripts/ at build time. */
extern const char *const store_script_source[SCRIPT_COUNT];
extern const char *const store_script_name[SCRIPT_COUNT];

#endif
