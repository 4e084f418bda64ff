/*
 * test_decode.c - decode.h: from captured bytes to a TCP SYN.
 *
 * One TCase per link layer / network layer / tunnel. Every good packet also
 * gets the prefix sweep (STYLE.md 14): each prefix of it, captured from a
 * packet that was longer on the wire, decodes as "truncated" until the first
 * 20 TCP bytes are in and as the same SYN from there on; each prefix that was
 * the whole packet on the wire (its IP lengths now lie) is never a SYN. Every
 * prefix is a heap copy of exactly its length, so that ASan sees any overread.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "brokerwatch/decode.h"
#include "pkt.h"
#include "unit.h"

#define S 1000000000LL
#define TS0 (1796412480LL * S + 123456789LL)

/* What the record of a good packet must hold. */
struct want {
	uint8_t family;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t seq;
	int nvlan;
	uint16_t vlan[BW_VLAN_MAX];
	size_t full_min; /* the IP datagram ends here (padding after it); 0: the packet's end */
};

static struct want
want4(const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct want w;

	memset(&w, 0, sizeof(w));
	w.family = 4;
	w.src = src;
	w.dst = dst;
	w.sport = sport;
	w.dport = dport;
	w.seq = seq;
	return w;
}

static struct want
want6(const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct want w = want4(src, dst, sport, dport, seq);

	w.family = 6;
	return w;
}

static struct bw_decoder *
mkdec(struct bw_stats *st)
{
	struct bw_decoder_config cfg;
	struct bw_decoder *d;

	bw_decoder_config_default(&cfg);
	d = bw_decoder_new(&cfg, st);
	ck_assert_ptr_nonnull(d);
	return d;
}

static const char *
rname(enum bw_decode_result r)
{
	switch (r) {
	case BW_DECODE_SYN:
		return "SYN";
	case BW_DECODE_NONE:
		return "NONE";
	case BW_DECODE_TRUNCATED:
		return "TRUNCATED";
	case BW_DECODE_INVALID:
		return "INVALID";
	case BW_DECODE_UNSUPPORTED:
		return "UNSUPPORTED";
	}
	return "(not a result)";
}

/*
 * Decodes the first caplen bytes of p (a heap copy of exactly that size) as a
 * packet of wirelen bytes, at TS0 on interface "span0".
 */
static enum bw_decode_result
dec(struct bw_decoder *d, const uint8_t *p, size_t caplen, size_t wirelen, enum bw_link link,
    struct bw_record *out)
{
	struct bw_packet pkt;
	uint8_t *copy = unit_exact_copy(p, caplen);
	enum bw_decode_result r;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_ns = TS0;
	pkt.data = copy;
	pkt.caplen = (uint32_t)caplen;
	pkt.wirelen = (uint32_t)wirelen;
	pkt.link = link;
	pkt.ts_status = BW_TS_OK;
	pkt.ifname = "span0";
	memset(out, 0xaa, sizeof(*out));
	r = bw_decode(d, &pkt, out);
	free(copy);
	return r;
}

/* One packet through a new decoder counting into *st (zeroed first). */
static enum bw_decode_result
dec1(const struct pb *b, enum bw_link link, struct bw_stats *st, struct bw_record *out)
{
	struct bw_decoder *d;
	enum bw_decode_result r;

	memset(st, 0, sizeof(*st));
	d = mkdec(st);
	r = dec(d, b->d, b->n, b->n, link, out);
	bw_decoder_free(d);
	return r;
}

static void
check_record(const struct bw_record *r, const struct want *w, const char *ctx, size_t k)
{
	size_t alen = w->family == 4 ? 4 : 16;

	ck_assert_msg(r->family == w->family, "%s (k=%zu): family %u, want %u", ctx, k, r->family,
	    w->family);
	ck_assert_msg(memcmp(r->src, w->src, alen) == 0, "%s (k=%zu): src differs", ctx, k);
	ck_assert_msg(memcmp(r->dst, w->dst, alen) == 0, "%s (k=%zu): dst differs", ctx, k);
	if (w->family == 4) {
		static const uint8_t zero[12];

		/* record.h: "IPv4 uses the first 4 bytes, the rest are zero" */
		ck_assert_msg(memcmp(r->src + 4, zero, 12) == 0 && memcmp(r->dst + 4, zero, 12) == 0,
		    "%s (k=%zu): IPv4 address tails not zero", ctx, k);
	}
	ck_assert_msg(r->sport == w->sport && r->dport == w->dport,
	    "%s (k=%zu): ports %u>%u, want %u>%u", ctx, k, r->sport, r->dport, w->sport, w->dport);
	ck_assert_msg(r->seq == w->seq, "%s (k=%zu): seq %u, want %u", ctx, k, r->seq, w->seq);
	ck_assert_msg(r->ts_ns == TS0, "%s (k=%zu): ts_ns %lld", ctx, k, (long long)r->ts_ns);
	ck_assert_msg(r->nvlan == w->nvlan, "%s (k=%zu): nvlan %u, want %d", ctx, k, r->nvlan,
	    w->nvlan);
	for (int i = 0; i < w->nvlan; i++)
		ck_assert_msg(r->vlan[i] == w->vlan[i], "%s (k=%zu): vlan[%d] %u, want %u", ctx, k,
		    i, r->vlan[i], w->vlan[i]);
	ck_assert_msg(strcmp(r->ifname, "span0") == 0, "%s (k=%zu): ifname \"%.31s\"", ctx, k,
	    r->ifname);
}

/*
 * The packet in b decodes to the SYN w describes; then the prefix sweep.
 * b->tcp_off must be the innermost TCP header's offset.
 */
static void
expect_syn_ctx(const struct pb *b, enum bw_link link, const struct want *w, const char *ctx)
{
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_record rec;
	enum bw_decode_result r;
	size_t syn_min = b->tcp_off + 20, full_min = w->full_min ? w->full_min : b->n;

	ck_assert_uint_gt(b->tcp_off, 0);
	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	r = dec(d, b->d, b->n, b->n, link, &rec);
	ck_assert_msg(r == BW_DECODE_SYN, "%s: got %s, want SYN", ctx, rname(r));
	check_record(&rec, w, ctx, b->n);

	for (size_t k = 0; k < b->n; k++) {
		r = dec(d, b->d, k, b->n, link, &rec);
		if (k < syn_min) {
			ck_assert_msg(r == BW_DECODE_TRUNCATED,
			    "%s: cut at %zu of %zu (TCP at %zu): got %s, want TRUNCATED", ctx, k,
			    b->n, b->tcp_off, rname(r));
		} else {
			ck_assert_msg(r == BW_DECODE_SYN,
			    "%s: cut at %zu of %zu (TCP at %zu): got %s, want SYN", ctx, k, b->n,
			    b->tcp_off, rname(r));
			check_record(&rec, w, ctx, k);
		}
		r = dec(d, b->d, k, k, link, &rec);
		if (k >= full_min && k >= syn_min) {
			ck_assert_msg(r == BW_DECODE_SYN,
			    "%s: %zu-byte packet (IP ends at %zu): got %s, want SYN", ctx, k,
			    full_min, rname(r));
			check_record(&rec, w, ctx, k);
		} else {
			ck_assert_msg(r == BW_DECODE_INVALID || r == BW_DECODE_TRUNCATED ||
				r == BW_DECODE_NONE,
			    "%s: %zu-byte packet (of %zu): got %s", ctx, k, b->n, rname(r));
		}
	}
	bw_decoder_free(d);
}

#define expect_syn(b, link, w) expect_syn_ctx(b, link, w, __func__)

/* The packet is not a SYN; no prefix of it is one either. */
static void
expect_not_syn_ctx(const struct pb *b, enum bw_link link, int want, const char *ctx)
{
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_record rec;
	enum bw_decode_result r;

	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	r = dec(d, b->d, b->n, b->n, link, &rec);
	ck_assert_msg(r != BW_DECODE_SYN, "%s: got SYN", ctx);
	if (want != 99)
		ck_assert_msg((int)r == want, "%s: got %s, want %s", ctx, rname(r),
		    rname((enum bw_decode_result)want));
	for (size_t k = 0; k < b->n; k++) {
		r = dec(d, b->d, k, b->n, link, &rec);
		ck_assert_msg(r != BW_DECODE_SYN, "%s: cut at %zu: SYN", ctx, k);
		if (want == BW_DECODE_NONE)
			ck_assert_msg(r == BW_DECODE_NONE || r == BW_DECODE_TRUNCATED,
			    "%s: cut at %zu: %s", ctx, k, rname(r));
		r = dec(d, b->d, k, k, link, &rec);
		ck_assert_msg(r != BW_DECODE_SYN, "%s: %zu-byte packet: SYN", ctx, k);
	}
	bw_decoder_free(d);
}

#define ANY_BUT_SYN 99
#define expect_not_syn(b, link, want) expect_not_syn_ctx(b, link, want, __func__)

/* Ethernet + IPv4 SYN from HOST to BROKER. */
static void
eth_syn4(struct pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	pb_init(b);
	pb_eth(b, 0x0800);
	pb_syn4(b, A4_HOST, A4_BROKER, sport, dport, seq, flags, 0);
}

/* ---- link types ------------------------------------------------------- */

START_TEST(linktype_mapping)
{
	ck_assert_int_eq(bw_link_from_linktype(1), BW_LINK_ETHERNET);
	ck_assert_int_eq(bw_link_from_linktype(113), BW_LINK_SLL);
	ck_assert_int_eq(bw_link_from_linktype(276), BW_LINK_SLL2);
	ck_assert_int_eq(bw_link_from_linktype(101), BW_LINK_RAW);
	ck_assert_int_eq(bw_link_from_linktype(12), BW_LINK_RAW);
	ck_assert_int_eq(bw_link_from_linktype(14), BW_LINK_RAW);
	ck_assert_int_eq(bw_link_from_linktype(228), BW_LINK_IPV4);
	ck_assert_int_eq(bw_link_from_linktype(229), BW_LINK_IPV6);
	ck_assert_int_eq(bw_link_from_linktype(0), BW_LINK_NULL);
	ck_assert_int_eq(bw_link_from_linktype(108), BW_LINK_LOOP);
	ck_assert_int_eq(bw_link_from_linktype(127), BW_LINK_UNSUPPORTED);
	ck_assert_int_eq(bw_link_from_linktype(105), BW_LINK_UNSUPPORTED);
	ck_assert_int_eq(bw_link_from_linktype(9), BW_LINK_UNSUPPORTED);
	ck_assert_int_eq(bw_link_from_linktype(65535), BW_LINK_UNSUPPORTED);
	ck_assert_int_eq(bw_link_from_linktype(0x10000 | 1), BW_LINK_UNSUPPORTED);

	ck_assert_int_eq(bw_link_from_dlt(DLT_EN10MB), BW_LINK_ETHERNET);
	ck_assert_int_eq(bw_link_from_dlt(DLT_LINUX_SLL), BW_LINK_SLL);
	ck_assert_int_eq(bw_link_from_dlt(DLT_LINUX_SLL2), BW_LINK_SLL2);
	ck_assert_int_eq(bw_link_from_dlt(DLT_RAW), BW_LINK_RAW);
	ck_assert_int_eq(bw_link_from_dlt(DLT_IPV4), BW_LINK_IPV4);
	ck_assert_int_eq(bw_link_from_dlt(DLT_IPV6), BW_LINK_IPV6);
	ck_assert_int_eq(bw_link_from_dlt(DLT_NULL), BW_LINK_NULL);
	ck_assert_int_eq(bw_link_from_dlt(DLT_LOOP), BW_LINK_LOOP);
	ck_assert_int_eq(bw_link_from_dlt(DLT_IEEE802_11_RADIO), BW_LINK_UNSUPPORTED);

	ck_assert_str_eq(bw_link_name(BW_LINK_ETHERNET), "ethernet");
	ck_assert_str_eq(bw_link_name(BW_LINK_SLL), "sll");
	for (int a = BW_LINK_UNSUPPORTED; a <= BW_LINK_LOOP; a++) {
		ck_assert_ptr_nonnull(bw_link_name((enum bw_link)a));
		for (int c = a + 1; c <= BW_LINK_LOOP; c++)
			ck_assert_str_ne(bw_link_name((enum bw_link)a), bw_link_name((enum bw_link)c));
	}
}
END_TEST

START_TEST(config_defaults)
{
	struct bw_decoder_config cfg;

	memset(&cfg, 0xff, sizeof(cfg));
	bw_decoder_config_default(&cfg);
	ck_assert_uint_eq(cfg.frag_max, 1024);
	ck_assert_int_eq(cfg.frag_timeout_ns, 60 * S);
	ck_assert_uint_eq(cfg.vxlan_port, 4789);
	bw_decoder_free(NULL);
}
END_TEST

START_TEST(unsupported_link)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	eth_syn4(&b, 40000, 1883, 1, TH_SYN);
	ck_assert_int_eq(dec1(&b, BW_LINK_UNSUPPORTED, &st, &rec), BW_DECODE_UNSUPPORTED);
}
END_TEST

/* ---- Ethernet --------------------------------------------------------- */

START_TEST(eth_ipv4_syn)
{
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 48489, 1883, 0xdeadbeef);
	struct bw_stats st;
	struct bw_record rec;

	eth_syn4(&b, 48489, 1883, 0xdeadbeef, TH_SYN);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 1);
	ck_assert_uint_eq(st.v[BW_STAT_IPV4], 1);
	ck_assert_uint_eq(st.v[BW_STAT_TCP], 1);
	ck_assert_uint_eq(st.v[BW_STAT_VLAN_TAGGED], 0);
	ck_assert_uint_eq(st.v[BW_STAT_TRUNCATED], 0);
	ck_assert_uint_eq(st.v[BW_STAT_INVALID], 0);
}
END_TEST

START_TEST(eth_ipv6_syn)
{
	struct pb b;
	struct want w = want6(A6_HOST, A6_BROKER, 50000, 5222, 7);

	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 50000, 5222, 7, TH_SYN, 20);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

/* Ethernet pads short frames to 60 bytes; bytes after the IP datagram are not TCP. */
START_TEST(eth_padding_ignored)
{
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 1, 2, 3);

	eth_syn4(&b, 1, 2, 3, TH_SYN);
	w.full_min = b.n;
	pb_fill(&b, 0, 6);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	/* trailer garbage (FCS and more) */
	eth_syn4(&b, 1, 2, 3, TH_SYN);
	pb_fill(&b, 0xff, 40);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(eth_not_ip)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	pb_init(&b);
	pb_eth(&b, 0x0806); /* ARP */
	pb_u16(&b, 1);
	pb_u16(&b, 0x0800);
	pb_fill(&b, 0, 24);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_NOT_IP], 1);

	pb_init(&b);
	pb_eth(&b, 0x88cc); /* LLDP */
	pb_fill(&b, 0, 30);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);

	/* an 802.3 length field followed by what looks like IPv4 is not IPv4 */
	pb_init(&b);
	pb_eth(&b, 40);
	pb_syn4(&b, A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 0);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
}
END_TEST

START_TEST(eth_short)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	struct bw_decoder *d;
	enum bw_decode_result r;

	/* 13 bytes captured of a longer frame: truncated */
	pb_init(&b);
	pb_fill(&b, 0, 13);
	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	ck_assert_int_eq(dec(d, b.d, 13, 60, BW_LINK_ETHERNET, &rec), BW_DECODE_TRUNCATED);
	ck_assert_uint_eq(st.v[BW_STAT_LINK_TRUNCATED], 1);
	bw_decoder_free(d);
	/* a 13-byte frame on the wire: no frame at all */
	r = dec1(&b, BW_LINK_ETHERNET, &st, &rec);
	ck_assert(r == BW_DECODE_TRUNCATED || r == BW_DECODE_INVALID);
	/* an Ethernet header and nothing after it */
	pb_init(&b);
	pb_eth(&b, 0x0800);
	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	ck_assert_int_eq(dec(d, b.d, 14, 60, BW_LINK_ETHERNET, &rec), BW_DECODE_TRUNCATED);
	bw_decoder_free(d);
	r = dec1(&b, BW_LINK_ETHERNET, &st, &rec);
	ck_assert(r == BW_DECODE_TRUNCATED || r == BW_DECODE_INVALID);
}
END_TEST

/* TCP flags: only SYN without ACK is a record; other bits do not matter. */
START_TEST(tcp_flags)
{
	static const struct {
		uint8_t flags;
		int syn;
	} c[] = {
	    {TH_SYN, 1},
	    {TH_SYN | TH_ECE | TH_CWR, 1}, /* ECN setup SYN */
	    {TH_SYN | TH_PSH, 1},
	    {TH_SYN | TH_URG, 1},
	    {TH_SYN | TH_ACK, 0},
	    {TH_SYN | TH_ACK | TH_ECE, 0},
	    {TH_ACK, 0},
	    {TH_RST, 0},
	    {TH_RST | TH_ACK, 0},
	    {TH_FIN | TH_ACK, 0},
	    {TH_PSH | TH_ACK, 0},
	    {0, 0},
	};
	struct pb b;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char ctx[64];
		struct want w = want4(A4_HOST, A4_BROKER, 33000, 8883, 0x80000001u);

		snprintf(ctx, sizeof(ctx), "flags 0x%02x", c[i].flags);
		eth_syn4(&b, 33000, 8883, 0x80000001u, c[i].flags);
		if (c[i].syn)
			expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
		else
			expect_not_syn_ctx(&b, BW_LINK_ETHERNET, BW_DECODE_NONE, ctx);
	}
}
END_TEST

/* The record's interface and time come from the packet. */
START_TEST(record_time_and_ifname)
{
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_packet pkt;
	struct bw_record rec;
	struct pb b;
	char longname[64];

	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	eth_syn4(&b, 1000, 1883, 5, TH_SYN);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = b.d;
	pkt.caplen = pkt.wirelen = (uint32_t)b.n;
	pkt.link = BW_LINK_ETHERNET;
	pkt.ts_ns = 0;
	pkt.ifname = NULL;
	memset(&rec, 0xaa, sizeof(rec));
	ck_assert_int_eq(bw_decode(d, &pkt, &rec), BW_DECODE_SYN);
	ck_assert_int_eq(rec.ts_ns, 0);
	ck_assert_str_eq(rec.ifname, "");

	pkt.ts_ns = INT64_MAX;
	memset(longname, 'x', sizeof(longname));
	longname[40] = '\0';
	pkt.ifname = longname;
	memset(&rec, 0xaa, sizeof(rec));
	ck_assert_int_eq(bw_decode(d, &pkt, &rec), BW_DECODE_SYN);
	ck_assert_int_eq(rec.ts_ns, INT64_MAX);
	ck_assert_uint_eq(strnlen(rec.ifname, sizeof(rec.ifname)), BW_IFNAME_MAX - 1);
	ck_assert_int_eq(memcmp(rec.ifname, longname, BW_IFNAME_MAX - 1), 0);

	pkt.ifname = "eth0";
	pkt.ts_ns = 1430069159LL * S + 456549000LL;
	ck_assert_int_eq(bw_decode(d, &pkt, &rec), BW_DECODE_SYN);
	ck_assert_str_eq(rec.ifname, "eth0");
	ck_assert_int_eq(rec.ts_ns, 1430069159LL * S + 456549000LL);
	bw_decoder_free(d);
}
END_TEST

/* ---- VLAN ------------------------------------------------------------- */

/* n tags with the given TPIDs and TCIs, then an IPv4 SYN. */
static void
vlan_syn(struct pb *b, const uint16_t *tpid, const uint16_t *tci, int n)
{
	pb_init(b);
	pb_eth_tags(b, tpid, tci, n, 0x0800);
	pb_syn4(b, A4_HOST, A4_BROKER, 41000, 61613, 99, TH_SYN, 0);
}

START_TEST(vlan_stacks)
{
	static const uint16_t tpid[9] = {0x88a8, 0x8100, 0x9100, 0x9200, 0x8100, 0x88a8, 0x8100,
	    0x8100, 0x8100};
	/* PCP and DEI bits set on some: only the 12-bit VID is reported */
	static const uint16_t tci[9] = {0x001e, 0x2014, 0xf00a, 0x1fff, 0x0001, 0xe002, 0x0003,
	    0x0fff, 0x0123};
	static const int counts[] = {1, 2, 3, 4, 5, 6, 7, 8};

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		int n = counts[c];
		struct pb b;
		struct want w = want4(A4_HOST, A4_BROKER, 41000, 61613, 99);
		char ctx[32];

		w.nvlan = n;
		for (int i = 0; i < n; i++)
			w.vlan[i] = tci[i] & 0x0fff;
		snprintf(ctx, sizeof(ctx), "%d tags", n);
		vlan_syn(&b, tpid, tci, n);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
	}
}
END_TEST

START_TEST(vlan_each_tpid)
{
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100, 0x9200};

	for (size_t i = 0; i < sizeof(tpids) / sizeof(tpids[0]); i++) {
		struct pb b;
		struct want w = want4(A4_HOST, A4_BROKER, 41000, 61613, 99);
		uint16_t tci = (uint16_t)(100 + i);
		char ctx[32];

		w.nvlan = 1;
		w.vlan[0] = tci;
		snprintf(ctx, sizeof(ctx), "TPID 0x%04x", tpids[i]);
		vlan_syn(&b, &tpids[i], &tci, 1);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
	}
}
END_TEST

/* VID 0 (a priority tag) is a tag; VID 4095 too. */
START_TEST(vlan_vid_0_and_4095)
{
	static const uint16_t tpid[2] = {0x8100, 0x8100}, tci[2] = {0xa000, 0x0fff};
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 41000, 61613, 99);
	struct bw_stats st;
	struct bw_record rec;

	w.nvlan = 2;
	w.vlan[0] = 0;
	w.vlan[1] = 4095;
	vlan_syn(&b, tpid, tci, 2);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_VLAN_TAGGED], 1);
}
END_TEST

START_TEST(vlan_nine_tags_invalid)
{
	static const uint16_t tpid[9] = {0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100,
	    0x8100, 0x8100};
	static const uint16_t tci[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	vlan_syn(&b, tpid, tci, 9);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_VLAN_TOO_MANY], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 0);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_INVALID);
	/* twenty tags */
	pb_init(&b);
	for (int i = 0; i < 20; i++) {
		uint16_t t = 0x88a8, c = (uint16_t)i;

		if (i == 0)
			pb_eth_tags(&b, &t, &c, 1, 0x8100);
		else if (i < 19) {
			pb_u16(&b, (uint16_t)i);
			pb_u16(&b, 0x8100);
		} else {
			pb_u16(&b, (uint16_t)i);
			pb_u16(&b, 0x0800);
		}
	}
	pb_syn4(&b, A4_HOST, A4_BROKER, 41000, 61613, 99, TH_SYN, 0);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_VLAN_TOO_MANY], 1);
}
END_TEST

START_TEST(vlan_ipv6_and_not_ip)
{
	static const uint16_t tpid[2] = {0x88a8, 0x8100}, tci[2] = {300, 301};
	struct pb b;
	struct want w = want6(A6_HOST, A6_BROKER, 2000, 5671, 1);

	w.nvlan = 2;
	w.vlan[0] = 300;
	w.vlan[1] = 301;
	pb_init(&b);
	pb_eth_tags(&b, tpid, tci, 2, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 2000, 5671, 1, TH_SYN, 0);
	expect_syn(&b, BW_LINK_ETHERNET, &w);

	pb_init(&b);
	pb_eth_tags(&b, tpid, tci, 2, 0x0806);
	pb_fill(&b, 0, 28);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);
}
END_TEST

/* ---- Linux cooked, raw, loopback -------------------------------------- */

START_TEST(sll_v1)
{
	struct pb b;
	struct want w4 = want4(A4_HOST, A4_BROKER, 3333, 1883, 11);
	struct want w6 = want6(A6_HOST, A6_BROKER, 3333, 1883, 12);

	pb_init(&b);
	pb_sll(&b, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 3333, 1883, 11, TH_SYN, 8);
	expect_syn(&b, BW_LINK_SLL, &w4);
	pb_init(&b);
	pb_sll(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 3333, 1883, 12, TH_SYN, 8);
	expect_syn(&b, BW_LINK_SLL, &w6);
	pb_init(&b);
	pb_sll(&b, 0x0806);
	pb_fill(&b, 0, 28);
	expect_not_syn(&b, BW_LINK_SLL, BW_DECODE_NONE);
}
END_TEST

START_TEST(sll_v2)
{
	struct pb b;
	struct want w4 = want4(A4_HOST, A4_BROKER, 3334, 1883, 13);
	struct want w6 = want6(A6_HOST, A6_BROKER, 3334, 1883, 14);

	pb_init(&b);
	pb_sll2(&b, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 3334, 1883, 13, TH_SYN, 0);
	expect_syn(&b, BW_LINK_SLL2, &w4);
	pb_init(&b);
	pb_sll2(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 3334, 1883, 14, TH_SYN, 0);
	expect_syn(&b, BW_LINK_SLL2, &w6);
	pb_init(&b);
	pb_sll2(&b, 0x0806);
	pb_fill(&b, 0, 28);
	expect_not_syn(&b, BW_LINK_SLL2, BW_DECODE_NONE);
}
END_TEST

START_TEST(raw_links)
{
	struct pb b4, b6;
	struct want w4 = want4(A4_HOST, A4_BROKER, 4444, 5223, 15);
	struct want w6 = want6(A6_HOST, A6_BROKER, 4444, 5223, 16);
	struct bw_stats st;
	struct bw_record rec;

	pb_init(&b4);
	pb_syn4(&b4, A4_HOST, A4_BROKER, 4444, 5223, 15, TH_SYN, 0);
	pb_init(&b6);
	pb_syn6(&b6, A6_HOST, A6_BROKER, 4444, 5223, 16, TH_SYN, 0);
	/* raw (101): the version nibble decides */
	expect_syn_ctx(&b4, BW_LINK_RAW, &w4, "raw ipv4");
	expect_syn_ctx(&b6, BW_LINK_RAW, &w6, "raw ipv6");
	/* LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229) */
	expect_syn_ctx(&b4, BW_LINK_IPV4, &w4, "ipv4 link");
	expect_syn_ctx(&b6, BW_LINK_IPV6, &w6, "ipv6 link");
	/* the other version on a one-version link is a lie */
	ck_assert_int_eq(dec1(&b6, BW_LINK_IPV4, &st, &rec), BW_DECODE_INVALID);
	ck_assert_int_eq(dec1(&b4, BW_LINK_IPV6, &st, &rec), BW_DECODE_INVALID);
	/* a version that is neither */
	b4.d[0] = 0x55;
	ck_assert_int_eq(dec1(&b4, BW_LINK_RAW, &st, &rec), BW_DECODE_INVALID);
	b4.d[0] = 0x05;
	ck_assert_int_eq(dec1(&b4, BW_LINK_RAW, &st, &rec), BW_DECODE_INVALID);
	/* nothing captured of a 40-byte packet */
	{
		struct bw_decoder *d;

		memset(&st, 0, sizeof(st));
		d = mkdec(&st);
		ck_assert_int_eq(dec(d, b4.d, 0, 40, BW_LINK_RAW, &rec), BW_DECODE_TRUNCATED);
		ck_assert_int_eq(dec(d, b4.d, 0, 40, BW_LINK_IPV4, &rec), BW_DECODE_TRUNCATED);
		ck_assert_int_eq(dec(d, b4.d, 0, 40, BW_LINK_IPV6, &rec), BW_DECODE_TRUNCATED);
		bw_decoder_free(d);
	}
}
END_TEST

START_TEST(null_loopback)
{
	static const uint32_t af6[] = {24, 28, 30, 10};
	struct want w4 = want4(A4_HOST, A4_BROKER, 5555, 1883, 17);
	struct want w6 = want6(A6_HOST, A6_BROKER, 5555, 1883, 18);
	struct pb b;
	char ctx[48];

	for (int little = 0; little <= 1; little++) {
		pb_init(&b);
		pb_null(&b, 2, little);
		pb_syn4(&b, A4_HOST, A4_BROKER, 5555, 1883, 17, TH_SYN, 0);
		snprintf(ctx, sizeof(ctx), "NULL AF 2 %s", little ? "LE" : "BE");
		expect_syn_ctx(&b, BW_LINK_NULL, &w4, ctx);
		for (size_t i = 0; i < sizeof(af6) / sizeof(af6[0]); i++) {
			pb_init(&b);
			pb_null(&b, af6[i], little);
			pb_syn6(&b, A6_HOST, A6_BROKER, 5555, 1883, 18, TH_SYN, 0);
			snprintf(ctx, sizeof(ctx), "NULL AF %u %s", af6[i], little ? "LE" : "BE");
			expect_syn_ctx(&b, BW_LINK_NULL, &w6, ctx);
		}
		/* AF 7 is neither */
		pb_init(&b);
		pb_null(&b, 7, little);
		pb_syn4(&b, A4_HOST, A4_BROKER, 5555, 1883, 17, TH_SYN, 0);
		expect_not_syn(&b, BW_LINK_NULL, ANY_BUT_SYN);
	}
}
END_TEST

START_TEST(loop_loopback)
{
	static const uint32_t af6[] = {24, 28, 30};
	struct want w4 = want4(A4_HOST, A4_BROKER, 6666, 1883, 19);
	struct want w6 = want6(A6_HOST, A6_BROKER, 6666, 1883, 20);
	struct pb b;
	char ctx[48];

	pb_init(&b);
	pb_null(&b, 2, 0);
	pb_syn4(&b, A4_HOST, A4_BROKER, 6666, 1883, 19, TH_SYN, 0);
	expect_syn_ctx(&b, BW_LINK_LOOP, &w4, "LOOP AF 2");
	for (size_t i = 0; i < sizeof(af6) / sizeof(af6[0]); i++) {
		pb_init(&b);
		pb_null(&b, af6[i], 0);
		pb_syn6(&b, A6_HOST, A6_BROKER, 6666, 1883, 20, TH_SYN, 0);
		snprintf(ctx, sizeof(ctx), "LOOP AF %u", af6[i]);
		expect_syn_ctx(&b, BW_LINK_LOOP, &w6, ctx);
	}
	pb_init(&b);
	pb_null(&b, 7, 0);
	pb_syn4(&b, A4_HOST, A4_BROKER, 6666, 1883, 19, TH_SYN, 0);
	expect_not_syn(&b, BW_LINK_LOOP, ANY_BUT_SYN);
}
END_TEST

/* ---- IPv4 ------------------------------------------------------------- */

START_TEST(ipv4_options)
{
	static const size_t optlens[] = {4, 8, 20, 40};

	for (size_t i = 0; i < sizeof(optlens) / sizeof(optlens[0]); i++) {
		struct pb b;
		struct want w = want4(A4_HOST, A4_BROKER, 7000, 5269, 21);
		struct bw_stats st;
		struct bw_record rec;
		size_t ip;
		char ctx[32];

		pb_init(&b);
		pb_eth(&b, 0x0800);
		ip = pb_ipv4(&b, 6, A4_HOST, A4_BROKER, optlens[i]);
		pb_tcp(&b, 7000, 5269, 21, TH_SYN, 12);
		pb_ipv4_end(&b, ip);
		snprintf(ctx, sizeof(ctx), "%zu option bytes", optlens[i]);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
		ck_assert_uint_eq(st.v[BW_STAT_IPV4_OPTIONS], 1);
	}
}
END_TEST

START_TEST(ipv4_ihl_below_5)
{
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		struct pb b;
		struct bw_stats st;
		struct bw_record rec;

		eth_syn4(&b, 7001, 1883, 1, TH_SYN);
		b.d[14] = (uint8_t)(0x40 | ihl);
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
		ck_assert_uint_eq(st.v[BW_STAT_IPV4_INVALID], 1);
		ck_assert_uint_eq(st.v[BW_STAT_INVALID], 1);
		expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_INVALID);
	}
}
END_TEST

START_TEST(ipv4_lengths)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	/* total length one more than the wire had */
	eth_syn4(&b, 7002, 1883, 1, TH_SYN);
	pb_set16(&b, 16, (uint16_t)(b.n - 14 + 1));
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_IPV4_INVALID], 1);
	/* ... also when the capture is cut before the end: wire length decides */
	{
		struct bw_decoder *d;

		memset(&st, 0, sizeof(st));
		d = mkdec(&st);
		ck_assert_int_eq(dec(d, b.d, 40, b.n, BW_LINK_ETHERNET, &rec), BW_DECODE_INVALID);
		/* the same total length with one byte more on the wire is fine */
		ck_assert_int_eq(dec(d, b.d, 40, b.n + 1, BW_LINK_ETHERNET, &rec),
		    BW_DECODE_TRUNCATED);
		bw_decoder_free(d);
	}
	/* total length shorter than the header */
	eth_syn4(&b, 7002, 1883, 1, TH_SYN);
	pb_set16(&b, 16, 19);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	/* shorter than the header with its options */
	pb_init(&b);
	pb_eth(&b, 0x0800);
	{
		size_t ip = pb_ipv4(&b, 6, A4_HOST, A4_BROKER, 8);

		pb_tcp(&b, 7002, 1883, 1, TH_SYN, 0);
		pb_ipv4_end(&b, ip);
		pb_set16(&b, ip + 2, 24);
	}
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	/* total length covering 19 bytes of TCP: no SYN */
	eth_syn4(&b, 7002, 1883, 1, TH_SYN);
	pb_set16(&b, 16, 20 + 19);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	/* version 6 in an IPv4 frame */
	eth_syn4(&b, 7002, 1883, 1, TH_SYN);
	b.d[14] = 0x65;
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
}
END_TEST

/*
 * Bytes after the IP total length are padding: they neither count for TCP
 * (a data offset that only fits with the padding is invalid) nor hurt.
 */
START_TEST(ipv4_padding_shrinks_length)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	size_t ip;

	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 6, A4_HOST, A4_BROKER, 0);
	pb_tcp(&b, 7003, 1883, 1, TH_SYN, 0);
	b.d[b.tcp_off + 12] = 0x60; /* data offset 6: 24 bytes */
	pb_ipv4_end(&b, ip);         /* but the datagram holds 20 */
	pb_fill(&b, 0, 10);          /* Ethernet padding makes 24 bytes available */
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_TCP_INVALID], 1);
}
END_TEST

START_TEST(ipv4_other_protocols)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	size_t ip, udp;

	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 1, A4_HOST, A4_BROKER, 0); /* ICMP echo */
	pb_u32(&b, 0x08000000u);
	pb_u32(&b, 0x00010001u);
	pb_ipv4_end(&b, ip);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_IP_OTHER], 1);

	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 17, A4_HOST, A4_BROKER, 0); /* DNS */
	udp = pb_udp(&b, 5353, 53);
	pb_fill(&b, 0x11, 12);
	pb_udp_end(&b, udp);
	pb_ipv4_end(&b, ip);
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_UDP], 1);
}
END_TEST

/* ---- IPv6 ------------------------------------------------------------- */

/* An IPv6 SYN behind the extension headers in types[] (n of them). */
static void
ext_chain(struct pb *b, const uint8_t *types, int n)
{
	size_t ip;

	pb_init(b);
	pb_eth(b, 0x86dd);
	ip = pb_ipv6(b, n > 0 ? types[0] : 6, A6_HOST, A6_BROKER);
	for (int i = 0; i < n; i++) {
		uint8_t next = i + 1 < n ? types[i + 1] : 6;

		if (types[i] == 51)
			pb_ah6(b, next);
		else if (types[i] == 44)
			pb_frag6(b, next, 0, 0, 0x1234 + (uint32_t)i); /* atomic fragment */
		else
			pb_ext6(b, next, (uint8_t)(i % 3));
	}
	pb_tcp(b, 9000, 1883, 0xfeedface, TH_SYN, 20);
	pb_ipv6_end(b, ip);
}

START_TEST(ipv6_each_extension)
{
	static const uint8_t types[] = {0, 43, 60, 51, 44, 135, 139, 140};

	for (size_t i = 0; i < sizeof(types); i++) {
		struct pb b;
		struct want w = want6(A6_HOST, A6_BROKER, 9000, 1883, 0xfeedface);
		struct bw_stats st;
		struct bw_record rec;
		char ctx[32];

		ext_chain(&b, &types[i], 1);
		snprintf(ctx, sizeof(ctx), "ext header %u", types[i]);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
		ck_assert_msg(st.v[BW_STAT_IPV6_EXT] == 1, "%s: ipv6_ext %llu", ctx,
		    (unsigned long long)st.v[BW_STAT_IPV6_EXT]);
	}
}
END_TEST

START_TEST(ipv6_eight_extensions)
{
	static const uint8_t types[8] = {0, 60, 43, 44, 51, 135, 139, 60};
	struct pb b;
	struct want w = want6(A6_HOST, A6_BROKER, 9000, 1883, 0xfeedface);

	ext_chain(&b, types, 8);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(ipv6_nine_extensions)
{
	static const uint8_t types[9] = {0, 60, 43, 60, 43, 60, 43, 60, 60};
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	ext_chain(&b, types, 9);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_IPV6_EXT_TOO_MANY], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 0);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
}
END_TEST

START_TEST(ipv6_lengths)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	struct want w = want6(A6_HOST, A6_BROKER, 9001, 1883, 3);

	/* payload length beyond the wire */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 9001, 1883, 3, TH_SYN, 0);
	pb_set16(&b, 18, (uint16_t)(b.n - 54 + 1));
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_IPV6_INVALID], 1);
	/* padding after the payload */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 9001, 1883, 3, TH_SYN, 0);
	w.full_min = b.n;
	pb_fill(&b, 0xee, 8);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	/* version 4 in an IPv6 frame */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 9001, 1883, 3, TH_SYN, 0);
	b.d[14] = 0x40;
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	/* an extension header longer than the payload */
	{
		uint8_t t = 60;

		ext_chain(&b, &t, 1);
		b.d[54 + 1] = 200; /* 1608 bytes */
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
		expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
	}
	/* no next header */
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	{
		size_t ip = pb_ipv6(&b, 59, A6_HOST, A6_BROKER);

		pb_fill(&b, 0, 8);
		pb_ipv6_end(&b, ip);
	}
	expect_not_syn(&b, BW_LINK_ETHERNET, BW_DECODE_NONE);
}
END_TEST

/* ---- TCP -------------------------------------------------------------- */

START_TEST(tcp_options_and_payload)
{
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 65535, 65535, 0xffffffffu);
	size_t ip;

	/* the longest header: 40 bytes of options */
	pb_init(&b);
	pb_eth(&b, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 65535, 65535, 0xffffffffu, TH_SYN, 40);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	/* a SYN with data (TCP fast open) */
	w = want4(A4_HOST, A4_BROKER, 1, 1, 0);
	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 6, A4_HOST, A4_BROKER, 0);
	pb_tcp(&b, 1, 1, 0, TH_SYN, 12);
	pb_fill(&b, 'M', 100);
	pb_ipv4_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(tcp_data_offset_invalid)
{
	for (uint8_t doff = 0; doff < 5; doff++) {
		struct pb b;
		struct bw_stats st;
		struct bw_record rec;

		eth_syn4(&b, 1, 2, 3, TH_SYN);
		b.d[b.tcp_off + 12] = (uint8_t)(doff << 4);
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
		ck_assert_uint_eq(st.v[BW_STAT_TCP_INVALID], 1);
		ck_assert_uint_eq(st.v[BW_STAT_SYN], 0);
		expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
	}
	/* data offset beyond the segment (IPv4 and IPv6) */
	{
		struct pb b;
		struct bw_stats st;
		struct bw_record rec;

		eth_syn4(&b, 1, 2, 3, TH_SYN);
		b.d[b.tcp_off + 12] = 0x60;
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
		ck_assert_uint_eq(st.v[BW_STAT_TCP_INVALID], 1);
		pb_init(&b);
		pb_eth(&b, 0x86dd);
		pb_syn6(&b, A6_HOST, A6_BROKER, 1, 2, 3, TH_SYN, 8);
		b.d[b.tcp_off + 12] = 0xf0;
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
		ck_assert_uint_eq(st.v[BW_STAT_TCP_INVALID], 1);
	}
}
END_TEST

START_TEST(tcp_truncated)
{
	struct pb b;
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_record rec;

	eth_syn4(&b, 1, 2, 3, TH_SYN);
	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	ck_assert_int_eq(dec(d, b.d, b.n - 1, b.n, BW_LINK_ETHERNET, &rec), BW_DECODE_TRUNCATED);
	ck_assert_uint_eq(st.v[BW_STAT_TCP_TRUNCATED], 1);
	ck_assert_uint_eq(st.v[BW_STAT_TRUNCATED], 1);
	bw_decoder_free(d);
}
END_TEST

/* ---- GRE, ERSPAN ------------------------------------------------------ */

/* Eth / IPv4 (or IPv6) / GRE(flags, proto): the caller appends the payload. */
static size_t
gre_outer(struct pb *b, int outer6, uint16_t flags, uint16_t proto)
{
	size_t ip;

	pb_init(b);
	if (outer6) {
		pb_eth(b, 0x86dd);
		ip = pb_ipv6(b, 47, A6_TUN1, A6_TUN2);
	} else {
		pb_eth(b, 0x0800);
		ip = pb_ipv4(b, 47, A4_TUN1, A4_TUN2, 0);
	}
	pb_gre(b, flags, proto);
	return ip;
}

static void
outer_end(struct pb *b, int outer6, size_t ip)
{
	if (outer6)
		pb_ipv6_end(b, ip);
	else
		pb_ipv4_end(b, ip);
}

START_TEST(gre_plain_and_optional_fields)
{
	static const uint16_t flags[] = {0, GRE_C, GRE_K, GRE_S, GRE_C | GRE_K, GRE_K | GRE_S,
	    GRE_C | GRE_K | GRE_S};

	for (int outer6 = 0; outer6 <= 1; outer6++)
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			struct pb b;
			struct want w4 = want4(A4_HOST, A4_BROKER, 1234, 1883, 0x11111111u);
			struct want w6 = want6(A6_HOST, A6_BROKER, 1234, 1883, 0x22222222u);
			struct bw_stats st;
			struct bw_record rec;
			size_t ip;
			char ctx[64];

			snprintf(ctx, sizeof(ctx), "GRE flags 0x%04x over IPv%d, inner IPv4",
			    flags[i], outer6 ? 6 : 4);
			ip = gre_outer(&b, outer6, flags[i], 0x0800);
			pb_syn4(&b, A4_HOST, A4_BROKER, 1234, 1883, 0x11111111u, TH_SYN, 0);
			outer_end(&b, outer6, ip);
			expect_syn_ctx(&b, BW_LINK_ETHERNET, &w4, ctx);
			ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
			ck_assert_uint_eq(st.v[BW_STAT_GRE], 1);

			snprintf(ctx, sizeof(ctx), "GRE flags 0x%04x over IPv%d, inner IPv6",
			    flags[i], outer6 ? 6 : 4);
			ip = gre_outer(&b, outer6, flags[i], 0x86dd);
			pb_syn6(&b, A6_HOST, A6_BROKER, 1234, 1883, 0x22222222u, TH_SYN, 0);
			outer_end(&b, outer6, ip);
			expect_syn_ctx(&b, BW_LINK_ETHERNET, &w6, ctx);
		}
}
END_TEST

/* Transparent Ethernet bridging: the inner frame's VLANs are the record's, the outer's are not. */
START_TEST(gre_teb)
{
	static const uint16_t otpid = 0x8100, otci = 7, itpid[2] = {0x88a8, 0x8100},
			      itci[2] = {42, 43};
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 2222, 8883, 5);
	size_t ip;

	w.nvlan = 2;
	w.vlan[0] = 42;
	w.vlan[1] = 43;
	pb_init(&b);
	pb_eth_tags(&b, &otpid, &otci, 1, 0x0800);
	ip = pb_ipv4(&b, 47, A4_TUN1, A4_TUN2, 0);
	pb_gre(&b, GRE_K, 0x6558);
	pb_eth_tags(&b, itpid, itci, 2, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 2222, 8883, 5, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);

	/* an untagged inner frame: no VLAN, although the outer frame had one */
	w.nvlan = 0;
	pb_init(&b);
	pb_eth_tags(&b, &otpid, &otci, 1, 0x0800);
	ip = pb_ipv4(&b, 47, A4_TUN1, A4_TUN2, 0);
	pb_gre(&b, 0, 0x6558);
	pb_eth(&b, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 2222, 8883, 5, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(erspan_type1)
{
	static const uint16_t tpid = 0x8100, tci = 55;
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 3000, 5672, 9);
	struct bw_stats st;
	struct bw_record rec;
	size_t ip;

	w.nvlan = 1;
	w.vlan[0] = 55;
	ip = gre_outer(&b, 0, 0, 0x88be); /* S clear: no ERSPAN header */
	pb_eth_tags(&b, &tpid, &tci, 1, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 3000, 5672, 9, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_ERSPAN], 1);
}
END_TEST

START_TEST(erspan_type2)
{
	static const uint16_t tpid = 0x8100, tci = 56;
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 3001, 5672, 10);
	struct want w6 = want6(A6_HOST, A6_BROKER, 3001, 5672, 10);
	struct bw_stats st;
	struct bw_record rec;
	size_t ip;

	w.nvlan = 1;
	w.vlan[0] = 56;
	ip = gre_outer(&b, 0, GRE_S, 0x88be);
	pb_erspan2(&b, 0, 100);
	pb_eth_tags(&b, &tpid, &tci, 1, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 3001, 5672, 10, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_ERSPAN], 1);
	ck_assert_uint_eq(st.v[BW_STAT_GRE], 1);

	/* over IPv6, with a key too, inner IPv6 untagged */
	ip = gre_outer(&b, 1, GRE_K | GRE_S, 0x88be);
	pb_erspan2(&b, 0, 101);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 3001, 5672, 10, TH_SYN, 0);
	pb_ipv6_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w6);
}
END_TEST

START_TEST(erspan_type3)
{
	static const uint16_t tpid[2] = {0x88a8, 0x8100}, tci[2] = {57, 58};

	for (int o = 0; o <= 1; o++) {
		struct pb b;
		struct want w = want4(A4_HOST, A4_BROKER, 3002, 61614, 11);
		size_t ip;
		char ctx[32];

		w.nvlan = 2;
		w.vlan[0] = 57;
		w.vlan[1] = 58;
		ip = gre_outer(&b, 0, GRE_S, 0x22eb);
		pb_erspan3(&b, 0, 200, 0, o);
		pb_eth_tags(&b, tpid, tci, 2, 0x0800);
		pb_syn4(&b, A4_HOST, A4_BROKER, 3002, 61614, 11, TH_SYN, 0);
		pb_ipv4_end(&b, ip);
		snprintf(ctx, sizeof(ctx), "ERSPAN III O=%d", o);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
	}
}
END_TEST

START_TEST(erspan_type3_frame_type_not_ethernet)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	size_t ip;

	/* frame type 2 (IP): the payload is a bare IPv4 SYN, which we do not decode */
	ip = gre_outer(&b, 0, GRE_S, 0x22eb);
	pb_erspan3(&b, 0, 200, 2, 0);
	pb_syn4(&b, A4_HOST, A4_BROKER, 3002, 61614, 11, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_TUNNEL_UNSUPPORTED] + st.v[BW_STAT_TUNNEL_INVALID], 1);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
}
END_TEST

START_TEST(gre_not_decoded)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	size_t ip;

	/* version 1 (PPTP enhanced GRE) */
	ip = gre_outer(&b, 0, GRE_K | 1, 0x880b);
	pb_syn4(&b, A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
	/* version 1 with protocol IPv4: still not version 0 */
	ip = gre_outer(&b, 0, 1, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	/* an unknown payload protocol */
	ip = gre_outer(&b, 0, 0, 0x0806);
	pb_fill(&b, 0, 28);
	pb_ipv4_end(&b, ip);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
}
END_TEST

/* ---- VXLAN ------------------------------------------------------------ */

/* Eth(outer tag 100) / IPv4 / UDP -> port / VXLAN(flags) / Eth(inner tags) / IPv4 SYN. */
static void
vxlan_pkt(struct pb *b, uint16_t port, uint8_t flags, int inner_tags)
{
	static const uint16_t otpid = 0x8100, otci = 100, itpid[2] = {0x8100, 0x8100},
			      itci[2] = {7, 8};
	size_t ip, udp;

	pb_init(b);
	pb_eth_tags(b, &otpid, &otci, 1, 0x0800);
	ip = pb_ipv4(b, 17, A4_TUN1, A4_TUN2, 0);
	udp = pb_udp(b, 54321, port);
	pb_vxlan(b, flags, 5000);
	pb_eth_tags(b, itpid, itci, inner_tags, 0x0800);
	pb_syn4(b, A4_HOST, A4_BROKER, 4000, 1883, 12, TH_SYN, 0);
	pb_udp_end(b, udp);
	pb_ipv4_end(b, ip);
}

START_TEST(vxlan_inner_vlan)
{
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 4000, 1883, 12);
	struct bw_stats st;
	struct bw_record rec;

	w.nvlan = 1;
	w.vlan[0] = 7;
	vxlan_pkt(&b, 4789, 0x08, 1);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_VXLAN], 1);
	ck_assert_uint_eq(st.v[BW_STAT_UDP], 1);

	w.nvlan = 2;
	w.vlan[1] = 8;
	vxlan_pkt(&b, 4789, 0x08, 2);
	expect_syn(&b, BW_LINK_ETHERNET, &w);

	w.nvlan = 0;
	vxlan_pkt(&b, 4789, 0x08, 0);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(vxlan_over_ipv6)
{
	struct pb b;
	struct want w = want6(A6_HOST, A6_BROKER, 4001, 1883, 13);
	size_t ip, udp;

	pb_init(&b);
	pb_eth(&b, 0x86dd);
	ip = pb_ipv6(&b, 17, A6_TUN1, A6_TUN2);
	udp = pb_udp(&b, 54321, 4789);
	pb_vxlan(&b, 0x08, 1);
	pb_eth(&b, 0x86dd);
	pb_syn6(&b, A6_HOST, A6_BROKER, 4001, 1883, 13, TH_SYN, 0);
	pb_udp_end(&b, udp);
	pb_ipv6_end(&b, ip);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

START_TEST(vxlan_not_decoded)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	/* I flag clear */
	vxlan_pkt(&b, 4789, 0x00, 1);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
	/* another port */
	vxlan_pkt(&b, 4790, 0x08, 1);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_VXLAN], 0);
	/* the right port as the source only */
	{
		size_t ip, udp;

		pb_init(&b);
		pb_eth(&b, 0x0800);
		ip = pb_ipv4(&b, 17, A4_TUN1, A4_TUN2, 0);
		udp = pb_udp(&b, 4789, 40000);
		pb_vxlan(&b, 0x08, 1);
		pb_eth(&b, 0x0800);
		pb_syn4(&b, A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 0);
		pb_udp_end(&b, udp);
		pb_ipv4_end(&b, ip);
		ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_NONE);
	}
}
END_TEST

START_TEST(vxlan_configured_port)
{
	struct bw_decoder_config cfg;
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_record rec;
	struct pb b;

	bw_decoder_config_default(&cfg);
	cfg.vxlan_port = 8472;
	memset(&st, 0, sizeof(st));
	d = bw_decoder_new(&cfg, &st);
	ck_assert_ptr_nonnull(d);
	vxlan_pkt(&b, 8472, 0x08, 1);
	ck_assert_int_eq(dec(d, b.d, b.n, b.n, BW_LINK_ETHERNET, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(rec.vlan[0], 7);
	vxlan_pkt(&b, 4789, 0x08, 1);
	ck_assert_int_eq(dec(d, b.d, b.n, b.n, BW_LINK_ETHERNET, &rec), BW_DECODE_NONE);
	bw_decoder_free(d);
}
END_TEST

START_TEST(udp_lengths)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	/* UDP length beyond the IP payload */
	vxlan_pkt(&b, 4789, 0x08, 1);
	pb_set16(&b, 18 + 20 + 4, (uint16_t)(b.n - 38 + 1));
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_UDP_INVALID], 1);
	/* below the header's own 8 bytes */
	vxlan_pkt(&b, 4789, 0x08, 1);
	pb_set16(&b, 18 + 20 + 4, 7);
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_UDP_INVALID], 1);
	/* shorter than the VXLAN packet: the inner frame is cut by UDP's own length */
	vxlan_pkt(&b, 4789, 0x08, 1);
	pb_set16(&b, 18 + 20 + 4, 8 + 8 + 14);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
}
END_TEST

/* ---- IP in IP, nesting ------------------------------------------------ */

START_TEST(ipip_all_four)
{
	for (int o6 = 0; o6 <= 1; o6++)
		for (int i6 = 0; i6 <= 1; i6++) {
			struct pb b;
			struct want w = i6 ? want6(A6_HOST, A6_BROKER, 5000, 5222, 14)
					   : want4(A4_HOST, A4_BROKER, 5000, 5222, 14);
			struct bw_stats st;
			struct bw_record rec;
			uint8_t proto = i6 ? 41 : 4;
			size_t ip;
			char ctx[32];

			pb_init(&b);
			pb_eth(&b, o6 ? 0x86dd : 0x0800);
			ip = o6 ? pb_ipv6(&b, proto, A6_TUN1, A6_TUN2)
				: pb_ipv4(&b, proto, A4_TUN1, A4_TUN2, 0);
			if (i6)
				pb_syn6(&b, A6_HOST, A6_BROKER, 5000, 5222, 14, TH_SYN, 0);
			else
				pb_syn4(&b, A4_HOST, A4_BROKER, 5000, 5222, 14, TH_SYN, 0);
			outer_end(&b, o6, ip);
			snprintf(ctx, sizeof(ctx), "%din%d", i6 ? 6 : 4, o6 ? 6 : 4);
			expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
			ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
			ck_assert_uint_eq(st.v[BW_STAT_IPIP], 1);
		}
}
END_TEST

/* levels tunnels of IP in IP (alternating versions) around an IPv4 SYN. */
static void
ipip_nest(struct pb *b, int levels)
{
	size_t off[16];
	int v6[16];

	ck_assert_int_le(levels, 15);
	pb_init(b);
	pb_eth(b, 0x0800);
	for (int i = 0; i < levels; i++) {
		int inner6 = (i + 1) % 2;
		uint8_t proto = i + 1 < levels ? (inner6 ? 41 : 4) : 4;

		v6[i] = i % 2;
		off[i] = v6[i] ? pb_ipv6(b, proto, A6_TUN1, A6_TUN2)
			       : pb_ipv4(b, proto, A4_TUN1, A4_TUN2, 0);
	}
	pb_syn4(b, A4_HOST, A4_BROKER, 6000, 1883, 15, TH_SYN, 0);
	for (int i = levels - 1; i >= 0; i--)
		outer_end(b, v6[i], off[i]);
}

/* "Max 4 levels of tunnels": four decapsulations are decoded, a fifth is too deep. */
START_TEST(nesting_limit)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;

	for (int levels = 1; levels <= 4; levels++) {
		struct want w = want4(A4_HOST, A4_BROKER, 6000, 1883, 15);
		char ctx[32];

		snprintf(ctx, sizeof(ctx), "%d IP-in-IP levels", levels);
		ipip_nest(&b, levels);
		expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, ctx);
	}
	ipip_nest(&b, 5);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_TUNNEL_TOO_DEEP], 1);
	ipip_nest(&b, 15);
	ck_assert_int_ne(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_TUNNEL_TOO_DEEP], 1);
	expect_not_syn(&b, BW_LINK_ETHERNET, ANY_BUT_SYN);
}
END_TEST

/* Four different tunnels in one packet: VXLAN in GRE/TEB in IPv6-in-IPv4 in ERSPAN II. */
START_TEST(nesting_mixed)
{
	static const uint16_t tpid = 0x8100, tci = 9;
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 7777, 8883, 16);
	size_t ip1, ip2, ip3, ip4, udp;

	w.nvlan = 1;
	w.vlan[0] = 9;
	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip1 = pb_ipv4(&b, 47, A4_TUN1, A4_TUN2, 0);
	pb_gre(&b, GRE_S, 0x88be); /* 1: ERSPAN II */
	pb_erspan2(&b, 0, 1);
	pb_eth(&b, 0x0800);
	ip2 = pb_ipv4(&b, 41, A4_TUN1, A4_TUN2, 0); /* 2: 6in4 */
	ip3 = pb_ipv6(&b, 47, A6_TUN1, A6_TUN2);
	pb_gre(&b, 0, 0x6558); /* 3: TEB */
	pb_eth(&b, 0x0800);
	ip4 = pb_ipv4(&b, 17, A4_TUN1, A4_TUN2, 0);
	udp = pb_udp(&b, 1, 4789); /* 4: VXLAN */
	pb_vxlan(&b, 0x08, 2);
	pb_eth_tags(&b, &tpid, &tci, 1, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 7777, 8883, 16, TH_SYN, 0);
	pb_udp_end(&b, udp);
	pb_ipv4_end(&b, ip4);
	pb_ipv6_end(&b, ip3);
	pb_ipv4_end(&b, ip2);
	pb_ipv4_end(&b, ip1);
	expect_syn(&b, BW_LINK_ETHERNET, &w);
}
END_TEST

/* The VLAN tags of the frame that carries a tunnel are not the record's (spec.md). */
START_TEST(tunnel_transport_vlan_not_reported)
{
	static const uint16_t tpid[2] = {0x88a8, 0x8100}, tci[2] = {10, 11};
	struct pb b;
	struct want w = want4(A4_HOST, A4_BROKER, 8000, 1883, 17);
	size_t ip;

	/* GRE carrying IPv4: no inner Ethernet frame */
	pb_init(&b);
	pb_eth_tags(&b, tpid, tci, 2, 0x0800);
	ip = pb_ipv4(&b, 47, A4_TUN1, A4_TUN2, 0);
	pb_gre(&b, 0, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 8000, 1883, 17, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, "GRE under two tags");
	/* IP in IPv6 */
	pb_init(&b);
	pb_eth_tags(&b, tpid, tci, 1, 0x86dd);
	ip = pb_ipv6(&b, 4, A6_TUN1, A6_TUN2);
	pb_syn4(&b, A4_HOST, A4_BROKER, 8000, 1883, 17, TH_SYN, 0);
	pb_ipv6_end(&b, ip);
	expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, "4in6 under a tag");
	/* the frame's own tags stay when there is no tunnel */
	w.nvlan = 2;
	w.vlan[0] = 10;
	w.vlan[1] = 11;
	pb_init(&b);
	pb_eth_tags(&b, tpid, tci, 2, 0x0800);
	pb_syn4(&b, A4_HOST, A4_BROKER, 8000, 1883, 17, TH_SYN, 0);
	expect_syn_ctx(&b, BW_LINK_ETHERNET, &w, "no tunnel");
}
END_TEST

/* An inner header that claims more than its tunnel carried is a lie, not a truncation. */
START_TEST(inner_lengths_lie)
{
	struct pb b;
	struct bw_stats st;
	struct bw_record rec;
	size_t ip, inner;

	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 47, A4_TUN1, A4_TUN2, 0);
	pb_gre(&b, 0, 0x0800);
	inner = b.n;
	pb_syn4(&b, A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 0);
	pb_ipv4_end(&b, ip);
	pb_set16(&b, inner + 2, (uint16_t)(b.n - inner + 1));
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_IPV4_INVALID], 1);

	pb_init(&b);
	pb_eth(&b, 0x86dd);
	ip = pb_ipv6(&b, 41, A6_TUN1, A6_TUN2);
	inner = b.n;
	pb_syn6(&b, A6_HOST, A6_BROKER, 1, 2, 3, TH_SYN, 0);
	pb_ipv6_end(&b, ip);
	pb_set16(&b, inner + 4, (uint16_t)(b.n - inner - 40 + 1));
	ck_assert_int_eq(dec1(&b, BW_LINK_ETHERNET, &st, &rec), BW_DECODE_INVALID);
	ck_assert_uint_eq(st.v[BW_STAT_IPV6_INVALID], 1);
}
END_TEST

/* ---- robustness ------------------------------------------------------- */

/*
 * Random byte changes to good packets of every kind: whatever the decoder
 * answers, it answers with one of its results and reads nothing it was not
 * given (ASan), and a SYN it reports has a family of 4 or 6.
 */
START_TEST(mutations)
{
	struct pb pk[8];
	enum bw_link links[8];
	struct unit_rng r = {0xfa22};
	struct bw_stats st;
	struct bw_decoder *d;
	size_t np = 0;

	{
		static const uint16_t tpid[3] = {0x88a8, 0x8100, 0x8100}, tci[3] = {1, 2, 3};

		vlan_syn(&pk[np], tpid, tci, 3);
		links[np++] = BW_LINK_ETHERNET;
	}
	{
		static const uint8_t types[4] = {0, 43, 44, 60};

		ext_chain(&pk[np], types, 4);
		links[np++] = BW_LINK_ETHERNET;
	}
	vxlan_pkt(&pk[np], 4789, 0x08, 2);
	links[np++] = BW_LINK_ETHERNET;
	ipip_nest(&pk[np], 4);
	links[np++] = BW_LINK_ETHERNET;
	{
		size_t ip = gre_outer(&pk[np], 1, GRE_S, 0x22eb);

		pb_erspan3(&pk[np], 0, 1, 0, 1);
		pb_eth(&pk[np], 0x0800);
		pb_syn4(&pk[np], A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 40);
		pb_ipv6_end(&pk[np], ip);
		links[np++] = BW_LINK_ETHERNET;
	}
	pb_init(&pk[np]);
	pb_sll2(&pk[np], 0x86dd);
	pb_syn6(&pk[np], A6_HOST, A6_BROKER, 1, 2, 3, TH_SYN, 8);
	links[np++] = BW_LINK_SLL2;
	pb_init(&pk[np]);
	pb_null(&pk[np], 2, 1);
	pb_syn4(&pk[np], A4_HOST, A4_BROKER, 1, 2, 3, TH_SYN, 8);
	links[np++] = BW_LINK_NULL;
	pb_init(&pk[np]);
	pb_eth(&pk[np], 0x0800);
	{
		size_t ip = pb_ipv4(&pk[np], 47, A4_TUN1, A4_TUN2, 12);

		pb_gre(&pk[np], GRE_C | GRE_K | GRE_S, 0x86dd);
		pb_syn6(&pk[np], A6_HOST, A6_BROKER, 1, 2, 3, TH_SYN, 0);
		pb_ipv4_end(&pk[np], ip);
	}
	links[np++] = BW_LINK_ETHERNET;

	memset(&st, 0, sizeof(st));
	d = mkdec(&st);
	for (int iter = 0; iter < 200000; iter++) {
		size_t i = unit_below(&r, (uint32_t)np);
		struct pb m = pk[i];
		struct bw_record rec;
		enum bw_decode_result res;
		int nflip = 1 + (int)unit_below(&r, 4);
		size_t cap;

		for (int f = 0; f < nflip; f++) {
			size_t at = unit_below(&r, (uint32_t)m.n);

			m.d[at] = unit_below(&r, 2) ? (uint8_t)unit_rand(&r)
						    : (uint8_t)(m.d[at] ^ (1u << unit_below(&r, 8)));
		}
		cap = unit_below(&r, 4) == 0 ? unit_below(&r, (uint32_t)m.n + 1) : m.n;
		res = dec(d, m.d, cap, m.n + unit_below(&r, 3), links[i], &rec);
		ck_assert_msg(res >= BW_DECODE_UNSUPPORTED && res <= BW_DECODE_SYN,
		    "result %d is not a bw_decode_result", (int)res);
		if (res == BW_DECODE_SYN) {
			ck_assert(rec.family == 4 || rec.family == 6);
			ck_assert_uint_le(rec.nvlan, BW_VLAN_MAX);
		}
	}
	bw_decoder_free(d);
}
END_TEST

static Suite *
decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc;

	tc = tcase_create("link");
	tcase_add_test(tc, linktype_mapping);
	tcase_add_test(tc, config_defaults);
	tcase_add_test(tc, unsupported_link);
	suite_add_tcase(s, tc);

	tc = tcase_create("ethernet");
	tcase_add_test(tc, eth_ipv4_syn);
	tcase_add_test(tc, eth_ipv6_syn);
	tcase_add_test(tc, eth_padding_ignored);
	tcase_add_test(tc, eth_not_ip);
	tcase_add_test(tc, eth_short);
	tcase_add_test(tc, record_time_and_ifname);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan");
	tcase_add_test(tc, vlan_stacks);
	tcase_add_test(tc, vlan_each_tpid);
	tcase_add_test(tc, vlan_vid_0_and_4095);
	tcase_add_test(tc, vlan_nine_tags_invalid);
	tcase_add_test(tc, vlan_ipv6_and_not_ip);
	suite_add_tcase(s, tc);

	tc = tcase_create("sll");
	tcase_add_test(tc, sll_v1);
	suite_add_tcase(s, tc);
	tc = tcase_create("sll2");
	tcase_add_test(tc, sll_v2);
	suite_add_tcase(s, tc);
	tc = tcase_create("raw");
	tcase_add_test(tc, raw_links);
	suite_add_tcase(s, tc);
	tc = tcase_create("null");
	tcase_add_test(tc, null_loopback);
	suite_add_tcase(s, tc);
	tc = tcase_create("loop");
	tcase_add_test(tc, loop_loopback);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipv4");
	tcase_add_test(tc, ipv4_options);
	tcase_add_test(tc, ipv4_ihl_below_5);
	tcase_add_test(tc, ipv4_lengths);
	tcase_add_test(tc, ipv4_padding_shrinks_length);
	tcase_add_test(tc, ipv4_other_protocols);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipv6");
	tcase_add_test(tc, ipv6_each_extension);
	tcase_add_test(tc, ipv6_eight_extensions);
	tcase_add_test(tc, ipv6_nine_extensions);
	tcase_add_test(tc, ipv6_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_test(tc, tcp_flags);
	tcase_add_test(tc, tcp_options_and_payload);
	tcase_add_test(tc, tcp_data_offset_invalid);
	tcase_add_test(tc, tcp_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("gre");
	tcase_add_test(tc, gre_plain_and_optional_fields);
	tcase_add_test(tc, gre_teb);
	tcase_add_test(tc, gre_not_decoded);
	suite_add_tcase(s, tc);

	tc = tcase_create("erspan");
	tcase_add_test(tc, erspan_type1);
	tcase_add_test(tc, erspan_type2);
	tcase_add_test(tc, erspan_type3);
	tcase_add_test(tc, erspan_type3_frame_type_not_ethernet);
	suite_add_tcase(s, tc);

	tc = tcase_create("vxlan");
	tcase_add_test(tc, vxlan_inner_vlan);
	tcase_add_test(tc, vxlan_over_ipv6);
	tcase_add_test(tc, vxlan_not_decoded);
	tcase_add_test(tc, vxlan_configured_port);
	tcase_add_test(tc, udp_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipip");
	tcase_add_test(tc, ipip_all_four);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, nesting_mixed);
	tcase_add_test(tc, tunnel_transport_vlan_not_reported);
	tcase_add_test(tc, inner_lengths_lie);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_test(tc, mutations);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(decode_suite());
}
