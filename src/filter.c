/*
 * filter.c - pcap-filter(7) text for the watched ports.   [main]
 *
 * libpcap cannot index TCP fields behind IPv6 (tcp[13] is IPv4 only), so the
 * IPv6 part reads the flags at a fixed offset and passes IPv6 with extension
 * headers whole. libpcap's "vlan" shifts every offset after it, so the
 * tagged variants are nested: F or (vlan and (F or (vlan and (F or vlan)))) -
 * a frame with a third tag passes whole (the decoder takes up to 8), and so
 * does one with a 0x9200 tag, which libpcap's vlan does not know.
 */
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/filter.h"

struct buf {
	char *s;
	size_t len, cap;
	int failed;
};

static void
add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n;
		char *s = realloc(b->s, cap);
		if (s == NULL) {
			b->failed = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

/* "(tcp dst port 1883 or tcp dst port 8883 ...)" over every watched protocol. */
static void
add_ports(struct buf *b, const struct bw_config *cfg)
{
	int first = 1;

	add(b, "(");
	for (size_t i = 0; i < cfg->nprotocols; i++)
		for (size_t j = 0; j < cfg->protocols[i].nports; j++) {
			add(b, "%stcp dst port %u", first ? "" : " or ", cfg->protocols[i].ports[j]);
			first = 0;
		}
	if (first)
		add(b, "tcp dst port 0 and not tcp");   /* no watched port: nothing */
	add(b, ")");
}

/* The untagged expression. */
static void
add_base(struct buf *b, const struct bw_config *cfg)
{
	/* IPv4: SYN without ACK to a watched port; any fragment */
	add(b, "(ip and tcp[13] & 0x12 = 0x02 and ");
	add_ports(b, cfg);
	add(b, ") or (ip and ip[6:2] & 0x3fff != 0)");
	/* IPv6 without extension headers: flags at 40 + 13 */
	add(b, " or (ip6 and ip6[6] = 6 and ip6[53] & 0x12 = 0x02 and ");
	add_ports(b, cfg);
	add(b, ")");
	/* IPv6 with extension headers (hop-by-hop, routing, fragment, dstopts, AH, ...) */
	add(b, " or (ip6 and (ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 51 or "
	    "ip6[6] = 60 or ip6[6] = 135 or ip6[6] = 139 or ip6[6] = 140))");
	/* tunnels: GRE (incl. ERSPAN), IP in IP, VXLAN */
	add(b, " or (ip and (ip[9] = 47 or ip[9] = 4 or ip[9] = 41))"
	    " or (ip6 and (ip6[6] = 47 or ip6[6] = 4 or ip6[6] = 41))"
	    " or (udp dst port 4789)");
}

char *
bw_filter_build(const struct bw_config *cfg, int dlt)
{
	struct buf b = {.s = malloc(1024), .cap = 1024};

	if (b.s == NULL)
		return NULL;
	b.s[0] = '\0';
	add_base(&b, cfg);
	/* the protocol field of a cooked header says a tag follows: pass it whole */
	if (dlt == DLT_LINUX_SLL)
		add(&b, " or link[14:2] = 0x8100 or link[14:2] = 0x88a8 or link[14:2] = 0x9100");
	else if (dlt == DLT_LINUX_SLL2)
		add(&b, " or link[0:2] = 0x8100 or link[0:2] = 0x88a8 or link[0:2] = 0x9100");
	if (dlt == DLT_EN10MB) {
		/*
		 * libpcap's vlan knows 0x8100, 0x88a8 and 0x9100; a 0x9200 tag (old
		 * QinQ) and a third tag of any kind pass whole
		 */
		add(&b, " or ether proto 0x9200 or (vlan and (");
		add_base(&b, cfg);
		add(&b, " or ether proto 0x9200 or (vlan and (");
		add_base(&b, cfg);
		add(&b, " or vlan or ether proto 0x9200))))");
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
