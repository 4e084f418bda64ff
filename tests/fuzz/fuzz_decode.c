/*
 * fuzz_decode.c - libFuzzer target for the decoder chain.
 *
 * The input is a sequence of packets for one long-lived decoder (so that the
 * fragment table carries state from packet to packet): each packet is
 * [link type byte][2-byte length][bytes]. Time advances with every packet,
 * sometimes by more than the fragment timeout.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum bw_link links[] = {
	BW_LINK_ETHERNET, BW_LINK_SLL, BW_LINK_SLL2, BW_LINK_RAW,
	BW_LINK_IPV4, BW_LINK_IPV6, BW_LINK_NULL, BW_LINK_LOOP,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bw_stats st;
	static struct bw_decoder *dec;
	static struct bw_conn *conn;
	struct bw_decoder_config cfg;
	struct bw_record rec;
	int64_t now = 1700000000LL * 1000000000LL;

	if (dec == NULL) {
		bw_decoder_config_default(&cfg);
		cfg.frag_max = 8;       /* small, so that eviction runs too */
		dec = bw_decoder_new(&cfg, &st);
		conn = bw_conn_new(64, BW_CONN_FOLD_NS, &st);
		if (dec == NULL || conn == NULL)
			abort();
	}
	while (size >= 3) {
		struct bw_packet pkt;
		size_t len = (size_t)data[1] << 8 | data[2];
		uint8_t sel = data[0];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		/* an exact-size copy, so that a read past the packet is an ASan error */
		uint8_t *copy = malloc(len ? len : 1);
		if (copy == NULL)
			abort();
		memcpy(copy, data, len);
		memset(&pkt, 0, sizeof(pkt));
		pkt.data = copy;
		pkt.caplen = (uint32_t)len;
		/* sometimes the wire had more than was captured */
		pkt.wirelen = (uint32_t)len + ((sel & 0x10) ? 64 : 0);
		pkt.link = links[sel & 7];
		now += (sel & 0x20) ? 61LL * 1000000000LL : 1000;
		pkt.ts_ns = now;
		pkt.ifname = (sel & 0x40) ? "fuzz0" : NULL;
		if (bw_decode(dec, &pkt, &rec) == BW_DECODE_SYN)
			(void)bw_conn_syn(conn, &rec);
		free(copy);
		data += len;
		size -= len;
	}
	return 0;
}
