/*
 * decode-int.h - what the layer decoders share; not a module contract.
 *
 * Each layer function takes the bytes of its header onwards: len bytes were
 * captured, wlen bytes were on the wire at this layer (len <= wlen). It checks
 * its header in the STYLE.md order, counts what it meets, and hands its payload
 * to the next layer, returning that layer's result.
 */
#ifndef BW_DECODE_INT_H
#define BW_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/decode.h"
#include "brokerwatch/extract.h"
#include "brokerwatch/frag.h"

#define BW_TUNNEL_MAX 4            /* encapsulations followed per packet */
#define BW_IPV6_EXT_MAX 8          /* extension headers walked per IPv6 packet */
#define BW_WLEN_UNKNOWN (1u << 20) /* wire length of a frame a mirror cut short */

struct bw_decoder {
	struct bw_decoder_config cfg;
	struct bw_stats *st;
	struct bw_frag *frag;
};

/* State of one packet's decoding. */
struct dctx {
	struct bw_decoder *d;
	struct bw_stats *st;
	const struct bw_packet *pkt;
	struct bw_record *out;
	int depth;                 /* tunnels entered so far */
};

/*
 * The header needs `need` bytes and only len were captured: the packet is
 * truncated if the wire had them, invalid (it is shorter than its header) if not.
 */
static inline enum bw_decode_result
dec_short(struct dctx *c, size_t need, size_t wlen, enum bw_stat trunc, enum bw_stat inval)
{
	if (need <= wlen) {
		bw_stats_inc(c->st, trunc);
		bw_stats_inc(c->st, BW_STAT_TRUNCATED);
		return BW_DECODE_TRUNCATED;
	}
	bw_stats_inc(c->st, inval);
	bw_stats_inc(c->st, BW_STAT_INVALID);
	return BW_DECODE_INVALID;
}

/* A header field lies. */
static inline enum bw_decode_result
dec_invalid(struct dctx *c, enum bw_stat inval)
{
	bw_stats_inc(c->st, inval);
	bw_stats_inc(c->st, BW_STAT_INVALID);
	return BW_DECODE_INVALID;
}

/* Entering a tunnel: its inner frame is what the record describes. */
static inline int
dec_tunnel_enter(struct dctx *c)
{
	if (++c->depth > BW_TUNNEL_MAX) {
		bw_stats_inc(c->st, BW_STAT_TUNNEL_TOO_DEEP);
		return -1;
	}
	c->out->nvlan = 0;
	return 0;
}

/* link.c */
enum bw_decode_result bw_dec_ether(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);
enum bw_decode_result bw_dec_ethertype(struct dctx *c, uint16_t type, const uint8_t *p,
    size_t len, size_t wlen);

/* ip.c */
enum bw_decode_result bw_dec_ipv4(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);
enum bw_decode_result bw_dec_ipv6(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);
enum bw_decode_result bw_dec_l4(struct dctx *c, uint8_t proto, const uint8_t *p, size_t len,
    size_t wlen);

/* tcp.c */
enum bw_decode_result bw_dec_tcp(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);

/* tunnel.c */
enum bw_decode_result bw_dec_udp(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);
enum bw_decode_result bw_dec_gre(struct dctx *c, const uint8_t *p, size_t len, size_t wlen);

#endif
