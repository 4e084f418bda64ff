/*
 * pcapfile.h - reading capture files: classic pcap and pcapng.
 *
 * Our own reader, because the files a security team gets are merged pcapng
 * with interfaces of different link types, snap lengths and time resolutions,
 * which libpcap (1.10) refuses. Every length in the file is checked before it
 * is used; a damaged file ends with an error that names the packet number and
 * the byte offset, after every packet before it was delivered.
 * Classic pcap: both byte orders, micro- and nanosecond magics.
 * pcapng: every section, SHB/IDB/EPB/SPB/OPB (other blocks are skipped),
 * if_tsresol, if_tsoffset, if_name, both byte orders, per-interface link types.
 * Regular files are mapped; pipes and standard input ("-") are read in blocks.
 * One owner thread per file.
 */
#ifndef BW_PCAPFILE_H
#define BW_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/decode.h"

#define BW_PCAPFILE_ERRMAX 256
#define BW_PCAPFILE_MAXPKT (256u * 1024u)         /* longest packet record (capture length) */
#define BW_PCAPFILE_MAXBLOCK (16u * 1024u * 1024u) /* longest pcapng block */

struct bw_pcapfile;

enum bw_pcapfile_format { BW_PCAPFILE_PCAP, BW_PCAPFILE_PCAPNG };

/*
 * Opens path ("-" is standard input) and reads its file header. Returns NULL
 * with a message in errbuf - and *notfound set when the file could not be
 * opened at all (as opposed to: it is not a capture).
 */
struct bw_pcapfile *bw_pcapfile_open(const char *path, char *errbuf, size_t errlen,
    int *notfound);

/* Closes the file; NULL is allowed. */
void bw_pcapfile_close(struct bw_pcapfile *pf);

/*
 * The next packet. Returns 1 with *pkt filled (its data valid until the next
 * call), 0 at the end of the file, -1 when the file is damaged (message in
 * errbuf, naming packet number and offset; the file is done).
 * Packets of a pcapng interface whose link type the decoder does not know come
 * with link = BW_LINK_UNSUPPORTED; bw_pcapfile_linktype() names it. (A classic
 * pcap file of such a link type is refused by bw_pcapfile_open.)
 */
int bw_pcapfile_next(struct bw_pcapfile *pf, struct bw_packet *pkt, char *errbuf, size_t errlen);

/* The LINKTYPE_ value of the packet last returned. */
uint32_t bw_pcapfile_linktype(const struct bw_pcapfile *pf);

/* The pcapng interface number of the packet last returned (0 for classic pcap). */
uint32_t bw_pcapfile_interface(const struct bw_pcapfile *pf);

/* Packets returned so far (the 1-based number of the last one). */
uint64_t bw_pcapfile_packets(const struct bw_pcapfile *pf);

enum bw_pcapfile_format bw_pcapfile_format(const struct bw_pcapfile *pf);

/* The name of a LINKTYPE_ value ("EN10MB", "IEEE802_11_RADIO", ...), or "unknown". */
const char *bw_linktype_name(uint32_t linktype);

#endif
