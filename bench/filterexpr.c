/*
 * filterexpr.c - prints the kernel filter brokerwatch itself gives a live
 * Ethernet capture, so that bench/run and bench/live-capacity run tcpdump
 * with exactly the same expression (bw_filter_build() of the default
 * configuration, or of the file given). [main]
 *
 * Build (bench/run does it): cc -O2 -Iinclude -I<builddir> bench/filterexpr.c
 *     <builddir>/libbrokerwatch-core.a $(pkg-config --libs libpcap yaml-0.1
 *     libpcre2-8) -lev -lpthread
 * Use: filterexpr [CONFIG]
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>

#include "brokerwatch/config.h"
#include "brokerwatch/filter.h"

int
main(int argc, char **argv)
{
	struct bw_config cfg = {0};
	struct bw_config_errors errs = {0};
	char *expr;

	if (argc > 1) {
		if (bw_config_load(argv[1], &cfg, &errs) < 0) {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msg[i]);
			bw_config_errors_free(&errs);
			return 78;
		}
	} else if (bw_config_default(&cfg) < 0)
		return 71;
	if ((expr = bw_filter_build(&cfg, DLT_EN10MB)) == NULL)
		return 71;
	printf("%s\n", expr);
	free(expr);
	bw_config_free(&cfg);
	return 0;
}
