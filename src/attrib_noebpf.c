/*
 * attrib_noebpf.c - the eBPF backend of a build without it (-Debpf=disabled,
 * or libbpf, bpftool, clang or the kernel's BTF missing at build time).   [main]
 */
#include <stdio.h>

#include "attrib-int.h"

struct bw_ebpf *
bw_ebpf_open(struct bw_attrib *a, char *why, size_t len)
{
	(void)a;
	snprintf(why, len, "this build has no eBPF support");
	return NULL;
}

void
bw_ebpf_close(struct bw_ebpf *e)
{
	(void)e;
}

int
bw_ebpf_fd(const struct bw_ebpf *e)
{
	(void)e;
	return -1;
}

void
bw_ebpf_poll(struct bw_ebpf *e)
{
	(void)e;
}

int
bw_ebpf_lookup(struct bw_ebpf *e, const struct bw_record *rec, struct bw_process *out)
{
	(void)e;
	(void)rec;
	(void)out;
	return -1;
}

void
bw_ebpf_watch_ports(struct bw_ebpf *e, const uint8_t *want)
{
	(void)e;
	(void)want;
}
