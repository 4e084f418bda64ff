/*
 * test_pcapdiff.c - our capture reader against libpcap on real captures.
 *
 * usage: test_pcapdiff project|shared   (BW_SOURCE_ROOT names the source tree)
 *   project: the *.pcap* files in $BW_SOURCE_ROOT/pcaps
 *   shared:  the *.pcap* files in $BW_SOURCE_ROOT/../shared/pcaps/public
 * Every file libpcap opens is read with pcap_next_ex (nanosecond precision)
 * and with bw_pcapfile_next; packet count, time (ns), capture and wire length
 * and bytes must be the same. Where libpcap gives up inside a file (a second
 * link type in a pcapng file, which it does not support), the packets it did
 * deliver are compared. Three differences are libpcap's and allowed for:
 *   - classic pcap seconds are unsigned 32-bit (the file format's definition);
 *     libpcap 1.10 reads them as signed, so 2038 and later come out negative;
 *   - libpcap cuts a record longer than the file's snap length down to it;
 *     our reader hands over what the file holds (the first bytes must agree);
 *   - a classic file of a link type our decoder lacks is refused at open
 *     (spec.md: "FILE: link type 127 (IEEE802_11_RADIO) is not supported").
 * Exits 77 (skipped) when the directory is missing or libpcap opens none of
 * its files: a skip must never look like a pass.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/stat.h>

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

/* Collects the *.pcap* files in dir that libpcap opens; returns how many (-1: no dir). */
static int
collect(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && nfiles < MAXFILES) {
		char path[4096], err[PCAP_ERRBUF_SIZE];
		pcap_t *p;

		if (fnmatch("*.pcap*", e->d_name, 0) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		if (p == NULL) {
			printf("skipped %s: libpcap: %s\n", e->d_name, err);
			continue;
		}
		pcap_close(p);
		files[nfiles] = strdup(path);
		if (files[nfiles] != NULL)
			nfiles++;
	}
	closedir(d);
	qsort(files, (size_t)nfiles, sizeof(files[0]), cmpstr);
	return nfiles;
}

START_TEST(same_as_libpcap)
{
	const char *path = files[_i];
	char perr[PCAP_ERRBUF_SIZE], err[BW_PCAPFILE_ERRMAX];
	int notfound = 0;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	struct bw_pcapfile *pf;
	uint64_t n = 0;
	enum bw_link plink;

	ck_assert_msg(p != NULL, "%s: libpcap: %s", path, perr);
	plink = bw_link_from_dlt(pcap_datalink(p));
	pf = bw_pcapfile_open(path, err, sizeof(err), &notfound);
	if (pf == NULL && plink == BW_LINK_UNSUPPORTED && strstr(err, "not supported") != NULL) {
		printf("%s: refused as libpcap's DLT %d is not decoded: %s\n", path,
		    pcap_datalink(p), err);
		pcap_close(p);
		return;
	}
	ck_assert_msg(pf != NULL, "%s: %s", path, err);
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		struct bw_packet pkt;
		int pr = pcap_next_ex(p, &h, &data);
		int br = bw_pcapfile_next(pf, &pkt, err, sizeof(err));

		if (pr == PCAP_ERROR) {
			/* libpcap gave up here: what it delivered was compared */
			printf("%s: libpcap stopped after %" PRIu64 " packets: %s; ours: %s\n", path,
			    n, pcap_geterr(p), br == 1 ? "more packets" : br == 0 ? "end" : err);
			break;
		}
		if (pr == PCAP_ERROR_BREAK) {
			ck_assert_msg(br == 0, "%s: libpcap ends after %" PRIu64 " packets, ours: %d (%s)",
			    path, n, br, br < 0 ? err : "a packet more");
			break;
		}
		n++;
		ck_assert_msg(br == 1, "%s: packet %" PRIu64 ": libpcap has it, ours: %d (%s)", path,
		    n, br, br < 0 ? err : "end");
		{
			int64_t sec = (int64_t)h->ts.tv_sec, ts;

			if (sec < 0 && bw_pcapfile_format(pf) == BW_PCAPFILE_PCAP)
				sec += 4294967296LL; /* libpcap's signed reading */
			ts = sec * 1000000000LL + (int64_t)h->ts.tv_usec;
			ck_assert_msg(pkt.ts_ns == ts,
			    "%s: packet %" PRIu64 ": ts %" PRId64 ", libpcap %" PRId64, path, n,
			    pkt.ts_ns, ts);
		}
		if (pkt.caplen > h->caplen && h->caplen == (bpf_u_int32)pcap_snapshot(p)) {
			printf("%s: packet %" PRIu64 ": capture length %u beyond the snap length %u "
			       "(libpcap cuts it)\n", path, n, pkt.caplen, h->caplen);
		} else {
			ck_assert_msg(pkt.caplen == h->caplen,
			    "%s: packet %" PRIu64 ": caplen %u, libpcap %u", path, n, pkt.caplen,
			    h->caplen);
		}
		ck_assert_msg(pkt.wirelen == h->len, "%s: packet %" PRIu64 ": wirelen %u, libpcap %u",
		    path, n, pkt.wirelen, h->len);
		ck_assert_msg(memcmp(pkt.data, data, h->caplen) == 0,
		    "%s: packet %" PRIu64 ": bytes differ", path, n);
		/* DLT numbers are not LINKTYPE numbers (12/14 raw): compare where libpcap's is ours */
		ck_assert_msg(plink == BW_LINK_UNSUPPORTED || pkt.link == plink,
		    "%s: packet %" PRIu64 ": link %d, libpcap's DLT %d", path, n, pkt.link,
		    pcap_datalink(p));
		ck_assert_msg(pkt.link == bw_link_from_linktype(bw_pcapfile_linktype(pf)),
		    "%s: packet %" PRIu64 ": link %d for linktype %u", path, n, pkt.link,
		    bw_pcapfile_linktype(pf));
		ck_assert_uint_eq(bw_pcapfile_packets(pf), n);
	}
	bw_pcapfile_close(pf);
	pcap_close(p);
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
		fprintf(stderr, "usage: BW_SOURCE_ROOT=dir test_pcapdiff project|shared\n");
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
		printf("SKIP: no capture in %s that libpcap opens\n", dir);
		return 77;
	}
	printf("%d captures in %s\n", nfiles, dir);

	s = suite_create("pcapfile-vs-libpcap");
	tc = tcase_create(argv[1]);
	tcase_add_loop_test(tc, same_as_libpcap, 0, nfiles);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	rc = unit_run(s);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	return rc;
}
