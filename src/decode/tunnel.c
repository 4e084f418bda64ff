/*
 * tunnel.c - what span sessions and cloud mirrors wrap traffic in: GRE
 * (RFC 2784/2890) with transparent Ethernet bridging and ERSPAN types I, II
 * and III, and VXLAN (RFC 7348) over UDP, as AWS VPC traffic mirroring sends
 * it.   [capture]
 */
#include "decode-int.h"

#define UDP_HLEN 8
#define VXLAN_HLEN 8
#define GRE_HLEN 4
#define ERSPAN2_HLEN 8
#define ERSPAN3_HLEN 12
#define ERSPAN3_SUBHDR 8

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VERSION 0x0007

#define GRE_PROTO_IPV4 0x0800
#define GRE_PROTO_IPV6 0x86dd
#define GRE_PROTO_TEB 0x6558     /* transparent Ethernet bridging */
#define GRE_PROTO_ERSPAN2 0x88be /* type II, or type I when the S bit is clear */
#define GRE_PROTO_ERSPAN3 0x22eb

enum bw_decode_result
bw_dec_udp(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	size_t ulen;

	if (len < UDP_HLEN)
		return dec_short(c, UDP_HLEN, wlen, BW_STAT_UDP_TRUNCATED, BW_STAT_UDP_INVALID);
	bw_stats_inc(c->st, BW_STAT_UDP);
	if (bw_be16(p + 2) != c->d->cfg.vxlan_port)
		return BW_DECODE_NONE;
	ulen = bw_be16(p + 4);
	if (ulen < UDP_HLEN || ulen > wlen)
		return dec_invalid(c, BW_STAT_UDP_INVALID);
	wlen = ulen;
	if (len > ulen)
		len = ulen;
	p += UDP_HLEN;
	len -= UDP_HLEN;
	wlen -= UDP_HLEN;

	/* RFC 7348: flags (I = 0x08 must be set), reserved, VNI, reserved */
	if (len < VXLAN_HLEN)
		return dec_short(c, VXLAN_HLEN, wlen, BW_STAT_TUNNEL_TRUNCATED,
		    BW_STAT_TUNNEL_INVALID);
	if ((p[0] & 0x08) == 0)
		return dec_invalid(c, BW_STAT_TUNNEL_INVALID);
	if (dec_tunnel_enter(c) < 0)
		return BW_DECODE_UNSUPPORTED;
	bw_stats_inc(c->st, BW_STAT_VXLAN);
	return bw_dec_ether(c, p + VXLAN_HLEN, len - VXLAN_HLEN, wlen - VXLAN_HLEN);
}

/* Not decoded: counted, and no record can come of it. */
static enum bw_decode_result
gre_unsupported(struct dctx *c)
{
	bw_stats_inc(c->st, BW_STAT_TUNNEL_UNSUPPORTED);
	return BW_DECODE_UNSUPPORTED;
}

/* A mirror that cut the frame says so (ERSPAN T bit): its lengths cannot be checked. */
static size_t
mirror_wlen(int truncated, size_t len, size_t wlen)
{
	if (!truncated)
		return wlen;
	return len > BW_WLEN_UNKNOWN ? len : BW_WLEN_UNKNOWN;
}

/* ERSPAN type II and III headers, then the mirrored Ethernet frame. */
static enum bw_decode_result
dec_erspan(struct dctx *c, int type3, const uint8_t *p, size_t len, size_t wlen)
{
	size_t hlen = type3 ? ERSPAN3_HLEN : ERSPAN2_HLEN;
	int truncated;

	if (len < hlen)
		return dec_short(c, hlen, wlen, BW_STAT_TUNNEL_TRUNCATED, BW_STAT_TUNNEL_INVALID);
	/* Ver(4) VLAN(12) | COS(3) En/BSO(2) T(1) SessionID(10) */
	if (p[0] >> 4 != (type3 ? 2 : 1))
		return gre_unsupported(c);
	truncated = (p[2] >> 2) & 1;
	if (type3) {
		/* ... | SGT(16) P(1) FT(5) HW(6) D(1) Gra(2) O(1): FT 0 is Ethernet */
		if (((p[10] >> 2) & 0x1f) != 0)
			return gre_unsupported(c);
		if (p[11] & 0x01)
			hlen += ERSPAN3_SUBHDR;
		if (len < hlen)
			return dec_short(c, hlen, wlen, BW_STAT_TUNNEL_TRUNCATED,
			    BW_STAT_TUNNEL_INVALID);
	}
	bw_stats_inc(c->st, BW_STAT_ERSPAN);
	return bw_dec_ether(c, p + hlen, len - hlen, mirror_wlen(truncated, len - hlen, wlen - hlen));
}

enum bw_decode_result
bw_dec_gre(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	uint16_t flags, proto;
	size_t hlen = GRE_HLEN;

	if (len < GRE_HLEN)
		return dec_short(c, GRE_HLEN, wlen, BW_STAT_TUNNEL_TRUNCATED, BW_STAT_TUNNEL_INVALID);
	flags = bw_be16(p);
	/* version 1 is PPTP's enhanced GRE; source routing (RFC 1701) is obsolete */
	if ((flags & GRE_VERSION) != 0 || (flags & GRE_R) != 0)
		return gre_unsupported(c);
	hlen += (flags & GRE_C) ? 4 : 0;
	hlen += (flags & GRE_K) ? 4 : 0;
	hlen += (flags & GRE_S) ? 4 : 0;
	if (len < hlen)
		return dec_short(c, hlen, wlen, BW_STAT_TUNNEL_TRUNCATED, BW_STAT_TUNNEL_INVALID);
	proto = bw_be16(p + 2);
	p += hlen;
	len -= hlen;
	wlen -= hlen;
	switch (proto) {
	case GRE_PROTO_IPV4:
	case GRE_PROTO_IPV6:
	case GRE_PROTO_TEB:
	case GRE_PROTO_ERSPAN2:
	case GRE_PROTO_ERSPAN3:
		break;
	default:
		return gre_unsupported(c);
	}
	if (dec_tunnel_enter(c) < 0)
		return BW_DECODE_UNSUPPORTED;
	bw_stats_inc(c->st, BW_STAT_GRE);
	switch (proto) {
	case GRE_PROTO_IPV4:
		return bw_dec_ipv4(c, p, len, wlen);
	case GRE_PROTO_IPV6:
		return bw_dec_ipv6(c, p, len, wlen);
	case GRE_PROTO_TEB:
		return bw_dec_ether(c, p, len, wlen);
	case GRE_PROTO_ERSPAN2:
		if ((flags & GRE_S) == 0) {     /* type I: the frame follows GRE directly */
			bw_stats_inc(c->st, BW_STAT_ERSPAN);
			return bw_dec_ether(c, p, len, wlen);
		}
		return dec_erspan(c, 0, p, len, wlen);
	default:
		return dec_erspan(c, 1, p, len, wlen);
	}
}
