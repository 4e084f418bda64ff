/*
 * capture.c - the capture thread: packets to connection records.   [capture]
 *
 * Owns the live pcap handle (or the capture files, one at a time), the
 * decoder, the SYN fold table and a small batch of records that it pushes
 * into the ring at once. Live it never waits for the worker; a replay does.
 */
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <time.h>
#include <unistd.h>

#include "brokerwatch/capture.h"
#include "brokerwatch/conn.h"
#include "brokerwatch/extract.h"
#include "brokerwatch/filter.h"
#include "brokerwatch/log.h"
#include "brokerwatch/pcapfile.h"
#include "brokerwatch/replay.h"

#define BATCH 64                 /* records pushed at once */
#define REPLAY_PUBLISH 1024      /* packets between stats publications in a replay */
#define LIVE_TIMEOUT_MS 100      /* the kernel hands over a block of packets at least this often */
#define LIVE_POLL_MS 250         /* longest wait of the thread: heartbeat, even on a silent link */
#define LIVE_STATS_S 0.1         /* the kernel's counters are read this often */
#define IFCACHE 64               /* interface names of -i any, by index */

struct bw_capture {
	struct bw_capture_opts o;
	pcap_t *pcap;
	enum bw_link link;
	char describe[256];
	struct bw_decoder *dec;
	struct bw_conn *conn;
	struct bw_stats st;
	struct bw_record batch[BATCH];
	size_t nbatch;
	int pushed;                 /* records pushed since the worker was last woken */
	int live;
	int64_t latest;
	int have_latest;
	int status;
	/* 64-bit totals over libpcap's 32-bit counters */
	uint32_t last_recv, last_drop, last_ifdrop;

	pthread_t thread;
	int started, joined;
	int dlt;
	char *filter;               /* the expression on the socket */
	int swap;                   /* we attach programs ourselves (swap_check) */
	int64_t attached_ns;        /* when we attached the first program */
	struct bpf_program first;   /* it, while packets stamped before may still come */
	uint64_t early_rejected;    /* of them, not passed: kernel_received leaves them out */
	int ctl_fd;                 /* eventfd: stop or a new filter, wakes the thread */
	struct {
		int index;
		char name[IF_NAMESIZE];
	} ifcache[IFCACHE];
	void (*done)(void *);
	void *done_arg;
	_Atomic int stop;
	_Atomic(char *) new_filter;
	_Atomic uint64_t heartbeat;
};

static void
wake_worker(struct bw_capture *c)
{
	uint64_t one = 1;

	if (!c->pushed)
		return;
	c->pushed = 0;
	/* an eventfd counter: a write only fails when it would overflow, i.e. it is set */
	if (write(c->o.wake_fd, &one, sizeof(one)) < 0) {
	}
}

/* Live: push what fits, drop and count the rest. */
static void
flush_live(struct bw_capture *c)
{
	size_t n = bw_ring_push(c->o.ring, c->batch, c->nbatch);

	if (n > 0)
		c->pushed = 1;
	bw_stats_add(&c->st, BW_STAT_RING_DROPPED, c->nbatch - n);
	c->nbatch = 0;
}

/* Replay: wait for room; a replay never loses a record. */
static void
flush_replay(struct bw_capture *c)
{
	size_t done = 0;
	struct timespec pause = {0, 20000};

	while (done < c->nbatch) {
		size_t n = bw_ring_push(c->o.ring, c->batch + done, c->nbatch - done);
		if (n > 0)
			c->pushed = 1;
		done += n;
		if (done < c->nbatch) {
			bw_stats_inc(&c->st, BW_STAT_RING_FULL_WAITS);
			wake_worker(c);
			nanosleep(&pause, NULL);
		}
	}
	c->nbatch = 0;
}

/*
 * -i any: the cooked v2 header says on which interface the packet was seen
 * (its index); the record names it. Only records pay for it; a name is
 * looked up once per index.
 */
static void
name_interface(struct bw_capture *c, const struct bw_packet *pkt, struct bw_record *rec)
{
	int index;
	size_t n, slot;

	if (pkt->caplen < 8)
		return;
	index = (int)bw_be32(pkt->data + 4);
	slot = (size_t)index % IFCACHE;
	if (c->ifcache[slot].index != index) {
		if (if_indextoname((unsigned)index, c->ifcache[slot].name) == NULL)
			return;         /* gone already: the record says "any" */
		c->ifcache[slot].index = index;
	}
	n = strnlen(c->ifcache[slot].name, sizeof(rec->ifname) - 1);
	memcpy(rec->ifname, c->ifcache[slot].name, n);
	rec->ifname[n] = '\0';
}

static void
take_packet(struct bw_capture *c, const struct bw_packet *pkt)
{
	struct bw_record *rec = &c->batch[c->nbatch];

	if (bw_decode(c->dec, pkt, rec) != BW_DECODE_SYN || !bw_conn_syn(c->conn, rec))
		return;
	if (c->live && c->link == BW_LINK_SLL2)
		name_interface(c, pkt, rec);
	if (++c->nbatch == BATCH) {
		if (c->live)
			flush_live(c);
		else
			flush_replay(c);
	}
}

/* ---------------------------------------------------------------- live */

/*
 * The ring holds what arrived before our first program was attached, unfiltered
 * (see first_filter): those packets get the program here. One second after
 * the attach nothing stamped before it is still on its way. 1: skip it.
 */
static int
early_packet(struct bw_capture *c, const struct pcap_pkthdr *h, const u_char *bytes, int64_t ts)
{
	if (ts >= c->attached_ns + 1000000000LL) {
		pcap_freecode(&c->first);
		return 0;
	}
	if (ts < c->attached_ns && pcap_offline_filter(&c->first, h, bytes) == 0) {
		c->early_rejected++;
		return 1;
	}
	return 0;
}

static void
live_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct bw_capture *c = (struct bw_capture *)(void *)arg;
	struct bw_packet pkt;

	/* nanosecond stamps were asked for; tv_usec holds nanoseconds then */
	pkt.ts_ns = (int64_t)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec;
	if (c->first.bf_insns != NULL && early_packet(c, h, bytes, pkt.ts_ns))
		return;
	pkt.ts_status = BW_TS_OK;
	pkt.data = bytes;
	pkt.caplen = h->caplen;
	pkt.wirelen = h->len;
	pkt.link = c->link;
	pkt.ifname = c->o.interface;
	if (!c->have_latest || pkt.ts_ns > c->latest) {
		c->latest = pkt.ts_ns;
		c->have_latest = 1;
	}
	take_packet(c, &pkt);
}

static void
kernel_stats(struct bw_capture *c)
{
	struct pcap_stat ps;
	uint32_t recv, early;

	if (pcap_stats(c->pcap, &ps) < 0)
		return;
	/* libpcap's totals are 32-bit and wrap: add the differences */
	recv = (uint32_t)(ps.ps_recv - c->last_recv);
	/* what the kernel took in before it had our filter, and the filter rejects */
	early = c->early_rejected < recv ? (uint32_t)c->early_rejected : recv;
	c->early_rejected -= early;
	bw_stats_add(&c->st, BW_STAT_KERNEL_RECEIVED, recv - early);
	bw_stats_add(&c->st, BW_STAT_KERNEL_DROPPED, (uint32_t)(ps.ps_drop - c->last_drop));
	bw_stats_add(&c->st, BW_STAT_INTERFACE_DROPPED,
	    (uint32_t)(ps.ps_ifdrop - c->last_ifdrop));
	c->last_recv = ps.ps_recv;
	c->last_drop = ps.ps_drop;
	c->last_ifdrop = ps.ps_ifdrop;
}

static int
compile_filter(struct bw_capture *c, const char *expr, struct bpf_program *prog)
{
	if (pcap_compile(c->pcap, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		bw_log_warnx("%s: the capture filter does not compile: %s", c->o.interface,
		    pcap_geterr(c->pcap));
		return -1;
	}
	return 0;
}

/*
 * The program as the kernel runs it, in a new array. On the cooked link types
 * (-i any) the kernel has no link header: loads behind it move back by its
 * length and its fields become the kernel's ancillary loads. -1: a load the
 * kernel cannot do (libpcap would filter in user space).
 */
static struct sock_filter *
kernel_program(const struct bw_capture *c, const struct bpf_program *prog)
{
	struct sock_filter *f = calloc(prog->bf_len ? prog->bf_len : 1, sizeof(*f));
	uint32_t hdr = c->dlt == DLT_LINUX_SLL2 ? 20 : c->dlt == DLT_LINUX_SLL ? 16 : 0;

	if (f == NULL)
		return NULL;
	for (u_int i = 0; i < prog->bf_len; i++) {
		const struct bpf_insn *in = &prog->bf_insns[i];
		uint16_t cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code);
		uint32_t k = in->k;

		f[i] = (struct sock_filter){in->code, in->jt, in->jf, in->k};
		if (hdr == 0 || (cls != BPF_LD && cls != BPF_LDX) ||
		    (mode != BPF_ABS && mode != BPF_IND && mode != BPF_MSH) || (int32_t)k < 0)
			continue;
		if (k >= hdr)
			f[i].k = k - hdr;
		else if (hdr == 20 && k == 0)            /* SLL2: protocol, if index, packet type */
			f[i].k = (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL);
		else if (hdr == 20 && k == 4)
			f[i].k = (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX);
		else if (hdr == 20 && k == 10)
			f[i].k = (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE);
		else if (hdr == 16 && k == 14)           /* SLL: protocol, packet type */
			f[i].k = (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL);
		else if (hdr == 16 && k == 0)
			f[i].k = (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE);
		else {
			free(f);
			return NULL;
		}
	}
	return f;
}

/*
 * pcap_setfilter() on Linux first attaches a filter that rejects everything
 * and drains the socket, so that nothing the old filter accepted is read
 * after the new one: every packet arriving meanwhile is lost, and counted
 * nowhere. The kernel swaps a socket's filter atomically, so a reload can
 * attach the program itself - if it is the program libpcap would attach. At
 * the start, after pcap_setfilter(), ask the kernel for the program on the
 * socket and compare it with ours; when they differ (another libpcap, a filter
 * run in user space) reloads use pcap_setfilter(), and say so.
 */
static int
swap_check(struct bw_capture *c, const struct bpf_program *prog)
{
	struct sock_filter *ours = kernel_program(c, prog), *theirs = NULL;
	socklen_t n = 0;
	int same = 0;

	if (ours != NULL && prog->bf_len > 0 &&
	    getsockopt(pcap_fileno(c->pcap), SOL_SOCKET, SO_GET_FILTER, NULL, &n) == 0 &&
	    n == prog->bf_len && (theirs = calloc(n, sizeof(*theirs))) != NULL &&
	    getsockopt(pcap_fileno(c->pcap), SOL_SOCKET, SO_GET_FILTER, theirs, &n) == 0 &&
	    n == prog->bf_len)
		same = memcmp(ours, theirs, n * sizeof(*ours)) == 0;
	free(ours);
	free(theirs);
	return same;
}

/* Attaches the compiled program in place of the one on the socket, at once. */
static int
swap_filter(struct bw_capture *c, const struct bpf_program *prog)
{
	struct sock_filter *f = kernel_program(c, prog);
	struct sock_fprog fp = {.len = (unsigned short)prog->bf_len, .filter = f};
	int r;

	if (f == NULL || prog->bf_len > BPF_MAXINSNS) {
		free(f);
		errno = EINVAL;
		return -1;
	}
	r = setsockopt(pcap_fileno(c->pcap), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	free(f);
	return r;
}

/* The program onto the socket: ours at once (swap), or libpcap's way. */
static int
attach(struct bw_capture *c, struct bpf_program *prog, int swap)
{
	if (swap ? swap_filter(c, prog) == 0 : pcap_setfilter(c->pcap, prog) == 0)
		return 0;
	bw_log_warnx("%s: cannot set the capture filter: %s", c->o.interface,
	    swap ? strerror(errno) : pcap_geterr(c->pcap));
	return -1;
}

/*
 * The first filter, before the capture is active. libpcap attaches it and
 * filters what is in the ring already in user space, with its copy of the
 * program - for a block or two, whenever they come: after one of our swaps
 * that copy would be the old program, and drop what only the new one passes.
 * So once the check has passed, libpcap's copy becomes the empty program
 * (passes everything), we attach ours, and early_packet() filters what came
 * before it.
 */
static int
first_filter(struct bw_capture *c, char *expr)
{
	struct bpf_program prog, all;
	struct timespec t;

	if (compile_filter(c, expr, &prog) < 0)
		return -1;
	if (attach(c, &prog, 0) < 0) {
		pcap_freecode(&prog);
		return -1;
	}
	if ((c->swap = swap_check(c, &prog) && compile_filter(c, "", &all) == 0)) {
		c->swap = attach(c, &all, 0) == 0 && attach(c, &prog, 1) == 0;
		pcap_freecode(&all);
		if (!c->swap && attach(c, &prog, 0) < 0) {
			pcap_freecode(&prog);
			return -1;
		}
	}
	c->filter = expr;
	if (!c->swap) {
		bw_log_warnx("%s: the kernel's filter is not the one compiled here: on reload "
		    "libpcap changes the capture filter, with a moment in which packets are lost",
		    c->o.interface);
		pcap_freecode(&prog);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &t);
	c->attached_ns = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	c->first = prog;
	return 0;
}

/* A reload's filter (the thread owns expr); the same expression changes nothing. */
static void
new_filter(struct bw_capture *c, char *expr)
{
	struct bpf_program prog;
	int r;

	if (c->filter != NULL && strcmp(c->filter, expr) == 0) {
		free(expr);
		return;
	}
	if (compile_filter(c, expr, &prog) < 0) {
		free(expr);
		return;
	}
	r = attach(c, &prog, c->swap);
	pcap_freecode(&prog);
	if (r < 0) {
		free(expr);
		return;
	}
	free(c->filter);
	c->filter = expr;
	bw_log_info("%s: capture filter updated", c->o.interface);
}

/* Seconds from t0 to t. */
static double
elapsed(const struct timespec *t0, const struct timespec *t)
{
	return (double)(t->tv_sec - t0->tv_sec) + (double)(t->tv_nsec - t0->tv_nsec) / 1e9;
}

/* Seconds of monotonic time since t0. */
static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return elapsed(t0, &t);
}

/* Everything the kernel has handed over so far; returns packets read, or a pcap error. */
static int
read_ready(struct bw_capture *c)
{
	int r = pcap_dispatch(c->pcap, -1, live_packet, (u_char *)(void *)c);

	if (c->nbatch > 0)
		flush_live(c);
	wake_worker(c);
	return r;
}

/*
 * Waits for packets or a word from main, at most ms. A failed descriptor is
 * read too: libpcap then says what happened.
 */
static void
wait_ready(struct bw_capture *c, int fd, int ms)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = c->ctl_fd, .events = POLLIN}};
	uint64_t v;

	if (poll(p, 2, ms) > 0 && (p[1].revents & POLLIN)) {
		if (read(c->ctl_fd, &v, sizeof(v)) < 0) {
			/* nothing to read: another reader took it, which cannot happen */
		}
	}
}

/*
 * After a stop signal: what the kernel has captured already was accepted and
 * is read too - until it has handed over nothing for longer than its block
 * timeout, or for at most DRAIN_MAX_S under a flood that never pauses.
 */
#define DRAIN_MAX_S 2.0

static void
drain_live(struct bw_capture *c, int fd)
{
	struct timespec t0;
	int quiet = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (quiet < 2 && since(&t0) < DRAIN_MAX_S) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, LIVE_TIMEOUT_MS + 50) <= 0 || !(p.revents & POLLIN)) {
			quiet++;
			continue;
		}
		if (read_ready(c) <= 0)
			quiet++;
		else
			quiet = 0;
	}
	kernel_stats(c);
}

static void
run_live(struct bw_capture *c)
{
	/*
	 * Non-blocking reads, and our own poll: libpcap's TPACKET_V3 wait has no
	 * timeout while the link is silent, and the thread must still see a stop,
	 * a new filter, and beat for the watchdog.
	 */
	int fd = pcap_get_selectable_fd(c->pcap);
	char *expr;

	struct timespec last = {0, 0}, now;

	for (;;) {
		wait_ready(c, fd, LIVE_POLL_MS);
		int r = read_ready(c);

		/*
		 * The kernel's counters (a getsockopt), not at every wake-up -
		 * under light load that is every packet - but every LIVE_STATS_S;
		 * the stop and the end of the thread read them anyway. Our own
		 * counters (a copy in memory) are published at every wake-up.
		 */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (elapsed(&last, &now) >= LIVE_STATS_S) {
			last = now;
			kernel_stats(c);
		}
		bw_stats_publish(c->o.pub, &c->st);
		atomic_fetch_add_explicit(&c->heartbeat, 1, memory_order_relaxed);
		if ((expr = atomic_exchange(&c->new_filter, NULL)) != NULL)
			new_filter(c, expr);
		if (atomic_load_explicit(&c->stop, memory_order_acquire)) {
			drain_live(c, fd);
			break;
		}
		if (r < 0) {
			/* the interface went away: systemd's Restart= brings the sensor back */
			bw_log_warnx("%s: capture failed: %s", c->o.interface, pcap_geterr(c->pcap));
			kernel_stats(c);
			c->status = BW_EXIT_UNAVAILABLE;
			break;
		}
	}
}

/* ---------------------------------------------------------------- files */

/* The first problem decides the exit status. */
static void
note_status(struct bw_capture *c, int s)
{
	if (c->status == BW_EXIT_OK)
		c->status = s;
}

static void
replay_file(struct bw_capture *c, const char *name)
{
	char err[BW_PCAPFILE_ERRMAX];
	const char *shown = strcmp(name, "-") == 0 ? "(standard input)" : name;
	uint32_t warned[16];
	size_t nwarned = 0;
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	int notfound, r;
	unsigned n = 0;

	if ((pf = bw_pcapfile_open(name, err, sizeof(err), &notfound)) == NULL) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(c, notfound ? BW_EXIT_NOINPUT : BW_EXIT_DATAERR);
		return;
	}
	while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) > 0) {
		if (pkt.ts_status == BW_TS_MISSING)
			bw_stats_inc(&c->st, BW_STAT_NO_TIMESTAMP);
		else if (pkt.ts_status == BW_TS_INVALID)
			bw_stats_inc(&c->st, BW_STAT_TS_INVALID);
		else if (!c->have_latest || pkt.ts_ns > c->latest) {
			c->latest = pkt.ts_ns;
			c->have_latest = 1;
		}
		if (pkt.link == BW_LINK_UNSUPPORTED) {
			uint32_t ifc = bw_pcapfile_interface(pf), lt = bw_pcapfile_linktype(pf);
			size_t i = 0;
			while (i < nwarned && warned[i] != ifc)
				i++;
			if (i == nwarned && nwarned < sizeof(warned) / sizeof(warned[0])) {
				warned[nwarned++] = ifc;
				bw_log_warnx("%s: interface %u: link type %u (%s) is not supported; "
				    "its packets are counted in link_unsupported", shown, ifc, lt,
				    bw_linktype_name(lt));
				note_status(c, BW_EXIT_DATAERR);
			}
		}
		take_packet(c, &pkt);
		if (++n % REPLAY_PUBLISH == 0) {
			bw_stats_publish(c->o.pub, &c->st);
			atomic_fetch_add_explicit(&c->heartbeat, 1, memory_order_relaxed);
			if (atomic_load_explicit(&c->stop, memory_order_acquire))
				break;
		}
	}
	if (r < 0) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(c, BW_EXIT_DATAERR);
	}
	bw_pcapfile_close(pf);
}

static void
run_files(struct bw_capture *c)
{
	for (size_t i = 0; i < c->o.nfiles; i++) {
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			break;
		replay_file(c, c->o.files[i]);
	}
	if (c->nbatch > 0)
		flush_replay(c);
	wake_worker(c);
}

/* ---------------------------------------------------------------- the thread */

static void *
capture_main(void *arg)
{
	struct bw_capture *c = arg;

	if (c->live)
		run_live(c);
	else
		run_files(c);
	bw_stats_publish(c->o.pub, &c->st);
	if (c->done != NULL)
		c->done(c->done_arg);
	return NULL;
}

struct bw_capture *
bw_capture_open(const struct bw_capture_opts *o)
{
	const struct bw_config *cfg = o->cfg;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bw_capture *c = calloc(1, sizeof(*c));
	char *expr = NULL;
	int r, dlt;

	if (c == NULL) {
		bw_log_warn("capture");
		return NULL;
	}
	c->o = *o;
	c->ctl_fd = -1;
	atomic_init(&c->stop, 0);
	atomic_init(&c->new_filter, NULL);
	atomic_init(&c->heartbeat, 0);
	c->dec = bw_decoder_new(&o->decoder, &c->st);
	c->conn = bw_conn_new(o->conn_max, o->conn_fold_ns, &c->st);
	if (c->dec == NULL || c->conn == NULL)
		goto fail;
	if (o->interface == NULL)
		return c;

	c->live = 1;
	errbuf[0] = '\0';
	if ((c->pcap = pcap_create(o->interface, errbuf)) == NULL) {
		bw_log_warnx("%s: %s", o->interface, errbuf);
		goto fail;
	}
	if (pcap_set_snaplen(c->pcap, (int)cfg->cap_snaplen) != 0 ||
	    pcap_set_promisc(c->pcap, cfg->cap_promiscuous) != 0 ||
	    pcap_set_buffer_size(c->pcap, (int)(cfg->cap_buffer_mib * 1024 * 1024)) != 0 ||
	    pcap_set_immediate_mode(c->pcap, cfg->cap_immediate) != 0 ||
	    pcap_set_timeout(c->pcap, LIVE_TIMEOUT_MS) != 0) {
		bw_log_warnx("%s: %s", o->interface, pcap_geterr(c->pcap));
		goto fail;
	}
	/* nanoseconds where the kernel gives them; microseconds otherwise */
	if (pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO) != 0)
		bw_log_info("%s: nanosecond time stamps not available", o->interface);
	if ((r = pcap_activate(c->pcap)) < 0) {
		bw_log_warnx("%s: cannot capture: %s%s", o->interface, pcap_statustostr(r),
		    r == PCAP_ERROR_PERM_DENIED ? " (it needs root or CAP_NET_RAW)" :
		    r == PCAP_ERROR_NO_SUCH_DEVICE ? " (no such interface)" : "");
		goto fail;
	}
	if (r > 0)
		bw_log_warnx("%s: %s: %s", o->interface, pcap_statustostr(r), pcap_geterr(c->pcap));
	if (pcap_get_tstamp_precision(c->pcap) != PCAP_TSTAMP_PRECISION_NANO) {
		bw_log_warnx("%s: the capture gives microseconds, not nanoseconds", o->interface);
		goto fail;      /* live_packet reads tv_usec as nanoseconds */
	}
	/* -i any: the v2 cooked header carries the interface index (InterfaceName) */
	if (pcap_datalink(c->pcap) == DLT_LINUX_SLL)
		(void)pcap_set_datalink(c->pcap, DLT_LINUX_SLL2);
	dlt = pcap_datalink(c->pcap);
	if ((c->link = bw_link_from_dlt(dlt)) == BW_LINK_UNSUPPORTED) {
		bw_log_warnx("%s: link type %s (%d) is not supported", o->interface,
		    pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", dlt);
		goto fail;
	}
	c->dlt = dlt;
	if ((expr = bw_filter_build(cfg, dlt)) == NULL) {
		bw_log_warn("capture filter");
		goto fail;
	}
	if (first_filter(c, expr) < 0)
		goto fail;
	expr = NULL;                /* c->filter */
	if (pcap_setnonblock(c->pcap, 1, errbuf) < 0 || pcap_get_selectable_fd(c->pcap) < 0) {
		bw_log_warnx("%s: cannot wait for packets: %s", o->interface, errbuf);
		goto fail;
	}
	if ((c->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		bw_log_warn("capture");
		goto fail;
	}
	size_t nports = 0;
	for (size_t i = 0; i < cfg->nprotocols; i++)
		nports += cfg->protocols[i].nports;
	snprintf(c->describe, sizeof(c->describe), "link type %s, filter: %zu ports",
	    pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", nports);
	return c;
fail:
	free(expr);
	bw_capture_close(c);
	return NULL;
}

int
bw_capture_start(struct bw_capture *c, void (*done)(void *), void *arg)
{
	int e;

	c->done = done;
	c->done_arg = arg;
	if ((e = pthread_create(&c->thread, NULL, capture_main, c)) != 0) {
		errno = e;
		bw_log_warn("capture thread");
		return -1;
	}
	c->started = 1;
	return 0;
}

static void
poke(struct bw_capture *c)
{
	uint64_t one = 1;

	if (c->ctl_fd >= 0 && write(c->ctl_fd, &one, sizeof(one)) < 0) {
		/* the counter is set already: the thread wakes */
	}
}

void
bw_capture_stop(struct bw_capture *c)
{
	/* release: pairs with the thread's acquire load after its wait */
	atomic_store_explicit(&c->stop, 1, memory_order_release);
	poke(c);
}

void
bw_capture_set_filter(struct bw_capture *c, char *expr)
{
	free(atomic_exchange(&c->new_filter, expr));
	poke(c);
}

int
bw_capture_dlt(const struct bw_capture *c)
{
	return c->dlt;
}

void
bw_capture_join(struct bw_capture *c)
{
	if (c->started && !c->joined) {
		pthread_join(c->thread, NULL);
		c->joined = 1;
	}
}

void
bw_capture_close(struct bw_capture *c)
{
	if (c == NULL)
		return;
	bw_capture_join(c);
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	if (c->ctl_fd >= 0)
		close(c->ctl_fd);
	free(atomic_exchange(&c->new_filter, NULL));
	free(c->filter);
	pcap_freecode(&c->first);
	bw_conn_free(c->conn);
	bw_decoder_free(c->dec);
	free(c);
}

const struct bw_stats *
bw_capture_stats(const struct bw_capture *c)
{
	return &c->st;
}

int
bw_capture_latest(const struct bw_capture *c, int64_t *ts_ns)
{
	*ts_ns = c->latest;
	return c->have_latest;
}

int
bw_capture_status(const struct bw_capture *c)
{
	return c->status;
}

uint64_t
bw_capture_heartbeat(const struct bw_capture *c)
{
	return atomic_load_explicit(&c->heartbeat, memory_order_relaxed);
}

const char *
bw_capture_describe(const struct bw_capture *c)
{
	return c->describe;
}
