/*
 * attrib_ebpf.c - process attribution from the kernel's connect() reports.   [main opens, worker uses]
 *
 * Owns the loaded BPF program (bpf/brokerwatch.bpf.c, through its libbpf
 * skeleton), its ring buffer, and a bounded table of the latest reports by
 * 4-tuple. The worker takes the reports as they come (and once more before a
 * lookup: a report is made before its SYN leaves, so it is there when the
 * record is).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "attrib-int.h"
#include "brokerwatch.bpf.h"
#include "brokerwatch.skel.h"
#include "brokerwatch/log.h"
#include "brokerwatch/table.h"

#define REPORTS 8192            /* connect() reports kept until their record comes */

struct report_key {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport, dport;
	uint8_t family;
	uint8_t pad[3];
};

struct bw_ebpf {
	struct bw_attrib *a;
	struct brokerwatch_bpf *skel;
	struct ring_buffer *rb;
	struct bw_table *reports;
	long tick_ns;                   /* one clock tick of /proc/<pid>/stat, in ns */
	uint64_t *lost;                 /* the kernel's per-CPU count of reports lost */
	int ncpus;
	int64_t lost_read_ns;           /* when it was last read */
	int lost_unreadable;            /* said once */
};

static int
libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;       /* its messages would reach syslog for every probe of the kernel */
}

static void
make_key(struct report_key *k, int family, const uint8_t *s, const uint8_t *d, uint16_t sport,
    uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, s, family == 6 ? 16 : 4);
	memcpy(k->daddr, d, family == 6 ? 16 : 4);
	k->sport = sport;
	k->dport = dport;
	k->family = (uint8_t)family;
}

static int
on_report(void *ctx, void *data, size_t size)
{
	struct bw_ebpf *e = ctx;
	const struct bw_bpf_event *ev = data;
	struct bw_stats *st = bw_attrib_stats(e->a);
	struct report_key k;
	struct bw_bpf_event *slot;

	if (size < sizeof(*ev))
		return 0;
	bw_stats_inc(st, BW_STAT_ATTRIB_EVENTS);
	make_key(&k, ev->family, ev->saddr, ev->daddr, ev->sport, ev->dport);
	if ((slot = bw_table_find(e->reports, &k)) != NULL)
		bw_table_touch(e->reports, slot);       /* a reused 4-tuple: a new report */
	else if ((slot = bw_table_insert(e->reports, &k)) == NULL) {
		/* full: the oldest report, long past its record, goes */
		bw_table_remove(e->reports, bw_table_oldest(e->reports));
		bw_stats_inc(st, BW_STAT_ATTRIB_EVENTS_LOST);
		slot = bw_table_insert(e->reports, &k);
	}
	memcpy(slot, ev, sizeof(*ev));
	return 0;
}

struct bw_ebpf *
bw_ebpf_open(struct bw_attrib *a, char *why, size_t len)
{
	struct bw_ebpf *e = calloc(1, sizeof(*e));
	int err;

	if (e == NULL) {
		snprintf(why, len, "%s", strerror(errno));
		return NULL;
	}
	e->a = a;
	e->tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
	libbpf_set_print(libbpf_quiet);
	if ((e->skel = brokerwatch_bpf__open()) == NULL) {
		snprintf(why, len, "cannot open the program: %s", strerror(errno));
		goto fail;
	}
	if ((err = brokerwatch_bpf__load(e->skel)) != 0) {
		snprintf(why, len, "the kernel refused the program (%s%s)", strerror(-err),
		    -err == EPERM ? ": it needs root, or CAP_BPF and CAP_PERFMON" :
		    -err == ENOENT || -err == ESRCH ? ": no BTF, or a tracepoint missing from it" : "");
		goto fail;
	}
	if ((err = brokerwatch_bpf__attach(e->skel)) != 0) {
		snprintf(why, len, "cannot attach the program (%s)", strerror(-err));
		goto fail;
	}
	if ((e->ncpus = libbpf_num_possible_cpus()) <= 0 ||
	    (e->lost = calloc((size_t)e->ncpus, sizeof(*e->lost))) == NULL) {
		snprintf(why, len, "cannot count the possible CPUs");
		goto fail;
	}
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.events), on_report, e, NULL);
	e->reports = bw_table_new(REPORTS, sizeof(struct report_key), sizeof(struct bw_bpf_event),
	    bw_table_seed());
	if (e->rb == NULL || e->reports == NULL) {
		snprintf(why, len, "%s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	return e;
fail:
	bw_ebpf_close(e);
	return NULL;
}

void
bw_ebpf_close(struct bw_ebpf *e)
{
	if (e == NULL)
		return;
	ring_buffer__free(e->rb);
	brokerwatch_bpf__destroy(e->skel);
	bw_table_free(e->reports);
	free(e->lost);
	free(e);
}

int
bw_ebpf_fd(const struct bw_ebpf *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

/* The kernel's count of reports that found the ring buffer full, once a second. */
static void
sync_lost(struct bw_ebpf *e)
{
	int64_t now = bw_attrib_clock_ns(CLOCK_MONOTONIC_COARSE);
	uint32_t zero = 0;
	uint64_t sum = 0;

	if (now - e->lost_read_ns < 1000000000LL)
		return;
	e->lost_read_ns = now;
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.lost), &zero, e->lost) != 0) {
		if (!e->lost_unreadable)
			bw_log_warn("eBPF: the count of lost kernel reports cannot be read");
		e->lost_unreadable = 1;
		return;
	}
	for (int i = 0; i < e->ncpus; i++)
		sum += e->lost[i];
	bw_attrib_stats(e->a)->v[BW_STAT_ATTRIB_KERNEL_LOST] = sum;
}

void
bw_ebpf_poll(struct bw_ebpf *e)
{
	(void)ring_buffer__consume(e->rb);
	sync_lost(e);
}

void
bw_ebpf_watch_ports(struct bw_ebpf *e, const uint8_t *want)
{
	volatile uint8_t *now = e->skel->bss->watch_ports;

	/* byte by byte where it changes: a port watched before and after stays on */
	for (size_t p = 0; p < 65536; p++)
		if (now[p] != want[p])
			now[p] = want[p];
}

/* Arguments as a command line: NULs as spaces, the trailing ones dropped. */
static void
args_line(const struct bw_bpf_event *ev, char *buf, size_t len)
{
	/* the kernel's length, checked like any input */
	size_t n = ev->args_len < sizeof(ev->args) ? ev->args_len : sizeof(ev->args);

	if (n > len - 1)
		n = len - 1;

	memcpy(buf, ev->args, n);
	buf[n] = '\0';
	bw_attrib_args_line(buf, n);
}

/* fexecve() of a memfd or a deleted file shows as /dev/fd/N or /proc/self/fd/N. */
static int
exe_from_fd(const char *path)
{
	return strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0;
}

/*
 * A path exec saw, through its symbolic links, when it still resolves. Not
 * /proc/... or /dev/fd/...: those would resolve to the sensor's own files
 * (/proc/self/exe), not the process's.
 */
static void
resolve(char *path, size_t len)
{
	char real[PATH_MAX];

	if (path[0] == '/' && strncmp(path, "/proc/", 6) != 0 && strncmp(path, "/dev/", 5) != 0 &&
	    realpath(path, real) != NULL && strlen(real) < len)
		memcpy(path, real, strlen(real) + 1);
}

int
bw_ebpf_lookup(struct bw_ebpf *e, const struct bw_record *rec, struct bw_process *out)
{
	struct report_key k;
	struct bw_bpf_event *ev;
	struct bw_process live;
	uint64_t start_ticks, parent_ticks;

	bw_ebpf_poll(e);
	make_key(&k, rec->family, rec->src, rec->dst, rec->sport, rec->dport);
	if ((ev = bw_table_find(e->reports, &k)) == NULL)
		return -1;
	start_ticks = ev->start / (uint64_t)e->tick_ns;
	parent_ticks = ev->parent_start / (uint64_t)e->tick_ns;
	out->source = BW_ATTR_EBPF;
	out->pid = (int32_t)ev->tgid;
	out->ppid = (int32_t)ev->ppid;
	out->uid = ev->uid;
	out->have_uid = 1;
	bw_attrib_user(e->a, ev->uid, out->user, sizeof(out->user));
	if (ev->have_exec) {
		snprintf(out->image, sizeof(out->image), "%.*s", (int)sizeof(ev->exe), ev->exe);
		args_line(ev, out->cmdline, sizeof(out->cmdline));
		out->exe_deleted = exe_from_fd(ev->exe);
	}
	if (ev->have_parent)
		snprintf(out->parent_image, sizeof(out->parent_image), "%.*s",
		    (int)sizeof(ev->parent_exe), ev->parent_exe);
	/*
	 * exec saw the path the program was started by (a symbolic link, say);
	 * while the same process lives (same start time), /proc/<pid>/exe names
	 * the file itself, and whether it was deleted since or is a memfd. It
	 * also tells what exec did not see: a process older than the sensor.
	 * The arguments stay those of exec: a process may rewrite its own. The
	 * parent is the one at connect(), not the one /proc shows now (a
	 * process whose parent died is someone else's child by now).
	 */
	if (bw_attrib_from_proc(e->a, (int)ev->tgid, start_ticks, &live,
	    ev->have_exec ? 0 : BW_PROC_CMDLINE) == 0) {
		memcpy(out->image, live.image, sizeof(out->image));
		out->exe_deleted = live.exe_deleted;
		if (!ev->have_exec)
			memcpy(out->cmdline, live.cmdline, sizeof(out->cmdline));
	} else if (ev->have_exec)
		resolve(out->image, sizeof(out->image));     /* leaves /dev/fd/N alone */
	if (ev->have_parent)
		resolve(out->parent_image, sizeof(out->parent_image));
	else
		bw_proc_parent_exe((int)ev->ppid, parent_ticks, parent_ticks, out->parent_image,
		    sizeof(out->parent_image));
	bw_table_remove(e->reports, ev);
	bw_stats_inc(bw_attrib_stats(e->a), BW_STAT_ATTRIB_EBPF);
	return 0;
}
