/*
 * attrib.h - which process on this host made a connection.
 *
 * Two backends. eBPF, where the kernel allows it: a program at tcp_connect()
 * reports the connecting task with the 4-tuple, and one at exec keeps each
 * program's path and command line, so a record is attributed even when the
 * process has exited before anyone looks. /proc, always: NETLINK_SOCK_DIAG
 * finds the socket by its 4-tuple (inode, owner uid), then the process
 * holding that inode is searched in /proc, newest first, within a time budget.
 * Each result says how it was found (process.h); a process whose start time
 * changed while it was read is a reused pid and is not taken.
 *
 * Opened by the main thread while it still has privileges (the eBPF program,
 * the netlink socket); used by the worker thread only.
 */
#ifndef BW_ATTRIB_H
#define BW_ATTRIB_H

#include <stdint.h>

#include "brokerwatch/config.h"
#include "brokerwatch/process.h"
#include "brokerwatch/record.h"
#include "brokerwatch/stats.h"

enum bw_attrib_mode {
	BW_ATTRIB_AUTO = 0,     /* eBPF if it loads, else /proc */
	BW_ATTRIB_EBPF,         /* eBPF, else /proc (said once) */
	BW_ATTRIB_PROC,
	BW_ATTRIB_OFF,
};

struct bw_attrib;

/*
 * Opens the backends for mode; it counts into statistics of its own until
 * bw_attrib_set_stats. Says once which one runs and why eBPF does not. NULL
 * for BW_ATTRIB_OFF or without memory. [main, before privileges are dropped]
 */
struct bw_attrib *bw_attrib_open(enum bw_attrib_mode mode, int64_t budget_ns);

/* Frees everything; NULL is allowed. [main, after the worker stopped] */
void bw_attrib_close(struct bw_attrib *a);

/* Counts into st from now on (the worker's, once it exists). [main] */
void bw_attrib_set_stats(struct bw_attrib *a, struct bw_stats *st);

/* The backend that runs: BW_ATTR_EBPF or BW_ATTR_PROC. */
enum bw_attr_source bw_attrib_backend(const struct bw_attrib *a);

/*
 * The destination ports whose connections matter (the watched protocols'):
 * the kernel reports only those. Called before the worker starts and by it
 * on a reload; needs no privilege (a shared mapping). [worker]
 */
void bw_attrib_watch_ports(struct bw_attrib *a, const struct bw_config *cfg);

/*
 * The process that made rec (whose source is this host). Never takes longer
 * than the budget (counted as attrib_timeout when it runs out). [worker]
 */
void bw_attrib_lookup(struct bw_attrib *a, const struct bw_record *rec, struct bw_process *out);

/* A descriptor that becomes readable when kernel reports wait, or -1. [worker] */
int bw_attrib_fd(const struct bw_attrib *a);

/* Takes the kernel's pending reports (eBPF); cheap when there are none. [worker] */
void bw_attrib_poll(struct bw_attrib *a);

#endif
