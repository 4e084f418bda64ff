/*
 * fuzz_config.c - libFuzzer target for the configuration loader: any bytes
 * as a brokerwatch.yaml. A load never crashes, leaks or reads out of bounds,
 * and a configuration that loads dumps to YAML that loads back to the same
 * dump.
 *
 * The input is handed over as /proc/self/fd/N of a memfd: the loader reads a
 * path, and the fuzzer never touches the disk.
 */
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokerwatch/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding exactly data[0..size); its path in path. */
static void
put(int *fd, char *path, size_t cap, const char *name, const void *data, size_t size)
{
	if (*fd == -1) {
		if ((*fd = memfd_create(name, MFD_CLOEXEC)) == -1)
			abort();
		snprintf(path, cap, "/proc/self/fd/%d", *fd);
	}
	if (ftruncate(*fd, 0) == -1 || (size > 0 && pwrite(*fd, data, size, 0) != (ssize_t)size))
		abort();
}

static char *
dump(const struct bw_config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		abort();
	bw_config_dump(c, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int in = -1, again = -1;
	static char in_path[64], again_path[64];
	struct bw_config c, c2;
	struct bw_config_errors e = {0};
	char *d1, *d2;
	size_t l1, l2;

	put(&in, in_path, sizeof(in_path), "bw-config", data, size);
	if (bw_config_load(in_path, &c, &e) == -1) {
		if (e.n == 0)
			abort();        /* a failed load always says why */
		bw_config_errors_free(&e);
		return 0;
	}
	d1 = dump(&c, &l1);
	put(&again, again_path, sizeof(again_path), "bw-config-dump", d1, l1);
	if (bw_config_load(again_path, &c2, &e) == -1)
		abort();                /* a dump always loads */
	d2 = dump(&c2, &l2);
	if (l1 != l2 || memcmp(d1, d2, l1) != 0)
		abort();                /* and loads to the same configuration */
	free(d1);
	free(d2);
	bw_config_free(&c);
	bw_config_free(&c2);
	bw_config_errors_free(&e);
	return 0;
}
