/*
 * log.h - operational messages: to stderr, or to syslog once the daemon runs.
 *
 * Setup code logs once where a failure happens and returns -1; only main.c
 * exits. The per-packet path never logs: it counts (stats.h).
 * Any thread may call these; each message is written with one write.
 */
#ifndef BW_LOG_H
#define BW_LOG_H

#include <stdarg.h>

/* Sets the program name put in front of every message (default "brokerwatch"). */
void bw_log_init(const char *progname);

/*
 * From now on, messages go to syslog (ident "brokerwatch", facility daemon)
 * instead of stderr: the live sensor's operational log. [main, before threads]
 */
void bw_log_use_syslog(void);

/* "progname: message: strerror(errno)" on stderr. */
void bw_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "progname: message" on stderr. */
void bw_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An informational message; same form as bw_log_warnx. */
void bw_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
