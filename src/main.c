/*
 * main.c - the command line, wired to the pipeline.   [main]
 *
 * Parses options, loads the configuration, opens the outputs, runs the
 * replay and turns its result into the exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bw-config.h"
#include "brokerwatch/alert.h"
#include "brokerwatch/config.h"
#include "brokerwatch/log.h"
#include "brokerwatch/notify.h"
#include "brokerwatch/replay.h"
#include "brokerwatch/sensor.h"
#include "brokerwatch/stats.h"
#include "brokerwatch/window.h"

#define MAX_FILES 4096

enum {
	OPT_RECORDS = 256,
	OPT_STATS,
	OPT_ALERTS,
	OPT_REPORT_JSON,
	OPT_NO_REPORT,
	OPT_SYSLOG,
	OPT_DUMP_CONFIG,
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: brokerwatch -i IFACE [-c CONFIG] [-d] [--records FILE|-]\n"
	    "                   [--alerts FILE|-] [--stats] [-q]\n"
	    "       brokerwatch -r FILE [-r FILE ...] [-c CONFIG] [--records FILE|-]\n"
	    "                   [--alerts FILE|-] [--report-json FILE|-] [--no-report]\n"
	    "                   [--syslog] [--stats] [-q]\n"
	    "       brokerwatch -n [-c CONFIG]\n"
	    "       brokerwatch --dump-config [-c CONFIG]\n"
	    "       brokerwatch -h | -V\n"
	    "\n"
	    "  -i, --interface IFACE  capture live on IFACE (any: every interface)\n"
	    "  -d, --debug            live: log to stderr instead of syslog\n"
	    "  -r, --read FILE        read a capture file (pcap or pcapng; - is standard\n"
	    "                         input); several are read in order as one stream\n"
	    "  -c, --config FILE      the configuration (default %s,\n"
	    "                         or the built-in defaults when it does not exist)\n"
	    "  -n, --check            check the configuration and exit\n"
	    "      --dump-config      print the effective configuration and exit\n"
	    "      --records FILE     write each connection record as a JSON line (- is stdout)\n"
	    "      --alerts FILE      write each alert as a JSON line as it fires (- is stdout)\n"
	    "      --report-json FILE write the summary as JSON lines (- is stdout)\n"
	    "      --no-report        no summary table at the end\n"
	    "      --syslog           send alerts to syslog in a replay too\n"
	    "      --stats            print the counters as one JSON object on stderr at the end\n"
	    "  -q, --quiet            no statistics summary on stderr\n"
	    "  -h, --help             this text\n"
	    "  -V, --version          the version\n"
	    "\n"
	    "Exit status: 0 ok, 64 usage, 65 bad or damaged input, 66 input not found,\n"
	    "74 output error, 78 configuration error. See brokerwatch(8), brokerwatch.yaml(5).\n",
	    BW_CONFIG_DEFAULT_PATH);
}

/* Loads the configuration: -c FILE, else the default file if there is one, else built in. */
static int
load_config(const char *path, struct bw_config *cfg)
{
	struct bw_config_errors errs;
	int r;

	if (path == NULL) {
		if (access(BW_CONFIG_DEFAULT_PATH, F_OK) != 0) {
			if (bw_config_default(cfg) < 0)
				return BW_EXIT_SOFTWARE;
			return BW_EXIT_OK;
		}
		path = BW_CONFIG_DEFAULT_PATH;
	}
	memset(&errs, 0, sizeof(errs));
	r = bw_config_load(path, cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (r < 0)
		fprintf(stderr, "brokerwatch: %s: %zu error%s\n", path, errs.n,
		    errs.n == 1 ? "" : "s");
	bw_config_errors_free(&errs);
	return r < 0 ? BW_EXIT_CONFIG : BW_EXIT_OK;
}

/* Opens an output: "-" is standard output. */
static FILE *
open_output(const char *path, const char *mode)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	if ((f = fopen(path, mode)) == NULL)
		bw_log_warn("%s", path);
	else
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

/* An output's name in messages. */
static const char *
output_name(const char *path)
{
	return path != NULL && strcmp(path, "-") == 0 ? "standard output" : path;
}

static int
close_output(FILE *f, const char *path)
{
	if (f == NULL || f == stdout)
		return 0;
	if (fclose(f) != 0) {
		bw_log_warn("%s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"interface", required_argument, NULL, 'i'},
		{"debug", no_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'n'},
		{"dump-config", no_argument, NULL, OPT_DUMP_CONFIG},
		{"records", required_argument, NULL, OPT_RECORDS},
		{"alerts", required_argument, NULL, OPT_ALERTS},
		{"report-json", required_argument, NULL, OPT_REPORT_JSON},
		{"no-report", no_argument, NULL, OPT_NO_REPORT},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"stats", no_argument, NULL, OPT_STATS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *files[MAX_FILES];
	struct bw_config cfg;
	struct bw_stats st;
	const char *records_path = NULL, *alerts_path = NULL, *report_path = NULL;
	const char *config_path = NULL, *interface = NULL;
	FILE *alerts_json = NULL;
	size_t nfiles = 0, nstdin = 0;
	int stats_json = 0, quiet = 0, check = 0, dump = 0, no_report = 0, syslog_replay = 0;
	int debug = 0;
	int ch, status;

	bw_log_init("brokerwatch");
	while ((ch = getopt_long(argc, argv, "r:i:c:dnqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			interface = optarg;
			break;
		case 'd':
			debug = 1;
			break;
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
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case OPT_DUMP_CONFIG:
			dump = 1;
			break;
		case OPT_RECORDS:
			records_path = optarg;
			break;
		case OPT_ALERTS:
			alerts_path = optarg;
			break;
		case OPT_REPORT_JSON:
			report_path = optarg;
			break;
		case OPT_NO_REPORT:
			no_report = 1;
			break;
		case OPT_SYSLOG:
			syslog_replay = 1;
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
			printf("brokerwatch %s\nprocess attribution: %s\n", BW_VERSION,
			    BW_HAVE_EBPF ? "eBPF and /proc" : "/proc (built without eBPF)");
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
	if (nfiles > 0 && interface != NULL) {
		bw_log_warnx("-i and -r exclude each other: capture live or read files");
		return BW_EXIT_USAGE;
	}

	memset(&cfg, 0, sizeof(cfg));
	if ((status = load_config(config_path, &cfg)) != BW_EXIT_OK)
		return status;
	if (interface == NULL && nfiles == 0 && cfg.cap_interface != NULL &&
	    cfg.cap_interface[0] != '\0')
		interface = cfg.cap_interface;
	if (nfiles == 0 && interface == NULL && !check && !dump) {
		bw_log_warnx("no input: capture with -i IFACE (or capture.interface) or read "
		    "files with -r FILE");
		usage(stderr);
		bw_config_free(&cfg);
		return BW_EXIT_USAGE;
	}
	if (check) {
		size_t bound = bw_window_memory_bound(&cfg);
		long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);
		printf("configuration OK\n");
		if (!quiet)
			fprintf(stderr, "brokerwatch: %s: groups and windows take at most %zu bytes "
			    "(max_groups %zu, max_events %zu)\n",
			    cfg.path ? cfg.path : "built-in configuration", bound, cfg.max_groups,
			    cfg.max_events);
		if (pages > 0 && pagesize > 0 && bound / (size_t)pagesize > (size_t)pages)
			fprintf(stderr, "brokerwatch: warning: that is more than this machine's "
			    "memory (%zu bytes): lower max_groups or max_events\n",
			    (size_t)pages * (size_t)pagesize);
		bw_config_free(&cfg);
		return BW_EXIT_OK;
	}
	if (dump) {
		bw_config_dump(&cfg, stdout);
		bw_config_free(&cfg);
		return fflush(stdout) == 0 ? BW_EXIT_OK : BW_EXIT_IOERR;
	}

	struct bw_sensor_opts so;
	bw_sensor_opts_default(&so);
	so.files = files;
	so.nfiles = nfiles;
	so.interface = interface;
	so.cfg = &cfg;
	so.config_path = cfg.path;
	status = BW_EXIT_OK;
	if (records_path != NULL && (so.records = open_output(records_path, "w")) == NULL)
		status = BW_EXIT_IOERR;
	so.records_name = output_name(records_path);
	if (alerts_path != NULL && (alerts_json = open_output(alerts_path, "w")) == NULL)
		status = BW_EXIT_IOERR;
	so.alerts = alerts_json;
	so.alerts_name = alerts_path;
	if (report_path != NULL && interface != NULL) {
		bw_log_warnx("--report-json is for replays (-r): the live sensor alerts as it goes");
		status = BW_EXIT_USAGE;
	}
	if (report_path != NULL && (so.report_json = open_output(report_path, "w")) == NULL)
		status = BW_EXIT_IOERR;
	so.report_json_name = output_name(report_path);
	if (status != BW_EXIT_OK)
		goto out;

	/* machine-readable output on stdout keeps stdout to itself */
	int stdout_taken = so.records == stdout || alerts_json == stdout ||
	    so.report_json == stdout;
	so.alerts_stdout = cfg.out_stdout && !stdout_taken;
	so.alerts_syslog = interface != NULL ? cfg.out_syslog : syslog_replay;
	if (interface == NULL && !no_report && !stdout_taken)
		so.report_table = stdout;
	if (interface != NULL) {
		if (!debug)
			bw_log_use_syslog();
		bw_notify_init();
		bw_log_info("starting on %s with %s", interface,
		    cfg.path != NULL ? cfg.path : "the built-in configuration");
	}

	memset(&st, 0, sizeof(st));
	status = bw_sensor_run(&so, &st);
	/* a sensor that refused to start has nothing to count */
	if (status == BW_EXIT_CONFIG || status == BW_EXIT_USAGE)
		;
	else if (stats_json)
		bw_stats_print_json(&st, stderr);
	else if (!quiet && interface == NULL) {
		fprintf(stderr, "brokerwatch: statistics:\n");
		bw_stats_print_text(&st, stderr);
	}
out:
	if (close_output(so.records, records_path) < 0 ||
	    close_output(alerts_json, alerts_path) < 0 ||
	    close_output(so.report_json, report_path) < 0) {
		if (status == BW_EXIT_OK)
			status = BW_EXIT_IOERR;
	}
	bw_config_free(&cfg);
	return status;
}
