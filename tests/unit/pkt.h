/*
 * pkt.h - packets built byte by byte for the decoder tests.
 *
 * Headers are appended outside in; each IP/UDP builder returns its offset and
 * a matching _end() call, made inside out, fills in the length (and the IPv4
 * header checksum). Nothing here casts to a header struct: like the decoder,
 * the tests only know wire layouts.
 */
#ifndef BW_UNIT_PKT_H
#define BW_UNIT_PKT_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#define PB_MAX 4096

struct pb {
	uint8_t d[PB_MAX];
	size_t n;
	size_t tcp_off; /* offset of the last TCP header appended */
};

/* Addresses used throughout (documentation and private ranges). */
static const uint8_t A4_HOST[4] = {10, 1, 2, 3};
static const uint8_t A4_BROKER[4] = {203, 0, 113, 7};
static const uint8_t A4_TUN1[4] = {192, 168, 0, 1};
static const uint8_t A4_TUN2[4] = {192, 168, 0, 2};
static const uint8_t A6_HOST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};
static const uint8_t A6_BROKER[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x99};
static const uint8_t A6_TUN1[16] = {0x20, 0x01, 0x0d, 0xb8, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t A6_TUN2[16] = {0x20, 0x01, 0x0d, 0xb8, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

static inline void
pb_init(struct pb *b)
{
	memset(b, 0, sizeof(*b));
}

static inline void
pb_bytes(struct pb *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, PB_MAX);
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static inline void
pb_fill(struct pb *b, uint8_t v, size_t n)
{
	ck_assert_uint_le(b->n + n, PB_MAX);
	memset(b->d + b->n, v, n);
	b->n += n;
}

static inline void
pb_u8(struct pb *b, uint8_t v)
{
	pb_bytes(b, &v, 1);
}

static inline void
pb_u16(struct pb *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	pb_bytes(b, x, 2);
}

static inline void
pb_u32(struct pb *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	pb_bytes(b, x, 4);
}

static inline void
pb_set16(struct pb *b, size_t off, uint16_t v)
{
	b->d[off] = (uint8_t)(v >> 8);
	b->d[off + 1] = (uint8_t)v;
}

/* Ethernet II with ntags 802.1Q/802.1ad tags (tpid[i], tci[i]), outermost first. */
static inline void
pb_eth_tags(struct pb *b, const uint16_t *tpid, const uint16_t *tci, int ntags, uint16_t type)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	pb_bytes(b, mac, sizeof(mac));
	for (int i = 0; i < ntags; i++) {
		pb_u16(b, tpid[i]);
		pb_u16(b, tci[i]);
	}
	pb_u16(b, type);
}

static inline void
pb_eth(struct pb *b, uint16_t type)
{
	pb_eth_tags(b, NULL, NULL, 0, type);
}

/* Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address, protocol. */
static inline void
pb_sll(struct pb *b, uint16_t proto)
{
	static const uint8_t addr[8] = {2, 0, 0, 0, 0, 2, 0, 0};

	pb_u16(b, 4); /* outgoing */
	pb_u16(b, 1);
	pb_u16(b, 6);
	pb_bytes(b, addr, 8);
	pb_u16(b, proto);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
static inline void
pb_sll2(struct pb *b, uint16_t proto)
{
	static const uint8_t addr[8] = {2, 0, 0, 0, 0, 2, 0, 0};

	pb_u16(b, proto);
	pb_u16(b, 0);
	pb_u32(b, 3);
	pb_u16(b, 1);
	pb_u8(b, 4);
	pb_u8(b, 6);
	pb_bytes(b, addr, 8);
}

/* BSD NULL: 4-byte address family, little- or big-endian. */
static inline void
pb_null(struct pb *b, uint32_t af, int little)
{
	if (little) {
		uint8_t x[4] = {(uint8_t)af, (uint8_t)(af >> 8), (uint8_t)(af >> 16),
		    (uint8_t)(af >> 24)};

		pb_bytes(b, x, 4);
	} else {
		pb_u32(b, af);
	}
}

static inline uint16_t
pb_cksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * IPv4 header with optlen bytes of options (NOPs then EOL), TTL 64, DF.
 * Returns its offset for pb_ipv4_end.
 */
static inline size_t
pb_ipv4(struct pb *b, uint8_t proto, const uint8_t *src, const uint8_t *dst, size_t optlen)
{
	size_t off = b->n;

	ck_assert_uint_eq(optlen % 4, 0);
	ck_assert_uint_le(optlen, 40);
	pb_u8(b, (uint8_t)(0x40 | (5 + optlen / 4)));
	pb_u8(b, 0);
	pb_u16(b, 0);      /* total length: pb_ipv4_end */
	pb_u16(b, 0x1234); /* id */
	pb_u16(b, 0x4000); /* DF */
	pb_u8(b, 64);
	pb_u8(b, proto);
	pb_u16(b, 0);
	pb_bytes(b, src, 4);
	pb_bytes(b, dst, 4);
	if (optlen > 0) {
		pb_fill(b, 1, optlen - 1);
		pb_u8(b, 0);
	}
	return off;
}

/* Sets total length to everything appended since off, and the checksum. */
static inline void
pb_ipv4_end(struct pb *b, size_t off)
{
	size_t ihl = (size_t)(b->d[off] & 0x0f) * 4;

	pb_set16(b, off + 2, (uint16_t)(b->n - off));
	pb_set16(b, off + 10, 0);
	pb_set16(b, off + 10, pb_cksum(b->d + off, ihl));
}

/* Fragment fields: id, offset in bytes (a multiple of 8), MF. Call before pb_ipv4_end. */
static inline void
pb_ipv4_frag(struct pb *b, size_t off, uint16_t id, uint32_t frag_off, int mf)
{
	ck_assert_uint_eq(frag_off % 8, 0);
	pb_set16(b, off + 4, id);
	pb_set16(b, off + 6, (uint16_t)((mf ? 0x2000 : 0) | frag_off / 8));
}

/* IPv6 header; returns its offset for pb_ipv6_end. */
static inline size_t
pb_ipv6(struct pb *b, uint8_t next, const uint8_t *src, const uint8_t *dst)
{
	size_t off = b->n;

	pb_u32(b, 0x60000000u);
	pb_u16(b, 0); /* payload length: pb_ipv6_end */
	pb_u8(b, next);
	pb_u8(b, 64);
	pb_bytes(b, src, 16);
	pb_bytes(b, dst, 16);
	return off;
}

static inline void
pb_ipv6_end(struct pb *b, size_t off)
{
	pb_set16(b, off + 4, (uint16_t)(b->n - off - 40));
}

/*
 * A generic IPv6 extension header (hop-by-hop, routing, destination options,
 * mobility, HIP, shim6): next, length in 8-octet units beyond the first 8,
 * and zeros (Pad1 options; routing type 0 with segments left 0).
 */
static inline void
pb_ext6(struct pb *b, uint8_t next, uint8_t len8)
{
	pb_u8(b, next);
	pb_u8(b, len8);
	pb_fill(b, 0, 6 + 8 * (size_t)len8);
}

/* An authentication header with a 12-byte ICV: 24 bytes, length field (24 / 4) - 2. */
static inline void
pb_ah6(struct pb *b, uint8_t next)
{
	pb_u8(b, next);
	pb_u8(b, 24 / 4 - 2);
	pb_u16(b, 0);
	pb_u32(b, 0x100);  /* SPI */
	pb_u32(b, 1);      /* sequence */
	pb_fill(b, 0xab, 12);
}

/* An IPv6 fragment header: offset in bytes (a multiple of 8), M flag, id. */
static inline void
pb_frag6(struct pb *b, uint8_t next, uint32_t frag_off, int m, uint32_t id)
{
	ck_assert_uint_eq(frag_off % 8, 0);
	pb_u8(b, next);
	pb_u8(b, 0);
	pb_u16(b, (uint16_t)(frag_off | (m ? 1 : 0)));
	pb_u32(b, id);
}

/*
 * TCP header with optlen bytes of options (MSS first when there is room, NOPs
 * after) and the data offset that covers them; window 64240. Returns its offset.
 */
static inline size_t
pb_tcp(struct pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, size_t optlen)
{
	size_t off = b->n;

	ck_assert_uint_eq(optlen % 4, 0);
	ck_assert_uint_le(optlen, 40);
	b->tcp_off = off;
	pb_u16(b, sport);
	pb_u16(b, dport);
	pb_u32(b, seq);
	pb_u32(b, (flags & TH_ACK) ? 0x01020304u : 0);
	pb_u8(b, (uint8_t)((5 + optlen / 4) << 4));
	pb_u8(b, flags);
	pb_u16(b, 64240);
	pb_u16(b, 0); /* checksum: not verified by a sensor */
	pb_u16(b, 0);
	if (optlen >= 4) {
		pb_u8(b, 2);
		pb_u8(b, 4);
		pb_u16(b, 1460);
		pb_fill(b, 1, optlen - 4);
	}
	return off;
}

/* UDP header; returns its offset for pb_udp_end. */
static inline size_t
pb_udp(struct pb *b, uint16_t sport, uint16_t dport)
{
	size_t off = b->n;

	pb_u16(b, sport);
	pb_u16(b, dport);
	pb_u16(b, 0);
	pb_u16(b, 0);
	return off;
}

static inline void
pb_udp_end(struct pb *b, size_t off)
{
	pb_set16(b, off + 4, (uint16_t)(b->n - off));
}

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

/* GRE (RFC 2784/2890): flags and version, protocol, then checksum, key, sequence as flagged. */
static inline void
pb_gre(struct pb *b, uint16_t flags, uint16_t proto)
{
	pb_u16(b, flags);
	pb_u16(b, proto);
	if (flags & GRE_C)
		pb_u32(b, 0xbeef0000u); /* checksum + reserved1 */
	if (flags & GRE_K)
		pb_u32(b, 0x0000abcdu);
	if (flags & GRE_S)
		pb_u32(b, 0x00000007u);
}

/* ERSPAN type II header (8 bytes): version 1, VLAN, COS/En/T, session, index. */
static inline void
pb_erspan2(struct pb *b, uint16_t vlan, uint16_t session)
{
	pb_u16(b, (uint16_t)(1 << 12 | (vlan & 0x0fff)));
	pb_u16(b, (uint16_t)(session & 0x03ff));
	pb_u32(b, 0x00000001u);
}

/*
 * ERSPAN type III header (12 bytes, +8 with the O bit): version 2, VLAN,
 * session, timestamp, SGT, P/FT/HwID/D/Gra/O.
 */
static inline void
pb_erspan3(struct pb *b, uint16_t vlan, uint16_t session, uint8_t ft, int o)
{
	pb_u16(b, (uint16_t)(2 << 12 | (vlan & 0x0fff)));
	pb_u16(b, (uint16_t)(session & 0x03ff));
	pb_u32(b, 0x11223344u); /* timestamp */
	pb_u16(b, 0x0005);      /* SGT */
	pb_u8(b, (uint8_t)((ft & 0x1f) << 2));
	pb_u8(b, (uint8_t)(0x02 << 1 | (o ? 1 : 0))); /* Gra 01, O */
	if (o) {
		pb_u32(b, 0x0c000000u); /* platform id 3 */
		pb_u32(b, 0x55667788u);
	}
}

/* VXLAN header: flags, reserved, VNI, reserved. */
static inline void
pb_vxlan(struct pb *b, uint8_t flags, uint32_t vni)
{
	pb_u8(b, flags);
	pb_fill(b, 0, 3);
	pb_u32(b, vni << 8);
}

/* An IPv4 TCP segment, complete. */
static inline void
pb_syn4(struct pb *b, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
    uint32_t seq, uint8_t flags, size_t optlen)
{
	size_t ip = pb_ipv4(b, 6, src, dst, 0);

	pb_tcp(b, sport, dport, seq, flags, optlen);
	pb_ipv4_end(b, ip);
}

/* An IPv6 TCP segment, complete. */
static inline void
pb_syn6(struct pb *b, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
    uint32_t seq, uint8_t flags, size_t optlen)
{
	size_t ip = pb_ipv6(b, 6, src, dst);

	pb_tcp(b, sport, dport, seq, flags, optlen);
	pb_ipv6_end(b, ip);
}

#endif
