/*
 * test_corpus.c - the prefix sweep over every packet of real captures.
 *
 * usage: test_corpus project|shared   (BW_SOURCE_ROOT names the source tree)
 * Every packet of every capture our reader opens (the *.pcap* files in
 * pcaps/, or in ../shared/pcaps/public) is decoded whole, then cut at every
 * length k below its capture length (a heap copy of exactly k bytes, so that
 * ASan sees any overread): each cut must decode as "truncated" or exactly as
 * the whole packet did, with the same record when that was a SYN (STYLE.md
 * 14). Exits 77 (skipped) when the directory is missing or holds no capture.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>

#include "brokerwatch/decode.h"
#include "brokerwatch/pcapfile.h"
#include "unit.h"

#define MAXFILES 1024

static char *files[MAXFILES];
static int nfiles;

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the *.pcap* files in dir that our reader opens; -1 if there is no dir. */
static int
collect(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && nfiles < MAXFILES) {
		char path[4096], err[BW_PCAPFILE_ERRMAX];
		int notfound;
		struct bw_pcapfile *pf;

		if (fnmatch("*.pcap*", e->d_name, 0) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if ((pf = bw_pcapfile_open(path, err, sizeof(err), &notfound)) == NULL)
			continue;
		bw_pcapfile_close(pf);
		files[nfiles] = strdup(path);
		if (files[nfiles] != NULL)
			nfiles++;
	}
	closedir(d);
	qsort(files, (size_t)nfiles, sizeof(files[0]), cmpstr);
	return nfiles;
}

static enum bw_decode_result
dec(struct bw_decoder *d, const struct bw_packet *pkt, uint32_t k, struct bw_record *out)
{
	struct bw_packet p = *pkt;
	uint8_t *copy = unit_exact_copy(pkt->data, k);
	enum bw_decode_result r;

	p.data = copy;
	p.caplen = k;
	memset(out, 0xaa, sizeof(*out));
	r = bw_decode(d, &p, out);
	free(copy);
	return r;
}

static int
same_record(const struct bw_record *a, const struct bw_record *b)
{
	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	    a->seq == b->seq && a->ts_ns == b->ts_ns && a->nvlan == b->nvlan &&
	    memcmp(a->vlan, b->vlan, sizeof(a->vlan[0]) * (a->nvlan <= BW_VLAN_MAX ? a->nvlan : 0)) == 0 &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0 &&
	    strcmp(a->ifname, b->ifname) == 0;
}

START_TEST(prefix_sweep)
{
	const char *path = files[_i];
	char err[BW_PCAPFILE_ERRMAX];
	int notfound, r;
	struct bw_pcapfile *pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	struct bw_decoder_config cfg;
	struct bw_stats st;
	struct bw_packet pkt;
	uint64_t n = 0, syns = 0;

	ck_assert_msg(pf != NULL, "%s: %s", path, err);
	bw_decoder_config_default(&cfg);
	cfg.frag_max = 8;
	while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) == 1) {
		/* a decoder per packet: fragment state must not join the cuts together */
		struct bw_decoder *d;
		struct bw_record whole, cut;
		enum bw_decode_result rw;
		uint32_t len = pkt.caplen < pkt.wirelen ? pkt.caplen : pkt.wirelen;

		n++;
		memset(&st, 0, sizeof(st));
		d = bw_decoder_new(&cfg, &st);
		ck_assert_ptr_nonnull(d);
		rw = dec(d, &pkt, pkt.caplen, &whole);
		ck_assert_msg(rw >= BW_DECODE_UNSUPPORTED && rw <= BW_DECODE_SYN,
		    "%s: packet %" PRIu64 ": result %d", path, n, (int)rw);
		syns += rw == BW_DECODE_SYN;
		for (uint32_t k = 0; k < len; k++) {
			enum bw_decode_result rc = dec(d, &pkt, k, &cut);

			ck_assert_msg(rc == BW_DECODE_TRUNCATED || rc == rw,
			    "%s: packet %" PRIu64 " (%u of %u bytes) cut at %u: %d, whole: %d", path, n,
			    pkt.caplen, pkt.wirelen, k, (int)rc, (int)rw);
			if (rc == BW_DECODE_SYN)
				ck_assert_msg(same_record(&cut, &whole),
				    "%s: packet %" PRIu64 " cut at %u: another record", path, n, k);
		}
		bw_decoder_free(d);
	}
	printf("%s: %" PRIu64 " packets, %" PRIu64 " SYNs on their own%s%s\n", path, n, syns,
	    r < 0 ? "; then " : "", r < 0 ? err : "");
	bw_pcapfile_close(pf);
}
END_TEST

int
main(int argc, char **argv)
{
	const char *root = getenv("BW_SOURCE_ROOT");
	char dir[4096];
	Suite *s;
	TCase *tc;
	int rc;

	if (argc != 2 || root == NULL ||
	    (strcmp(argv[1], "project") != 0 && strcmp(argv[1], "shared") != 0)) {
		fprintf(stderr, "usage: BW_SOURCE_ROOT=dir test_corpus project|shared\n");
		return 2;
	}
	if (strcmp(argv[1], "project") == 0)
		snprintf(dir, sizeof(dir), "%s/pcaps", root);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/pcaps/public", root);
	if (collect(dir) < 0) {
		printf("SKIP: %s is missing\n", dir);
		return 77;
	}
	if (nfiles == 0) {
		printf("SKIP: no capture in %s\n", dir);
		return 77;
	}
	printf("%d captures in %s\n", nfiles, dir);

	s = suite_create("decode-corpus");
	tc = tcase_create(argv[1]);
	tcase_add_loop_test(tc, prefix_sweep, 0, nfiles);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	rc = unit_run(s);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	return rc;
}
