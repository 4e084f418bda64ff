/*
 * link.c - link layers (Ethernet + VLAN tags, Linux SLL/SLL2, raw IP, BSD
 * NULL/LOOP) and the decoder's entry point.   [capture]
 *
 * Owns the decoder object: its configuration, counters and fragment table.
 */
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/log.h"
#include "decode-int.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ1 0x9100    /* pre-802.1ad QinQ */
#define ETHERTYPE_QINQ2 0x9200

void
bw_decoder_config_default(struct bw_decoder_config *cfg)
{
	cfg->frag_max = 1024;
	cfg->frag_timeout_ns = 60LL * 1000000000LL;
	cfg->vxlan_port = 4789;
}

struct bw_decoder *
bw_decoder_new(const struct bw_decoder_config *cfg, struct bw_stats *st)
{
	struct bw_decoder *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		bw_log_warn("decoder");
		return NULL;
	}
	d->cfg = *cfg;
	d->st = st;
	if ((d->frag = bw_frag_new(cfg->frag_max, cfg->frag_timeout_ns, st)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void
bw_decoder_free(struct bw_decoder *d)
{
	if (d == NULL)
		return;
	bw_frag_free(d->frag);
	free(d);
}

enum bw_link
bw_link_from_linktype(uint32_t linktype)
{
	switch (linktype) {
	case 1: return BW_LINK_ETHERNET;
	case 113: return BW_LINK_SLL;
	case 276: return BW_LINK_SLL2;
	case 101: return BW_LINK_RAW;
	case 12: return BW_LINK_RAW;    /* DLT_RAW's value on most systems, found in old files */
	case 14: return BW_LINK_RAW;    /* DLT_RAW on BSD/OS and OpenBSD */
	case 228: return BW_LINK_IPV4;
	case 229: return BW_LINK_IPV6;
	case 0: return BW_LINK_NULL;
	case 108: return BW_LINK_LOOP;
	default: return BW_LINK_UNSUPPORTED;
	}
}

enum bw_link
bw_link_from_dlt(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: return BW_LINK_ETHERNET;
	case DLT_LINUX_SLL: return BW_LINK_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: return BW_LINK_SLL2;
#endif
	case DLT_RAW: return BW_LINK_RAW;
	case DLT_IPV4: return BW_LINK_IPV4;
	case DLT_IPV6: return BW_LINK_IPV6;
	case DLT_NULL: return BW_LINK_NULL;
	case DLT_LOOP: return BW_LINK_LOOP;
	default: return BW_LINK_UNSUPPORTED;
	}
}

const char *
bw_link_name(enum bw_link link)
{
	switch (link) {
	case BW_LINK_ETHERNET: return "ethernet";
	case BW_LINK_SLL: return "sll";
	case BW_LINK_SLL2: return "sll2";
	case BW_LINK_RAW: return "raw";
	case BW_LINK_IPV4: return "ipv4";
	case BW_LINK_IPV6: return "ipv6";
	case BW_LINK_NULL: return "null";
	case BW_LINK_LOOP: return "loop";
	case BW_LINK_UNSUPPORTED: break;
	}
	return "unsupported";
}

/*
 * The payload after an EtherType (or an SLL protocol field): 802.1Q/802.1ad
 * tags, at most BW_VLAN_MAX of them, then IPv4 or IPv6.
 */
enum bw_decode_result
bw_dec_ethertype(struct dctx *c, uint16_t type, const uint8_t *p, size_t len, size_t wlen)
{
	struct bw_record *out = c->out;
	int tagged = 0;

	for (;;) {
		switch (type) {
		case ETHERTYPE_IPV4:
			return bw_dec_ipv4(c, p, len, wlen);
		case ETHERTYPE_IPV6:
			return bw_dec_ipv6(c, p, len, wlen);
		case ETHERTYPE_8021Q:
		case ETHERTYPE_8021AD:
		case ETHERTYPE_QINQ1:
		case ETHERTYPE_QINQ2:
			if (!tagged) {
				bw_stats_inc(c->st, BW_STAT_VLAN_TAGGED);
				tagged = 1;
			}
			if (out->nvlan == BW_VLAN_MAX) {
				bw_stats_inc(c->st, BW_STAT_VLAN_TOO_MANY);
				return dec_invalid(c, BW_STAT_LINK_INVALID);
			}
			if (len < VLAN_HLEN)
				return dec_short(c, VLAN_HLEN, wlen, BW_STAT_LINK_TRUNCATED,
				    BW_STAT_LINK_INVALID);
			/* IEEE 802.1Q: PCP(3) DEI(1) VID(12), then the next EtherType */
			out->vlan[out->nvlan++] = bw_be16(p) & 0x0fff;
			type = bw_be16(p + 2);
			p += VLAN_HLEN;
			len -= VLAN_HLEN;
			wlen -= VLAN_HLEN;
			continue;
		default:
			/* ARP, LLDP, 802.3 length fields, ...: nothing of ours */
			bw_stats_inc(c->st, BW_STAT_NOT_IP);
			return BW_DECODE_NONE;
		}
	}
}

/* An Ethernet II frame; its tags are the record's (the innermost frame's). */
enum bw_decode_result
bw_dec_ether(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	if (len < ETH_HLEN)
		return dec_short(c, ETH_HLEN, wlen, BW_STAT_LINK_TRUNCATED, BW_STAT_LINK_INVALID);
	c->out->nvlan = 0;
	return bw_dec_ethertype(c, bw_be16(p + 12), p + ETH_HLEN, len - ETH_HLEN,
	    wlen - ETH_HLEN);
}

/* Raw IP: the version nibble says which. */
static enum bw_decode_result
dec_raw(struct dctx *c, const uint8_t *p, size_t len, size_t wlen)
{
	if (len < 1)
		return dec_short(c, 1, wlen, BW_STAT_LINK_TRUNCATED, BW_STAT_LINK_INVALID);
	switch (p[0] >> 4) {
	case 4:
		return bw_dec_ipv4(c, p, len, wlen);
	case 6:
		return bw_dec_ipv6(c, p, len, wlen);
	default:
		return dec_invalid(c, BW_STAT_LINK_INVALID);
	}
}

/* BSD loopback address families that mean IPv6 (NetBSD/OpenBSD, FreeBSD, macOS, Linux, Windows). */
static int
af_is_inet6(uint32_t af)
{
	return af == 24 || af == 28 || af == 30 || af == 10 || af == 23;
}

/* NULL/LOOP: a 4-byte address family, then IP. */
static enum bw_decode_result
dec_null(struct dctx *c, const uint8_t *p, size_t len, size_t wlen, int network_order)
{
	uint32_t af;

	if (len < NULL_HLEN)
		return dec_short(c, NULL_HLEN, wlen, BW_STAT_LINK_TRUNCATED, BW_STAT_LINK_INVALID);
	if (network_order)
		af = bw_be32(p);
	else {
		/* DLT_NULL is in the capturing host's byte order: an AF is small */
		af = bw_le32(p);
		if (af & 0xffff0000u)
			af = bw_be32(p);
	}
	p += NULL_HLEN;
	len -= NULL_HLEN;
	wlen -= NULL_HLEN;
	if (af == 2)
		return bw_dec_ipv4(c, p, len, wlen);
	if (af_is_inet6(af))
		return bw_dec_ipv6(c, p, len, wlen);
	bw_stats_inc(c->st, BW_STAT_NOT_IP);
	return BW_DECODE_NONE;
}

enum bw_decode_result
bw_decode(struct bw_decoder *d, const struct bw_packet *pkt, struct bw_record *out)
{
	struct dctx c = {.d = d, .st = d->st, .pkt = pkt, .out = out, .depth = 0};
	size_t wlen = pkt->wirelen;
	size_t len = pkt->caplen < pkt->wirelen ? pkt->caplen : pkt->wirelen;
	const uint8_t *p = pkt->data;

	bw_stats_inc(d->st, BW_STAT_PACKETS);
	bw_stats_add(d->st, BW_STAT_BYTES, pkt->caplen);
	bw_stats_add(d->st, BW_STAT_BYTES_WIRE, pkt->wirelen);
	out->nvlan = 0;

	switch (pkt->link) {
	case BW_LINK_ETHERNET:
		bw_stats_inc(d->st, BW_STAT_LINK_ETHERNET);
		return bw_dec_ether(&c, p, len, wlen);
	case BW_LINK_SLL:
		bw_stats_inc(d->st, BW_STAT_LINK_SLL);
		if (len < SLL_HLEN)
			return dec_short(&c, SLL_HLEN, wlen, BW_STAT_LINK_TRUNCATED,
			    BW_STAT_LINK_INVALID);
		/* packet type, ARPHRD, address length, address[8], protocol */
		return bw_dec_ethertype(&c, bw_be16(p + 14), p + SLL_HLEN, len - SLL_HLEN,
		    wlen - SLL_HLEN);
	case BW_LINK_SLL2:
		bw_stats_inc(d->st, BW_STAT_LINK_SLL2);
		if (len < SLL2_HLEN)
			return dec_short(&c, SLL2_HLEN, wlen, BW_STAT_LINK_TRUNCATED,
			    BW_STAT_LINK_INVALID);
		/* protocol, reserved, ifindex, ARPHRD, packet type, address length, address[8] */
		return bw_dec_ethertype(&c, bw_be16(p), p + SLL2_HLEN, len - SLL2_HLEN,
		    wlen - SLL2_HLEN);
	case BW_LINK_RAW:
		bw_stats_inc(d->st, BW_STAT_LINK_RAW);
		return dec_raw(&c, p, len, wlen);
	case BW_LINK_IPV4:
		bw_stats_inc(d->st, BW_STAT_LINK_RAW);
		return bw_dec_ipv4(&c, p, len, wlen);
	case BW_LINK_IPV6:
		bw_stats_inc(d->st, BW_STAT_LINK_RAW);
		return bw_dec_ipv6(&c, p, len, wlen);
	case BW_LINK_NULL:
		bw_stats_inc(d->st, BW_STAT_LINK_NULL);
		return dec_null(&c, p, len, wlen, 0);
	case BW_LINK_LOOP:
		bw_stats_inc(d->st, BW_STAT_LINK_LOOP);
		return dec_null(&c, p, len, wlen, 1);
	case BW_LINK_UNSUPPORTED:
		break;
	}
	bw_stats_inc(d->st, BW_STAT_LINK_UNSUPPORTED);
	return BW_DECODE_UNSUPPORTED;
}
