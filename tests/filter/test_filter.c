/*
 * test_filter.c - the kernel filter never drops what the decoder would turn
 * into a watched record, and drops what it can.
 *
 * Soundness: every packet of every capture (pcaps/ and, when present, the
 * public corpus) of a link type a Linux live capture gives (Ethernet, SLL,
 * SLL2, raw IP) that decodes to a SYN to a watched port - directly, behind
 * VLAN tags, in a tunnel, or as the fragment that completes a split SYN -
 * passes the filter compiled for its link type: with the default ports, and
 * with each SYN's own port watched. Specificity: ordinary traffic (ACKs, SYN-ACKs, SYNs to other ports,
 * UDP, ARP) is dropped.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "brokerwatch/config.h"
#include "brokerwatch/decode.h"
#include "brokerwatch/filter.h"
#include "brokerwatch/pcapfile.h"
#include "unit.h"

/* A filter compiled for one link type. */
struct compiled {
	int dlt;
	struct bpf_program prog;
};

static int
dlt_of(uint32_t linktype)
{
	switch (linktype) {
	case 12:
	case 101: return DLT_RAW;
	default: return (int)linktype;   /* the others are equal */
	}
}

static void
compile(const struct bw_config *cfg, int dlt, struct bpf_program *prog)
{
	pcap_t *p = pcap_open_dead(dlt, 262144);
	char *expr = bw_filter_build(cfg, dlt);
	int r;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(expr);
	r = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	ck_assert_msg(r == 0, "dlt %d: %s", dlt, pcap_geterr(p));
	free(expr);
	pcap_close(p);
}

/* Link types of live captures on Linux: the filter is only ever given to those. */
static int
live_dlt(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	    dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6;
}

/* Does the filter for a configuration watching only port, on dlt, pass the packet? */
static int
passes_own_port(int dlt, uint16_t port, const struct pcap_pkthdr *h, const uint8_t *data)
{
	static struct bw_config cfg;
	static int have;
	struct bpf_program prog;
	uint16_t one[1] = {port};
	int pass;

	if (!have) {
		ck_assert_int_eq(bw_config_default(&cfg), 0);
		have = 1;
	}
	uint16_t *saved = cfg.protocols[0].ports;
	size_t nsaved = cfg.protocols[0].nports;
	cfg.protocols[0].ports = one;
	cfg.protocols[0].nports = 1;
	size_t rest[BW_PROTO_MAX];
	for (size_t i = 1; i < cfg.nprotocols; i++) {
		rest[i] = cfg.protocols[i].nports;
		cfg.protocols[i].nports = 0;
	}
	compile(&cfg, dlt, &prog);
	pass = pcap_offline_filter(&prog, h, data) != 0;
	pcap_freecode(&prog);
	cfg.protocols[0].ports = saved;
	cfg.protocols[0].nports = nsaved;
	for (size_t i = 1; i < cfg.nprotocols; i++)
		cfg.protocols[i].nports = rest[i];
	return pass;
}

static int
watched(const struct bw_config *cfg, uint16_t port)
{
	for (size_t i = 0; i < cfg->nprotocols; i++)
		for (size_t j = 0; j < cfg->protocols[i].nports; j++)
			if (cfg->protocols[i].ports[j] == port)
				return 1;
	return 0;
}

/*
 * Checks one file; returns the watched SYNs seen. cfg NULL: every SYN is
 * checked against a filter watching its own port.
 */
static long
check_file(const struct bw_config *cfg, const char *path, long *passed_total, long *packets)
{
	char err[BW_PCAPFILE_ERRMAX];
	struct compiled comp[8];
	size_t ncomp = 0;
	struct bw_stats st;
	struct bw_decoder_config dc;
	struct bw_decoder *dec;
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	struct bw_record rec;
	long syns = 0;
	int nf;

	if ((pf = bw_pcapfile_open(path, err, sizeof(err), &nf)) == NULL)
		return 0;
	memset(&st, 0, sizeof(st));
	bw_decoder_config_default(&dc);
	dec = bw_decoder_new(&dc, &st);
	while (bw_pcapfile_next(pf, &pkt, err, sizeof(err)) > 0) {
		int dlt = dlt_of(bw_pcapfile_linktype(pf));
		struct bpf_program *prog = NULL;
		struct pcap_pkthdr h;

		if (pkt.link == BW_LINK_UNSUPPORTED || !live_dlt(dlt)) {
			(void)bw_decode(dec, &pkt, &rec);      /* fragments and folds stay in step */
			continue;
		}
		memset(&h, 0, sizeof(h));
		h.caplen = pkt.caplen;
		h.len = pkt.wirelen;
		(*packets)++;
		if (cfg == NULL) {
			if (bw_decode(dec, &pkt, &rec) == BW_DECODE_SYN) {
				syns++;
				ck_assert_msg(passes_own_port(dlt, rec.dport, &h, pkt.data),
				    "%s: packet %llu: a SYN to port %u does not pass a filter for it",
				    path, (unsigned long long)bw_pcapfile_packets(pf), rec.dport);
			}
			continue;
		}
		for (size_t i = 0; i < ncomp; i++)
			if (comp[i].dlt == dlt)
				prog = &comp[i].prog;
		/* a capture with more link types than compiled filters is a test to extend */
		ck_assert_msg(prog != NULL || ncomp < 8, "%s: more than 8 link types", path);
		if (prog == NULL) {
			comp[ncomp].dlt = dlt;
			compile(cfg, dlt, &comp[ncomp].prog);
			prog = &comp[ncomp++].prog;
		}
		int pass = pcap_offline_filter(prog, &h, pkt.data) != 0;
		*passed_total += pass;
		if (bw_decode(dec, &pkt, &rec) == BW_DECODE_SYN && watched(cfg, rec.dport)) {
			syns++;
			ck_assert_msg(pass, "%s: packet %llu: a SYN to port %u does not pass the filter",
			    path, (unsigned long long)bw_pcapfile_packets(pf), rec.dport);
		}
	}
	for (size_t i = 0; i < ncomp; i++)
		pcap_freecode(&comp[i].prog);
	bw_decoder_free(dec);
	bw_pcapfile_close(pf);
	return syns;
}

/* Every capture in dir. */
static long
check_dir(const struct bw_config *cfg, const char *dir, long *passed, long *packets)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long syns = 0;
	char path[4096];

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if ((n > 5 && strcmp(e->d_name + n - 5, ".pcap") == 0) ||
		    (n > 7 && strcmp(e->d_name + n - 7, ".pcapng") == 0)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			syns += check_file(cfg, path, passed, packets);
		}
	}
	closedir(d);
	return syns;
}

START_TEST(sound_on_captures)
{
	const char *root = getenv("BW_SOURCE_ROOT");
	char dir[4096];
	struct bw_config cfg;
	long passed = 0, packets = 0, syns;

	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(bw_config_default(&cfg), 0);
	snprintf(dir, sizeof(dir), "%s/pcaps", root);
	syns = check_dir(&cfg, dir, &passed, &packets);
	ck_assert_int_gt(syns, 50);     /* the project's captures hold many watched SYNs */
	printf("pcaps/, default ports: %ld watched SYNs pass; %ld of %ld packets pass\n", syns,
	    passed, packets);
	bw_config_free(&cfg);
}
END_TEST

/* Each SYN's own port watched: the filter passes every SYN the decoder finds. */
START_TEST(sound_all_ports)
{
	const char *root = getenv("BW_SOURCE_ROOT");
	char dir[4096];
	long passed = 0, packets = 0, syns, more;

	snprintf(dir, sizeof(dir), "%s/pcaps", root);
	syns = check_dir(NULL, dir, &passed, &packets);
	ck_assert_int_gt(syns, 150);
	snprintf(dir, sizeof(dir), "%s/../shared/pcaps/public", root);
	more = check_dir(NULL, dir, &passed, &packets);
	if (more >= 0) {
		ck_assert_int_gt(more, 2000);
		syns += more;
	}
	printf("each SYN's own port: %ld SYNs pass (public corpus %s)\n", syns,
	    more >= 0 ? "included" : "absent");
}
END_TEST

/* Ordinary traffic is dropped in the kernel. */
START_TEST(specific)
{
	static const uint8_t eth_ip_tcp[] = {
		0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 1, 0, 5, 203, 0, 113, 9,
		0xc3, 0x50, 0x07, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};
	struct bw_config cfg;
	struct bpf_program prog;
	struct pcap_pkthdr h = {.caplen = sizeof(eth_ip_tcp), .len = sizeof(eth_ip_tcp)};
	uint8_t p[sizeof(eth_ip_tcp)];

	ck_assert_int_eq(bw_config_default(&cfg), 0);
	compile(&cfg, DLT_EN10MB, &prog);
	memcpy(p, eth_ip_tcp, sizeof(p));
	ck_assert_int_ne(pcap_offline_filter(&prog, &h, p), 0);        /* SYN to 1883 */
	p[47] = 0x12;
	ck_assert_int_eq(pcap_offline_filter(&prog, &h, p), 0);        /* SYN|ACK */
	p[47] = 0x10;
	ck_assert_int_eq(pcap_offline_filter(&prog, &h, p), 0);        /* ACK */
	p[47] = 0x02;
	p[36] = 0x01;
	p[37] = 0xbb;
	ck_assert_int_eq(pcap_offline_filter(&prog, &h, p), 0);        /* SYN to 443 */
	p[23] = 17;
	ck_assert_int_eq(pcap_offline_filter(&prog, &h, p), 0);        /* UDP */
	p[12] = 0x08;
	p[13] = 0x06;
	ck_assert_int_eq(pcap_offline_filter(&prog, &h, p), 0);        /* ARP */
	pcap_freecode(&prog);
	bw_config_free(&cfg);
}
END_TEST

static Suite *
filter_suite(void)
{
	Suite *su = suite_create("filter");
	TCase *tc = tcase_create("filter");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sound_on_captures);
	tcase_add_test(tc, sound_all_ports);
	tcase_add_test(tc, specific);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(filter_suite());
}
