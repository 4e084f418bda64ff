/*
 * replay.h - the pipeline over capture files: read, decode, fold, write.
 *
 * Several files are read in the order given as one stream: fragment and fold
 * state carry over from one file to the next. A damaged file is reported (file,
 * packet number, offset) and the files after it are still read; every record
 * before the damage is written. Runs on the calling thread.
 */
#ifndef BW_REPLAY_H
#define BW_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include "brokerwatch/alert.h"
#include "brokerwatch/config.h"
#include "brokerwatch/decode.h"
#include "brokerwatch/stats.h"

/* Exit statuses (sysexits.h), so that a script can tell a bad file from a bad option. */
#define BW_EXIT_OK 0
#define BW_EXIT_USAGE 64     /* bad command line */
#define BW_EXIT_DATAERR 65   /* an input is not a capture, is damaged, or has an unsupported link type */
#define BW_EXIT_NOINPUT 66   /* an input file cannot be opened */
#define BW_EXIT_UNAVAILABLE 69 /* the live capture failed while running (the interface went away) */
#define BW_EXIT_SOFTWARE 70  /* internal error (out of memory at start) */
#define BW_EXIT_IOERR 74     /* an output could not be written */
#define BW_EXIT_CONFIG 78    /* the configuration has errors */

struct bw_replay_opts {
	const char *const *files;  /* "-" is standard input */
	size_t nfiles;
	FILE *records;             /* JSON lines of records, or NULL */
	const char *records_name;  /* for error messages */
	struct bw_decoder_config decoder;
	size_t conn_max;           /* SYN fold table entries */
	int64_t conn_fold_ns;
	const struct bw_config *cfg;
	struct bw_sinks *sinks;    /* where alerts go as they fire */
	FILE *report_table;        /* the summary table at the end, or NULL */
	FILE *report_json;         /* the summary as JSON lines, or NULL */
	const char *report_json_name;
};

/* Defaults for everything but files, outputs and the configuration. */
void bw_replay_opts_default(struct bw_replay_opts *o);

/*
 * Runs the pipeline over every file, counting into st: records are scored,
 * counted in groups, alerts go to the sinks as they fire, and at the end the
 * summary over the window that ends at the latest packet time is written.
 * Problems with inputs are logged as they are met. Returns the exit status: BW_EXIT_OK, or the
 * status of the first problem (NOINPUT, DATAERR, IOERR, SOFTWARE).
 */
int bw_replay_run(const struct bw_replay_opts *o, struct bw_stats *st);

#endif
