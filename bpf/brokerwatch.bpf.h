/*
 * brokerwatch.bpf.h - the report the kernel side sends for each connect():
 * shared by the BPF program and src/attrib_ebpf.c.
 */
#ifndef BW_BPF_H
#define BW_BPF_H

#define BW_BPF_EXE_MAX 256
#define BW_BPF_ARGS_MAX 256

struct bw_bpf_event {
	__u64 start;            /* the process's start, ns since boot (start_boottime) */
	__u64 parent_start;     /* the parent process's, likewise */
	__u32 tgid;             /* the process (ContextProcessId) */
	__u32 ppid;
	__u32 uid;
	__u16 family;           /* 4 or 6 */
	__u16 sport;            /* host order */
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 have_exec;        /* exe and args were kept at exec */
	__u32 have_parent;      /* parent_exe was kept at exec */
	__u32 args_len;
	__u32 pad2;
	char exe[BW_BPF_EXE_MAX];
	char args[BW_BPF_ARGS_MAX];
	char parent_exe[BW_BPF_EXE_MAX];
};

#endif
