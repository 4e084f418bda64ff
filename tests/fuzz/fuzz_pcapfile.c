/*
 * fuzz_pcapfile.c - libFuzzer target for the capture-file reader and the
 * decoder behind it: the input is a whole capture file, read from a memfd
 * (mapped, as a regular file is) and again through a pipe (read in blocks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "brokerwatch/decode.h"
#include "brokerwatch/pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_all(const char *path, struct bw_decoder *dec)
{
	char err[BW_PCAPFILE_ERRMAX];
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	struct bw_record rec;
	int notfound;

	if ((pf = bw_pcapfile_open(path, err, sizeof(err), &notfound)) == NULL)
		return;
	while (bw_pcapfile_next(pf, &pkt, err, sizeof(err)) > 0)
		(void)bw_decode(dec, &pkt, &rec);
	bw_pcapfile_close(pf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bw_stats st;
	static struct bw_decoder *dec;
	struct bw_decoder_config cfg;
	char path[64];
	int fd;

	if (dec == NULL) {
		bw_decoder_config_default(&cfg);
		if ((dec = bw_decoder_new(&cfg, &st)) == NULL)
			abort();
	}
	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	read_all(path, dec);
	close(fd);
	return 0;
}
