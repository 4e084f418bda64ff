/*
 * filter.h - the kernel packet filter made from the configuration.
 *
 * It passes what the decoder may turn into a watched record - TCP SYN
 * without ACK to a watched port over IPv4 and IPv6 - and what it cannot
 * judge in the kernel: IP fragments (a split SYN is reassembled), IPv6 with
 * extension headers, and the tunnels the decoder follows (GRE, IP in IP,
 * VXLAN). On Ethernet the same again behind one or two VLAN tags, and any
 * frame with three or more tags. Everything
 * else the kernel drops before it is copied. [main]
 */
#ifndef BW_FILTER_H
#define BW_FILTER_H

#include "brokerwatch/config.h"

/*
 * The filter expression (pcap-filter(7)) for cfg's watched ports on a live
 * capture of link type dlt (a DLT_ value). On Linux cooked captures (-i any)
 * libpcap puts VLAN tags back inline but cannot filter behind them: tagged
 * frames pass whole there. malloc'd; NULL without memory.
 */
char *bw_filter_build(const struct bw_config *cfg, int dlt);

#endif
