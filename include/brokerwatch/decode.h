/*
 * decode.h - from captured bytes to a TCP SYN, through every layer a span
 * port or a tunnel can put around it.
 *
 * The decoder runs on the capture thread. It is bounds-checked throughout and
 * never reads past the captured length; it allocates nothing per packet (its
 * fragment table is sized at creation). It looks at a packet only as far as it
 * must to know that it is not a SYN. Everything it meets is counted in the
 * struct bw_stats given at creation; it never logs.
 */
#ifndef BW_DECODE_H
#define BW_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/record.h"
#include "brokerwatch/stats.h"

/* Link layers the decoder knows. */
enum bw_link {
	BW_LINK_UNSUPPORTED = 0,
	BW_LINK_ETHERNET,  /* Ethernet II, any number of 802.1Q/802.1ad tags up to BW_VLAN_MAX */
	BW_LINK_SLL,       /* Linux cooked capture v1 */
	BW_LINK_SLL2,      /* Linux cooked capture v2 */
	BW_LINK_RAW,       /* raw IP, version from the first nibble */
	BW_LINK_IPV4,      /* raw IPv4 only */
	BW_LINK_IPV6,      /* raw IPv6 only */
	BW_LINK_NULL,      /* BSD loopback, address family in the capturing host's byte order */
	BW_LINK_LOOP,      /* OpenBSD loopback, address family in network byte order */
};

/* The decoder's link type for a pcap/pcapng LINKTYPE_ value (the file formats' numbering). */
enum bw_link bw_link_from_linktype(uint32_t linktype);

/* The decoder's link type for a libpcap DLT_ value (pcap_datalink() of a live handle). */
enum bw_link bw_link_from_dlt(int dlt);

/* A short name: "ethernet", "sll", ... */
const char *bw_link_name(enum bw_link link);

/* One captured packet, as a source hands it over. data is valid during bw_decode only. */
struct bw_packet {
	int64_t ts_ns;         /* packet time, ns since the epoch */
	const uint8_t *data;
	uint32_t caplen;       /* bytes at data */
	uint32_t wirelen;      /* bytes the packet had on the wire */
	enum bw_link link;
	uint8_t ts_status;     /* BW_TS_OK, or why ts_ns is the previous packet's time */
	const char *ifname;    /* where it was seen, or NULL */
};

#define BW_TS_OK 0
#define BW_TS_MISSING 1        /* the file gives no time (pcapng simple packet block) */
#define BW_TS_INVALID 2        /* the file's time is outside 1970..2262 */

struct bw_decoder_config {
	size_t frag_max;          /* datagrams being reassembled at once */
	int64_t frag_timeout_ns;  /* an incomplete datagram is dropped this long after its first fragment */
	uint16_t vxlan_port;      /* UDP destination port of VXLAN (4789) */
};

/* The defaults: 1024 datagrams, 60 s (RFC 8200; longer than Linux's 30 s for IPv4), port 4789. */
void bw_decoder_config_default(struct bw_decoder_config *cfg);

enum bw_decode_result {
	BW_DECODE_SYN = 1,          /* *out holds a TCP SYN without ACK */
	BW_DECODE_NONE = 0,         /* decoded as far as needed: not a SYN (or a fragment held) */
	BW_DECODE_TRUNCATED = -1,   /* the capture ended before a header that was needed */
	BW_DECODE_INVALID = -2,     /* a header lies (a length, a version) */
	BW_DECODE_UNSUPPORTED = -3, /* a link type or encapsulation not decoded */
};

struct bw_decoder;

/*
 * A decoder counting into st (which must outlive it). Returns NULL (logged)
 * if the fragment table cannot be allocated.
 */
struct bw_decoder *bw_decoder_new(const struct bw_decoder_config *cfg, struct bw_stats *st);

/* Frees the decoder and its fragment table; NULL is allowed. */
void bw_decoder_free(struct bw_decoder *d);

/*
 * Decodes one packet. When it (or the datagram that its fragment completes)
 * is a TCP segment with SYN set and ACK clear, fills *out (addresses, ports,
 * sequence number, VLAN tags of the innermost Ethernet frame, time of this
 * packet, interface) and returns BW_DECODE_SYN. Packet time must come from
 * the packet: it also drives fragment timeouts.
 */
enum bw_decode_result bw_decode(struct bw_decoder *d, const struct bw_packet *pkt,
    struct bw_record *out);

#endif
