/*
 * attrib-int.h - what the attribution backends share; not a module contract.
 */
#ifndef BW_ATTRIB_INT_H
#define BW_ATTRIB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "brokerwatch/attrib.h"

struct bw_ebpf;

/* The time of clock c in ns (CLOCK_MONOTONIC for budgets, _COARSE where that is enough). */
int64_t bw_attrib_clock_ns(clockid_t c);

/* A command line from n bytes of NUL-separated arguments (buf[n] is NUL):
 * NULs as spaces, the trailing spaces dropped. */
void bw_attrib_args_line(char *buf, size_t n);

/* /proc/<pid>/stat: parent and start time (clock ticks since boot). 0, or -1: gone. */
int bw_proc_stat(int pid, int *ppid, uint64_t *start);

/* /proc/<pid>/exe, " (deleted)" taken off and flagged, memfd flagged. 0, or -1. */
int bw_proc_exe(int pid, char *buf, size_t len, uint8_t *deleted);

/* /proc/<pid>/cmdline with NULs as spaces. 0, or -1. */
int bw_proc_cmdline(int pid, char *buf, size_t len);

/* The name of uid (cached), or its number. */
void bw_attrib_user(struct bw_attrib *a, uint32_t uid, char *buf, size_t len);

/*
 * The parent's program, if the process at ppid started between lo and hi
 * (ticks, both included; else its pid was reused): its exact start, or "no
 * later than its child" when only the child's is known. "" when unknown.
 */
void bw_proc_parent_exe(int ppid, uint64_t lo, uint64_t hi, char *buf, size_t len);

/* What bw_attrib_from_proc reads besides pid, parent pid and program. */
#define BW_PROC_CMDLINE 1
#define BW_PROC_PARENT 2
#define BW_PROC_OWNER 4         /* uid and user name */

/*
 * Reads /proc/<pid> if it is the process started at want_start (ticks; 0:
 * any) and stays the same while read: pid, parent pid, program, and what
 * `what` asks for. 0 with *out replaced (what was not asked for is zero),
 * or -1 (gone or reused) with out untouched.
 */
int bw_attrib_from_proc(struct bw_attrib *a, int pid, uint64_t want_start,
    struct bw_process *out, int what);

struct bw_stats *bw_attrib_stats(struct bw_attrib *a);

/* The eBPF backend (attrib_ebpf.c, or a stub without it). NULL with the reason in why. */
struct bw_ebpf *bw_ebpf_open(struct bw_attrib *a, char *why, size_t len);
void bw_ebpf_close(struct bw_ebpf *e);
int bw_ebpf_fd(const struct bw_ebpf *e);
void bw_ebpf_poll(struct bw_ebpf *e);

/* Reports only for connections to the ports p with want[p] != 0 (65536 bytes). */
void bw_ebpf_watch_ports(struct bw_ebpf *e, const uint8_t *want);

/* 0 with out filled when the kernel reported this connection; -1 otherwise
 * (out untouched). out is zeroed by the caller. */
int bw_ebpf_lookup(struct bw_ebpf *e, const struct bw_record *rec, struct bw_process *out);

#endif
