/*
 * frag.h - IPv4 and IPv6 fragment reassembly, bounded.
 *
 * A SYN split into small fragments is a classic way past a sensor, so every
 * fragment of a protocol the decoder follows is reassembled. Only the first
 * BW_FRAG_HEAD bytes of a datagram are kept - all the headers a SYN (tunnelled
 * or not) can need - while coverage of the whole datagram is tracked, so that
 * a datagram completes exactly when its last missing fragment arrives.
 *
 * A fragment cut off by the capture length still counts for coverage (the
 * wire had it): its captured bytes are kept, and the datagram's captured
 * prefix is what the decoder gets - like a snapped packet.
 *
 * Policy, as Linux since 4.19 and RFC 5722: a fragment that repeats bytes
 * already held (its captured bytes agreeing with those held) is a duplicate
 * and ignored; any other overlap discards the whole datagram. Counted: duplicates, overlaps, invalid
 * offsets/lengths, timeouts, evictions (table full, oldest first).
 * Capture thread only.
 */
#ifndef BW_FRAG_H
#define BW_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/stats.h"

#define BW_FRAG_HEAD 1024     /* datagram bytes kept from offset 0 */
#define BW_FRAG_HOLES 32      /* disjoint received ranges per datagram before it is dropped */

struct bw_frag;

/* Identifies a datagram: RFC 791 (src, dst, protocol, id) / RFC 8200 (src, dst, id). */
struct bw_frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t family;   /* 4 or 6 */
	uint8_t proto;    /* IPv4 protocol; 0 for IPv6 */
	uint8_t pad[2];   /* zero */
};

/* One fragment as the IP layer found it. */
struct bw_frag_piece {
	uint32_t offset;       /* byte offset in the datagram's fragmentable part */
	uint32_t len;          /* fragment payload bytes on the wire */
	uint32_t caplen;       /* of those, bytes captured at data */
	const uint8_t *data;
	int more;              /* MF flag */
	uint8_t next;          /* protocol / next header (meaningful at offset 0) */
};

/* A reassembled datagram; data is valid until the next bw_frag_add. */
struct bw_frag_datagram {
	const uint8_t *data;   /* the first caplen bytes of the fragmentable part */
	uint32_t caplen;       /* min(len, BW_FRAG_HEAD), less where fragments were cut short */
	uint32_t len;          /* full length of the fragmentable part */
	uint8_t next;          /* protocol / next header of offset 0 */
};

enum bw_frag_result {
	BW_FRAG_COMPLETE = 1,  /* *out holds the datagram */
	BW_FRAG_HELD = 0,      /* kept, waiting for more (or a duplicate ignored) */
	BW_FRAG_DROPPED = -1,  /* counted: invalid, overlap, too many holes */
};

/* A table for max datagrams, dropped timeout_ns after their first fragment. */
struct bw_frag *bw_frag_new(size_t max, int64_t timeout_ns, struct bw_stats *st);

/* Frees the table; NULL is allowed. */
void bw_frag_free(struct bw_frag *f);

/*
 * Adds a fragment seen at packet time now. Expires what timed out first.
 * key must be zero-filled before its fields are set.
 */
enum bw_frag_result bw_frag_add(struct bw_frag *f, const struct bw_frag_key *key, int64_t now,
    const struct bw_frag_piece *piece, struct bw_frag_datagram *out);

/* Datagrams held now. */
size_t bw_frag_count(const struct bw_frag *f);

#endif
