/*
 * process.h - the process that made a connection on this host, as far as it
 * was found, and how.
 *
 * Filled by attribution (attrib.h) on the worker thread for a record whose
 * source is this host; every later stage (scoring, groups, alerts, output)
 * takes it next to the record, as NULL when no attribution applies (a span
 * port's traffic, replays). A plain value; its strings are NUL-terminated.
 */
#ifndef BW_PROCESS_H
#define BW_PROCESS_H

#include <stdint.h>

#include "brokerwatch/record.h"

enum bw_attr_source {
	BW_ATTR_NONE = 0,       /* nothing was found */
	BW_ATTR_UID_ONLY,       /* the socket's owner uid is known; the process was gone */
	BW_ATTR_PROC,           /* found through NETLINK_SOCK_DIAG and /proc */
	BW_ATTR_EBPF,           /* reported by the kernel at connect() */
};

#define BW_CMDLINE_MAX 512

struct bw_process {
	uint8_t source;                 /* enum bw_attr_source */
	uint8_t exe_deleted;            /* the executable was deleted, or is a memfd */
	uint8_t have_uid;
	int32_t pid;                    /* ContextProcessId (a thread group id), 0: unknown */
	int32_t ppid;                   /* ParentProcessId, 0: unknown */
	uint32_t uid;
	char user[BW_USER_MAX];         /* UserName */
	char image[BW_EXE_MAX];         /* ImageFileName: full path */
	char cmdline[BW_CMDLINE_MAX];   /* CommandLine: NULs as spaces, cut to the buffer */
	char parent_image[BW_EXE_MAX];  /* ParentImageFileName */
};

/* "ebpf", "proc", "uid-only", "none". */
const char *bw_attr_source_name(enum bw_attr_source s);

#endif
