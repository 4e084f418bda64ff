/*
 * window.c - groups and their connection times in a sliding window.   [worker]
 *
 * Owns the group table (bw_table, recency = last connection seen) and one
 * pool of fixed-size chunks holding connection times: each group's times are
 * a sorted, doubly-linked run of chunks, oldest first. Everything is
 * allocated at creation; bounds are enforced by dropping expired groups,
 * then evicting the group seen longest ago.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokerwatch/format.h"
#include "brokerwatch/log.h"
#include "brokerwatch/table.h"
#include "brokerwatch/window.h"

#define CHUNK_TS 6
#define NIL UINT32_MAX

struct chunk {
	int64_t ts[CHUNK_TS];
	uint32_t next, prev;
};

struct group {
	int64_t latest_ns;       /* newest connection time */
	int64_t last_alert_ns;
	uint64_t count;          /* connection times held */
	uint32_t head, tail;     /* chunks, oldest first */
	uint16_t head_off;       /* first live slot of head */
	uint16_t tail_used;      /* slots used in tail */
	uint8_t alerted;
	int32_t rule;
};

struct bw_window {
	const struct bw_config *cfg;
	struct bw_stats *st;
	struct bw_table *groups;
	struct chunk *chunks;
	size_t nchunks;
	uint32_t free_chunk;     /* chunks given back, most recent first */
	uint32_t fresh_chunk;    /* chunks from here on were never used (nor touched) */
	uint64_t events;         /* connection times held, all groups */
	int64_t now;             /* newest connection time seen */
	struct bw_group_key key; /* scratch */
};

static size_t
chunk_count(const struct bw_config *cfg)
{
	/* a group of c times spans at most c / CHUNK_TS + 2 chunks */
	return cfg->max_events / CHUNK_TS + 2 * cfg->max_groups + 1;
}

size_t
bw_window_memory_bound(const struct bw_config *cfg)
{
	return sizeof(struct bw_window) +
	    bw_table_memory_for(cfg->max_groups, sizeof(struct bw_group_key),
		sizeof(struct group)) +
	    chunk_count(cfg) * sizeof(struct chunk);
}

struct bw_window *
bw_window_new(const struct bw_config *cfg, struct bw_stats *st)
{
	struct bw_window *w = calloc(1, sizeof(*w));

	if (w == NULL)
		goto nomem;
	w->cfg = cfg;
	w->st = st;
	w->nchunks = chunk_count(cfg);
	w->groups = bw_table_new(cfg->max_groups, sizeof(struct bw_group_key),
	    sizeof(struct group), bw_table_seed());
	if (w->groups == NULL || w->nchunks >= NIL ||
	    (w->chunks = calloc(w->nchunks, sizeof(*w->chunks))) == NULL)
		goto nomem;
	/* chunks are taken as bw_table takes entries: no list through untouched pages */
	w->free_chunk = NIL;
	w->fresh_chunk = 0;
	w->now = INT64_MIN;
	return w;
nomem:
	bw_log_warn("group table for %zu groups and %zu connections", cfg->max_groups,
	    cfg->max_events);
	bw_window_free(w);
	return NULL;
}

void
bw_window_free(struct bw_window *w)
{
	if (w == NULL)
		return;
	bw_table_free(w->groups);
	free(w->chunks);
	free(w);
}

size_t
bw_window_groups(const struct bw_window *w)
{
	return bw_table_count(w->groups);
}

void
bw_window_set_config(struct bw_window *w, const struct bw_config *cfg)
{
	w->cfg = cfg;
}

static void
chunk_release(struct bw_window *w, uint32_t c)
{
	w->chunks[c].next = w->free_chunk;
	w->free_chunk = c;
}

/* Slots in use in chunk c of group g. */
static unsigned
chunk_used(const struct group *g, uint32_t c)
{
	return c == g->tail ? g->tail_used : CHUNK_TS;
}

/* Drops g's oldest connection time. */
static void
pop_oldest(struct bw_window *w, struct group *g)
{
	uint32_t c = g->head;

	g->head_off++;
	g->count--;
	w->events--;
	if (g->head_off < chunk_used(g, c))
		return;
	g->head = w->chunks[c].next;
	g->head_off = 0;
	if (g->head == NIL)
		g->tail = NIL;
	else
		w->chunks[g->head].prev = NIL;
	chunk_release(w, c);
}

static void
group_remove(struct bw_window *w, struct group *g)
{
	uint32_t c = g->head;

	while (c != NIL) {
		uint32_t next = w->chunks[c].next;
		chunk_release(w, c);
		c = next;
	}
	w->events -= g->count;
	bw_table_remove(w->groups, g);
}

/*
 * Makes room for one more connection time (and, when need_group, one more
 * group), never touching keep: drops groups with nothing left in the window,
 * then evicts the group seen longest ago.
 */
static void
make_room(struct bw_window *w, struct group *keep, int need_group)
{
	for (;;) {
		int full = (w->free_chunk == NIL && w->fresh_chunk == w->nchunks) ||
		    w->events >= w->cfg->max_events ||
		    (need_group && bw_table_count(w->groups) >= w->cfg->max_groups);
		struct group *old;

		if (!full)
			return;
		old = bw_table_oldest(w->groups);
		if (old == keep)
			old = bw_table_newer(w->groups, old);
		if (old == NULL) {
			/* keep is the only group: it gives up its own oldest time */
			if (keep == NULL || keep->count == 0)
				return;
			pop_oldest(w, keep);
			bw_stats_inc(w->st, BW_STAT_EVENTS_EVICTED);
			continue;
		}
		if (old->latest_ns < w->now - w->cfg->window_ns)
			bw_stats_inc(w->st, BW_STAT_GROUPS_EXPIRED);
		else {
			bw_stats_inc(w->st, BW_STAT_GROUPS_EVICTED);
			bw_stats_add(w->st, BW_STAT_EVENTS_EVICTED, old->count);
		}
		group_remove(w, old);
	}
}

/* Inserts ts into g's sorted times (almost always at the end). */
static void
push_time(struct bw_window *w, struct group *g, int64_t ts)
{
	uint32_t c = g->tail;
	unsigned i;

	if (c == NIL || g->tail_used == CHUNK_TS) {
		uint32_t n = w->free_chunk;     /* make_room guaranteed one */
		if (n != NIL)
			w->free_chunk = w->chunks[n].next;
		else
			n = w->fresh_chunk++;
		w->chunks[n].next = NIL;
		w->chunks[n].prev = c;
		if (c == NIL) {
			g->head = n;
			g->head_off = 0;
		} else
			w->chunks[c].next = n;
		g->tail = c = n;
		g->tail_used = 0;
	}
	i = g->tail_used++;
	w->chunks[c].ts[i] = ts;
	g->count++;
	w->events++;
	/* out of order (merged captures): move it back to its place */
	for (;;) {
		uint32_t pc = c;
		unsigned pi = i;
		if (pi == (pc == g->head ? g->head_off : 0)) {
			if (pc == g->head)
				return;
			pc = w->chunks[pc].prev;
			pi = CHUNK_TS;
		}
		pi--;
		if (w->chunks[pc].ts[pi] <= w->chunks[c].ts[i])
			return;
		int64_t t = w->chunks[pc].ts[pi];
		w->chunks[pc].ts[pi] = w->chunks[c].ts[i];
		w->chunks[c].ts[i] = t;
		c = pc;
		i = pi;
	}
}

static int64_t
oldest_time(const struct bw_window *w, const struct group *g)
{
	return w->chunks[g->head].ts[g->head_off];
}

static int64_t
newest_time(const struct bw_window *w, const struct group *g)
{
	return w->chunks[g->tail].ts[g->tail_used - 1];
}

static void
make_key(const struct bw_config *cfg, const struct bw_record *r, const struct bw_process *p,
    const struct bw_score *sc, struct bw_group_key *k)
{
	uint32_t gb = cfg->group_by;

	memset(k, 0, sizeof(*k));
	if (gb & BW_GF_COMPUTER) {
		if (sc->inventory == BW_SCORE_LOCAL)
			k->inventory = BW_KEY_LOCAL;
		else if (sc->inventory >= 0)
			k->inventory = (uint32_t)sc->inventory + 1;
		else {
			memcpy(k->src, r->src, sizeof(k->src));
			k->family = r->family;
		}
	}
	if (gb & BW_GF_REMOTE) {
		memcpy(k->remote, r->dst, sizeof(k->remote));
		k->family = r->family;
	}
	if (gb & BW_GF_PORT)
		k->rport = r->dport;
	if (gb & BW_GF_PROTOCOL)
		k->proto = (uint8_t)sc->proto;
	if (gb & BW_GF_SUSPICION)
		k->level = (uint8_t)sc->level;
	if ((gb & BW_GF_USER) && p != NULL)
		memcpy(k->user, p->user, strnlen(p->user, sizeof(p->user)));
	if ((gb & BW_GF_IMAGE) && p != NULL)
		memcpy(k->image, p->image, strnlen(p->image, sizeof(p->image)));
}

int
bw_window_add(struct bw_window *w, const struct bw_record *r, const struct bw_process *proc,
    const struct bw_score *sc, struct bw_alert *out)
{
	const struct bw_config *cfg = w->cfg;
	struct group *g;
	int64_t ts = r->ts_ns, latest;
	int fire = 0;

	bw_stats_inc(w->st, BW_STAT_COUNTED);
	if (ts > w->now)
		w->now = ts;
	make_key(cfg, r, proc, sc, &w->key);
	if ((g = bw_table_find(w->groups, &w->key)) == NULL) {
		make_room(w, NULL, 1);
		g = bw_table_insert(w->groups, &w->key);
		g->head = g->tail = NIL;
		g->latest_ns = ts;
	}
	bw_table_touch(w->groups, g);

	/* the window ends at the group's newest connection */
	latest = ts > g->latest_ns ? ts : g->latest_ns;
	while (g->count > 0 && oldest_time(w, g) < latest - cfg->window_ns)
		pop_oldest(w, g);
	if (g->count < cfg->threshold)
		g->alerted = 0;         /* fell below: the next rise alerts again */
	if (ts >= latest - cfg->window_ns) {
		make_room(w, g, 0);
		push_time(w, g, ts);
	}
	g->latest_ns = latest;
	g->rule = sc->rule;

	if (g->count >= cfg->threshold) {
		if (!g->alerted)
			fire = 1;
		else if (cfg->realert_ns > 0 && ts - g->last_alert_ns >= cfg->realert_ns)
			fire = 1;
	}
	if (!fire)
		return 0;
	g->alerted = 1;
	g->last_alert_ns = ts;
	bw_stats_inc(w->st, BW_STAT_ALERTS);
	out->rec = r;
	out->proc = proc;
	out->key = bw_table_key(w->groups, g);
	out->computer = sc->computer;
	out->rule = sc->rule;
	out->proto = sc->proto;
	out->level = sc->level;
	out->count = g->count;
	out->first_ns = oldest_time(w, g);
	out->last_ns = newest_time(w, g);
	return 1;
}

/* ---------------------------------------------------------------- the report */

void
bw_window_key_computer(const struct bw_config *cfg, const struct bw_group_key *k, char *buf,
    size_t cap)
{
	if (k->inventory == BW_KEY_LOCAL) {
		if (gethostname(buf, cap - 1) < 0)
			buf[0] = '\0';
		buf[cap - 1] = '\0';
	} else if (k->inventory > 0) {
		size_t n = strnlen(cfg->inventory[k->inventory - 1].name, cap - 1);
		memcpy(buf, cfg->inventory[k->inventory - 1].name, n);
		buf[n] = '\0';
	} else
		bw_format_addr(k->family, k->src, buf);
}

static int
row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct bw_report_row *a = pa, *b = pb;
	const struct bw_config *sort_cfg = arg;
	char ta[BW_NAME_MAX + BW_ADDR_TEXT_MAX], tb[BW_NAME_MAX + BW_ADDR_TEXT_MAX];
	int c;

	if (a->key.level != b->key.level)
		return a->key.level > b->key.level ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	/* the same inventory entry, or both this host: the same name, no text needed */
	if (a->key.inventory != b->key.inventory || a->key.inventory == 0) {
		bw_window_key_computer(sort_cfg, &a->key, ta, BW_NAME_MAX);
		bw_window_key_computer(sort_cfg, &b->key, tb, BW_NAME_MAX);
		if ((c = strcmp(ta, tb)) != 0)
			return c;
	}
	bw_format_addr(a->key.family, a->key.remote, ta);
	bw_format_addr(b->key.family, b->key.remote, tb);
	if ((c = strcmp(ta, tb)) != 0)
		return c;
	if (a->key.rport != b->key.rport)
		return a->key.rport < b->key.rport ? -1 : 1;
	if (a->key.proto != b->key.proto)
		return a->key.proto < b->key.proto ? -1 : 1;
	if ((c = strcmp(a->key.user, b->key.user)) != 0)
		return c;
	return strcmp(a->key.image, b->key.image);
}

ssize_t
bw_window_report(struct bw_window *w, int64_t end_ns, struct bw_report_row **rows)
{
	const struct bw_config *cfg = w->cfg;
	size_t n = 0, cap = bw_table_count(w->groups);
	struct bw_report_row *v = calloc(cap ? cap : 1, sizeof(*v));

	if (v == NULL) {
		bw_log_warn("report of %zu groups", cap);
		return -1;
	}
	for (struct group *g = bw_table_oldest(w->groups); g != NULL;
	    g = bw_table_newer(w->groups, g)) {
		uint64_t count = 0;
		int64_t first = 0, last = 0;

		for (uint32_t c = g->head; c != NIL; c = w->chunks[c].next) {
			unsigned from = c == g->head ? g->head_off : 0, to = chunk_used(g, c);
			for (unsigned i = from; i < to; i++) {
				int64_t t = w->chunks[c].ts[i];
				if (t < end_ns - cfg->window_ns || t > end_ns)
					continue;
				if (count++ == 0)
					first = t;
				last = t;
			}
		}
		if (count < cfg->threshold)
			continue;
		memcpy(&v[n].key, bw_table_key(w->groups, g), sizeof(v[n].key));
		v[n].count = count;
		v[n].first_ns = first;
		v[n].last_ns = last;
		n++;
	}
	qsort_r(v, n, sizeof(*v), row_cmp, (void *)(uintptr_t)cfg);
	*rows = v;
	return (ssize_t)n;
}
