/*
 * window.h - group counters over a sliding window of packet time, and the
 * alerts they raise.
 *
 * A group is what the configuration's group_by fields make of a counted
 * record. Its ConnectionCount at time t is the number of its connections with
 * time in [t - window, t]: exact, every connection's time is kept. Memory is
 * bounded: at most max_groups groups and max_events connection times; a
 * group with nothing left in the window is dropped (groups_expired), and when
 * a bound is reached the group seen longest ago is evicted (groups_evicted,
 * events_evicted). One owner thread.
 */
#ifndef BW_WINDOW_H
#define BW_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "brokerwatch/config.h"
#include "brokerwatch/process.h"
#include "brokerwatch/record.h"
#include "brokerwatch/score.h"
#include "brokerwatch/stats.h"

/* A group's identity. Fields not in group_by are zero. */
struct bw_group_key {
	uint8_t remote[16];        /* RemoteAddress */
	uint8_t src[16];           /* ComputerName as the source address (no inventory name) */
	uint32_t inventory;        /* 1 + index of the inventory entry naming it; 0: none;
	                              BW_KEY_LOCAL: this host */
	uint16_t rport;            /* RemotePort */
	uint8_t family;            /* of remote and src */
	uint8_t proto;             /* Protocol: index into cfg->protocols */
	uint8_t level;             /* Suspicion */
	uint8_t pad[7];
	char user[BW_USER_MAX];    /* UserName */
	char image[BW_EXE_MAX];    /* ImageFileName */
};

#define BW_KEY_LOCAL UINT32_MAX

/* An alert: valid until the next call into the window. */
struct bw_alert {
	const struct bw_record *rec;    /* the connection that made it fire */
	const struct bw_process *proc;  /* the process that made it, or NULL */
	const struct bw_group_key *key;
	const char *computer;           /* ComputerName if from the inventory, else NULL */
	int rule;                       /* index into cfg->rules, -1: none matched */
	int proto;                      /* Protocol: index into cfg->protocols */
	enum bw_level level;            /* Suspicion */
	uint64_t count;                 /* ConnectionCount */
	int64_t first_ns, last_ns;      /* FirstSeen, LastSeen */
};

/* A row of the summary: a group and its counts over one window. */
struct bw_report_row {
	struct bw_group_key key;
	uint64_t count;
	int64_t first_ns, last_ns;
};

struct bw_window;

/* Groups for cfg (which must outlive them). NULL (logged) without memory. */
struct bw_window *bw_window_new(const struct bw_config *cfg, struct bw_stats *st);

/* Frees the groups; NULL is allowed. */
void bw_window_free(struct bw_window *w);

/*
 * Counts a scored record (sc->counted must be set). Returns 1 and fills *out
 * when the group alerts: its count reached the threshold for the first time,
 * or again after falling below it, or realert after its last alert.
 */
int bw_window_add(struct bw_window *w, const struct bw_record *r, const struct bw_process *proc,
    const struct bw_score *sc, struct bw_alert *out);

/*
 * The summary at end_ns: every group with at least threshold connections in
 * [end_ns - window, end_ns], in report order (Suspicion high first, then
 * ConnectionCount descending, then FirstSeen, ComputerName, RemoteAddress,
 * RemotePort ascending). *rows is malloc'd (free it). Returns the row count,
 * or -1 (logged) without memory.
 */
ssize_t bw_window_report(struct bw_window *w, int64_t end_ns, struct bw_report_row **rows);

/*
 * The ComputerName of a group key as text, NUL-terminated in cap bytes (at
 * least BW_ADDR_TEXT_MAX): this host's name, the inventory name, or the
 * source address. [any thread]
 */
void bw_window_key_computer(const struct bw_config *cfg, const struct bw_group_key *k,
    char *buf, size_t cap);

/* Groups held now. */
size_t bw_window_groups(const struct bw_window *w);

/*
 * A reloaded configuration whose group keys mean what the current one's do
 * (same group_by, protocols, inventory, max_groups, max_events): the groups
 * are kept and counted on with cfg's window, threshold and realert.
 */
void bw_window_set_config(struct bw_window *w, const struct bw_config *cfg);

/* Bytes the groups and connection times of cfg can hold at most. */
size_t bw_window_memory_bound(const struct bw_config *cfg);

#endif
