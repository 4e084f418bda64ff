/*
 * test_pcapfile.c - pcapfile.h: our reader of classic pcap and pcapng.
 *
 * Files are written byte by byte (capfile.h) into a temporary file, read back
 * with bw_pcapfile_next, and every packet's time, lengths, link, interface
 * and bytes are compared with what was written. Damaged files must end in an
 * error naming the 1-based number of the packet that could not be read, after
 * every packet before it; nothing may crash or read past the file (ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "brokerwatch/pcapfile.h"
#include "capfile.h"
#include "unit.h"

#define NS 1000000000LL

/* Packet bytes: packet i is pattern + (i * 61) % 4096, any length up to MAXPKT. */
static uint8_t pattern[BW_PCAPFILE_MAXPKT + 8192];

static const uint8_t *
pat(size_t i)
{
	return pattern + (i * 61) % 4096;
}

static void
setup(void)
{
	struct unit_rng r = {0xcafe};

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)unit_rand(&r);
}

/* What one packet must look like. */
struct xp {
	int64_t ts;
	uint32_t caplen, wirelen;
	enum bw_link link;
	uint32_t linktype;
	const char *ifname;
	uint32_t ifid;
	uint8_t ts_status;
	const uint8_t *data;
};

static struct xp
xp(int64_t ts, uint32_t caplen, uint32_t wirelen, const uint8_t *data)
{
	struct xp x;

	memset(&x, 0, sizeof(x));
	x.ts = ts;
	x.caplen = caplen;
	x.wirelen = wirelen;
	x.link = BW_LINK_ETHERNET;
	x.linktype = 1;
	x.data = data;
	return x;
}

/* Writes f to a new temporary file; path receives its name. */
static void
write_tmp(const struct fb *f, char *path, size_t len)
{
	int fd;
	size_t off = 0;

	snprintf(path, len, "%s/bw-unit-XXXXXX", unit_tmpdir());
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	while (off < f->n) {
		ssize_t w = write(fd, f->d + off, f->n - off);

		ck_assert_msg(w > 0, "write: %s", strerror(errno));
		off += (size_t)w;
	}
	ck_assert_int_eq(close(fd), 0);
}

/* Said in front of packet messages: which case of a table-driven test. */
static const char *unit_ctx = "";

static void
check_packet(const struct bw_pcapfile *pf, const struct bw_packet *pkt, const struct xp *x,
    size_t i)
{
	ck_assert_msg(pkt->ts_status == x->ts_status, "%s packet %zu: ts_status %u, want %u",
	    unit_ctx, i + 1, pkt->ts_status, x->ts_status);
	ck_assert_msg(pkt->ts_ns == x->ts, "%s packet %zu: ts_ns %" PRId64 ", want %" PRId64,
	    unit_ctx, i + 1, pkt->ts_ns, x->ts);
	ck_assert_msg(pkt->caplen == x->caplen, "packet %zu: caplen %u, want %u", i + 1,
	    pkt->caplen, x->caplen);
	ck_assert_msg(pkt->wirelen == x->wirelen, "packet %zu: wirelen %u, want %u", i + 1,
	    pkt->wirelen, x->wirelen);
	ck_assert_msg(pkt->link == x->link, "packet %zu: link %d, want %d", i + 1, pkt->link,
	    x->link);
	ck_assert_msg(bw_pcapfile_linktype(pf) == x->linktype, "packet %zu: linktype %u, want %u",
	    i + 1, bw_pcapfile_linktype(pf), x->linktype);
	ck_assert_msg(bw_pcapfile_interface(pf) == x->ifid, "packet %zu: interface %u, want %u",
	    i + 1, bw_pcapfile_interface(pf), x->ifid);
	if (x->ifname == NULL)
		ck_assert_msg(pkt->ifname == NULL, "packet %zu: ifname \"%s\", want none", i + 1,
		    pkt->ifname);
	else
		ck_assert_msg(pkt->ifname != NULL && strcmp(pkt->ifname, x->ifname) == 0,
		    "packet %zu: ifname \"%s\", want \"%s\"", i + 1,
		    pkt->ifname ? pkt->ifname : "(null)", x->ifname);
	ck_assert_msg(x->caplen == 0 || memcmp(pkt->data, x->data, x->caplen) == 0,
	    "packet %zu: bytes differ", i + 1);
	ck_assert_uint_eq(bw_pcapfile_packets(pf), i + 1);
}

/* Reads path and expects exactly the n packets in x, then the end. */
static void
read_expect(const char *path, enum bw_pcapfile_format format, const struct xp *x, size_t n)
{
	char err[BW_PCAPFILE_ERRMAX];
	int notfound = -1;
	struct bw_pcapfile *pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	struct bw_packet pkt;

	ck_assert_msg(pf != NULL, "open %s: %s", path, err);
	ck_assert_int_eq(bw_pcapfile_format(pf), format);
	ck_assert_uint_eq(bw_pcapfile_packets(pf), 0);
	for (size_t i = 0; i < n; i++) {
		int r;

		memset(&pkt, 0, sizeof(pkt));
		r = bw_pcapfile_next(pf, &pkt, err, sizeof(err));
		ck_assert_msg(r == 1, "packet %zu of %zu: %d (%s)", i + 1, n, r, r < 0 ? err : "");
		check_packet(pf, &pkt, &x[i], i);
	}
	ck_assert_int_eq(bw_pcapfile_next(pf, &pkt, err, sizeof(err)), 0);
	ck_assert_uint_eq(bw_pcapfile_packets(pf), n);
	bw_pcapfile_close(pf);
}

/* Writes f, reads it back expecting x[0..n), removes it. */
static void
roundtrip(const struct fb *f, enum bw_pcapfile_format format, const struct xp *x, size_t n)
{
	char path[256];

	write_tmp(f, path, sizeof(path));
	read_expect(path, format, x, n);
	unlink(path);
}

/* s names packet n: "packet N" not followed by another digit. */
static int
names_packet(const char *s, uint64_t n)
{
	char want[32];
	const char *p = s;
	size_t wl;

	snprintf(want, sizeof(want), "packet %" PRIu64, n);
	wl = strlen(want);
	while ((p = strstr(p, want)) != NULL) {
		if (p[wl] < '0' || p[wl] > '9')
			return 1;
		p += wl;
	}
	return 0;
}

/*
 * Reads f: good packets come back as 1, then -1 with a message naming
 * packet good + 1 and an offset.
 */
static void
expect_damage_ctx(const struct fb *f, size_t good, const char *ctx)
{
	char path[256], err[BW_PCAPFILE_ERRMAX];
	int notfound = -1, r;
	struct bw_pcapfile *pf;
	struct bw_packet pkt;

	write_tmp(f, path, sizeof(path));
	pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	ck_assert_msg(pf != NULL, "%s: open: %s", ctx, err);
	for (size_t i = 0; i < good; i++) {
		r = bw_pcapfile_next(pf, &pkt, err, sizeof(err));
		ck_assert_msg(r == 1, "%s: packet %zu: %d (%s)", ctx, i + 1, r, r < 0 ? err : "");
	}
	err[0] = '\0';
	r = bw_pcapfile_next(pf, &pkt, err, sizeof(err));
	ck_assert_msg(r == -1, "%s: after %zu packets: %d, want -1", ctx, good, r);
	ck_assert_msg(names_packet(err, good + 1), "%s: message \"%s\" does not name packet %zu",
	    ctx, err, good + 1);
	ck_assert_msg(strstr(err, "offset") != NULL, "%s: message \"%s\" names no offset", ctx,
	    err);
	ck_assert_uint_eq(bw_pcapfile_packets(pf), good);
	bw_pcapfile_close(pf);
	unlink(path);
}

#define expect_damage(f, good) expect_damage_ctx(f, good, __func__)

/* The file cannot be opened as a capture: NULL, a message, *notfound as given. */
static void
expect_open_fails(const struct fb *f, const char *ctx)
{
	char path[256], err[BW_PCAPFILE_ERRMAX];
	int notfound = -1;
	struct bw_pcapfile *pf;

	write_tmp(f, path, sizeof(path));
	err[0] = '\0';
	pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	if (pf != NULL) {
		struct bw_packet pkt;
		int r = bw_pcapfile_next(pf, &pkt, err, sizeof(err));

		bw_pcapfile_close(pf);
		ck_abort_msg("%s: opened as a capture (first next: %d)", ctx, r);
	}
	ck_assert_msg(err[0] != '\0', "%s: no message", ctx);
	ck_assert_msg(notfound == 0, "%s: notfound %d for a file that exists", ctx, notfound);
	unlink(path);
}

/* ---- classic pcap ----------------------------------------------------- */

START_TEST(classic_orders_and_resolutions)
{
	for (int be = 0; be <= 1; be++)
		for (int nano = 0; nano <= 1; nano++) {
			struct fb f = {0};
			struct xp x[5];
			uint32_t frac = nano ? 123456789u : 123456u;
			int64_t base = 1796412480LL * NS;

			pcap_hdr(&f, be, nano, 1, 65535);
			pcap_rec(&f, 1796412480u, frac, pat(0), 60, 60);
			x[0] = xp(base + (nano ? 123456789LL : 123456000LL), 60, 60, pat(0));
			pcap_rec(&f, 1796412481u, 0, pat(1), 0, 60);
			x[1] = xp(base + NS, 0, 60, pat(1));
			pcap_rec(&f, 0, nano ? 999999999u : 999999u, pat(2), 100, 1514);
			x[2] = xp(nano ? 999999999LL : 999999000LL, 100, 1514, pat(2));
			pcap_rec(&f, 4294967295u, 1, pat(3), 1, 1);
			x[3] = xp(4294967295LL * NS + (nano ? 1 : 1000), 1, 1, pat(3));
			pcap_rec(&f, 1796412482u, 5, pat(4), 1514, 1514);
			x[4] = xp(base + 2 * NS + (nano ? 5 : 5000), 1514, 1514, pat(4));
			roundtrip(&f, BW_PCAPFILE_PCAP, x, 5);
			fb_free(&f);
		}
}
END_TEST

START_TEST(classic_link_types)
{
	static const struct {
		uint32_t lt;
		enum bw_link link;
	} c[] = {
	    {1, BW_LINK_ETHERNET}, {113, BW_LINK_SLL},  {276, BW_LINK_SLL2},
	    {101, BW_LINK_RAW},    {12, BW_LINK_RAW},   {14, BW_LINK_RAW},
	    {228, BW_LINK_IPV4},   {229, BW_LINK_IPV6}, {0, BW_LINK_NULL},
	    {108, BW_LINK_LOOP},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct fb f = {0};
		struct xp x = xp(NS, 40, 40, pat(i));

		pcap_hdr(&f, (int)(i % 2), 0, c[i].lt, 262144);
		pcap_rec(&f, 1, 0, pat(i), 40, 40);
		x.link = c[i].link;
		x.linktype = c[i].lt;
		roundtrip(&f, BW_PCAPFILE_PCAP, &x, 1);
		fb_free(&f);
	}
	/*
	 * A classic file of a link type we do not decode is refused when opened
	 * (spec.md: "FILE: link type 127 (IEEE802_11_RADIO) is not supported").
	 */
	{
		static const uint32_t bad[] = {127, 105, 9};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct fb f = {0};
			char path[256], err[BW_PCAPFILE_ERRMAX], num[16];
			int notfound = -1;
			struct bw_pcapfile *pf;

			pcap_hdr(&f, (int)(i % 2), 0, bad[i], 65535);
			pcap_rec(&f, 1, 0, pat(i), 40, 40);
			write_tmp(&f, path, sizeof(path));
			pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
			ck_assert_msg(pf == NULL, "link type %u: opened", bad[i]);
			ck_assert_int_eq(notfound, 0);
			snprintf(num, sizeof(num), "%u", bad[i]);
			ck_assert_msg(strstr(err, num) != NULL, "\"%s\" does not name %u", err, bad[i]);
			ck_assert_msg(strstr(err, bw_linktype_name(bad[i])) != NULL,
			    "\"%s\" does not name %s", err, bw_linktype_name(bad[i]));
			unlink(path);
			fb_free(&f);
		}
	}
	ck_assert_str_eq(bw_linktype_name(1), "EN10MB");
	ck_assert_str_eq(bw_linktype_name(127), "IEEE802_11_RADIO");
	ck_assert_str_eq(bw_linktype_name(64999), "unknown");
}
END_TEST

START_TEST(classic_header_only)
{
	struct fb f = {0};

	pcap_hdr(&f, 0, 0, 1, 65535);
	roundtrip(&f, BW_PCAPFILE_PCAP, NULL, 0);
	fb_free(&f);
}
END_TEST

/* BW_PCAPFILE_MAXPKT is the longest capture length; one byte more is damage. */
START_TEST(classic_max_packet)
{
	struct fb f = {0};
	struct xp x = xp(NS, BW_PCAPFILE_MAXPKT, BW_PCAPFILE_MAXPKT, pattern);

	pcap_hdr(&f, 0, 0, 1, BW_PCAPFILE_MAXPKT);
	pcap_rec(&f, 1, 0, pattern, BW_PCAPFILE_MAXPKT, BW_PCAPFILE_MAXPKT);
	roundtrip(&f, BW_PCAPFILE_PCAP, &x, 1);
	pcap_rec(&f, 2, 0, pattern, BW_PCAPFILE_MAXPKT + 1, BW_PCAPFILE_MAXPKT + 1);
	expect_damage(&f, 1);
	fb_free(&f);
}
END_TEST

START_TEST(classic_cut_in_record_header)
{
	for (int be = 0; be <= 1; be++)
		for (size_t cut = 1; cut < 16; cut++) {
			struct fb f = {0};
			char ctx[64];

			pcap_hdr(&f, be, be, 1, 65535);
			pcap_rec(&f, 1, 0, pat(0), 60, 60);
			pcap_rec(&f, 2, 0, pat(1), 70, 70);
			pcap_rec(&f, 3, 0, pat(2), 80, 80);
			f.n -= 80 + 16 - cut;
			snprintf(ctx, sizeof(ctx), "header cut after %zu bytes", cut);
			expect_damage_ctx(&f, 2, ctx);
			fb_free(&f);
		}
}
END_TEST

START_TEST(classic_cut_in_data)
{
	for (size_t keep = 0; keep < 80; keep += 7) {
		struct fb f = {0};
		char ctx[64];

		pcap_hdr(&f, 1, 0, 1, 65535);
		pcap_rec(&f, 1, 0, pat(0), 60, 60);
		pcap_rec(&f, 2, 0, pat(1), 70, 70);
		pcap_rec(&f, 3, 0, pat(2), 80, 80);
		f.n -= 80 - keep;
		snprintf(ctx, sizeof(ctx), "data cut after %zu of 80 bytes", keep);
		expect_damage_ctx(&f, 2, ctx);
		fb_free(&f);
	}
}
END_TEST

/* ---- pcapng ----------------------------------------------------------- */

START_TEST(pcapng_basic)
{
	for (int be = 0; be <= 1; be++) {
		struct fb f = {0};
		struct xp x[3];

		ng_shb(&f, be);
		ng_idb(&f, 1, 65535, "eth0", -1, 0, 0); /* default resolution: microseconds */
		ng_epb(&f, 0, 1796412480123456ULL, pat(0), 60, 60);
		ng_epb(&f, 0, 1796412480123457ULL, pat(1), 61, 1514);
		ng_epb(&f, 0, 0, pat(2), 0, 0);
		for (int i = 0; i < 3; i++) {
			x[i] = xp(0, 0, 0, pat((size_t)i));
			x[i].ifname = "eth0";
		}
		x[0].ts = 1796412480123456000LL;
		x[0].caplen = x[0].wirelen = 60;
		x[1].ts = 1796412480123457000LL;
		x[1].caplen = 61;
		x[1].wirelen = 1514;
		roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 3);
		fb_free(&f);
	}
}
END_TEST

/* Several interfaces, each its own link type, resolution, offset and name. */
START_TEST(pcapng_interfaces)
{
	struct fb f = {0};
	struct xp x[6];

	ng_shb(&f, 0);
	ng_idb(&f, 1, 0, "eth0", 6, 0, 0);
	ng_idb(&f, 101, 0, "tun0", 9, 0, 0);
	ng_idb(&f, 127, 0, NULL, -1, 0, 0);
	ng_idb(&f, 276, 0, "any", 3, 1, 1000000000);

	ng_epb(&f, 1, 1796412480123456789ULL, pat(0), 40, 40);
	x[0] = xp(1796412480123456789LL, 40, 40, pat(0));
	x[0].link = BW_LINK_RAW, x[0].linktype = 101, x[0].ifname = "tun0", x[0].ifid = 1;
	ng_epb(&f, 0, 1796412480000001ULL, pat(1), 64, 64);
	x[1] = xp(1796412480000001000LL, 64, 64, pat(1));
	x[1].ifname = "eth0";
	ng_epb(&f, 2, 1796412480000002ULL, pat(2), 30, 30);
	x[2] = xp(1796412480000002000LL, 30, 30, pat(2));
	x[2].link = BW_LINK_UNSUPPORTED, x[2].linktype = 127, x[2].ifid = 2;
	ng_epb(&f, 3, 5, pat(3), 50, 50); /* 5 ms after the offset */
	x[3] = xp(1000000000LL * NS + 5000000LL, 50, 50, pat(3));
	x[3].link = BW_LINK_SLL2, x[3].linktype = 276, x[3].ifname = "any", x[3].ifid = 3;
	ng_epb(&f, 0, 1796412480000003ULL, pat(4), 70, 70);
	x[4] = xp(1796412480000003000LL, 70, 70, pat(4));
	x[4].ifname = "eth0";
	ng_epb(&f, 1, 1ULL, pat(5), 20, 20);
	x[5] = xp(1, 20, 20, pat(5));
	x[5].link = BW_LINK_RAW, x[5].linktype = 101, x[5].ifname = "tun0", x[5].ifid = 1;
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 6);
	fb_free(&f);
}
END_TEST

/* if_tsresol: powers of ten and of two; if_tsoffset in seconds, either sign. */
START_TEST(pcapng_tsresol_tsoffset)
{
	static const struct {
		int resol;
		int has_off;
		int64_t off;
		uint64_t ts;
		int64_t want;
	} c[] = {
	    {0, 0, 0, 1796412480ULL, 1796412480LL * NS},
	    {3, 0, 0, 1796412480123ULL, 1796412480123000000LL},
	    {6, 0, 0, 1796412480123456ULL, 1796412480123456000LL},
	    {9, 0, 0, 1796412480123456789ULL, 1796412480123456789LL},
	    {12, 0, 0, 17000000123456789000ULL, 17000000123456789LL},
	    {0x80 | 20, 0, 0, 1796412480ULL * 1048576 + 524288, 1796412480LL * NS + 500000000LL},
	    {0x80 | 10, 0, 0, 1796412480ULL * 1024 + 256, 1796412480LL * NS + 250000000LL},
	    {0x80 | 30, 0, 0, 1796412480ULL * 1073741824ULL + 536870912ULL,
		1796412480LL * NS + 500000000LL},
	    {0x80 | 0, 0, 0, 1796412480ULL, 1796412480LL * NS},
	    {6, 1, 1000000000, 5, 1000000000LL * NS + 5000},
	    {6, 1, -1000, 2000000000ULL, 1000LL * NS},
	    {9, 1, 1796412480, 123456789ULL, 1796412480123456789LL},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct fb f = {0};
		struct xp x = xp(c[i].want, 16, 16, pat(i));

		ng_shb(&f, (int)(i % 2));
		ng_idb(&f, 1, 0, NULL, c[i].resol, c[i].has_off, c[i].off);
		ng_epb(&f, 0, c[i].ts, pat(i), 16, 16);
		roundtrip(&f, BW_PCAPFILE_PCAPNG, &x, 1);
		fb_free(&f);
	}
}
END_TEST

/* A time beyond 2262 or before 1970: the packet comes with BW_TS_INVALID and the previous time. */
START_TEST(pcapng_ts_invalid)
{
	struct fb f = {0};
	struct xp x[4];

	ng_shb(&f, 0);
	ng_idb(&f, 1, 0, "s", 0, 0, 0);      /* seconds */
	ng_idb(&f, 1, 0, "o", 6, 1, -100);   /* 100 s before the epoch */
	ng_epb(&f, 0, 1796412480ULL, pat(0), 10, 10);
	x[0] = xp(1796412480LL * NS, 10, 10, pat(0));
	ng_epb(&f, 0, 1ULL << 40, pat(1), 10, 10);
	x[1] = xp(1796412480LL * NS, 10, 10, pat(1));
	x[1].ts_status = BW_TS_INVALID;
	ng_epb(&f, 1, 5, pat(2), 10, 10);
	x[2] = xp(1796412480LL * NS, 10, 10, pat(2));
	x[2].ts_status = BW_TS_INVALID;
	x[2].ifid = 1;
	ng_epb(&f, 1, 200000000ULL, pat(3), 10, 10);
	x[3] = xp(100LL * NS, 10, 10, pat(3));
	x[3].ifid = 1;
	x[0].ifname = x[1].ifname = "s";
	x[2].ifname = x[3].ifname = "o";
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 4);
	fb_free(&f);
}
END_TEST

/* Offsets and times at the ends of their ranges (one loop iteration each). */
static const struct {
	int resol;
	int64_t off;
	uint64_t ts;
} ts_extremes[] = {
    {0, 100, UINT64_MAX}, /* 2^64 - 1 s: far beyond 2262 */
    {0, 100, 1ULL << 63},
    {0, INT64_MIN, 5},
    {0, INT64_MIN, UINT64_MAX},
    {0, INT64_MAX, 1},
    {9, INT64_MAX, UINT64_MAX},
    {0, -1, 0},
};

/* Never a wrapped, valid-looking time. */
START_TEST(pcapng_ts_extremes)
{
	const __typeof__(ts_extremes[0]) *c = ts_extremes;

	for (size_t i = (size_t)_i; i == (size_t)_i; i++) {
		struct fb f = {0};
		struct xp x[2];
		char ctx[64];

		ng_shb(&f, (int)(i % 2));
		ng_idb(&f, 1, 0, NULL, 9, 0, 0);
		ng_idb(&f, 1, 0, NULL, c[i].resol, 1, c[i].off);
		ng_epb(&f, 0, 1796412480000000000ULL, pat(0), 8, 8);
		ng_epb(&f, 1, c[i].ts, pat(1), 8, 8);
		x[0] = xp(1796412480LL * NS, 8, 8, pat(0));
		x[1] = xp(1796412480LL * NS, 8, 8, pat(1));
		x[1].ts_status = BW_TS_INVALID;
		x[1].ifid = 1;
		snprintf(ctx, sizeof(ctx), "if_tsresol %d, if_tsoffset %" PRId64 ", time %" PRIu64,
		    c[i].resol, c[i].off, c[i].ts);
		unit_ctx = ctx;
		roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 2);
		unit_ctx = "";
		fb_free(&f);
	}
}
END_TEST

/* Interface numbers start again in each section; byte order is per section. */
START_TEST(pcapng_two_sections)
{
	for (int first_be = 0; first_be <= 1; first_be++) {
		struct fb f = {0};
		struct xp x[5];

		ng_shb(&f, first_be);
		ng_idb(&f, 1, 0, "a0", -1, 0, 0);
		ng_idb(&f, 101, 0, "a1", 9, 0, 0);
		ng_epb(&f, 1, 1796412480000000001ULL, pat(0), 20, 20);
		ng_epb(&f, 0, 1796412480000002ULL, pat(1), 60, 60);
		ng_shb(&f, !first_be);
		ng_idb(&f, 113, 0, "b0", 9, 0, 0);
		ng_epb(&f, 0, 1796412480000000003ULL, pat(2), 44, 44);
		ng_idb(&f, 1, 0, NULL, -1, 0, 0);
		ng_epb(&f, 1, 1796412480000004ULL, pat(3), 45, 45);
		ng_epb(&f, 0, 1796412480000000005ULL, pat(4), 46, 46);

		x[0] = xp(1796412480000000001LL, 20, 20, pat(0));
		x[0].link = BW_LINK_RAW, x[0].linktype = 101, x[0].ifname = "a1", x[0].ifid = 1;
		x[1] = xp(1796412480000002000LL, 60, 60, pat(1));
		x[1].ifname = "a0";
		x[2] = xp(1796412480000000003LL, 44, 44, pat(2));
		x[2].link = BW_LINK_SLL, x[2].linktype = 113, x[2].ifname = "b0";
		x[3] = xp(1796412480000004000LL, 45, 45, pat(3));
		x[3].ifid = 1;
		x[4] = xp(1796412480000000005LL, 46, 46, pat(4));
		x[4].link = BW_LINK_SLL, x[4].linktype = 113, x[4].ifname = "b0";
		roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 5);
		fb_free(&f);
	}
}
END_TEST

/*
 * Simple packet blocks: interface 0, no time (BW_TS_MISSING, the previous
 * packet's time), captured length min(original length, snap length).
 */
START_TEST(pcapng_spb)
{
	struct fb f = {0};
	struct xp x[4];

	ng_shb(&f, 0);
	ng_idb(&f, 1, 0, "eth0", -1, 0, 0);
	ng_epb(&f, 0, 1796412480000001ULL, pat(0), 60, 60);
	x[0] = xp(1796412480000001000LL, 60, 60, pat(0));
	ng_spb(&f, pat(1), 61, 61);
	x[1] = xp(1796412480000001000LL, 61, 61, pat(1));
	x[1].ts_status = BW_TS_MISSING;
	ng_shb(&f, 1);
	ng_idb(&f, 1, 30, "eth1", -1, 0, 0);
	ng_spb(&f, pat(2), 30, 61); /* 30 bytes and 2 of padding */
	x[2] = xp(1796412480000001000LL, 30, 61, pat(2));
	x[2].ts_status = BW_TS_MISSING;
	ng_spb(&f, pat(3), 20, 20);
	x[3] = xp(1796412480000001000LL, 20, 20, pat(3));
	x[3].ts_status = BW_TS_MISSING;
	x[0].ifname = x[1].ifname = "eth0";
	x[2].ifname = x[3].ifname = "eth1";
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 4);
	fb_free(&f);
}
END_TEST

START_TEST(pcapng_opb)
{
	struct fb f = {0};
	struct xp x[2];

	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, NULL, -1, 0, 0);
	ng_idb(&f, 0, 0, "lo0", 9, 0, 0);
	ng_opb(&f, 1, 1796412480000000007ULL, pat(0), 33, 40);
	x[0] = xp(1796412480000000007LL, 33, 40, pat(0));
	x[0].link = BW_LINK_NULL, x[0].linktype = 0, x[0].ifname = "lo0", x[0].ifid = 1;
	ng_opb(&f, 0, 1796412480000008ULL, pat(1), 60, 60);
	x[1] = xp(1796412480000008000LL, 60, 60, pat(1));
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 2);
	fb_free(&f);
}
END_TEST

START_TEST(pcapng_skips_other_blocks)
{
	struct fb f = {0};
	struct xp x[2];

	ng_shb(&f, 0);
	ng_other(&f, NG_NRB, 16);
	ng_idb(&f, 1, 0, NULL, -1, 0, 0);
	ng_other(&f, 0x00000bad, 13);   /* custom block */
	ng_epb(&f, 0, 10, pat(0), 60, 60);
	ng_other(&f, NG_ISB, 24);
	ng_other(&f, 0x0000000a, 40);   /* decryption secrets */
	ng_other(&f, 0x40000bad, 0);    /* custom, not to be copied */
	ng_other(&f, 0x00000009, 8);    /* systemd journal export */
	ng_epb(&f, 0, 20, pat(1), 61, 61);
	ng_other(&f, 0x80001234, 4);    /* reserved for local use */
	x[0] = xp(10000, 60, 60, pat(0));
	x[1] = xp(20000, 61, 61, pat(1));
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 2);
	fb_free(&f);
}
END_TEST

/* if_name: at most 31 bytes are kept (spec.md); a NUL inside ends it. */
START_TEST(pcapng_long_ifname)
{
	struct fb f = {0};
	struct xp x[2];
	char name[64];

	memset(name, 'i', 40);
	name[40] = '\0';
	ng_shb(&f, 0);
	ng_idb(&f, 1, 0, name, -1, 0, 0);
	{
		size_t s0 = ng_begin(&f, NG_IDB);

		fb_u16(&f, 1);
		fb_u16(&f, 0);
		fb_u32(&f, 0);
		ng_opt(&f, 2, "ab\0cd", 5);
		ng_opt_end(&f);
		ng_end(&f, s0);
	}
	ng_epb(&f, 0, 1, pat(0), 10, 10);
	ng_epb(&f, 1, 2, pat(1), 10, 10);
	x[0] = xp(1000, 10, 10, pat(0));
	x[0].ifname = "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiii";
	x[1] = xp(2000, 10, 10, pat(1));
	x[1].ifname = "ab";
	x[1].ifid = 1;
	roundtrip(&f, BW_PCAPFILE_PCAPNG, x, 2);
	fb_free(&f);
}
END_TEST

START_TEST(pcapng_empty_sections)
{
	struct fb f = {0};

	ng_shb(&f, 0);
	roundtrip(&f, BW_PCAPFILE_PCAPNG, NULL, 0);
	ng_idb(&f, 1, 0, NULL, -1, 0, 0);
	ng_shb(&f, 1);
	roundtrip(&f, BW_PCAPFILE_PCAPNG, NULL, 0);
	fb_free(&f);
}
END_TEST

/* ---- pcapng damage ---------------------------------------------------- */

/* SHB, IDB, one good EPB: the second packet block is the damaged one. */
static void
ng_good_start(struct fb *f, int be)
{
	memset(f, 0, sizeof(*f));
	ng_shb(f, be);
	ng_idb(f, 1, 0, NULL, -1, 0, 0);
	ng_epb(f, 0, 1, pat(0), 60, 60);
}

START_TEST(pcapng_trailing_length_mismatch)
{
	for (int be = 0; be <= 1; be++) {
		struct fb f;

		ng_good_start(&f, be);
		ng_epb(&f, 0, 2, pat(1), 60, 60);
		fb_put32(f.d + f.n - 4, 96, be); /* trailing copy differs */
		ng_epb(&f, 0, 3, pat(2), 60, 60);
		expect_damage(&f, 1);
		fb_free(&f);
	}
}
END_TEST

START_TEST(pcapng_bad_block_lengths)
{
	static const uint32_t lens[] = {0, 4, 8, 11, 13, 30, 83};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct fb f;
		size_t at;
		char ctx[48];

		ng_good_start(&f, (int)(i % 2));
		at = f.n;
		ng_epb(&f, 0, 2, pat(1), 60, 60);
		fb_put32(f.d + at + 4, lens[i], (int)(i % 2));
		snprintf(ctx, sizeof(ctx), "block length %u", lens[i]);
		expect_damage_ctx(&f, 1, ctx);
		fb_free(&f);
	}
	/* an unknown block with a bad length is damage too */
	{
		struct fb f;
		size_t at;

		ng_good_start(&f, 0);
		at = f.n;
		ng_other(&f, 0x00000bad, 8);
		fb_put32(f.d + at + 4, 10, 0);
		ng_epb(&f, 0, 3, pat(2), 60, 60);
		expect_damage(&f, 1);
		fb_free(&f);
	}
	/* a length beyond BW_PCAPFILE_MAXBLOCK */
	{
		struct fb f;
		size_t at;

		ng_good_start(&f, 1);
		at = f.n;
		ng_epb(&f, 0, 2, pat(1), 60, 60);
		fb_put32(f.d + at + 4, BW_PCAPFILE_MAXBLOCK + 4, 1);
		expect_damage(&f, 1);
		fb_free(&f);
	}
}
END_TEST

/* A packet block's capture length that does not fit in its block. */
START_TEST(pcapng_caplen_beyond_block)
{
	struct fb f;
	size_t at;

	ng_good_start(&f, 0);
	at = f.n;
	ng_epb(&f, 0, 2, pat(1), 60, 60);
	fb_put32(f.d + at + 20, 200, 0);
	ng_epb(&f, 0, 3, pat(2), 60, 60);
	expect_damage(&f, 1);
	fb_free(&f);
	/* ... also for an obsolete packet block */
	ng_good_start(&f, 1);
	at = f.n;
	ng_opb(&f, 0, 2, pat(1), 60, 60);
	fb_put32(f.d + at + 20, 0xffffffffu, 1);
	expect_damage(&f, 1);
	fb_free(&f);
}
END_TEST

/* An interface option longer than its block, a section of another major version. */
START_TEST(pcapng_bad_idb_and_shb)
{
	struct fb f;
	size_t at;

	ng_good_start(&f, 0);
	at = f.n;
	ng_idb(&f, 1, 0, "eth1", -1, 0, 0);
	/* the first option (if_name) claims 200 bytes */
	fb_put16(f.d + at + 16 + 2, 200, 0);
	ng_epb(&f, 1, 2, pat(1), 60, 60);
	expect_damage(&f, 1);
	fb_free(&f);

	ng_good_start(&f, 1);
	at = f.n;
	ng_shb(&f, 1);
	fb_put16(f.d + at + 12, 2, 1); /* major version 2 */
	ng_idb(&f, 1, 0, NULL, -1, 0, 0);
	ng_epb(&f, 0, 2, pat(1), 60, 60);
	expect_damage(&f, 1);
	fb_free(&f);
}
END_TEST

START_TEST(pcapng_caplen_beyond_maxpkt)
{
	struct fb f;

	ng_good_start(&f, 0);
	ng_epb(&f, 0, 2, pattern, BW_PCAPFILE_MAXPKT + 1, BW_PCAPFILE_MAXPKT + 1);
	expect_damage(&f, 1);
	fb_free(&f);
}
END_TEST

START_TEST(pcapng_interface_out_of_range)
{
	struct fb f;

	ng_good_start(&f, 0);
	ng_epb(&f, 0, 2, pat(1), 60, 60);
	ng_epb(&f, 1, 3, pat(2), 60, 60); /* only interface 0 exists */
	expect_damage(&f, 2);
	fb_free(&f);

	/* a packet before any interface */
	memset(&f, 0, sizeof(f));
	ng_shb(&f, 1);
	ng_epb(&f, 0, 1, pat(0), 60, 60);
	expect_damage(&f, 0);
	fb_free(&f);

	/* interfaces of an earlier section are gone */
	ng_good_start(&f, 0);
	ng_shb(&f, 0);
	ng_epb(&f, 0, 2, pat(1), 60, 60);
	expect_damage(&f, 1);
	fb_free(&f);

	/* a simple packet block needs interface 0 too */
	memset(&f, 0, sizeof(f));
	ng_shb(&f, 0);
	ng_spb(&f, pat(0), 60, 60);
	expect_damage(&f, 0);
	fb_free(&f);

	/* an obsolete packet block with a 16-bit id out of range */
	ng_good_start(&f, 1);
	ng_opb(&f, 7, 2, pat(1), 60, 60);
	expect_damage(&f, 1);
	fb_free(&f);
}
END_TEST

/* Every cut of a good pcapng file ends in an error or a clean end at a block edge. */
START_TEST(pcapng_every_cut)
{
	struct fb f = {0};
	size_t edges[32], nedge = 0, full;
	uint32_t npk_at_edge[32];
	uint32_t npk = 0;

	ng_shb(&f, 0);
	edges[nedge] = f.n, npk_at_edge[nedge++] = npk;
	ng_idb(&f, 1, 0, "eth0", 9, 1, 100);
	edges[nedge] = f.n, npk_at_edge[nedge++] = npk;
	ng_epb(&f, 0, 1, pat(0), 61, 61);
	edges[nedge] = f.n, npk_at_edge[nedge++] = ++npk;
	ng_other(&f, NG_ISB, 20);
	edges[nedge] = f.n, npk_at_edge[nedge++] = npk;
	ng_spb(&f, pat(1), 30, 30);
	edges[nedge] = f.n, npk_at_edge[nedge++] = ++npk;
	ng_opb(&f, 0, 2, pat(2), 17, 17);
	edges[nedge] = f.n, npk_at_edge[nedge++] = ++npk;
	full = f.n;

	for (size_t cut = edges[0]; cut < full; cut++) {
		struct fb g = {0};
		char path[256], err[BW_PCAPFILE_ERRMAX];
		int notfound, r = 1;
		struct bw_pcapfile *pf;
		struct bw_packet pkt;
		uint32_t got = 0, want = 0;
		int at_edge = 0;

		for (size_t e = 0; e < nedge; e++) {
			if (edges[e] <= cut)
				want = npk_at_edge[e];
			if (edges[e] == cut)
				at_edge = 1;
		}
		fb_bytes(&g, f.d, cut);
		write_tmp(&g, path, sizeof(path));
		pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
		ck_assert_msg(pf != NULL, "cut %zu: open: %s", cut, err);
		while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) == 1)
			got++;
		ck_assert_msg(got == want, "cut at %zu: %u packets, want %u", cut, got, want);
		if (at_edge) {
			ck_assert_msg(r == 0, "cut at block edge %zu: %d (%s)", cut, r, err);
		} else {
			ck_assert_msg(r == -1, "cut at %zu inside a block: %d", cut, r);
			ck_assert_msg(names_packet(err, want + 1), "cut at %zu: \"%s\" (want packet %u)",
			    cut, err, want + 1);
		}
		bw_pcapfile_close(pf);
		unlink(path);
		fb_free(&g);
	}
	fb_free(&f);
}
END_TEST

/* Every cut of a classic file: a clean end only at a record edge. */
START_TEST(classic_every_cut)
{
	struct fb f = {0};
	size_t edges[8], nedge = 0;

	pcap_hdr(&f, 1, 1, 1, 65535);
	edges[nedge++] = f.n;
	for (int i = 0; i < 4; i++) {
		pcap_rec(&f, 1, (uint32_t)i, pat((size_t)i), (uint32_t)(10 + i * 7),
		    (uint32_t)(10 + i * 7));
		edges[nedge++] = f.n;
	}
	for (size_t cut = 24; cut < f.n; cut++) {
		struct fb g = {0};
		char path[256], err[BW_PCAPFILE_ERRMAX];
		int notfound, r;
		struct bw_pcapfile *pf;
		struct bw_packet pkt;
		uint32_t got = 0, want = 0;
		int at_edge = 0;

		for (size_t e = 0; e < nedge; e++) {
			if (edges[e] <= cut)
				want = (uint32_t)e;
			if (edges[e] == cut)
				at_edge = 1;
		}
		fb_bytes(&g, f.d, cut);
		write_tmp(&g, path, sizeof(path));
		pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
		ck_assert_msg(pf != NULL, "cut %zu: open: %s", cut, err);
		while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) == 1)
			got++;
		ck_assert_msg(got == want, "cut at %zu: %u packets, want %u", cut, got, want);
		ck_assert_msg(r == (at_edge ? 0 : -1), "cut at %zu: %d", cut, r);
		if (!at_edge)
			ck_assert_msg(names_packet(err, want + 1), "cut at %zu: \"%s\"", cut, err);
		bw_pcapfile_close(pf);
		unlink(path);
		fb_free(&g);
	}
	fb_free(&f);
}
END_TEST

/* ---- not captures ----------------------------------------------------- */

START_TEST(open_failures)
{
	char err[BW_PCAPFILE_ERRMAX];
	int notfound = -1;
	struct fb f = {0};

	err[0] = '\0';
	ck_assert_ptr_null(bw_pcapfile_open("/nonexistent/bw-unit/x.pcap", err, sizeof(err),
	    &notfound));
	ck_assert_int_eq(notfound, 1);
	ck_assert_msg(err[0] != '\0', "no message for a missing file");

	expect_open_fails(&f, "empty file");
	fb_bytes(&f, "GET / HTTP/1.1\r\nHost: example\r\n\r\n", 33);
	expect_open_fails(&f, "text file");
	fb_free(&f);
	for (int i = 0; i < 100; i++)
		fb_u8(&f, (uint8_t)(i * 37 + 11));
	expect_open_fails(&f, "garbage");
	fb_free(&f);
	pcap_hdr(&f, 0, 0, 1, 65535);
	f.n = 12;
	expect_open_fails(&f, "cut classic header");
	fb_free(&f);
	fb_free(&f);
	/* a pcapng file must start with a section header */
	f.be = 0;
	ng_idb(&f, 1, 0, NULL, -1, 0, 0);
	ng_epb(&f, 0, 1, pat(0), 60, 60);
	expect_open_fails(&f, "IDB first");
	fb_free(&f);
}
END_TEST

START_TEST(open_directory)
{
	char err[BW_PCAPFILE_ERRMAX];
	int notfound = -1;
	struct bw_pcapfile *pf = bw_pcapfile_open("/", err, sizeof(err), &notfound);

	if (pf != NULL) {
		struct bw_packet pkt;
		int r = bw_pcapfile_next(pf, &pkt, err, sizeof(err));

		bw_pcapfile_close(pf);
		ck_assert_int_ne(r, 1);
	}
	bw_pcapfile_close(NULL);
}
END_TEST

/* A damaged section header (length, byte-order magic): no packet, no crash. */
START_TEST(damaged_shb)
{
	static const uint32_t lens[] = {0, 12, 27, 29, 1u << 30, 0};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct fb f = {0};
		char path[256], err[BW_PCAPFILE_ERRMAX];
		int notfound;
		struct bw_pcapfile *pf;

		ng_shb(&f, 0);
		ng_idb(&f, 1, 0, NULL, -1, 0, 0);
		ng_epb(&f, 0, 1, pat(0), 60, 60);
		if (i + 1 < sizeof(lens) / sizeof(lens[0]))
			fb_put32(f.d + 4, lens[i], 0);
		else
			fb_put32(f.d + 8, 0x11223344u, 0); /* byte-order magic */
		write_tmp(&f, path, sizeof(path));
		pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
		if (pf != NULL) {
			struct bw_packet pkt;

			ck_assert_msg(bw_pcapfile_next(pf, &pkt, err, sizeof(err)) == -1,
			    "SHB length %u: not an error", lens[i]);
			bw_pcapfile_close(pf);
		} else {
			ck_assert_int_eq(notfound, 0);
		}
		unlink(path);
		fb_free(&f);
	}
}
END_TEST

/* ---- many packets, files and standard input ---------------------------- */

/* n packets of sizes 0..1600 (and a few big ones) in format fmt; x receives them. */
static void
many(struct fb *f, int pcapng, size_t n, struct xp *x, struct unit_rng *r)
{
	memset(f, 0, sizeof(*f));
	if (pcapng) {
		ng_shb(f, 0);
		ng_idb(f, 1, 0, "eth7", 9, 0, 0);
	} else {
		pcap_hdr(f, 1, 1, 1, 262144);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t len = i % 500 == 7 ? 65536 + unit_below(r, 100000) : unit_below(r, 1601);
		int64_t ts = 1796412480LL * NS + (int64_t)i * 1000003LL;

		if (pcapng)
			ng_epb(f, 0, (uint64_t)ts, pat(i), len, len + 4);
		else
			pcap_rec(f, (uint32_t)(ts / NS), (uint32_t)(ts % NS), pat(i), len, len + 4);
		x[i] = xp(ts, len, len + 4, pat(i));
		x[i].ifname = pcapng ? "eth7" : NULL;
	}
}

START_TEST(many_packets_file)
{
	static struct xp x[3000];
	struct unit_rng r = {99};

	for (int ng = 0; ng <= 1; ng++) {
		struct fb f;

		many(&f, ng, 3000, x, &r);
		roundtrip(&f, ng ? BW_PCAPFILE_PCAPNG : BW_PCAPFILE_PCAP, x, 3000);
		fb_free(&f);
	}
}
END_TEST

/* Feeds f into fd 0 through a pipe (a writer child), runs read_expect("-"), restores fd 0. */
static void
via_stdin(const struct fb *f, enum bw_pcapfile_format format, const struct xp *x, size_t n)
{
	int p[2], saved, status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t off = 0;

		close(p[0]);
		while (off < f->n) {
			/* odd-sized writes: the reader must not depend on how data arrives */
			size_t chunk = f->n - off < 3001 ? f->n - off : 3001;
			ssize_t w = write(p[1], f->d + off, chunk);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	saved = dup(0);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(p[0], 0), 0);
	close(p[0]);
	read_expect("-", format, x, n);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed");
}

START_TEST(stdin_classic_and_pcapng)
{
	static struct xp x[3000];
	struct unit_rng r = {7};

	for (int ng = 0; ng <= 1; ng++) {
		struct fb f;

		many(&f, ng, 3000, x, &r);
		via_stdin(&f, ng ? BW_PCAPFILE_PCAPNG : BW_PCAPFILE_PCAP, x, 3000);
		fb_free(&f);
	}
	/* blocks far longer than any packet (up to BW_PCAPFILE_MAXBLOCK) are skipped */
	{
		struct fb f = {0};
		struct xp two[2];

		ng_shb(&f, 1);
		ng_idb(&f, 1, 0, NULL, -1, 0, 0);
		ng_epb(&f, 0, 1, pat(0), 60, 60);
		ng_other(&f, 0x00000bad, 3u << 20);
		ng_other(&f, 0x40000bad, BW_PCAPFILE_MAXBLOCK - 12);
		ng_epb(&f, 0, 2, pat(1), 61, 61);
		two[0] = xp(1000, 60, 60, pat(0));
		two[1] = xp(2000, 61, 61, pat(1));
		via_stdin(&f, BW_PCAPFILE_PCAPNG, two, 2);
		roundtrip(&f, BW_PCAPFILE_PCAPNG, two, 2);
		fb_free(&f);
	}
	/* a small one, shorter than any read block */
	{
		struct fb f = {0};
		struct xp one = xp(NS, 60, 60, pat(0));

		pcap_hdr(&f, 0, 0, 1, 65535);
		pcap_rec(&f, 1, 0, pat(0), 60, 60);
		via_stdin(&f, BW_PCAPFILE_PCAP, &one, 1);
		fb_free(&f);
	}
}
END_TEST

/* Damage read from a pipe is reported the same way. */
START_TEST(stdin_damage)
{
	struct fb f = {0};
	int p[2], saved, status;
	pid_t pid;
	char err[BW_PCAPFILE_ERRMAX];
	int notfound;
	struct bw_pcapfile *pf;
	struct bw_packet pkt;

	pcap_hdr(&f, 0, 0, 1, 65535);
	pcap_rec(&f, 1, 0, pat(0), 60, 60);
	pcap_rec(&f, 2, 0, pat(1), 60, 60);
	f.n -= 10;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(write(p[1], f.d, f.n) == (ssize_t)f.n ? 0 : 1);
	}
	close(p[1]);
	saved = dup(0);
	ck_assert_int_eq(dup2(p[0], 0), 0);
	close(p[0]);
	pf = bw_pcapfile_open("-", err, sizeof(err), &notfound);
	ck_assert_msg(pf != NULL, "%s", err);
	ck_assert_int_eq(bw_pcapfile_next(pf, &pkt, err, sizeof(err)), 1);
	ck_assert_int_eq(bw_pcapfile_next(pf, &pkt, err, sizeof(err)), -1);
	ck_assert_msg(names_packet(err, 2), "\"%s\"", err);
	bw_pcapfile_close(pf);
	dup2(saved, 0);
	close(saved);
	waitpid(pid, &status, 0);
	fb_free(&f);
}
END_TEST

static Suite *
pcapfile_suite(void)
{
	Suite *s = suite_create("pcapfile");
	TCase *tc;

	tc = tcase_create("classic");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, classic_orders_and_resolutions);
	tcase_add_test(tc, classic_link_types);
	tcase_add_test(tc, classic_header_only);
	tcase_add_test(tc, classic_max_packet);
	tcase_add_test(tc, classic_cut_in_record_header);
	tcase_add_test(tc, classic_cut_in_data);
	tcase_add_test(tc, classic_every_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("pcapng");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, pcapng_basic);
	tcase_add_test(tc, pcapng_interfaces);
	tcase_add_test(tc, pcapng_tsresol_tsoffset);
	tcase_add_test(tc, pcapng_ts_invalid);
	tcase_add_loop_test(tc, pcapng_ts_extremes, 0,
	    (int)(sizeof(ts_extremes) / sizeof(ts_extremes[0])));
	tcase_add_test(tc, pcapng_two_sections);
	tcase_add_test(tc, pcapng_spb);
	tcase_add_test(tc, pcapng_opb);
	tcase_add_test(tc, pcapng_skips_other_blocks);
	tcase_add_test(tc, pcapng_empty_sections);
	tcase_add_test(tc, pcapng_long_ifname);
	suite_add_tcase(s, tc);

	tc = tcase_create("pcapng_damage");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, pcapng_trailing_length_mismatch);
	tcase_add_test(tc, pcapng_bad_block_lengths);
	tcase_add_test(tc, pcapng_caplen_beyond_block);
	tcase_add_test(tc, pcapng_caplen_beyond_maxpkt);
	tcase_add_test(tc, pcapng_bad_idb_and_shb);
	tcase_add_test(tc, pcapng_interface_out_of_range);
	tcase_add_test(tc, pcapng_every_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("not_capture");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, open_failures);
	tcase_add_test(tc, open_directory);
	tcase_add_test(tc, damaged_shb);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, many_packets_file);
	tcase_add_test(tc, stdin_classic_and_pcapng);
	tcase_add_test(tc, stdin_damage);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pcapfile_suite());
}
