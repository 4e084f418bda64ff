/*
 * sensor.h - brokerwatch running: the capture thread, the ring, the scoring
 * worker and the main thread's event loop, for a live interface or for
 * capture files (the same threads and ring; a replay waits for room in the
 * ring instead of dropping).
 *
 * The main thread owns every signal (blocked in all threads, read through a
 * signalfd by libev): SIGTERM/SIGINT stop the capture, drain the ring, flush
 * every sink; SIGHUP reloads the configuration (a file with errors is
 * reported and the running one kept) and reopens the JSON alert file;
 * SIGUSR1 logs the statistics. Live, it gives up privileges once the capture
 * is open, logs statistics every stats.interval, tells systemd READY/
 * RELOADING/STOPPING and feeds its watchdog while both threads make progress.
 */
#ifndef BW_SENSOR_H
#define BW_SENSOR_H

#include <stdio.h>

#include "brokerwatch/config.h"
#include "brokerwatch/decode.h"
#include "brokerwatch/stats.h"

struct bw_sensor_opts {
	const char *const *files;   /* a replay of these ... */
	size_t nfiles;
	const char *interface;      /* ... or a live capture on this */
	struct bw_config *cfg;      /* the configuration at start (the caller's) */
	const char *config_path;    /* what SIGHUP reloads; NULL: nothing to reload */
	FILE *records;              /* JSON lines of records, or NULL */
	const char *records_name;
	FILE *alerts;               /* --alerts: replaces cfg->out_json, or NULL */
	const char *alerts_name;
	int alerts_stdout;          /* logfmt alert lines on stdout */
	int alerts_syslog;          /* alerts to syslog */
	FILE *report_table;         /* replay: the summary table at the end, or NULL */
	FILE *report_json;          /* replay: the summary as JSON lines, or NULL */
	const char *report_json_name;
	struct bw_decoder_config decoder;
	size_t conn_max;
	int64_t conn_fold_ns;
};

/* Defaults for the decoder and fold table; everything else zero. */
void bw_sensor_opts_default(struct bw_sensor_opts *o);

/*
 * Runs until the input ends (replay) or a stop signal (live), counting into
 * st. Returns the exit status (replay.h's BW_EXIT_*). [main]
 */
int bw_sensor_run(const struct bw_sensor_opts *o, struct bw_stats *st);

#endif
