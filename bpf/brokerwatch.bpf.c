// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
/*
 * brokerwatch.bpf.c - the kernel side of process attribution.
 *
 * At exec (sched_process_exec, a BTF tracepoint), each program's path (the
 * binary really run: for a script, its interpreter) and
 * arguments are kept in an LRU map by process id, with the process's start
 * time; a process forked without exec (sched_process_fork) gets a copy of
 * its parent's. At connect(), the inet_sock_set_state tracepoint (CLOSE -> SYN_SENT,
 * in the connecting task) keeps the task by socket; when the SYN leaves
 * through a device (net_dev_queue, the source port chosen by then) the task
 * is reported with its user, its parent, the 4-tuple, and what exec kept of
 * it and of its parent - so that user space can name the process even when it
 * has exited since. Only BTF tracepoints: no kprobe, no tracefs.
 * CO-RE: compiled against the build machine's BTF, relocated at load.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "brokerwatch.bpf.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct exec_info {
	__u64 start;
	__u32 args_len;
	__u32 pad;
	char exe[BW_BPF_EXE_MAX];
	char args[BW_BPF_ARGS_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct exec_info);
} execs SEC(".maps");

/* the exec record is too large for the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_info);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* reports that did not fit the ring buffer */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * The destination ports worth a report (the watched protocols'), written by
 * user space through the skeleton's mapping of .bss: a connect() to any other
 * port costs one byte read.
 */
__u8 watch_ports[65536];

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = BPF_CORE_READ(p, tgid);
	struct exec_info *e = bpf_map_lookup_elem(&scratch, &zero);
	struct mm_struct *mm;
	unsigned long start, end, len;

	if (e == NULL)
		return 0;
	e->start = BPF_CORE_READ(p, start_boottime);
	e->exe[0] = '\0';
	bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), BPF_CORE_READ(bprm, interp));
	/* the new program's arguments, NUL-separated, from its own memory */
	e->args_len = 0;
	mm = BPF_CORE_READ(p, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end - start;
	if (len > BW_BPF_ARGS_MAX - 1)
		len = BW_BPF_ARGS_MAX - 1;
	if (len > 0 && bpf_probe_read_user(e->args, len & (BW_BPF_ARGS_MAX - 1),
	    (const void *)start) == 0)
		e->args_len = (__u32)len;
	bpf_map_update_elem(&execs, &tgid, e, BPF_ANY);
	return 0;
}

/*
 * A process forked without exec runs its parent's program with its
 * parent's arguments: it gets a copy of what exec kept of the parent, under
 * its own id and start time, so that a child that connects and exits is
 * named too. Threads (the same process) are left alone.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 zero = 0, ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct exec_info *x, *e;

	if (ptgid == ctgid || (x = bpf_map_lookup_elem(&execs, &ptgid)) == NULL)
		return 0;
	if (x->start != BPF_CORE_READ(parent, group_leader, start_boottime))
		return 0;       /* kept of another process that had this id */
	if ((e = bpf_map_lookup_elem(&scratch, &zero)) == NULL)
		return 0;
	if (bpf_probe_read_kernel(e, sizeof(*e), x) != 0)
		return 0;
	e->start = BPF_CORE_READ(child, start_boottime);
	bpf_map_update_elem(&execs, &ctgid, e, BPF_ANY);
	return 0;
}

/* The task that called connect(), kept by socket until its SYN leaves. */
struct pending {
	__u64 start;
	__u64 parent_start;
	__u32 tgid, ppid, uid;
	__u32 pad;              /* set: the verifier wants the stack copy initialised */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pending);
} pendings SEC(".maps");

#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_CLOSE_ 7

/* The report of sk's connect(): its 4-tuple now, the task as it was at connect(). */
static __always_inline void
report(const struct sock *sk, const struct pending *p)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	struct bw_bpf_event *ev;
	struct exec_info *x;
	__u32 zero = 0, key;

	if (family != AF_INET && family != AF_INET6)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev == NULL) {
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);
		if (n != NULL)
			__sync_fetch_and_add(n, 1);
		return;
	}
	ev->tgid = p->tgid;
	ev->uid = p->uid;
	ev->ppid = p->ppid;
	ev->start = p->start;
	ev->parent_start = p->parent_start;
	ev->family = family == AF_INET6 ? 6 : 4;
	ev->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(ev->saddr, 0, sizeof(ev->saddr));
	__builtin_memset(ev->daddr, 0, sizeof(ev->daddr));
	/* sizes spelled out: BPF_CORE_READ_INTO would read one byte into an array */
	if (family == AF_INET) {
		bpf_core_read(ev->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ev->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(ev->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ev->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	ev->have_exec = 0;
	ev->have_parent = 0;
	ev->args_len = 0;
	key = p->tgid;
	x = bpf_map_lookup_elem(&execs, &key);
	if (x != NULL && x->start == p->start) {
		bpf_probe_read_kernel(ev->exe, sizeof(ev->exe), x->exe);
		bpf_probe_read_kernel(ev->args, sizeof(ev->args), x->args);
		ev->args_len = x->args_len;
		ev->have_exec = 1;
	}
	key = p->ppid;
	x = bpf_map_lookup_elem(&execs, &key);
	if (x != NULL && x->start == p->parent_start) {
		bpf_probe_read_kernel(ev->parent_exe, sizeof(ev->parent_exe), x->exe);
		ev->have_parent = 1;
	}
	bpf_ringbuf_submit(ev, 0);
}

/*
 * CLOSE -> SYN_SENT happens inside connect(), in the connecting task, before
 * the source port is chosen: the task is kept by socket. Leaving SYN_SENT
 * without a SYN seen on a device reports then, so that nothing is lost.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bw_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct pending p, *q;

	if (oldstate == TCP_CLOSE_ && newstate == TCP_SYN_SENT_) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		/* connect() has set the destination before this state change */
		__u16 dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));

		if (!watch_ports[dport])
			return 0;

		p.tgid = bpf_get_current_pid_tgid() >> 32;
		p.pad = 0;
		p.uid = (__u32)bpf_get_current_uid_gid();
		p.start = BPF_CORE_READ(t, group_leader, start_boottime);
		p.ppid = BPF_CORE_READ(t, real_parent, tgid);
		/* the parent process's start, as the exec map keeps it (its leader's) */
		p.parent_start = BPF_CORE_READ(t, real_parent, group_leader, start_boottime);
		bpf_map_update_elem(&pendings, &key, &p, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT_ && (q = bpf_map_lookup_elem(&pendings, &key)) != NULL) {
		report(sk, q);
		bpf_map_delete_elem(&pendings, &key);
	}
	return 0;
}

/*
 * The SYN leaving through a device: the source port is chosen by now, and
 * this is still connect() in the connecting task. Every packet sent passes
 * here; one hash lookup tells whether it is a pending connect's SYN.
 */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(bw_xmit, struct sk_buff *skb)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	__u64 key = (__u64)sk;
	struct pending *p;

	if (sk == NULL || (p = bpf_map_lookup_elem(&pendings, &key)) == NULL)
		return 0;
	report(sk, p);
	bpf_map_delete_elem(&pendings, &key);
	return 0;
}
