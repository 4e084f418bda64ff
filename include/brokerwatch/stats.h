/*
 * stats.h - named counters for everything the pipeline meets.
 *
 * Every anomaly on the per-packet path is a counter, never a log line
 * (STYLE.md 4). The list below is the single declaration of each counter:
 * its enum constant, its name in --stats JSON and in the text summary, and
 * what it counts. A struct bw_stats belongs to one thread; totals are read by
 * others only once that thread has stopped (or through their own copies).
 */
#ifndef BW_STATS_H
#define BW_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

/* X(CONSTANT, "name", "what it counts") */
#define BW_STATS_LIST(X)                                                                   \
	X(PACKETS, "packets", "packets read")                                              \
	X(BYTES, "bytes", "bytes captured (sum of capture lengths)")                       \
	X(BYTES_WIRE, "bytes_wire", "bytes on the wire (sum of original lengths)")         \
	X(LINK_ETHERNET, "link_ethernet", "packets with Ethernet link layer")              \
	X(LINK_SLL, "link_sll", "packets with Linux cooked (SLL) link layer")              \
	X(LINK_SLL2, "link_sll2", "packets with Linux cooked v2 (SLL2) link layer")        \
	X(LINK_RAW, "link_raw", "packets with raw IP link layer")                          \
	X(LINK_NULL, "link_null", "packets with BSD NULL loopback link layer")             \
	X(LINK_LOOP, "link_loop", "packets with BSD LOOP link layer")                      \
	X(LINK_UNSUPPORTED, "link_unsupported", "packets of an unsupported link type")    \
	X(TS_INVALID, "ts_invalid", "packets whose timestamp is out of range (skipped)")   \
	X(NO_TIMESTAMP, "no_timestamp", "pcapng simple packets (time of the previous one)") \
	X(VLAN_TAGGED, "vlan_tagged", "frames with at least one 802.1Q/802.1ad tag")       \
	X(NOT_IP, "not_ip", "frames that carry no IP (ARP, LLDP, ...)")                    \
	X(IPV4, "ipv4", "IPv4 packets (outer and inner)")                                  \
	X(IPV4_OPTIONS, "ipv4_options", "IPv4 packets with options")                       \
	X(IPV6, "ipv6", "IPv6 packets (outer and inner)")                                  \
	X(IPV6_EXT, "ipv6_ext", "IPv6 extension headers walked")                           \
	X(IP_OTHER, "ip_other", "IP packets of a protocol not decoded further (ICMP, ...)") \
	X(TCP, "tcp", "TCP segments")                                                      \
	X(UDP, "udp", "UDP datagrams")                                                     \
	X(GRE, "gre", "GRE packets decapsulated")                                          \
	X(ERSPAN, "erspan", "ERSPAN frames decapsulated (type I, II, III)")                \
	X(VXLAN, "vxlan", "VXLAN frames decapsulated")                                     \
	X(IPIP, "ipip", "IP-in-IP packets decapsulated (4in4, 6in4, 4in6, 6in6)")          \
	X(TUNNEL_TOO_DEEP, "tunnel_too_deep", "packets nested deeper than the limit")      \
	X(TRUNCATED, "truncated", "packets cut off before a header that was needed")       \
	X(INVALID, "invalid", "packets with a header that lies (all *_invalid)")           \
	X(LINK_TRUNCATED, "link_truncated", "link-layer header cut off")                   \
	X(LINK_INVALID, "link_invalid", "link-layer header invalid")                       \
	X(VLAN_TOO_MANY, "vlan_too_many", "frames with more VLAN tags than the limit")     \
	X(IPV4_TRUNCATED, "ipv4_truncated", "IPv4 header cut off")                         \
	X(IPV4_INVALID, "ipv4_invalid", "IPv4 header invalid (version, IHL, length)")      \
	X(IPV6_TRUNCATED, "ipv6_truncated", "IPv6 header or extension header cut off")     \
	X(IPV6_INVALID, "ipv6_invalid", "IPv6 header invalid (version, length, ext)")      \
	X(IPV6_EXT_TOO_MANY, "ipv6_ext_too_many", "IPv6 packets with too many ext headers") \
	X(TCP_TRUNCATED, "tcp_truncated", "TCP header cut off")                            \
	X(TCP_INVALID, "tcp_invalid", "TCP header invalid (data offset)")                  \
	X(UDP_TRUNCATED, "udp_truncated", "UDP header cut off")                            \
	X(UDP_INVALID, "udp_invalid", "UDP length invalid")                                \
	X(TUNNEL_TRUNCATED, "tunnel_truncated", "GRE/ERSPAN/VXLAN header cut off")         \
	X(TUNNEL_INVALID, "tunnel_invalid", "GRE/ERSPAN/VXLAN header invalid")             \
	X(TUNNEL_UNSUPPORTED, "tunnel_unsupported", "GRE/ERSPAN variants not decoded")     \
	X(FRAG_IPV4, "frag_ipv4", "IPv4 fragments seen")                                   \
	X(FRAG_IPV6, "frag_ipv6", "IPv6 fragments seen")                                   \
	X(FRAG_IGNORED, "frag_ignored", "fragments of protocols not reassembled (ICMP, ...)") \
	X(FRAG_REASSEMBLED, "frag_reassembled", "datagrams reassembled from fragments")    \
	X(FRAG_DUPLICATE, "frag_duplicate", "duplicate fragments ignored")                 \
	X(FRAG_OVERLAP, "frag_overlap", "datagrams discarded for overlapping fragments")   \
	X(FRAG_INVALID, "frag_invalid", "fragments with impossible offsets or lengths")    \
	X(FRAG_TRUNCATED, "frag_truncated", "fragments cut short by the capture length (kept as far as captured)")     \
	X(FRAG_TOO_MANY, "frag_too_many", "datagrams discarded: too many holes")           \
	X(FRAG_TIMEOUT, "frag_timeout", "incomplete datagrams expired")                    \
	X(FRAG_EVICTED, "frag_evicted", "incomplete datagrams evicted (table full)")       \
	X(SYN, "syn", "TCP segments with SYN set and ACK clear")                           \
	X(SYN_RETRANSMIT, "syn_retransmit", "retransmitted SYNs folded into their record") \
	X(SYN_FOLD_EVICTED, "syn_fold_evicted", "SYN fold entries evicted (table full)")   \
	X(RECORDS, "records", "connection records")                                        \
	X(WATCHED, "watched", "records to a watched protocol's port")                      \
	X(EXCLUDED, "excluded", "watched records to an excluded destination or from outside home_net") \
	X(SCORED_HIGH, "scored_high", "records scored high")                               \
	X(SCORED_MEDIUM, "scored_medium", "records scored medium")                         \
	X(SCORED_LOW, "scored_low", "records scored low")                                  \
	X(REGEX_ERRORS, "regex_errors", "image regex matches stopped by the match limit (no match)") \
	X(COUNTED, "counted", "records counted in a group (level in alert_levels)")        \
	X(ALERTS, "alerts", "alerts raised")                                               \
	X(GROUPS, "groups", "groups held (at the end)")                                    \
	X(GROUPS_EXPIRED, "groups_expired", "groups dropped: no connection left in the window") \
	X(GROUPS_EVICTED, "groups_evicted", "groups evicted while still in the window (memory bound)") \
	X(EVENTS_EVICTED, "events_evicted", "connections lost with evicted groups")         \
	X(KERNEL_RECEIVED, "kernel_received", "packets the kernel passed the filter (live)") \
	X(KERNEL_DROPPED, "kernel_dropped", "packets the kernel dropped: buffer full (live)") \
	X(INTERFACE_DROPPED, "interface_dropped", "packets the interface dropped (live)")   \
	X(RING_DROPPED, "ring_dropped", "records dropped: the ring to scoring was full (live)") \
	X(RING_FULL_WAITS, "ring_full_waits", "times a replay waited for room in the ring")  \
	X(ATTRIB_EBPF, "attrib_ebpf", "local records attributed from the kernel's report (eBPF)") \
	X(ATTRIB_PROC, "attrib_proc", "local records attributed through sock_diag and /proc")  \
	X(ATTRIB_UID_ONLY, "attrib_uid_only", "local records with only the socket owner's uid") \
	X(ATTRIB_NONE, "attrib_none", "local records whose process was not found")          \
	X(ATTRIB_TIMEOUT, "attrib_timeout", "local records whose /proc search ran out of time") \
	X(ATTRIB_PID_REUSED, "attrib_pid_reused", "processes dropped: their pid was reused meanwhile") \
	X(ATTRIB_EVENTS, "attrib_events", "connect() reports from the kernel (eBPF)")         \
	X(ATTRIB_EVENTS_LOST, "attrib_events_lost", "kernel reports that did not fit the table") \
	X(ATTRIB_KERNEL_LOST, "attrib_kernel_lost", "kernel reports lost: the BPF ring buffer was full") \
	X(ATTRIB_KNOWN, "attrib_known", "holders found among processes known from earlier connections")

enum bw_stat {
#define BW_STAT_ENUM_(c, n, d) BW_STAT_##c,
	BW_STATS_LIST(BW_STAT_ENUM_)
#undef BW_STAT_ENUM_
	BW_STAT_COUNT
};

struct bw_stats {
	uint64_t v[BW_STAT_COUNT];
};

static inline void
bw_stats_inc(struct bw_stats *st, enum bw_stat k)
{
	st->v[k]++;
}

static inline void
bw_stats_add(struct bw_stats *st, enum bw_stat k, uint64_t n)
{
	st->v[k] += n;
}

/*
 * A thread's counters as other threads may read them: the owner publishes its
 * private struct bw_stats now and then (relaxed stores, once per batch), any
 * thread collects (relaxed loads). A snapshot, not a transaction.
 */
struct bw_stats_shared {
	_Atomic uint64_t v[BW_STAT_COUNT];
};

/* Copies the owner's counters into the shared ones. [owner thread] */
void bw_stats_publish(struct bw_stats_shared *dst, const struct bw_stats *src);

/* Adds the shared counters into dst. [any thread] */
void bw_stats_collect(struct bw_stats *dst, const struct bw_stats_shared *src);

/* Adds src's counters into dst. */
void bw_stats_merge(struct bw_stats *dst, const struct bw_stats *src);

/* The non-zero counters as one line "name=value name=value ..." into buf. */
void bw_stats_format_line(const struct bw_stats *st, char *buf, size_t len);

/* The counter's name as in --stats JSON ("packets", ...). */
const char *bw_stats_name(enum bw_stat k);

/* What the counter counts, for the man page and --help. */
const char *bw_stats_description(enum bw_stat k);

/* Looks up a counter by name; returns BW_STAT_COUNT if there is none. */
enum bw_stat bw_stats_lookup(const char *name);

/* The non-zero counters as "name value" lines, aligned, on f. */
void bw_stats_print_text(const struct bw_stats *st, FILE *f);

/* All counters as one JSON object on one line, in list order, on f. */
void bw_stats_print_json(const struct bw_stats *st, FILE *f);

#endif
