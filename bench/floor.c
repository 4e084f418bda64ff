/*
 * floor.c - the floor of bench/run: the least a libpcap-based reader can do.
 *
 * Opens each capture file with pcap_open_offline(), reads every packet with
 * pcap_next_ex() and touches its caplen (summed, so that the loop cannot be
 * optimised away), nothing else. Prints the packet count and the bytes on
 * standard error. Single-threaded; the whole program is [main].
 *
 * Build: cc -O2 -o floor floor.c -lpcap
 * Use:   floor FILE [FILE ...]
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: floor FILE [FILE ...]\n");
		return 64;
	}
	for (int i = 1; i < argc; i++) {
		pcap_t *p = pcap_open_offline(argv[i], errbuf);

		if (p == NULL) {
			fprintf(stderr, "floor: %s\n", errbuf);
			return 66;
		}
		while ((r = pcap_next_ex(p, &h, &data)) == 1) {
			packets++;
			bytes += h->caplen;
		}
		if (r == PCAP_ERROR) {
			fprintf(stderr, "floor: %s: %s\n", argv[i], pcap_geterr(p));
			pcap_close(p);
			return 65;
		}
		pcap_close(p);
	}
	fprintf(stderr, "packets=%llu bytes=%llu\n", (unsigned long long)packets,
	    (unsigned long long)bytes);
	return 0;
}
