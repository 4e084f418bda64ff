/*
 * test_replay.c - replay.h: capture files in, record lines and an exit status out.
 *
 * Small captures are written to temporary files (capfile.h, pkt.h). What is
 * asserted is the contract: several files are one stream (folding carries
 * over), a bad file is reported with its name and the packet number and the
 * files after it are still read, every record before damage is written, and
 * the exit status is that of the first problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/replay.h"
#include "capfile.h"
#include "pkt.h"
#include "unit.h"

#define NS 1000000000LL
#define T0 1796412480LL /* 2026-12-04T19:28:00Z */

/* An Ethernet IPv4 SYN from A4_HOST:sport to A4_BROKER:dport with ISN seq. */
static void
syn_frame(struct pb *b, uint16_t sport, uint16_t dport, uint32_t seq)
{
	pb_init(b);
	pb_eth(b, 0x0800);
	pb_syn4(b, A4_HOST, A4_BROKER, sport, dport, seq, TH_SYN, 0);
}

/* Appends a classic record of that SYN at second sec (+ usec). */
static void
rec_syn(struct fb *f, uint32_t sec, uint32_t usec, uint16_t sport, uint32_t seq)
{
	struct pb b;

	syn_frame(&b, sport, 1883, seq);
	pcap_rec(f, sec, usec, b.d, (uint32_t)b.n, (uint32_t)b.n);
}

/* The record line the spec requires for rec_syn(sec, usec, sport, ...). */
static void
line_of(char *buf, size_t len, uint32_t sec, uint32_t usec, uint16_t sport, const char *extra)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len,
	    "{\"@timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\",\"event_simpleName\":"
	    "\"NetworkConnectIP4\",\"ComputerName\":\"10.1.2.3\",\"LocalAddressIP4\":\"10.1.2.3\","
	    "\"LocalPort\":%u,\"RemoteAddressIP4\":\"203.0.113.7\",\"RemotePort\":1883,"
	    "\"Protocol\":6%s}\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec,
	    sport, extra);
}

/* Temporary files, removed by cleanup(). */
static char paths[8][256];
static int npaths;

static const char *
tmpcap(const struct fb *f)
{
	char *path = paths[npaths++];
	int fd;

	ck_assert_int_le(npaths, 8);
	snprintf(path, 256, "%s/bw-replay-XXXXXX", unit_tmpdir());
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, f->d, f->n), (ssize_t)f->n);
	close(fd);
	return path;
}

static void
cleanup(void)
{
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
	npaths = 0;
}

/* The outcome of one run. */
struct run {
	int status;
	struct bw_stats st;
	char *records; /* all lines */
	char *log;     /* what went to stderr */
};

static char *
slurp_fd(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *s;

	ck_assert_int_ge(n, 0);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pread(fd, s, (size_t)n, 0), (ssize_t)n);
	s[n] = '\0';
	return s;
}

/* Runs the replay over files, records to a temporary file, stderr captured. */
static struct run
run(const char *const *files, size_t n)
{
	struct bw_replay_opts o;
	struct run r;
	FILE *rec = tmpfile();
	FILE *err = tmpfile();
	int saved;

	ck_assert_ptr_nonnull(rec);
	ck_assert_ptr_nonnull(err);
	memset(&r, 0, sizeof(r));
	bw_replay_opts_default(&o);
	o.files = files;
	o.nfiles = n;
	o.records = rec;
	o.records_name = "records";
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	dup2(fileno(err), 2);
	r.status = bw_replay_run(&o, &r.st);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fflush(rec);
	r.records = slurp_fd(fileno(rec));
	r.log = slurp_fd(fileno(err));
	fclose(rec);
	fclose(err);
	return r;
}

static void
run_free(struct run *r)
{
	free(r->records);
	free(r->log);
}

/* Several files are one stream: a retransmission in the next file folds. */
START_TEST(files_are_one_stream)
{
	struct fb a = {0}, b = {0};
	const char *files[2];
	struct run r;
	char want[1024], l1[512], l2[512];

	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0, 123456, 40000, 1000);
	pcap_hdr(&b, 1, 1, 1, 65535);
	rec_syn(&b, T0 + 3, 0, 40000, 1000);      /* retransmission */
	rec_syn(&b, T0 + 4, 999999000, 40001, 2000); /* nanosecond file: truncated */
	files[0] = tmpcap(&a);
	files[1] = tmpcap(&b);
	r = run(files, 2);
	ck_assert_int_eq(r.status, BW_EXIT_OK);
	line_of(l1, sizeof(l1), T0, 123456, 40000, "");
	line_of(l2, sizeof(l2), T0 + 4, 999999, 40001, "");
	snprintf(want, sizeof(want), "%s%s", l1, l2);
	ck_assert_str_eq(r.records, want);
	ck_assert_uint_eq(r.st.v[BW_STAT_SYN], 3);
	ck_assert_uint_eq(r.st.v[BW_STAT_SYN_RETRANSMIT], 1);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 2);
	ck_assert_uint_eq(r.st.v[BW_STAT_PACKETS], 3);
	ck_assert_str_eq(r.log, "");
	run_free(&r);
	cleanup();
	fb_free(&a);
	fb_free(&b);
}
END_TEST

/* Beyond the window, across files, the same attempt is a new record. */
START_TEST(window_across_files)
{
	struct fb a = {0}, b = {0};
	const char *files[2];
	struct run r;

	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0, 0, 40000, 1000);
	pcap_hdr(&b, 0, 0, 1, 65535);
	rec_syn(&b, T0 + 131, 0, 40000, 1000);
	files[0] = tmpcap(&a);
	files[1] = tmpcap(&b);
	r = run(files, 2);
	ck_assert_int_eq(r.status, BW_EXIT_OK);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 2);
	run_free(&r);
	cleanup();
	fb_free(&a);
	fb_free(&b);
}
END_TEST

/* Records before the damage are written; the next file is still read; status 65. */
START_TEST(damaged_file_then_good)
{
	struct fb a = {0}, b = {0};
	const char *files[2];
	struct run r;
	char want[2048], l[3][512];

	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0, 1, 1001, 1);
	rec_syn(&a, T0, 2, 1002, 2);
	rec_syn(&a, T0, 3, 1003, 3);
	a.n -= 5; /* the third record is cut */
	pcap_hdr(&b, 0, 0, 1, 65535);
	rec_syn(&b, T0, 4, 1004, 4);
	files[0] = tmpcap(&a);
	files[1] = tmpcap(&b);
	r = run(files, 2);
	ck_assert_int_eq(r.status, BW_EXIT_DATAERR);
	line_of(l[0], sizeof(l[0]), T0, 1, 1001, "");
	line_of(l[1], sizeof(l[1]), T0, 2, 1002, "");
	line_of(l[2], sizeof(l[2]), T0, 4, 1004, "");
	snprintf(want, sizeof(want), "%s%s%s", l[0], l[1], l[2]);
	ck_assert_str_eq(r.records, want);
	ck_assert_msg(strstr(r.log, files[0]) != NULL, "log names no file: %s", r.log);
	ck_assert_msg(strstr(r.log, "packet 3") != NULL, "log names no packet 3: %s", r.log);
	ck_assert_msg(strstr(r.log, files[1]) == NULL, "the good file is reported: %s", r.log);
	run_free(&r);
	cleanup();
	fb_free(&a);
	fb_free(&b);
}
END_TEST

/* The status is the first problem's: missing (66) before damaged (65). */
START_TEST(first_problem_decides)
{
	struct fb bad = {0}, good = {0};
	const char *files[4];
	struct run r;

	for (int i = 0; i < 64; i++)
		fb_u8(&bad, (uint8_t)(i * 7 + 1));
	pcap_hdr(&good, 0, 0, 1, 65535);
	rec_syn(&good, T0, 0, 2001, 1);
	files[0] = "/nonexistent/bw-unit/missing.pcap";
	files[1] = tmpcap(&bad);
	files[2] = tmpcap(&good);
	r = run(files, 3);
	ck_assert_int_eq(r.status, BW_EXIT_NOINPUT);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 1);
	ck_assert_msg(strstr(r.log, files[0]) != NULL, "%s", r.log);
	ck_assert_msg(strstr(r.log, files[1]) != NULL, "%s", r.log);
	run_free(&r);

	files[0] = paths[0];
	files[1] = "/nonexistent/bw-unit/missing.pcap";
	files[2] = paths[1];
	r = run(files, 3);
	ck_assert_int_eq(r.status, BW_EXIT_DATAERR);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 1);
	ck_assert_msg(strstr(r.log, "not a capture") != NULL, "%s", r.log);
	run_free(&r);
	cleanup();
	fb_free(&bad);
	fb_free(&good);
}
END_TEST

/* An unsupported link type is a data error; other interfaces still give records. */
START_TEST(unsupported_link_type)
{
	struct fb a = {0}, ng = {0};
	const char *files[2];
	struct run r;
	struct pb b;

	pcap_hdr(&a, 0, 0, 127, 65535);
	syn_frame(&b, 3001, 1883, 1);
	pcap_rec(&a, T0, 0, b.d, (uint32_t)b.n, (uint32_t)b.n);
	files[0] = tmpcap(&a);
	r = run(files, 1);
	ck_assert_int_eq(r.status, BW_EXIT_DATAERR);
	ck_assert_msg(strstr(r.log, "127") != NULL && strstr(r.log, "IEEE802_11_RADIO") != NULL,
	    "%s", r.log);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 0);
	run_free(&r);

	ng_shb(&ng, 0);
	ng_idb(&ng, 127, 0, "wlan0", -1, 0, 0);
	ng_idb(&ng, 1, 0, "eth0", -1, 0, 0);
	ng_epb(&ng, 0, (uint64_t)T0 * 1000000, b.d, (uint32_t)b.n, (uint32_t)b.n);
	ng_epb(&ng, 1, (uint64_t)T0 * 1000000 + 5, b.d, (uint32_t)b.n, (uint32_t)b.n);
	ng_epb(&ng, 0, (uint64_t)T0 * 1000000 + 6, b.d, (uint32_t)b.n, (uint32_t)b.n);
	files[0] = tmpcap(&ng);
	r = run(files, 1);
	ck_assert_int_eq(r.status, BW_EXIT_DATAERR);
	ck_assert_uint_eq(r.st.v[BW_STAT_LINK_UNSUPPORTED], 2);
	ck_assert_uint_eq(r.st.v[BW_STAT_RECORDS], 1);
	{
		char want[512];

		line_of(want, sizeof(want), T0, 5, 3001, ",\"InterfaceName\":\"eth0\"");
		ck_assert_str_eq(r.records, want);
	}
	run_free(&r);
	cleanup();
	fb_free(&a);
	fb_free(&ng);
}
END_TEST

/* Records come in packet order, whatever their times say. */
START_TEST(packet_order)
{
	struct fb a = {0};
	const char *files[1];
	struct run r;
	char want[2048], l[3][512];

	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0 + 10, 0, 4001, 1);
	rec_syn(&a, T0, 0, 4002, 2);
	rec_syn(&a, T0 + 5, 0, 4003, 3);
	files[0] = tmpcap(&a);
	r = run(files, 1);
	ck_assert_int_eq(r.status, BW_EXIT_OK);
	line_of(l[0], sizeof(l[0]), T0 + 10, 0, 4001, "");
	line_of(l[1], sizeof(l[1]), T0, 0, 4002, "");
	line_of(l[2], sizeof(l[2]), T0 + 5, 0, 4003, "");
	snprintf(want, sizeof(want), "%s%s%s", l[0], l[1], l[2]);
	ck_assert_str_eq(r.records, want);
	run_free(&r);
	cleanup();
	fb_free(&a);
}
END_TEST

/* A records file that cannot be written: status 74. */
START_TEST(write_error)
{
	struct fb a = {0};
	const char *files[1];
	struct bw_replay_opts o;
	struct bw_stats st;
	FILE *full = fopen("/dev/full", "w");
	int status, saved, devnull;

	if (full == NULL) {
		ck_assert_msg(errno == ENOENT, "/dev/full: %s", strerror(errno));
		return; /* no /dev/full here */
	}
	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0, 0, 5001, 1);
	files[0] = tmpcap(&a);
	bw_replay_opts_default(&o);
	o.files = files;
	o.nfiles = 1;
	o.records = full;
	o.records_name = "/dev/full";
	memset(&st, 0, sizeof(st));
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	status = bw_replay_run(&o, &st);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	ck_assert_int_eq(status, BW_EXIT_IOERR);
	fclose(full);
	cleanup();
	fb_free(&a);
}
END_TEST

/* No records output: the pipeline still runs and counts. */
START_TEST(no_records_output)
{
	struct fb a = {0};
	const char *files[1];
	struct bw_replay_opts o;
	struct bw_stats st;

	pcap_hdr(&a, 0, 0, 1, 65535);
	rec_syn(&a, T0, 0, 6001, 1);
	rec_syn(&a, T0 + 1, 0, 6001, 1);
	files[0] = tmpcap(&a);
	bw_replay_opts_default(&o);
	ck_assert_uint_gt(o.conn_max, 0);
	ck_assert_int_eq(o.conn_fold_ns, BW_CONN_FOLD_NS);
	ck_assert_uint_eq(o.decoder.vxlan_port, 4789);
	o.files = files;
	o.nfiles = 1;
	o.records = NULL;
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(bw_replay_run(&o, &st), BW_EXIT_OK);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 1);
	cleanup();
	fb_free(&a);
}
END_TEST

/* Packets without a time (simple packet blocks) are counted, and still decoded. */
START_TEST(timestamp_counters)
{
	struct fb ng = {0};
	const char *files[1];
	struct run r;
	struct pb b;

	syn_frame(&b, 7001, 1883, 1);
	ng_shb(&ng, 0);
	ng_idb(&ng, 1, 0, NULL, 0, 0, 0); /* seconds */
	ng_epb(&ng, 0, (uint64_t)T0, b.d, (uint32_t)b.n, (uint32_t)b.n);
	syn_frame(&b, 7002, 1883, 2);
	ng_spb(&ng, b.d, (uint32_t)b.n, (uint32_t)b.n);
	syn_frame(&b, 7003, 1883, 3);
	ng_epb(&ng, 0, 1ULL << 40, b.d, (uint32_t)b.n, (uint32_t)b.n);
	files[0] = tmpcap(&ng);
	r = run(files, 1);
	ck_assert_uint_eq(r.st.v[BW_STAT_NO_TIMESTAMP], 1);
	ck_assert_uint_eq(r.st.v[BW_STAT_TS_INVALID], 1);
	ck_assert_uint_eq(r.st.v[BW_STAT_PACKETS], 3);
	run_free(&r);
	cleanup();
	fb_free(&ng);
}
END_TEST

static Suite *
replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("run");

	tcase_add_test(tc, files_are_one_stream);
	tcase_add_test(tc, window_across_files);
	tcase_add_test(tc, damaged_file_then_good);
	tcase_add_test(tc, first_problem_decides);
	tcase_add_test(tc, unsupported_link_type);
	tcase_add_test(tc, packet_order);
	tcase_add_test(tc, write_error);
	tcase_add_test(tc, no_records_output);
	tcase_add_test(tc, timestamp_counters);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(replay_suite());
}
