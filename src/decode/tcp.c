/*
 * tcp.c - TCP (RFC 9293): is this segment a connection attempt?   [capture]
 *
 * Reads the flags byte first: every segment that is not a SYN without ACK -
 * nearly all of them - costs one length check and one load.
 */
#include <string.h>

#include "decode-int.h"

#define TCP_HLEN 20
#define TCP_FLAGS_OFF 13
#define TH_SYN 0x02
#define TH_ACK 0x10

enum bw_decode_result
bw_dec_tcp(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	struct bw_record *out = c->out;
	const char *ifname;
	size_t doff, n;

	if (len < TCP_FLAGS_OFF + 1)
		return dec_short(c, TCP_FLAGS_OFF + 1, wlen, BW_STAT_TCP_TRUNCATED,
		    BW_STAT_TCP_INVALID);
	bw_stats_inc(c->st, BW_STAT_TCP);
	if ((p[TCP_FLAGS_OFF] & (TH_SYN | TH_ACK)) != TH_SYN)
		return BW_DECODE_NONE;
	if (len < TCP_HLEN)
		return dec_short(c, TCP_HLEN, wlen, BW_STAT_TCP_TRUNCATED, BW_STAT_TCP_INVALID);
	/* options may be cut off by the capture length: the record does not need them */
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > wlen)
		return dec_invalid(c, BW_STAT_TCP_INVALID);
	bw_stats_inc(c->st, BW_STAT_SYN);

	/* an IPv4 record's address tails are zero: records are compared and hashed whole */
	if (out->family == 4) {
		memset(out->src + 4, 0, sizeof(out->src) - 4);
		memset(out->dst + 4, 0, sizeof(out->dst) - 4);
	}
	out->sport = bw_be16(p);
	out->dport = bw_be16(p + 2);
	out->seq = bw_be32(p + 4);
	out->ts_ns = c->pkt->ts_ns;
	ifname = c->pkt->ifname;
	n = ifname != NULL ? strnlen(ifname, sizeof(out->ifname) - 1) : 0;
	memcpy(out->ifname, ifname != NULL ? ifname : "", n);
	out->ifname[n] = '\0';
	return BW_DECODE_SYN;
}
