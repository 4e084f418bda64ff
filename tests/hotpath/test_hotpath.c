/*
 * test_hotpath.c - the per-packet path keeps its promises (decode.h):
 * it allocates nothing per packet, and it reads a packet only as far as it
 * must to know that it is not a SYN.
 *
 * Allocation: the binary is linked with --wrap for the allocator, and every
 * call made while bw_decode/bw_conn_syn run is counted.
 * Reading: the packet is placed so that the bytes after the last one the
 * decoder may read lie on a PROT_NONE page: one read too far is a SIGSEGV.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/decode.h"
#include "brokerwatch/pcapfile.h"
#include "unit.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static int counting;
static long allocations;

void *
__wrap_malloc(size_t n)
{
	allocations += counting;
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	allocations += counting;
	return __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	allocations += counting;
	return __real_realloc(p, n);
}

/* Decodes every packet of a capture; returns the SYN records, counts allocations. */
static long
decode_file(const char *path, struct bw_stats *st)
{
	char err[BW_PCAPFILE_ERRMAX];
	struct bw_decoder_config cfg;
	struct bw_decoder *dec;
	struct bw_conn *conn;
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	struct bw_record rec;
	long records = 0;
	int notfound;

	bw_decoder_config_default(&cfg);
	cfg.frag_max = 4;       /* small: evictions happen too */
	dec = bw_decoder_new(&cfg, st);
	conn = bw_conn_new(4, BW_CONN_FOLD_NS, st);
	ck_assert_ptr_nonnull(dec);
	ck_assert_ptr_nonnull(conn);
	pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	ck_assert_msg(pf != NULL, "%s: %s", path, err);
	while (bw_pcapfile_next(pf, &pkt, err, sizeof(err)) > 0) {
		counting = 1;
		if (bw_decode(dec, &pkt, &rec) == BW_DECODE_SYN && bw_conn_syn(conn, &rec))
			records++;
		counting = 0;
	}
	bw_pcapfile_close(pf);
	bw_conn_free(conn);
	bw_decoder_free(dec);
	return records;
}

START_TEST(test_no_allocation_per_packet)
{
	static const char *const files[] = {
		"demo.pcap", "frag.pcap", "gre.pcap", "vxlan.pcap", "ipv6-ext.pcap",
		"retransmit.pcap", "vlan.pcap", "pcapng-multi.pcapng",
	};
	const char *root = getenv("BW_SOURCE_ROOT");
	char path[4096];
	long total = 0;

	ck_assert_ptr_nonnull(root);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct bw_stats st;
		memset(&st, 0, sizeof(st));
		snprintf(path, sizeof(path), "%s/pcaps/%s", root, files[i]);
		if (access(path, R_OK) != 0)
			continue;
		allocations = 0;
		total += decode_file(path, &st);
		ck_assert_msg(allocations == 0, "%s: %ld allocations while decoding %llu packets",
		    files[i], allocations, (unsigned long long)st.v[BW_STAT_PACKETS]);
		ck_assert_uint_gt(st.v[BW_STAT_PACKETS], 0);
	}
	/* the captures were there and gave records: the loop above was not empty */
	ck_assert_int_gt(total, 10);
}
END_TEST

/* Ethernet + IPv4 + TCP header (20 bytes, no options) with the given flags. */
static size_t
build_tcp(uint8_t *p, uint8_t flags)
{
	static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00};
	memcpy(p, eth, 14);
	uint8_t *ip = p + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = 0x05;           /* total length 1500 */
	ip[3] = 0xdc;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x01\x00\x15", 4);
	memcpy(ip + 16, "\xcb\x00\x71\x0a", 4);
	uint8_t *tcp = ip + 20;
	memset(tcp, 0, 20);
	tcp[0] = 0xc9;
	tcp[2] = 0x22;          /* port 8883 */
	tcp[3] = 0xb3;
	tcp[12] = 0x50;
	tcp[13] = flags;
	return 14 + 20 + 20;
}

/*
 * Decodes a 1514-byte packet whose first `readable` bytes are followed by an
 * unreadable page. Returns the result; a read past `readable` kills the test.
 */
static enum bw_decode_result
decode_guarded(const uint8_t *bytes, size_t readable, struct bw_stats *st)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct bw_decoder_config cfg;
	struct bw_decoder *dec;
	struct bw_packet pkt;
	struct bw_record rec;
	enum bw_decode_result r;

	ck_assert_ptr_ne(area, MAP_FAILED);
	ck_assert_int_eq(mprotect(area + pg, (size_t)pg, PROT_NONE), 0);
	uint8_t *p = area + pg - readable;
	memcpy(p, bytes, readable);
	bw_decoder_config_default(&cfg);
	dec = bw_decoder_new(&cfg, st);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = p;
	pkt.caplen = 1514;      /* the capture claims more: only the guard page stops a read */
	pkt.wirelen = 1514;
	pkt.link = BW_LINK_ETHERNET;
	r = bw_decode(dec, &pkt, &rec);
	bw_decoder_free(dec);
	munmap(area, 2 * (size_t)pg);
	return r;
}

START_TEST(test_ack_read_only_to_flags)
{
	uint8_t pkt[64];
	struct bw_stats st;

	memset(&st, 0, sizeof(st));
	build_tcp(pkt, 0x10);   /* ACK */
	/* 14 Ethernet + 20 IPv4 + 14 TCP bytes reach the flags: nothing after them is read */
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20 + 14, &st), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_TCP], 1);
	build_tcp(pkt, 0x12);   /* SYN|ACK */
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20 + 14, &st), BW_DECODE_NONE);
	build_tcp(pkt, 0x11);   /* FIN|ACK */
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20 + 14, &st), BW_DECODE_NONE);
}
END_TEST

START_TEST(test_syn_read_only_to_header)
{
	uint8_t pkt[64];
	struct bw_stats st;

	memset(&st, 0, sizeof(st));
	build_tcp(pkt, 0x02);   /* SYN: its 20-byte header, no option or payload byte */
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20 + 20, &st), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 1);
}
END_TEST

START_TEST(test_udp_read_only_to_header)
{
	uint8_t pkt[64];
	struct bw_stats st;

	memset(&st, 0, sizeof(st));
	build_tcp(pkt, 0);
	pkt[14 + 9] = 17;       /* UDP to port 53 */
	pkt[34 + 2] = 0;
	pkt[34 + 3] = 53;
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20 + 8, &st), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_UDP], 1);
}
END_TEST

START_TEST(test_icmp_read_only_to_ip)
{
	uint8_t pkt[64];
	struct bw_stats st;

	memset(&st, 0, sizeof(st));
	build_tcp(pkt, 0);
	pkt[14 + 9] = 1;        /* ICMP: not followed at all */
	ck_assert_int_eq(decode_guarded(pkt, 14 + 20, &st), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_IP_OTHER], 1);
}
END_TEST

static Suite *
hotpath_suite(void)
{
	Suite *s = suite_create("hotpath");
	TCase *tc = tcase_create("hotpath");

	tcase_add_test(tc, test_no_allocation_per_packet);
	tcase_add_test(tc, test_ack_read_only_to_flags);
	tcase_add_test(tc, test_syn_read_only_to_header);
	tcase_add_test(tc, test_udp_read_only_to_header);
	tcase_add_test(tc, test_icmp_read_only_to_ip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(hotpath_suite());
}
