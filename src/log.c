/*
 * log.c - operational messages on stderr.             [any thread]
 *
 * Each message is formatted into one buffer and written with one write(2), so
 * that lines from different threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "brokerwatch/log.h"

static const char *log_progname = "brokerwatch";
static int log_syslog;

void
bw_log_use_syslog(void)
{
	openlog("brokerwatch", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

void
bw_log_init(const char *progname)
{
	if (progname != NULL && *progname != '\0')
		log_progname = progname;
}

static void log_vwrite(int pri, int with_errno, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(int pri, int with_errno, const char *fmt, va_list ap)
{
	char msg[1536], line[2048];
	int saved = errno;
	int n;

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (log_syslog) {
		/* the message is data, never a format */
		syslog(LOG_DAEMON | pri, "%s%s%s", msg, with_errno ? ": " : "",
		    with_errno ? strerror(saved) : "");
		errno = saved;
		return;
	}
	n = snprintf(line, sizeof(line), "%s: %s%s%s\n", log_progname, msg,
	    with_errno ? ": " : "", with_errno ? strerror(saved) : "");
	if (n < 0)
		return;
	/* a message cut to the buffer still ends its line */
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void
bw_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
bw_log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
bw_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}
