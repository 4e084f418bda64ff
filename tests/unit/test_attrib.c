/*
 * test_attrib.c - process attribution against real processes and real
 * sockets on loopback: /proc parsing with hostile command names, deleted and
 * memfd programs, bounded command lines, pid reuse, the NETLINK_SOCK_DIAG +
 * /proc search, inherited sockets, and (as root, in a build with eBPF) the
 * kernel's reports of a client that exited before the lookup.
 *
 * test_attrib         the /proc cases (any user)
 * test_attrib ebpf    the eBPF case: exit 77 (skipped) when not root or
 *                     built without eBPF
 * test_attrib connect PORT   (internal) connect to 127.0.0.1:PORT, write the
 *                     local port and pid to fd 3, exit
 * test_attrib connect-fork PORT   (internal) the same from a forked child
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/attrib-int.h"
#include "brokerwatch/attrib.h"
#include "bw-config.h"
#include "unit.h"

/* ---------------------------------------------------------------- helpers */

static pid_t
spawn(const char *path, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

static pid_t
spawn_fd(int fd, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		fexecve(fd, argv, (char *[]){NULL});
		_exit(127);
	}
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Waits (up to 2 s) until pid runs a program other than ours. */
static void
wait_exec(pid_t pid)
{
	char self[PATH_MAX], other[PATH_MAX], path[64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 200; i++) {
		ssize_t m = readlink(path, other, sizeof(other) - 1);
		if (m > 0) {
			other[m] = '\0';
			if (strcmp(other, self) != 0)
				return;
		}
		usleep(10000);
	}
	ck_abort_msg("pid %d did not exec", (int)pid);
}

/* Copies what is left of in to out; closes neither. */
static void
copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
}

static void
copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	ck_assert(in >= 0 && out >= 0);
	copy_fd(in, out);
	close(in);
	close(out);
}

/* A listener on 127.0.0.1, port in *port; -1 on failure. (No check calls: eBPF runs outside check.) */
static int
listener(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Connects to 127.0.0.1:port; the local port in *sport. */
static int
connect_to(uint16_t port, uint16_t *sport)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	    .sin_port = htons(port)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*sport = ntohs(sa.sin_port);
	return fd;
}

static void
loopback_record(struct bw_record *r, uint16_t sport, uint16_t dport)
{
	memset(r, 0, sizeof(*r));
	r->family = 4;
	r->src[0] = r->dst[0] = 127;
	r->src[3] = r->dst[3] = 1;
	r->sport = sport;
	r->dport = dport;
}

/* Looks up the loopback connection sport -> dport (no check calls: eBPF runs outside check). */
static void
lookup_loopback(struct bw_attrib *a, uint16_t sport, uint16_t dport, struct bw_process *p)
{
	struct bw_record r;

	loopback_record(&r, sport, dport);
	bw_attrib_lookup(a, &r, p);
}

/* Opens the /proc backend with st zeroed; NULL on failure (the caller asserts). */
static struct bw_attrib *
open_proc(int64_t budget_ns, struct bw_stats *st)
{
	struct bw_attrib *a = bw_attrib_open(BW_ATTRIB_PROC, budget_ns);

	memset(st, 0, sizeof(*st));
	if (a != NULL)
		bw_attrib_set_stats(a, st);
	return a;
}

/* buf: PATH_MAX bytes. */
static void
self_exe(char *buf)
{
	ck_assert_ptr_nonnull(realpath("/proc/self/exe", buf));
}

/* ---------------------------------------------------------------- /proc parsing */

START_TEST(stat_self)
{
	int ppid;
	uint64_t start, again;

	ck_assert_int_eq(bw_proc_stat(getpid(), &ppid, &start), 0);
	ck_assert_int_eq(ppid, getppid());
	ck_assert_uint_gt(start, 0);
	ck_assert_int_eq(bw_proc_stat(getpid(), &ppid, &again), 0);
	ck_assert_uint_eq(start, again);
	ck_assert_int_eq(bw_proc_stat(INT32_MAX, &ppid, &start), -1);   /* no such process */
}
END_TEST

/* A command name may hold ")", spaces and digits: the fields are after the last ")" */
START_TEST(stat_hostile_comm)
{
	static const char *names[] = {") 1 2 (", "a) S 1 1", "))))", "x\ny", ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int p[2], ppid;
		uint64_t start;
		char c;
		pid_t pid;

		ck_assert_int_eq(pipe(p), 0);
		if ((pid = fork()) == 0) {
			prctl(PR_SET_NAME, names[i], 0, 0, 0);
			(void)write(p[1], "x", 1);
			pause();
			_exit(0);
		}
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		ck_assert_int_eq(bw_proc_stat(pid, &ppid, &start), 0);
		ck_assert_int_eq(ppid, getpid());
		ck_assert_uint_gt(start, 0);
		reap(pid);
		close(p[0]);
		close(p[1]);
	}
}
END_TEST

START_TEST(exe_deleted)
{
	char path[PATH_MAX], got[BW_EXE_MAX];
	uint8_t deleted = 9;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/bw-attrib-ghost-%d", unit_tmpdir(), (int)getpid());
	copy_file("/bin/sleep", path);
	pid = spawn(path, (char *[]){path, "30", NULL});
	wait_exec(pid);
	ck_assert_int_eq(bw_proc_exe(pid, got, sizeof(got), &deleted), 0);
	ck_assert_uint_eq(deleted, 0);
	ck_assert_ptr_nonnull(strstr(got, "bw-attrib-ghost-"));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(bw_proc_exe(pid, got, sizeof(got), &deleted), 0);
	ck_assert_uint_eq(deleted, 1);
	/* " (deleted)" is taken off: the path is the program's */
	ck_assert_ptr_null(strstr(got, "(deleted)"));
	ck_assert_ptr_nonnull(strstr(got, "bw-attrib-ghost-"));
	reap(pid);
}
END_TEST

START_TEST(exe_memfd)
{
	char got[BW_EXE_MAX];
	uint8_t deleted = 0;
	int fd = memfd_create("bw-test", MFD_CLOEXEC), in = open("/bin/sleep", O_RDONLY);
	pid_t pid;

	ck_assert(fd >= 0 && in >= 0);
	copy_fd(in, fd);
	close(in);
	pid = spawn_fd(fd, (char *[]){"sleep", "30", NULL});
	wait_exec(pid);
	ck_assert_int_eq(bw_proc_exe(pid, got, sizeof(got), &deleted), 0);
	ck_assert_str_eq(got, "/memfd:bw-test");
	ck_assert_uint_eq(deleted, 1);
	reap(pid);
	close(fd);
}
END_TEST

START_TEST(cmdline_bounded)
{
	char got[BW_CMDLINE_MAX], small[8];
	pid_t pid = spawn("/bin/sleep", (char *[]){"/bin/sleep", "20", "10", NULL});

	wait_exec(pid);
	ck_assert_int_ge(bw_proc_cmdline(pid, got, sizeof(got)), 0);
	ck_assert_str_eq(got, "/bin/sleep 20 10");
	/* cut to the buffer, always terminated */
	ck_assert_int_ge(bw_proc_cmdline(pid, small, sizeof(small)), 0);
	ck_assert_uint_le(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(strncmp(small, "/bin/sleep", strlen(small)), 0);
	reap(pid);
}
END_TEST

START_TEST(pid_reuse_refused)
{
	struct bw_stats st;
	struct bw_attrib *a;
	struct bw_process p;
	uint64_t start;
	int ppid;

	ck_assert_ptr_nonnull(a = open_proc(5000000, &st));
	ck_assert_int_eq(bw_proc_stat(getpid(), &ppid, &start), 0);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(bw_attrib_from_proc(a, getpid(), start, &p, BW_PROC_CMDLINE | BW_PROC_PARENT), 0);
	ck_assert_int_eq(p.pid, getpid());
	ck_assert_int_eq(p.ppid, getppid());
	/* another start time: another process that got the same pid */
	ck_assert_int_eq(bw_attrib_from_proc(a, getpid(), start + 1, &p, BW_PROC_CMDLINE | BW_PROC_PARENT), -1);
	ck_assert_uint_eq(st.v[BW_STAT_ATTRIB_PID_REUSED], 1);
	bw_attrib_close(a);
}
END_TEST

/* ---------------------------------------------------------------- the search */

/* A child that connects and waits: found, with its facts; after it is gone, none. */
START_TEST(lookup_proc_connected_child)
{
	struct bw_stats st;
	struct bw_attrib *a;
	struct bw_process p;
	char self[PATH_MAX];
	uint16_t port, sport;
	int lfd = listener(&port), pp[2], wp[2];
	pid_t pid;

	ck_assert_int_ge(lfd, 0);
	self_exe(self);
	ck_assert_int_eq(pipe(pp), 0);
	ck_assert_int_eq(pipe(wp), 0);
	if ((pid = fork()) == 0) {
		uint16_t sp = 0;
		char c;
		int fd = connect_to(port, &sp);
		(void)write(pp[1], &sp, sizeof(sp));
		(void)read(wp[0], &c, 1);          /* until told */
		close(fd);
		_exit(0);
	}
	ck_assert_int_eq(read(pp[0], &sport, sizeof(sport)), sizeof(sport));
	ck_assert_uint_gt(sport, 0);
	ck_assert_ptr_nonnull(a = open_proc(50000000, &st));
	lookup_loopback(a, sport, port, &p);
	ck_assert_uint_eq(p.source, BW_ATTR_PROC);
	ck_assert_int_eq(p.pid, pid);
	ck_assert_int_eq(p.ppid, getpid());
	ck_assert_uint_eq(p.uid, getuid());
	ck_assert_str_eq(p.image, self);
	ck_assert_str_eq(p.parent_image, self);
	ck_assert_uint_eq(p.exe_deleted, 0);
	ck_assert_uint_eq(st.v[BW_STAT_ATTRIB_PROC], 1);

	/* the client closes and exits: no holder, never a guess */
	ck_assert_int_eq(write(wp[1], "x", 1), 1);
	waitpid(pid, NULL, 0);
	lookup_loopback(a, sport, port, &p);
	ck_assert_uint_ne(p.source, BW_ATTR_PROC);
	ck_assert_int_eq(p.pid, 0);
	ck_assert_str_eq(p.image, "");

	/* a 4-tuple nobody has */
	lookup_loopback(a, 1, port, &p);
	ck_assert_uint_eq(p.source, BW_ATTR_NONE);
	bw_attrib_close(a);
	close(lfd);
}
END_TEST

/* A socket inherited by a grandchild: the topmost holder (the child) made it. */
START_TEST(lookup_proc_inherited)
{
	struct bw_stats st;
	struct bw_attrib *a;
	struct bw_process p;
	uint16_t port, sport;
	int lfd = listener(&port), pp[2], wp[2];
	pid_t pid, grandchild = 0;

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(pipe(pp), 0);
	ck_assert_int_eq(pipe(wp), 0);
	if ((pid = fork()) == 0) {
		uint16_t sp = 0;
		char c;
		int fd = connect_to(port, &sp);
		pid_t g = fork();
		if (g == 0) {
			(void)read(wp[0], &c, 1);
			_exit(0);
		}
		(void)write(pp[1], &sp, sizeof(sp));
		(void)write(pp[1], &g, sizeof(g));
		(void)read(wp[0], &c, 1);
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		close(fd);
		_exit(0);
	}
	ck_assert_int_eq(read(pp[0], &sport, sizeof(sport)), sizeof(sport));
	ck_assert_int_eq(read(pp[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
	ck_assert_int_gt(grandchild, 0);
	ck_assert_ptr_nonnull(a = open_proc(50000000, &st));
	lookup_loopback(a, sport, port, &p);
	ck_assert_uint_eq(p.source, BW_ATTR_PROC);
	ck_assert_int_eq(p.pid, pid);           /* not the newer grandchild */
	bw_attrib_close(a);
	ck_assert_int_eq(write(wp[1], "xx", 2), 2);
	waitpid(pid, NULL, 0);
	close(lfd);
}
END_TEST


/*
 * A long-lived client behind many newer processes: the first connection is
 * found by the full search, the next one among the known processes.
 */
START_TEST(lookup_proc_known_long_lived)
{
	struct bw_stats st;
	struct bw_attrib *a;
	struct bw_process p;
	uint16_t port, sport;
	int lfd = listener(&port), cmd[2], ans[2];
	pid_t pid, newer[80];

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(ans), 0);
	if ((pid = fork()) == 0) {
		char c;
		while (read(cmd[0], &c, 1) == 1 && c == 'c') {
			uint16_t sp = 0;
			(void)connect_to(port, &sp);    /* kept open until exit */
			(void)write(ans[1], &sp, sizeof(sp));
		}
		_exit(0);
	}
	for (size_t i = 0; i < 80; i++)
		newer[i] = spawn("/bin/sleep", (char *[]){"/bin/sleep", "30", NULL});
	ck_assert_ptr_nonnull(a = open_proc(200000000, &st));
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(write(cmd[1], "c", 1), 1);
		ck_assert_int_eq(read(ans[0], &sport, sizeof(sport)), sizeof(sport));
		lookup_loopback(a, sport, port, &p);
		ck_assert_uint_eq(p.source, BW_ATTR_PROC);
		ck_assert_int_eq(p.pid, pid);
		/* found by the full search first, then among the known */
		ck_assert_uint_eq(st.v[BW_STAT_ATTRIB_KNOWN], (uint64_t)round);
	}
	ck_assert_uint_eq(st.v[BW_STAT_ATTRIB_TIMEOUT], 0);
	bw_attrib_close(a);
	ck_assert_int_eq(write(cmd[1], "q", 1), 1);
	waitpid(pid, NULL, 0);
	for (size_t i = 0; i < 80; i++)
		reap(newer[i]);
	close(lfd);
}
END_TEST

/* ---------------------------------------------------------------- eBPF */

/* A client exec'd after the program loaded connects and exits before the lookup. */
static int
ebpf_case(void)
{
	struct bw_stats st;
	struct bw_attrib *a;
	struct bw_process p;
	char self[PATH_MAX], portarg[16];
	uint16_t port, sport = 0;
	int lfd, pp[2], fails = 0;
	pid_t pid;

	if (!BW_HAVE_EBPF || geteuid() != 0) {
		printf("SKIP: %s\n", BW_HAVE_EBPF ? "needs root" : "built without eBPF");
		return 77;
	}
	memset(&st, 0, sizeof(st));
	a = bw_attrib_open(BW_ATTRIB_EBPF, 5000000);
	if (a != NULL)
		bw_attrib_set_stats(a, &st);
	if (a == NULL || bw_attrib_backend(a) != BW_ATTR_EBPF) {
		printf("FAIL: the eBPF program did not load as root in an eBPF build\n");
		return 1;
	}
	if (realpath("/proc/self/exe", self) == NULL) {
		printf("FAIL: %s\n", strerror(errno));
		return 1;
	}
	if ((lfd = listener(&port)) < 0) {
		printf("FAIL: listener: %s\n", strerror(errno));
		return 1;
	}
	snprintf(portarg, sizeof(portarg), "%u", port);
#define EXPECT(c, ...) do { if (!(c)) { printf("FAIL: " __VA_ARGS__); printf("\n"); fails++; } \
	else printf("PASS: %s\n", #c); } while (0)
	/*
	 * round 0: the port is not watched, the kernel reports nothing; round 1:
	 * watched, a client exec'd after the program loaded; round 2: the client
	 * is a child that such a program forked without exec.
	 */
	for (int round = 0; round < 3; round++) {
		static struct bw_config cfg;
		uint16_t watched = round ? port : (uint16_t)(port ^ 1);
		pid_t exec_pid, parent;

		cfg.nprotocols = 1;
		cfg.protocols[0].ports = &watched;
		cfg.protocols[0].nports = 1;
		bw_attrib_watch_ports(a, &cfg);
		/*
		 * A pipe per round, its write end only in the client: a client that
		 * dies without writing is an end of file here, not a hang.
		 */
		if (pipe(pp) < 0) {
			printf("FAIL: %s\n", strerror(errno));
			return 1;
		}
		if ((exec_pid = fork()) == 0) {
			dup2(pp[1], 3);
			execv(self, (char *[]){self, round == 2 ? "connect-fork" : "connect", portarg,
			    NULL});
			_exit(127);
		}
		close(pp[1]);
		if (read(pp[0], &sport, sizeof(sport)) != sizeof(sport) || sport == 0 ||
		    read(pp[0], &pid, sizeof(pid)) != sizeof(pid)) {
			printf("FAIL: the client did not connect\n");
			return 1;
		}
		close(pp[0]);
		waitpid(exec_pid, NULL, 0);             /* all gone before the lookup */
		parent = round == 2 ? exec_pid : getpid();
		lookup_loopback(a, sport, port, &p);
		if (round == 0) {
			EXPECT(st.v[BW_STAT_ATTRIB_EVENTS] == 0 && p.source != BW_ATTR_EBPF,
			    "a port not watched: %llu reports, source %s",
			    (unsigned long long)st.v[BW_STAT_ATTRIB_EVENTS], bw_attr_source_name(p.source));
			continue;
		}
		EXPECT(st.v[BW_STAT_ATTRIB_EVENTS] == (uint64_t)round, "reports %llu",
		    (unsigned long long)st.v[BW_STAT_ATTRIB_EVENTS]);
		EXPECT(p.source == BW_ATTR_EBPF, "source %s", bw_attr_source_name(p.source));
		EXPECT(p.pid == pid, "pid %d, want %d", p.pid, (int)pid);
		EXPECT(p.ppid == parent, "ppid %d, want %d", p.ppid, (int)parent);
		EXPECT(p.uid == 0 && strcmp(p.user, "root") == 0, "user %u %s", p.uid, p.user);
		EXPECT(strcmp(p.image, self) == 0, "image %s, want %s", p.image, self);
		EXPECT(strstr(p.cmdline, round == 2 ? " connect-fork " : " connect ") != NULL &&
		    strstr(p.cmdline, portarg) != NULL, "cmdline %s", p.cmdline);
		EXPECT(strcmp(p.parent_image, self) == 0, "parent image %s", p.parent_image);
	}
	bw_attrib_close(a);
	close(lfd);
	return fails ? 1 : 0;
}

/* The client of the eBPF case: connects, writes its local port and pid to fd 3, exits. */
static int
connect_mode(const char *port)
{
	uint16_t sport = 0;
	int fd = connect_to((uint16_t)atoi(port), &sport);
	pid_t me = getpid();

	if (fd < 0)
		return 1;
	return write(3, &sport, sizeof(sport)) == sizeof(sport) &&
	    write(3, &me, sizeof(me)) == sizeof(me) ? 0 : 1;
}

/* The same from a child forked without exec; waits for it. */
static int
connect_fork_mode(const char *port)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(connect_mode(port));
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static Suite *
attrib_suite(void)
{
	Suite *s = suite_create("attrib");
	TCase *tc = tcase_create("proc");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, stat_self);
	tcase_add_test(tc, stat_hostile_comm);
	tcase_add_test(tc, exe_deleted);
	tcase_add_test(tc, exe_memfd);
	tcase_add_test(tc, cmdline_bounded);
	tcase_add_test(tc, pid_reuse_refused);
	tcase_add_test(tc, lookup_proc_connected_child);
	tcase_add_test(tc, lookup_proc_inherited);
	tcase_add_test(tc, lookup_proc_known_long_lived);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "connect") == 0)
		return connect_mode(argv[2]);
	if (argc == 3 && strcmp(argv[1], "connect-fork") == 0)
		return connect_fork_mode(argv[2]);
	if (argc == 2 && strcmp(argv[1], "ebpf") == 0)
		return ebpf_case();
	return unit_run(attrib_suite());
}
