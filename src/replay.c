/*
 * replay.c - capture files through the whole pipeline: decode, fold, score,
 * count, alert, and the summary at the end.   [main]
 *
 * Owns, for the length of a replay, the decoder, the SYN fold table, the
 * scorer and the groups. Files are one stream; a bad file is reported and
 * the next one read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/log.h"
#include "brokerwatch/pcapfile.h"
#include "brokerwatch/replay.h"
#include "brokerwatch/score.h"
#include "brokerwatch/window.h"

void
bw_replay_opts_default(struct bw_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	bw_decoder_config_default(&o->decoder);
	o->conn_max = 65536;
	o->conn_fold_ns = BW_CONN_FOLD_NS;
}

struct replay {
	const struct bw_replay_opts *o;
	struct bw_stats *st;
	struct bw_decoder *dec;
	struct bw_conn *conn;
	struct bw_scorer *scorer;
	struct bw_window *window;
	int64_t latest;            /* the latest packet time of the input */
	int have_latest;
	int status;
};

/* The first problem decides the exit status. */
static void
note_status(struct replay *rp, int s)
{
	if (rp->status == BW_EXIT_OK)
		rp->status = s;
}

/* One warning per file and interface whose link type is not decoded. */
struct unsupported_seen {
	uint32_t iface[16];
	size_t n;
	int more;
};

static int
unsupported_first(struct unsupported_seen *u, uint32_t iface)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->iface[i] == iface)
			return 0;
	if (u->n == sizeof(u->iface) / sizeof(u->iface[0])) {
		if (u->more)
			return 0;
		u->more = 1;
		return 1;
	}
	u->iface[u->n++] = iface;
	return 1;
}

/* A new connection record: write it, score it, count it. -1: output failed. */
static int
handle_record(struct replay *rp, const struct bw_record *rec)
{
	const struct bw_replay_opts *o = rp->o;
	struct bw_score sc;
	struct bw_alert alert;
	int watched = bw_score(rp->scorer, rec, &sc);

	if (o->records != NULL) {
		char line[BW_RECORD_JSON_MAX];
		const char *computer = watched ? sc.computer : bw_scorer_computer(rp->scorer, rec);
		size_t n = bw_record_format_json(rec, computer, line, sizeof(line));
		if (fwrite(line, 1, n, o->records) != n) {
			bw_log_warn("%s: write", o->records_name);
			note_status(rp, BW_EXIT_IOERR);
			return -1;
		}
	}
	if (watched && sc.counted && bw_window_add(rp->window, rec, &sc, &alert))
		bw_sinks_emit(o->sinks, o->cfg, &alert);
	return 0;
}

static int
replay_file(struct replay *rp, const char *name)
{
	char err[BW_PCAPFILE_ERRMAX];
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	struct bw_record rec;
	struct unsupported_seen unsup = {.n = 0};
	const char *shown = strcmp(name, "-") == 0 ? "(standard input)" : name;
	int notfound, r;

	if ((pf = bw_pcapfile_open(name, err, sizeof(err), &notfound)) == NULL) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(rp, notfound ? BW_EXIT_NOINPUT : BW_EXIT_DATAERR);
		return 0;
	}
	while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) > 0) {
		if (pkt.ts_status == BW_TS_MISSING)
			bw_stats_inc(rp->st, BW_STAT_NO_TIMESTAMP);
		else if (pkt.ts_status == BW_TS_INVALID)
			bw_stats_inc(rp->st, BW_STAT_TS_INVALID);
		else if (!rp->have_latest || pkt.ts_ns > rp->latest) {
			rp->latest = pkt.ts_ns;
			rp->have_latest = 1;
		}
		if (pkt.link == BW_LINK_UNSUPPORTED &&
		    unsupported_first(&unsup, bw_pcapfile_interface(pf))) {
			uint32_t lt = bw_pcapfile_linktype(pf);
			bw_log_warnx("%s: interface %u: link type %u (%s) is not supported; "
			    "its packets are counted in link_unsupported", shown,
			    bw_pcapfile_interface(pf), lt, bw_linktype_name(lt));
			note_status(rp, BW_EXIT_DATAERR);
		}
		if (bw_decode(rp->dec, &pkt, &rec) != BW_DECODE_SYN || !bw_conn_syn(rp->conn, &rec))
			continue;
		if (handle_record(rp, &rec) < 0) {
			bw_pcapfile_close(pf);
			return -1;
		}
	}
	if (r < 0) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(rp, BW_EXIT_DATAERR);
	}
	bw_pcapfile_close(pf);
	return 0;
}

/* The summary over the window that ends at the latest packet time. */
static void
report(struct replay *rp)
{
	const struct bw_replay_opts *o = rp->o;
	struct bw_report_row *rows = NULL;
	ssize_t n = 0;

	if (o->report_table == NULL && o->report_json == NULL)
		return;
	if (rp->have_latest && (n = bw_window_report(rp->window, rp->latest, &rows)) < 0) {
		note_status(rp, BW_EXIT_SOFTWARE);
		return;
	}
	if (o->report_json != NULL) {
		char line[BW_ALERT_LINE_MAX];
		for (ssize_t i = 0; i < n; i++) {
			size_t len = bw_report_format_json(o->cfg, &rows[i], line, sizeof(line));
			if (fwrite(line, 1, len, o->report_json) != len)
				break;
		}
		if (fflush(o->report_json) != 0 || ferror(o->report_json)) {
			bw_log_warn("%s: write", o->report_json_name);
			note_status(rp, BW_EXIT_IOERR);
		}
	}
	if (o->report_table != NULL) {
		bw_report_print_table(o->cfg, rows, (size_t)n, o->report_table);
		if (fflush(o->report_table) != 0) {
			bw_log_warn("standard output: write");
			note_status(rp, BW_EXIT_IOERR);
		}
	}
	free(rows);
}

int
bw_replay_run(const struct bw_replay_opts *opts, struct bw_stats *st)
{
	struct bw_replay_opts local = *opts;
	const struct bw_replay_opts *o = &local;
	struct replay rp = {.o = o, .st = st, .status = BW_EXIT_OK};
	struct bw_config defaults;
	struct bw_sinks nosinks;
	int own_cfg = 0;

	/* without a configuration or sinks: the built-in defaults, no alert output */
	memset(&nosinks, 0, sizeof(nosinks));
	if (local.sinks == NULL)
		local.sinks = &nosinks;
	if (local.cfg == NULL) {
		if (bw_config_default(&defaults) < 0)
			return BW_EXIT_SOFTWARE;
		local.cfg = &defaults;
		own_cfg = 1;
	}

	rp.dec = bw_decoder_new(&o->decoder, st);
	rp.conn = bw_conn_new(o->conn_max, o->conn_fold_ns, st);
	rp.scorer = bw_scorer_new(o->cfg, st);
	rp.window = bw_window_new(o->cfg, st);
	if (rp.dec == NULL || rp.conn == NULL || rp.scorer == NULL || rp.window == NULL) {
		rp.status = BW_EXIT_SOFTWARE;
		goto out;
	}
	for (size_t i = 0; i < o->nfiles; i++)
		if (replay_file(&rp, o->files[i]) < 0)
			break;
	if (o->records != NULL && fflush(o->records) != 0) {
		bw_log_warn("%s: write", o->records_name);
		note_status(&rp, BW_EXIT_IOERR);
	}
	if (bw_sinks_close(o->sinks) < 0)
		note_status(&rp, BW_EXIT_IOERR);
	report(&rp);
	st->v[BW_STAT_GROUPS] = bw_window_groups(rp.window);
out:
	bw_window_free(rp.window);
	bw_scorer_free(rp.scorer);
	bw_conn_free(rp.conn);
	bw_decoder_free(rp.dec);
	if (own_cfg)
		bw_config_free(&defaults);
	return rp.status;
}
