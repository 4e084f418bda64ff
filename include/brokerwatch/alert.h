/*
 * alert.h - alerts and the summary, in every form they leave the process:
 * a JSON line, a logfmt line (stdout, syslog), the summary table and its JSON
 * rows. Field names are DESIGN.md's; bytes that came from packets or /proc
 * are escaped in every form.
 */
#ifndef BW_ALERT_H
#define BW_ALERT_H

#include <stddef.h>
#include <stdio.h>

#include "brokerwatch/config.h"
#include "brokerwatch/window.h"

/* Longest line any of the formatters writes, newline included. */
#define BW_ALERT_LINE_MAX 16384

/*
 * The alert as one JSON line ({"@timestamp":...,"event_simpleName":
 * "BrokerwatchAlert",...}\n). Returns its length, or 0 if len is shorter
 * than BW_ALERT_LINE_MAX. [any thread]
 */
size_t bw_alert_format_json(const struct bw_config *cfg, const struct bw_alert *a, char *buf,
    size_t len);

/* The alert as one logfmt line "ALERT Suspicion=high ...\n"; as above. */
size_t bw_alert_format_text(const struct bw_config *cfg, const struct bw_alert *a, char *buf,
    size_t len);

/* A summary row as one JSON line: its group_by fields, then the counts; as above. */
size_t bw_report_format_json(const struct bw_config *cfg, const struct bw_report_row *row,
    char *buf, size_t len);

/* The summary as an aligned table with a header, then a line counting the groups. */
void bw_report_print_table(const struct bw_config *cfg, const struct bw_report_row *rows,
    size_t n, FILE *f);

/* Where alerts go. A NULL stream is off. */
struct bw_sinks {
	FILE *text;              /* logfmt lines (outputs.stdout) */
	FILE *json;              /* JSON lines (outputs.json, --alerts) */
	const char *json_name;   /* for error messages */
	int syslog;              /* openlog done: one logfmt line per alert */
	int failed;              /* a write failed (logged once) */
};

/*
 * Opens syslog (ident "brokerwatch", the configured facility) when asked.
 * Streams are the caller's. [main]
 */
void bw_sinks_open_syslog(struct bw_sinks *s, const struct bw_config *cfg);

/* Sends an alert to every enabled sink. Syslog priority by suspicion. [worker] */
void bw_sinks_emit(struct bw_sinks *s, const struct bw_config *cfg, const struct bw_alert *a);

/* Flushes the streams and closes syslog; 0, or -1 if a write failed. [main] */
int bw_sinks_close(struct bw_sinks *s);

#endif
