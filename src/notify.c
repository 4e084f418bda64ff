/*
 * notify.c - sd_notify over an AF_UNIX datagram socket.   [main]
 *
 * Owns the socket. Abstract socket names ("@...") are supported as systemd
 * documents them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "brokerwatch/log.h"
#include "brokerwatch/notify.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static uint64_t watchdog_usec;

void
bw_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	const char *wdpid = getenv("WATCHDOG_PID");
	size_t n;

	if (wd != NULL && (wdpid == NULL || strtol(wdpid, NULL, 10) == (long)getpid())) {
		char *end;
		unsigned long long v = strtoull(wd, &end, 10);
		if (*end == '\0' && v > 0)
			watchdog_usec = v;
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		goto out;
	n = strlen(path);
	if (n >= sizeof(notify_addr.sun_path)) {
		bw_log_warnx("NOTIFY_SOCKET is too long; systemd will not hear from us");
		goto out;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		bw_log_warn("NOTIFY_SOCKET");
out:
	unsetenv("NOTIFY_SOCKET");
}

void
bw_notify(const char *state)
{
	if (notify_fd < 0)
		return;
	if (sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
	    (const struct sockaddr *)&notify_addr, notify_len) < 0)
		bw_log_warn("sd_notify %s", state);
}

uint64_t
bw_notify_watchdog_usec(void)
{
	return watchdog_usec;
}
