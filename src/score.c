/*
 * score.c - protocol, exclusions, inventory and suspicion rules.   [worker]
 *
 * Owns lookup tables built from the configuration: a 65536-entry port ->
 * protocol map, CIDR sets for exclusions, home_net, the inventory and each
 * rule's destinations, and one PCRE2 match block for the rules' regexes.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/cidr.h"
#include "brokerwatch/log.h"
#include "brokerwatch/score.h"

#define PROTO_NONE 0xff

struct rule_sets {
	struct bw_cidr_set *when;
	struct bw_cidr_set *unless;
};

struct bw_scorer {
	const struct bw_config *cfg;
	struct bw_stats *st;
	uint8_t port_proto[65536];
	struct bw_cidr_set *exclude;
	struct bw_cidr_set *home;
	struct bw_cidr_set *inventory;
	struct bw_cidr_set *local;
	const struct bw_local *local_info;
	struct rule_sets *rules;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/*
 * An executable's name is the attacker's to choose: a pattern that
 * backtracks badly on it stops here, counts as no match (so a "not this
 * program" exception cannot hide it), and is counted.
 */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 10000

struct bw_scorer *
bw_scorer_new(const struct bw_config *cfg, struct bw_stats *st)
{
	struct bw_scorer *s = calloc(1, sizeof(*s));
	struct bw_cidr *inv = NULL;
	int fail = 0;

	if (s == NULL)
		goto nomem;
	s->cfg = cfg;
	s->st = st;
	memset(s->port_proto, PROTO_NONE, sizeof(s->port_proto));
	for (size_t i = 0; i < cfg->nprotocols; i++)
		for (size_t j = 0; j < cfg->protocols[i].nports; j++)
			s->port_proto[cfg->protocols[i].ports[j]] = (uint8_t)i;
	s->exclude = bw_cidr_set_new(cfg->exclude, cfg->nexclude);
	s->home = cfg->nhome_net ? bw_cidr_set_new(cfg->home_net, cfg->nhome_net) : NULL;
	fail |= s->exclude == NULL || (cfg->nhome_net && s->home == NULL);
	if (cfg->ninventory > 0) {
		if ((inv = calloc(cfg->ninventory, sizeof(*inv))) == NULL)
			goto nomem;
		for (size_t i = 0; i < cfg->ninventory; i++)
			inv[i] = cfg->inventory[i].net;
		s->inventory = bw_cidr_set_new(inv, cfg->ninventory);
		free(inv);
		fail |= s->inventory == NULL;
	}
	if (cfg->nrules > 0 && (s->rules = calloc(cfg->nrules, sizeof(*s->rules))) == NULL)
		goto nomem;
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct bw_rule *r = &cfg->rules[i];
		if (r->when.ndests > 0) {
			s->rules[i].when = bw_cidr_set_new(r->when.dests, r->when.ndests);
			fail |= s->rules[i].when == NULL;
		}
		if (r->unless.ndests > 0) {
			s->rules[i].unless = bw_cidr_set_new(r->unless.dests, r->unless.ndests);
			fail |= s->rules[i].unless == NULL;
		}
	}
	if ((s->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (s->mctx = pcre2_match_context_create(NULL)) == NULL || fail)
		goto nomem;
	pcre2_set_match_limit(s->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, REGEX_DEPTH_LIMIT);
	return s;
nomem:
	bw_log_warn("scorer");
	bw_scorer_free(s);
	return NULL;
}

void
bw_scorer_free(struct bw_scorer *s)
{
	if (s == NULL)
		return;
	bw_cidr_set_free(s->exclude);
	bw_cidr_set_free(s->home);
	bw_cidr_set_free(s->inventory);
	bw_cidr_set_free(s->local);
	if (s->rules != NULL)
		for (size_t i = 0; i < s->cfg->nrules; i++) {
			bw_cidr_set_free(s->rules[i].when);
			bw_cidr_set_free(s->rules[i].unless);
		}
	free(s->rules);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	free(s);
}

int
bw_scorer_set_local(struct bw_scorer *s, const struct bw_local *l)
{
	struct bw_cidr_set *set = NULL;

	if (l != NULL && l->n > 0 && (set = bw_cidr_set_new(l->addrs, l->n)) == NULL) {
		bw_log_warn("this host's addresses");
		return -1;
	}
	bw_cidr_set_free(s->local);
	s->local = set;
	s->local_info = set != NULL ? l : NULL;
	return 0;
}

/* Local host first, then the inventory (DESIGN.md). */
static long
computer_index(const struct bw_scorer *s, const struct bw_record *r)
{
	if (bw_cidr_set_lookup(s->local, r->family, r->src) >= 0)      /* NULL: none */
		return BW_SCORE_LOCAL;
	return bw_cidr_set_lookup(s->inventory, r->family, r->src);
}

static const char *
computer_name(const struct bw_scorer *s, long i)
{
	if (i == BW_SCORE_LOCAL)
		return s->local_info->hostname;
	return i < 0 ? NULL : s->cfg->inventory[i].name;
}

const char *
bw_scorer_computer(const struct bw_scorer *s, const struct bw_record *r)
{
	return computer_name(s, computer_index(s, r));
}

static int
in_list16(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static int
in_strings(char *const *v, size_t n, const char *x)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], x) == 0)
			return 1;
	return 0;
}

/*
 * Does every condition of m hold for the record? A condition on the process
 * (image, image_path, image_deleted, user) does not hold when the process is
 * unknown.
 */
static int
match_all(struct bw_scorer *s, const struct bw_match *m, const struct bw_cidr_set *dests,
    const struct bw_record *r, const struct bw_process *p, int proto)
{
	const char *image = p != NULL ? p->image : "";
	const char *user = p != NULL ? p->user : "";

	if (m->protocols != 0 && (m->protocols & (1ull << proto)) == 0)
		return 0;
	if (m->nports > 0 && !in_list16(m->ports, m->nports, r->dport))
		return 0;
	if (m->ndests > 0 && bw_cidr_set_lookup(dests, r->family, r->dst) < 0)
		return 0;
	if (m->image_re != NULL) {
		int rc;
		if (image[0] == '\0')
			return 0;
		rc = pcre2_match(m->image_re, (PCRE2_SPTR)image, strnlen(image, BW_EXE_MAX), 0, 0,
		    s->md, s->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			bw_stats_inc(s->st, BW_STAT_REGEX_ERRORS);
		if (rc < 0)
			return 0;
	}
	if (m->nimage_paths > 0 &&
	    (image[0] == '\0' || !in_strings(m->image_paths, m->nimage_paths, image)))
		return 0;
	if (m->image_deleted >= 0 &&
	    (image[0] == '\0' || (p->exe_deleted != 0) != (m->image_deleted != 0)))
		return 0;
	if (m->nusers > 0 && (user[0] == '\0' || !in_strings(m->users, m->nusers, user)))
		return 0;
	return 1;
}

int
bw_score_watch(struct bw_scorer *s, const struct bw_record *r, struct bw_score *out)
{
	uint8_t proto = s->port_proto[r->dport];

	if (proto == PROTO_NONE)
		return 0;
	bw_stats_inc(s->st, BW_STAT_WATCHED);
	if (bw_cidr_set_lookup(s->exclude, r->family, r->dst) >= 0 ||
	    (s->home != NULL && bw_cidr_set_lookup(s->home, r->family, r->src) < 0)) {
		bw_stats_inc(s->st, BW_STAT_EXCLUDED);
		return 0;
	}
	out->proto = proto;
	out->inventory = computer_index(s, r);
	out->computer = computer_name(s, out->inventory);
	return 1;
}

void
bw_score_rules(struct bw_scorer *s, const struct bw_record *r, const struct bw_process *proc,
    struct bw_score *out)
{
	const struct bw_config *cfg = s->cfg;

	out->level = BW_LEVEL_LOW;
	out->rule = -1;
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct bw_rule *rule = &cfg->rules[i];
		if (!match_all(s, &rule->when, s->rules[i].when, r, proc, out->proto))
			continue;
		if (rule->has_unless &&
		    match_all(s, &rule->unless, s->rules[i].unless, r, proc, out->proto))
			continue;
		out->level = rule->level;
		out->rule = (int)i;
		break;
	}
	out->counted = (cfg->alert_levels >> out->level) & 1;
	bw_stats_inc(s->st, out->level == BW_LEVEL_HIGH ? BW_STAT_SCORED_HIGH :
	    out->level == BW_LEVEL_MEDIUM ? BW_STAT_SCORED_MEDIUM : BW_STAT_SCORED_LOW);
}

int
bw_score(struct bw_scorer *s, const struct bw_record *r, const struct bw_process *proc,
    struct bw_score *out)
{
	if (!bw_score_watch(s, r, out))
		return 0;
	bw_score_rules(s, r, proc, out);
	return 1;
}
