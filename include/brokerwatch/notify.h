/*
 * notify.h - the systemd notification protocol (sd_notify), without
 * libsystemd: datagrams to $NOTIFY_SOCKET. Every function is a no-op when
 * the process was not started by systemd with Type=notify. [main]
 */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include <stdint.h>

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (then unsets them); opens the socket. */
void bw_notify_init(void);

/* Sends one state line: "READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...". */
void bw_notify(const char *state);

/* The watchdog interval systemd asked for, in microseconds; 0 when none. */
uint64_t bw_notify_watchdog_usec(void);

#endif
