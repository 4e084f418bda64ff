/*
 * replay.c - capture files through the decoder into connection records.   [main]
 *
 * Owns, for the length of a replay, the decoder, the SYN fold table and the
 * record output. Files are one stream; a bad file is reported and skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/log.h"
#include "brokerwatch/pcapfile.h"
#include "brokerwatch/replay.h"

void
bw_replay_opts_default(struct bw_replay_opts *o)
{
	memset(o, 0, sizeof(*o));
	bw_decoder_config_default(&o->decoder);
	o->conn_max = 65536;
	o->conn_fold_ns = BW_CONN_FOLD_NS;
}

/* The first problem decides the exit status. */
static void
note_status(int *status, int s)
{
	if (*status == BW_EXIT_OK)
		*status = s;
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

static int
replay_file(const char *name, struct bw_decoder *dec, struct bw_conn *conn,
    const struct bw_replay_opts *o, struct bw_stats *st, int *status)
{
	char err[BW_PCAPFILE_ERRMAX];
	char line[BW_RECORD_JSON_MAX];
	struct bw_pcapfile *pf;
	struct bw_packet pkt;
	struct bw_record rec;
	struct unsupported_seen unsup = {.n = 0};
	const char *shown = strcmp(name, "-") == 0 ? "(standard input)" : name;
	int notfound, r;

	if ((pf = bw_pcapfile_open(name, err, sizeof(err), &notfound)) == NULL) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(status, notfound ? BW_EXIT_NOINPUT : BW_EXIT_DATAERR);
		return 0;
	}
	while ((r = bw_pcapfile_next(pf, &pkt, err, sizeof(err))) > 0) {
		if (pkt.ts_status == BW_TS_MISSING)
			bw_stats_inc(st, BW_STAT_NO_TIMESTAMP);
		else if (pkt.ts_status == BW_TS_INVALID)
			bw_stats_inc(st, BW_STAT_TS_INVALID);
		if (pkt.link == BW_LINK_UNSUPPORTED &&
		    unsupported_first(&unsup, bw_pcapfile_interface(pf))) {
			uint32_t lt = bw_pcapfile_linktype(pf);
			bw_log_warnx("%s: interface %u: link type %u (%s) is not supported; "
			    "its packets are counted in link_unsupported", shown,
			    bw_pcapfile_interface(pf), lt, bw_linktype_name(lt));
			note_status(status, BW_EXIT_DATAERR);
		}
		if (bw_decode(dec, &pkt, &rec) != BW_DECODE_SYN || !bw_conn_syn(conn, &rec))
			continue;
		if (o->records != NULL) {
			size_t n = bw_record_format_json(&rec, line, sizeof(line));
			if (fwrite(line, 1, n, o->records) != n) {
				bw_log_warn("%s: write", o->records_name);
				note_status(status, BW_EXIT_IOERR);
				bw_pcapfile_close(pf);
				return -1;
			}
		}
	}
	if (r < 0) {
		bw_log_warnx("%s: %s", shown, err);
		note_status(status, BW_EXIT_DATAERR);
	}
	bw_pcapfile_close(pf);
	return 0;
}

int
bw_replay_run(const struct bw_replay_opts *o, struct bw_stats *st)
{
	struct bw_decoder *dec;
	struct bw_conn *conn;
	int status = BW_EXIT_OK;

	if ((dec = bw_decoder_new(&o->decoder, st)) == NULL)
		return BW_EXIT_SOFTWARE;
	if ((conn = bw_conn_new(o->conn_max, o->conn_fold_ns, st)) == NULL) {
		bw_decoder_free(dec);
		return BW_EXIT_SOFTWARE;
	}
	for (size_t i = 0; i < o->nfiles; i++)
		if (replay_file(o->files[i], dec, conn, o, st, &status) < 0)
			break;
	if (o->records != NULL && fflush(o->records) != 0) {
		bw_log_warn("%s: write", o->records_name);
		note_status(&status, BW_EXIT_IOERR);
	}
	bw_conn_free(conn);
	bw_decoder_free(dec);
	return status;
}
