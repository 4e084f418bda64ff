/*
 * attrib.c - process attribution: the /proc backend, the facts of a process,
 * and the choice between eBPF and /proc.   [main opens, worker looks up]
 *
 * Owns the NETLINK_SOCK_DIAG socket, a small cache of user names, the pid
 * list of the last /proc scan, and the eBPF backend when it runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib-int.h"
#include "brokerwatch/log.h"

#define USER_CACHE 32

struct user_name {
	uint32_t uid;
	int used;
	char name[BW_USER_MAX];
};

/*
 * Processes that made a watched connection before: a long-lived client (a
 * daemon, an implant that reconnects) is not among the newest tasks, and is
 * looked for among these before every process is.
 */
#define KNOWN_MAX 32

struct known {
	int pid;
	uint32_t uid;
};

struct bw_attrib {
	int64_t budget_ns;
	struct bw_stats *st;            /* own_st until bw_attrib_set_stats */
	struct bw_stats own_st;
	int diag_fd;
	uint32_t seq;
	struct bw_ebpf *ebpf;
	struct user_name users[USER_CACHE];
	int *pids;
	size_t npids, cappids;
	struct known known[KNOWN_MAX];  /* holders found before, most recent first */
	size_t nknown;
};

int64_t
bw_attrib_clock_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t
now_ns(void)
{
	return bw_attrib_clock_ns(CLOCK_MONOTONIC);
}

/* ---------------------------------------------------------------- facts of a process */

/* Reads path into buf (at most len - 1 bytes, NUL added). -1 if it is gone. */
static ssize_t
read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Reads /proc/<pid>/<name> as read_file does. */
static ssize_t
read_proc(int pid, const char *name, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return read_file(path, buf, len);
}

int
bw_proc_stat(int pid, int *ppid, uint64_t *start)
{
	char buf[1024], *p;
	unsigned long long st = 0;
	int pp = 0;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return -1;
	/* the command name may hold anything, ')' too: fields start after the last one */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	 * cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
	    "%*d %*d %llu", &pp, &st) != 2)
		return -1;
	*ppid = pp;
	*start = st;
	return 0;
}

int
bw_proc_exe(int pid, char *buf, size_t len, uint8_t *deleted)
{
	static const char del[] = " (deleted)";
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if ((n = readlink(path, buf, len - 1)) < 0)
		return -1;
	buf[n] = '\0';
	*deleted = 0;
	if ((size_t)n > sizeof(del) - 1 && strcmp(buf + n - (sizeof(del) - 1), del) == 0) {
		buf[n - (sizeof(del) - 1)] = '\0';
		*deleted = 1;
	}
	if (strncmp(buf, "/memfd:", 7) == 0)
		*deleted = 1;   /* a program that never had a file */
	return 0;
}

void
bw_attrib_args_line(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
}

int
bw_proc_cmdline(int pid, char *buf, size_t len)
{
	ssize_t n = read_proc(pid, "cmdline", buf, len);

	if (n < 0)
		return -1;
	bw_attrib_args_line(buf, (size_t)n);
	return 0;
}

void
bw_attrib_user(struct bw_attrib *a, uint32_t uid, char *buf, size_t len)
{
	struct user_name *u = &a->users[uid % USER_CACHE];
	struct passwd pw, *found = NULL;
	char tmp[1024];

	if (!u->used || u->uid != uid) {
		u->used = 1;
		u->uid = uid;
		if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &found) == 0 && found != NULL)
			snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
		else
			snprintf(u->name, sizeof(u->name), "%u", uid);  /* no name: the number */
	}
	snprintf(buf, len, "%s", u->name);
}

void
bw_proc_parent_exe(int ppid, uint64_t lo, uint64_t hi, char *buf, size_t len)
{
	uint64_t start;
	uint8_t deleted;
	int pp;

	if (ppid <= 0 || bw_proc_stat(ppid, &pp, &start) < 0 || start < lo || start > hi ||
	    bw_proc_exe(ppid, buf, len, &deleted) < 0)
		buf[0] = '\0';
}

int
bw_attrib_from_proc(struct bw_attrib *a, int pid, uint64_t want_start, struct bw_process *out,
    int what)
{
	struct bw_process p;
	uint64_t start, again;
	struct stat sb;
	char path[64];
	int ppid, pp2;

	if (bw_proc_stat(pid, &ppid, &start) < 0)
		return -1;
	if (want_start != 0 && start != want_start) {
		bw_stats_inc(a->st, BW_STAT_ATTRIB_PID_REUSED);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	if (what & BW_PROC_OWNER) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (stat(path, &sb) < 0)
			return -1;
		p.uid = (uint32_t)sb.st_uid;
		p.have_uid = 1;
	}
	if (bw_proc_exe(pid, p.image, sizeof(p.image), &p.exe_deleted) < 0)
		return -1;
	if (what & BW_PROC_CMDLINE)
		(void)bw_proc_cmdline(pid, p.cmdline, sizeof(p.cmdline));
	if (what & BW_PROC_PARENT)
		bw_proc_parent_exe(ppid, 0, start, p.parent_image, sizeof(p.parent_image));
	/* the same process from start to end: else its pid was reused meanwhile */
	if (bw_proc_stat(pid, &pp2, &again) < 0 || again != start) {
		bw_stats_inc(a->st, BW_STAT_ATTRIB_PID_REUSED);
		return -1;
	}
	p.pid = pid;
	p.ppid = ppid;
	if (p.have_uid)
		bw_attrib_user(a, p.uid, p.user, sizeof(p.user));
	*out = p;
	return 0;
}

/* ---------------------------------------------------------------- NETLINK_SOCK_DIAG */

/* The socket of a connection: its owner and inode. 0, or -1 when there is none. */
static int
diag_lookup(struct bw_attrib *a, const struct bw_record *r, uint32_t *uid, uint32_t *inode)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} q;
	union {
		struct nlmsghdr nlh;
		char buf[8192];
	} resp;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (a->diag_fd < 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.nlh.nlmsg_seq = ++a->seq;
	q.req.sdiag_family = r->family == 6 ? AF_INET6 : AF_INET;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = ~0u;
	q.req.id.idiag_sport = htons(r->sport);
	q.req.id.idiag_dport = htons(r->dport);
	memcpy(q.req.id.idiag_src, r->src, r->family == 6 ? 16 : 4);
	memcpy(q.req.id.idiag_dst, r->dst, r->family == 6 ? 16 : 4);
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(a->diag_fd, &q, sizeof(q), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	for (;;) {
		if ((n = recv(a->diag_fd, &resp, sizeof(resp), 0)) < 0)
			return -1;
		for (struct nlmsghdr *h = &resp.nlh; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != a->seq)
				continue;       /* an answer to an earlier question that timed out */
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
				return -1;
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				return -1;
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			*uid = m->idiag_uid;
			*inode = m->idiag_inode;
			return 0;
		}
	}
}

/* ---------------------------------------------------------------- the /proc search */

/*
 * The pids in /proc, lowest first: one pass of readdir, in which the kernel
 * lists processes by ascending id. -1 without memory or /proc.
 */
static int
list_pids(struct bw_attrib *a)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (d == NULL)
		return -1;
	a->npids = 0;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > INT32_MAX)
			continue;
		if (a->npids == a->cappids) {
			size_t cap = a->cappids ? a->cappids * 2 : 1024;
			int *p = reallocarray(a->pids, cap, sizeof(*p));
			if (p == NULL) {
				closedir(d);
				return -1;
			}
			a->pids = p;
			a->cappids = cap;
		}
		a->pids[a->npids++] = (int)pid;
	}
	closedir(d);
	return 0;
}

/* Does pid hold a descriptor of socket inode? */
static int
holds_inode(int pid, const char *want, size_t wantlen)
{
	char path[64], link[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		ssize_t n;
		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link));
		found = n == (ssize_t)wantlen && memcmp(link, want, wantlen) == 0;
	}
	closedir(d);
	return found;
}

/*
 * A socket is held by the process that opened it and by the children that
 * inherited it; the one that called connect() is the topmost holder of its
 * line of ancestors. ppid: pid's parent, as read with its facts.
 */
static int
topmost_holder(int pid, int ppid, const char *want, size_t wantlen)
{
	uint64_t start;

	for (int depth = 0; depth < 64; depth++) {
		if (ppid <= 1 || !holds_inode(ppid, want, wantlen))
			break;
		pid = ppid;
		if (bw_proc_stat(pid, &ppid, &start) < 0)
			break;
	}
	return pid;
}

/* The last process id the kernel gave out (/proc/loadavg's last field), or 0. */
static int
last_pid(void)
{
	char buf[128], *sp;
	long v;

	if (read_file("/proc/loadavg", buf, sizeof(buf)) < 0 || (sp = strrchr(buf, ' ')) == NULL)
		return 0;
	v = strtol(sp + 1, NULL, 10);
	return v > 0 && v <= INT32_MAX ? (int)v : 0;
}

/* The process of task id (a thread's id leads to its process), or 0. */
static int
tgid_of(int tid)
{
	char buf[512], *p;
	int tgid;

	if (read_proc(tid, "status", buf, sizeof(buf)) < 0 || (p = strstr(buf, "\nTgid:")) == NULL ||
	    sscanf(p + 6, "%d", &tgid) != 1 || tgid <= 0)
		return 0;
	return tgid;
}

/* Is pid (a process or a thread) owned by uid and holding the socket? 1, 0, or -1: gone. */
static int
candidate(int pid, uint32_t uid, const char *want, size_t wantlen)
{
	struct stat sb;
	char path[32];

	/* the socket's owner is the process's: skip everyone else cheaply */
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &sb) < 0)
		return -1;
	return sb.st_uid == uid && holds_inode(pid, want, wantlen);
}

/* pid held a watched socket: it goes first among the known processes. */
static void
remember(struct bw_attrib *a, int pid, uint32_t uid)
{
	size_t i;

	for (i = 0; i < a->nknown && a->known[i].pid != pid; i++)
		;
	if (i == a->nknown && a->nknown < KNOWN_MAX)
		a->nknown++;
	if (i == KNOWN_MAX)
		i = KNOWN_MAX - 1;      /* full: the least recent goes */
	memmove(&a->known[1], &a->known[0], i * sizeof(a->known[0]));
	a->known[0].pid = pid;
	a->known[0].uid = uid;
}

static void
forget(struct bw_attrib *a, size_t i)
{
	memmove(&a->known[i], &a->known[i + 1], (a->nknown - i - 1) * sizeof(a->known[0]));
	a->nknown--;
}

#define ALL_FACTS (BW_PROC_CMDLINE | BW_PROC_PARENT | BW_PROC_OWNER)
#define PROBE_NEWEST 64     /* task ids tried downwards from the last one given out */

/*
 * A process holding socket inode, owned by uid: 0 when not found, -1 when
 * out of time. A client that connects and exits within a millisecond is
 * almost always among the newest tasks: those are tried first, straight
 * from the last id the kernel gave out (no listing of /proc); then the
 * processes that made watched connections before (a long-lived client);
 * then every process, highest id first.
 */
static int
find_holder(struct bw_attrib *a, const struct bw_record *rec, uint32_t inode, const char *want,
    size_t wantlen, uint32_t uid, int64_t deadline)
{
	int last = last_pid(), low = last;
	uint32_t uid2, inode2;

	for (int pid = last, k = 0; pid > 0 && k < PROBE_NEWEST; pid--, k++, low = pid) {
		if ((k & 15) == 15 && now_ns() > deadline)
			return -1;
		if (candidate(pid, uid, want, wantlen) == 1) {
			int tgid = tgid_of(pid);
			return tgid > 0 ? tgid : pid;
		}
	}
	for (size_t i = 0; i < a->nknown;) {
		int pid = a->known[i].pid, r;
		if (a->known[i].uid != uid || (last > 0 && pid > low && pid <= last)) {
			i++;
			continue;
		}
		if ((r = candidate(pid, uid, want, wantlen)) == 1) {
			bw_stats_inc(a->st, BW_STAT_ATTRIB_KNOWN);
			return pid;
		}
		if (r < 0)
			forget(a, i);   /* exited */
		else
			i++;
	}
	for (size_t i = 0;; i++) {
		/*
		 * A socket that is closed has no holder to find: a short-lived
		 * client has usually exited by now. Asked again every 16
		 * processes: one question costs about as much as one process.
		 */
		if ((i & 15) == 0 && (diag_lookup(a, rec, &uid2, &inode2) < 0 || inode2 != inode))
			return 0;
		if (i == 0 && list_pids(a) < 0)
			return 0;
		if (i >= a->npids)
			break;
		int pid = a->pids[a->npids - 1 - i];    /* highest first */
		if ((i & 15) == 0 && now_ns() > deadline)
			return -1;
		if (last > 0 && pid > low && pid <= last)
			continue;       /* tried above */
		if (candidate(pid, uid, want, wantlen) == 1)
			return pid;
	}
	return 0;
}

/* The /proc backend: NETLINK_SOCK_DIAG, then the holder of the socket. out is zeroed. */
static void
lookup_proc(struct bw_attrib *a, const struct bw_record *rec, struct bw_process *out,
    int64_t deadline)
{
	uint32_t uid, inode;
	char want[48];
	size_t wantlen;
	int pid, top;

	if (diag_lookup(a, rec, &uid, &inode) < 0 || inode == 0) {
		/* gone, or in TIME_WAIT (no owner any more) */
		out->source = BW_ATTR_NONE;
		bw_stats_inc(a->st, BW_STAT_ATTRIB_NONE);
		return;
	}
	wantlen = (size_t)snprintf(want, sizeof(want), "socket:[%u]", inode);
	pid = find_holder(a, rec, inode, want, wantlen, uid, deadline);
	if (pid < 0)
		bw_stats_inc(a->st, BW_STAT_ATTRIB_TIMEOUT);
	/*
	 * its facts first, while it lives; then whether it inherited the
	 * socket: the topmost holder's facts replace them when it can be read
	 */
	if (pid > 0 && bw_attrib_from_proc(a, pid, 0, out, ALL_FACTS) == 0) {
		remember(a, pid, uid);
		if ((top = topmost_holder(pid, out->ppid, want, wantlen)) != pid)
			(void)bw_attrib_from_proc(a, top, 0, out, ALL_FACTS);
		out->source = BW_ATTR_PROC;
		bw_stats_inc(a->st, BW_STAT_ATTRIB_PROC);
		return;
	}
	/* the socket's owner, but no process: never a guess (out is still zero) */
	out->uid = uid;
	out->have_uid = 1;
	bw_attrib_user(a, uid, out->user, sizeof(out->user));
	out->source = BW_ATTR_UID_ONLY;
	bw_stats_inc(a->st, BW_STAT_ATTRIB_UID_ONLY);
}

/* ---------------------------------------------------------------- the interface */

struct bw_attrib *
bw_attrib_open(enum bw_attrib_mode mode, int64_t budget_ns)
{
	struct bw_attrib *a;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	char why[256];

	if (mode == BW_ATTRIB_OFF)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		bw_log_warn("attribution");
		return NULL;
	}
	a->budget_ns = budget_ns;
	a->st = &a->own_st;
	a->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (a->diag_fd < 0)
		bw_log_warn("NETLINK_SOCK_DIAG: process attribution through /proc is off");
	else
		setsockopt(a->diag_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	why[0] = '\0';
	if (mode != BW_ATTRIB_PROC && (a->ebpf = bw_ebpf_open(a, why, sizeof(why))) == NULL)
		bw_log_warnx("process attribution: eBPF is not available (%s); using /proc", why);
	bw_log_info("process attribution: %s", a->ebpf != NULL ?
	    "eBPF (connect and exec tracepoints), /proc when a report is missing" :
	    "NETLINK_SOCK_DIAG and /proc");
	return a;
}

void
bw_attrib_close(struct bw_attrib *a)
{
	if (a == NULL)
		return;
	bw_ebpf_close(a->ebpf);
	if (a->diag_fd >= 0)
		close(a->diag_fd);
	free(a->pids);
	free(a);
}

enum bw_attr_source
bw_attrib_backend(const struct bw_attrib *a)
{
	return a->ebpf != NULL ? BW_ATTR_EBPF : BW_ATTR_PROC;
}

int
bw_attrib_fd(const struct bw_attrib *a)
{
	return a->ebpf != NULL ? bw_ebpf_fd(a->ebpf) : -1;
}

void
bw_attrib_poll(struct bw_attrib *a)
{
	if (a->ebpf != NULL)
		bw_ebpf_poll(a->ebpf);
}

struct bw_stats *
bw_attrib_stats(struct bw_attrib *a)
{
	return a->st;
}

void
bw_attrib_set_stats(struct bw_attrib *a, struct bw_stats *st)
{
	a->st = st;
}

void
bw_attrib_watch_ports(struct bw_attrib *a, const struct bw_config *cfg)
{
	uint8_t *want;

	if (a->ebpf == NULL)
		return;
	if ((want = calloc(65536, 1)) == NULL) {
		bw_log_warn("eBPF: the watched ports are not updated");
		return;
	}
	for (size_t i = 0; i < cfg->nprotocols; i++)
		for (size_t j = 0; j < cfg->protocols[i].nports; j++)
			want[cfg->protocols[i].ports[j]] = 1;
	bw_ebpf_watch_ports(a->ebpf, want);
	free(want);
}

void
bw_attrib_lookup(struct bw_attrib *a, const struct bw_record *rec, struct bw_process *out)
{
	memset(out, 0, sizeof(*out));
	if (a->ebpf != NULL && bw_ebpf_lookup(a->ebpf, rec, out) == 0)
		return;
	/* the budget is the /proc search's: a kernel report needs none */
	lookup_proc(a, rec, out, now_ns() + a->budget_ns);
}
