/*
 * ip.c - IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers, fragments
 * handed to reassembly, and the dispatch to the transport.   [capture]
 */
#include <string.h>

#include "decode-int.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_IPIP_ 4
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_IPV6_ 41
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_GRE_ 47
#define IPPROTO_AH_ 51
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_ 135
#define IPPROTO_HIP_ 139
#define IPPROTO_SHIM6_ 140

/* Protocols the decoder follows: only their fragments are worth reassembling. */
static int
proto_followed(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP_:
	case IPPROTO_UDP_:
	case IPPROTO_GRE_:
	case IPPROTO_IPIP_:
	case IPPROTO_IPV6_:
		return 1;
	default:
		return 0;
	}
}

enum bw_decode_result
bw_dec_l4(struct dctx *c, uint8_t proto, const uint8_t *p, size_t len, size_t wlen)
{
	switch (proto) {
	case IPPROTO_TCP_:
		return bw_dec_tcp(c, p, len, wlen);
	case IPPROTO_UDP_:
		return bw_dec_udp(c, p, len, wlen);
	case IPPROTO_GRE_:
		return bw_dec_gre(c, p, len, wlen);
	case IPPROTO_IPIP_:
		if (dec_tunnel_enter(c) < 0)
			return BW_DECODE_UNSUPPORTED;
		bw_stats_inc(c->st, BW_STAT_IPIP);
		return bw_dec_ipv4(c, p, len, wlen);
	case IPPROTO_IPV6_:
		if (dec_tunnel_enter(c) < 0)
			return BW_DECODE_UNSUPPORTED;
		bw_stats_inc(c->st, BW_STAT_IPIP);
		return bw_dec_ipv6(c, p, len, wlen);
	default:
		bw_stats_inc(c->st, BW_STAT_IP_OTHER);
		return BW_DECODE_NONE;
	}
}

/*
 * With a loose or strict source route (RFC 791 3.1) not yet completed, the
 * connection's far end is the route's last address, not the header's next
 * hop: it is what the receiving TCP sees and what its checksum covers. Once
 * the pointer has passed the end, the header holds the final destination (as
 * Wireshark decides it). Malformed options leave the header's address.
 */
static void
ipv4_final_dst(const uint8_t *p, size_t ihl, uint8_t *dst)
{
	size_t i = 20;

	while (i < ihl) {
		uint8_t type = p[i];
		size_t olen, ptr;

		if (type == 0)                  /* end of option list */
			return;
		if (type == 1) {                /* no-operation */
			i++;
			continue;
		}
		if (ihl - i < 2 || (olen = p[i + 1]) < 2 || olen > ihl - i)
			return;
		if ((type == 131 || type == 137) && olen >= 7) {
			ptr = p[i + 2];
			if (ptr >= 4 && ptr % 4 == 0 && ptr <= olen)
				memcpy(dst, p + i + olen - 4, 4);
			return;
		}
		i += olen;
	}
}

enum bw_decode_result
bw_dec_ipv4(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	struct bw_record *out = c->out;
	size_t ihl, tot;
	uint16_t frag;
	uint8_t proto;

	if (len < IPV4_HLEN)
		return dec_short(c, IPV4_HLEN, wlen, BW_STAT_IPV4_TRUNCATED, BW_STAT_IPV4_INVALID);
	if (p[0] >> 4 != 4)
		return dec_invalid(c, BW_STAT_IPV4_INVALID);
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN)
		return dec_invalid(c, BW_STAT_IPV4_INVALID);
	tot = bw_be16(p + 2);
	/* the datagram claims more than the frame had, or less than its own header */
	if (tot < ihl || tot > wlen)
		return dec_invalid(c, BW_STAT_IPV4_INVALID);
	if (len < ihl)
		return dec_short(c, ihl, wlen, BW_STAT_IPV4_TRUNCATED, BW_STAT_IPV4_INVALID);
	bw_stats_inc(c->st, BW_STAT_IPV4);
	if (ihl > IPV4_HLEN)
		bw_stats_inc(c->st, BW_STAT_IPV4_OPTIONS);
	/* bytes after the total length are link padding */
	wlen = tot;
	if (len > tot)
		len = tot;

	out->family = 4;
	memcpy(out->src, p + 12, 4);
	memcpy(out->dst, p + 16, 4);
	if (ihl > IPV4_HLEN)
		ipv4_final_dst(p, ihl, out->dst);
	proto = p[9];
	frag = bw_be16(p + 6);
	if ((frag & 0x3fff) == 0)       /* MF clear, offset 0: not a fragment */
		return bw_dec_l4(c, proto, p + ihl, len - ihl, wlen - ihl);

	bw_stats_inc(c->st, BW_STAT_FRAG_IPV4);
	if (!proto_followed(proto)) {
		bw_stats_inc(c->st, BW_STAT_FRAG_IGNORED);
		return BW_DECODE_NONE;
	}
	struct bw_frag_key key;
	struct bw_frag_piece piece;
	struct bw_frag_datagram dg;

	memset(&key, 0, sizeof(key));
	memcpy(key.src, p + 12, 4);
	memcpy(key.dst, p + 16, 4);
	key.id = bw_be16(p + 4);
	key.family = 4;
	key.proto = proto;
	piece.offset = (uint32_t)(frag & 0x1fff) * 8;
	piece.len = (uint32_t)(wlen - ihl);
	piece.caplen = (uint32_t)(len - ihl);
	piece.data = p + ihl;
	piece.more = (frag & 0x2000) != 0;
	piece.next = proto;
	if (bw_frag_add(c->d->frag, &key, c->pkt->ts_ns, &piece, &dg) != BW_FRAG_COMPLETE)
		return BW_DECODE_NONE;
	/* the datagram's addresses are this fragment's (the key guarantees it) */
	return bw_dec_l4(c, dg.next, dg.data, dg.caplen, dg.len);
}

/*
 * A routing header with segments left names the final destination (RFC 8200
 * 8.1: the one the transport checksum uses): the last address of type 0
 * (deprecated, RFC 5095) and type 2 (RFC 6275), Segment List[0] of a segment
 * routing header (type 4, RFC 8754).
 */
static void
ipv6_final_dst(const uint8_t *p, size_t hlen, uint8_t *dst)
{
	uint8_t type = p[2], left = p[3];

	if (left == 0 || hlen < 24)
		return;
	if (type == 0 || type == 2)
		memcpy(dst, p + 8 + ((hlen - 8) / 16 - 1) * 16, 16);
	else if (type == 4)
		memcpy(dst, p + 8, 16);
}

/*
 * The chain of IPv6 extension headers from next header nh onwards, then the
 * transport. A fragment header hands the rest to reassembly, and the walk goes
 * on in the reassembled part (where another fragment header is invalid). base
 * is the fixed header (the addresses of the fragment key).
 */
static enum bw_decode_result
ipv6_chain(struct dctx *c, uint8_t nh, const uint8_t *base, const uint8_t *p, size_t len,
    size_t wlen)
{
	struct bw_frag_key key;
	struct bw_frag_piece piece;
	struct bw_frag_datagram dg;
	int frag_ok = 1;
	size_t hlen;
	uint16_t off;

	for (int n = 0;; n++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_MH_:
		case IPPROTO_HIP_:
		case IPPROTO_SHIM6_:
		case IPPROTO_AH_:
		case IPPROTO_FRAGMENT_:
			break;
		case IPPROTO_NONE_:
			bw_stats_inc(c->st, BW_STAT_IP_OTHER);
			return BW_DECODE_NONE;
		default:
			return bw_dec_l4(c, nh, p, len, wlen);
		}
		if (n == BW_IPV6_EXT_MAX) {
			bw_stats_inc(c->st, BW_STAT_IPV6_EXT_TOO_MANY);
			return dec_invalid(c, BW_STAT_IPV6_INVALID);
		}
		bw_stats_inc(c->st, BW_STAT_IPV6_EXT);
		if (nh != IPPROTO_FRAGMENT_) {
			if (len < 2)
				return dec_short(c, 2, wlen, BW_STAT_IPV6_TRUNCATED,
				    BW_STAT_IPV6_INVALID);
			/* RFC 8200 4.3: (len + 1) * 8 bytes; AH (RFC 4302): (len + 2) * 4 */
			hlen = nh == IPPROTO_AH_ ? ((size_t)p[1] + 2) * 4 : ((size_t)p[1] + 1) * 8;
			if (len < hlen)
				return dec_short(c, hlen, wlen, BW_STAT_IPV6_TRUNCATED,
				    BW_STAT_IPV6_INVALID);
			if (nh == IPPROTO_ROUTING_)
				ipv6_final_dst(p, hlen, c->out->dst);
			nh = p[0];
			p += hlen;
			len -= hlen;
			wlen -= hlen;
			continue;
		}

		/* RFC 8200 4.5: the fragment header */
		if (len < 8)
			return dec_short(c, 8, wlen, BW_STAT_IPV6_TRUNCATED, BW_STAT_IPV6_INVALID);
		off = bw_be16(p + 2);
		nh = p[0];
		if ((off & 0xfff9) == 0) {      /* RFC 6946 atomic fragment: a whole datagram */
			p += 8;
			len -= 8;
			wlen -= 8;
			continue;
		}
		if (!frag_ok)
			return dec_invalid(c, BW_STAT_IPV6_INVALID);
		bw_stats_inc(c->st, BW_STAT_FRAG_IPV6);
		/* every fragment carries the first header of the fragmentable part */
		if (!proto_followed(nh) && nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_ROUTING_ &&
		    nh != IPPROTO_AH_) {
			bw_stats_inc(c->st, BW_STAT_FRAG_IGNORED);
			return BW_DECODE_NONE;
		}
		memset(&key, 0, sizeof(key));
		memcpy(key.src, base + 8, 16);
		memcpy(key.dst, base + 24, 16);
		key.id = bw_be32(p + 4);
		key.family = 6;
		piece.offset = off & 0xfff8;
		piece.len = (uint32_t)(wlen - 8);
		piece.caplen = (uint32_t)(len - 8);
		piece.data = p + 8;
		piece.more = off & 1;
		piece.next = nh;
		if (bw_frag_add(c->d->frag, &key, c->pkt->ts_ns, &piece, &dg) != BW_FRAG_COMPLETE)
			return BW_DECODE_NONE;
		nh = dg.next;
		p = dg.data;
		len = dg.caplen;
		wlen = dg.len;
		frag_ok = 0;
	}
}

enum bw_decode_result
bw_dec_ipv6(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	struct bw_record *out = c->out;
	size_t plen;

	if (len < IPV6_HLEN)
		return dec_short(c, IPV6_HLEN, wlen, BW_STAT_IPV6_TRUNCATED, BW_STAT_IPV6_INVALID);
	if (p[0] >> 4 != 6)
		return dec_invalid(c, BW_STAT_IPV6_INVALID);
	plen = bw_be16(p + 4);
	/* 0 is a jumbogram (RFC 2675) or a segmentation offload artefact: not a SYN */
	if (plen == 0 || IPV6_HLEN + plen > wlen)
		return dec_invalid(c, BW_STAT_IPV6_INVALID);
	bw_stats_inc(c->st, BW_STAT_IPV6);
	wlen = IPV6_HLEN + plen;
	if (len > wlen)
		len = wlen;
	out->family = 6;
	memcpy(out->src, p + 8, 16);
	memcpy(out->dst, p + 24, 16);
	return ipv6_chain(c, p[6], p, p + IPV6_HLEN, len - IPV6_HLEN, wlen - IPV6_HLEN);
}
