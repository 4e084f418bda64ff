/*
 * score.h - what a connection record means: its protocol (by destination
 * port), whether it is watched at all (exclusions, home_net), who made it
 * (ComputerName from the inventory), and its suspicion (the ordered rules).
 *
 * A scorer is built from a configuration, which must outlive it, and is used
 * by one thread (it owns PCRE2 match data).
 */
#ifndef BW_SCORE_H
#define BW_SCORE_H

#include "brokerwatch/config.h"
#include "brokerwatch/local.h"
#include "brokerwatch/process.h"
#include "brokerwatch/record.h"
#include "brokerwatch/stats.h"

struct bw_score {
	int proto;              /* index into cfg->protocols */
	enum bw_level level;
	int rule;               /* index into cfg->rules, -1: no rule matched (low) */
	const char *computer;   /* host or inventory name, or NULL: the source address */
	long inventory;         /* its index in cfg->inventory, BW_SCORE_LOCAL, or -1 */
	int counted;            /* its level is one of alert_levels */
};

/* score.inventory of a record made on this host: its ComputerName is the host's name. */
#define BW_SCORE_LOCAL (-2L)

struct bw_scorer;

/* Builds the lookup tables of cfg. NULL (logged) without memory. */
struct bw_scorer *bw_scorer_new(const struct bw_config *cfg, struct bw_stats *st);

/* Frees the scorer; NULL is allowed. */
void bw_scorer_free(struct bw_scorer *s);

/*
 * This host's addresses (the live sensor): a record from one of them has the
 * host's name as ComputerName, before any inventory name. l must outlive its
 * use; NULL: no source is local (replays). 0, or -1 (logged) without memory.
 */
int bw_scorer_set_local(struct bw_scorer *s, const struct bw_local *l);

/* The ComputerName of a record when it is not the source address, or NULL. */
const char *bw_scorer_computer(const struct bw_scorer *s, const struct bw_record *r);

/*
 * The first half of scoring, before any process is looked for: is the record
 * watched? Returns 0 when it is not (no watched port: nothing counted;
 * excluded destination or source outside home_net: counted as excluded), 1
 * with out->proto, ->computer and ->inventory filled (counted as watched).
 * out->inventory == BW_SCORE_LOCAL says this host made it.
 */
int bw_score_watch(struct bw_scorer *s, const struct bw_record *r, struct bw_score *out);

/*
 * The second half: the rules, with the process that made the record (NULL
 * when there is none to know: span ports, replays). Fills out->level, ->rule,
 * ->counted; counts by level.
 */
void bw_score_rules(struct bw_scorer *s, const struct bw_record *r,
    const struct bw_process *proc, struct bw_score *out);

/* Both halves: returns as bw_score_watch, and scores a watched record. */
int bw_score(struct bw_scorer *s, const struct bw_record *r, const struct bw_process *proc,
    struct bw_score *out);

#endif
