/*
 * record.h - one outbound TCP connection attempt, as Falcon's NetworkConnectIP4/6.
 *
 * A record is a plain fixed-size value: the decoder fills it, the connection
 * table decides whether it is a new attempt, and it is copied by value across
 * threads (ring slots). It owns no pointers.
 */
#ifndef BW_RECORD_H
#define BW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define BW_VLAN_MAX 8      /* tags kept per frame; more is counted as invalid */
#define BW_IFNAME_MAX 32   /* interface name bytes kept, NUL included */
#define BW_USER_MAX 64     /* UserName bytes kept, NUL included */
#define BW_EXE_MAX 256     /* ImageFileName bytes kept, NUL included */

struct bw_record {
	int64_t ts_ns;            /* packet time, ns since the Unix epoch (UTC) */
	uint32_t seq;             /* TCP initial sequence number */
	uint16_t sport;           /* LocalPort: source of the SYN */
	uint16_t dport;           /* RemotePort: destination of the SYN */
	uint8_t family;           /* 4 or 6 */
	uint8_t nvlan;            /* tags in vlan[], outermost first */
	uint16_t vlan[BW_VLAN_MAX];
	uint8_t src[16];          /* IPv4 uses the first 4 bytes, the rest are zero */
	uint8_t dst[16];
	char ifname[BW_IFNAME_MAX]; /* where it was seen; "" when unknown */
};

struct bw_process;

/* Longest line bw_record_format_json writes, newline included. */
#define BW_RECORD_JSON_MAX 8192

/*
 * Writes the record as one JSON line (DESIGN.md field names, fixed order,
 * newline-terminated) into buf. computer is the ComputerName (an inventory
 * or host name), or NULL for the source address; proc the process that made
 * it, or NULL when attribution does not apply (no process fields then).
 * Returns the length written (without NUL), or 0 if buf is shorter than
 * BW_RECORD_JSON_MAX. Any thread; no allocation.
 */
size_t bw_record_format_json(const struct bw_record *r, const char *computer,
    const struct bw_process *proc, char *buf, size_t len);

#endif
