/*
 * main.c - the command line, wired to the pipeline.   [main]
 *
 * Parses options, opens the outputs, runs the replay and turns its result
 * into the exit status. Owns nothing beyond the process's lifetime.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bw-config.h"
#include "brokerwatch/log.h"
#include "brokerwatch/replay.h"
#include "brokerwatch/stats.h"

#define MAX_FILES 4096

enum { OPT_RECORDS = 256, OPT_STATS };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: brokerwatch -r FILE [-r FILE ...] [--records FILE|-] [--stats] [-q]\n"
	    "       brokerwatch -h | -V\n"
	    "\n"
	    "  -r, --read FILE     read a capture file (pcap or pcapng; - is standard input);\n"
	    "                      several are read in order as one stream\n"
	    "      --records FILE  write each connection record as a JSON line (- is stdout)\n"
	    "      --stats         print the counters as one JSON object on stderr at the end\n"
	    "  -q, --quiet         no statistics summary on stderr\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       the version\n"
	    "\n"
	    "Exit status: 0 ok, 64 usage, 65 bad or damaged input, 66 input not found,\n"
	    "74 output error. See brokerwatch(8).\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"records", required_argument, NULL, OPT_RECORDS},
		{"stats", no_argument, NULL, OPT_STATS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *files[MAX_FILES];
	struct bw_replay_opts opts;
	struct bw_stats st;
	const char *records_path = NULL;
	size_t nfiles = 0, nstdin = 0;
	int stats_json = 0, quiet = 0, ch, status;

	bw_log_init("brokerwatch");
	while ((ch = getopt_long(argc, argv, "r:qhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (nfiles == MAX_FILES) {
				bw_log_warnx("more than %d capture files", MAX_FILES);
				return BW_EXIT_USAGE;
			}
			if (strcmp(optarg, "-") == 0 && nstdin++ > 0) {
				bw_log_warnx("standard input (-r -) can be read only once");
				return BW_EXIT_USAGE;
			}
			files[nfiles++] = optarg;
			break;
		case OPT_RECORDS:
			records_path = optarg;
			break;
		case OPT_STATS:
			stats_json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return BW_EXIT_OK;
		case 'V':
			printf("brokerwatch %s\n", BW_VERSION);
			return BW_EXIT_OK;
		default:
			usage(stderr);
			return BW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		bw_log_warnx("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return BW_EXIT_USAGE;
	}
	if (nfiles == 0) {
		bw_log_warnx("no input: give a capture file with -r FILE");
		usage(stderr);
		return BW_EXIT_USAGE;
	}

	bw_replay_opts_default(&opts);
	opts.files = files;
	opts.nfiles = nfiles;
	if (records_path != NULL) {
		if (strcmp(records_path, "-") == 0) {
			opts.records = stdout;
			opts.records_name = "standard output";
		} else if ((opts.records = fopen(records_path, "w")) == NULL) {
			bw_log_warn("%s", records_path);
			return BW_EXIT_IOERR;
		} else
			opts.records_name = records_path;
		setvbuf(opts.records, NULL, _IOFBF, 1 << 20);
	}

	memset(&st, 0, sizeof(st));
	status = bw_replay_run(&opts, &st);

	if (opts.records != NULL && opts.records != stdout && fclose(opts.records) != 0) {
		bw_log_warn("%s", records_path);
		if (status == BW_EXIT_OK)
			status = BW_EXIT_IOERR;
	}
	if (stats_json)
		bw_stats_print_json(&st, stderr);
	else if (!quiet) {
		fprintf(stderr, "brokerwatch: statistics:\n");
		bw_stats_print_text(&st, stderr);
	}
	return status;
}
