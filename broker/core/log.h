/* log.h - leveled log lines on stderr, one line per notable event. */
#ifndef RN_LOG_H
#define RN_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* The current threshold; messages below it are not formatted at all.
 * Read from any thread, changed by SIGHUP on the loop thread: through
 * log_enabled / log_set_threshold only (relaxed atomics). */
extern enum log_level log_threshold;

#define log_enabled(lvl) (__atomic_load_n(&log_threshold, __ATOMIC_RELAXED) <= (lvl))

void log_set_threshold(enum log_level lvl);

/* Writes one line "TIME LEVEL message" to stderr. Thread-safe (one write). */
void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_write(LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_enabled(LOG_INFO))                                                         \
			log_write(LOG_INFO, __VA_ARGS__);                                          \
	} while (0)
#define log_warn(...)                                                                              \
	do {                                                                                       \
		if (log_enabled(LOG_WARN))                                                         \
			log_write(LOG_WARN, __VA_ARGS__);                                          \
	} while (0)
#define log_error(...)                                                                             \
	do {                                                                                       \
		log_write(LOG_ERROR, __VA_ARGS__);                                                 \
	} while (0)

#endif
