/*
 * conn.c - folds retransmitted SYNs into one connection record.   [capture]
 *
 * Owns a bounded table keyed by (family, addresses, ports, ISN) holding the
 * packet time of the attempt's previous SYN (in stream order).
 */
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/conn.h"
#include "brokerwatch/log.h"
#include "brokerwatch/table.h"

struct conn_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t seq;
	uint16_t sport;
	uint16_t dport;
	uint8_t family;
	uint8_t pad[7];
};

struct conn_attempt {
	int64_t last_ns;
};

struct bw_conn {
	struct bw_table *t;
	int64_t fold_ns;
	struct bw_stats *st;
};

struct bw_conn *
bw_conn_new(size_t max, int64_t fold_ns, struct bw_stats *st)
{
	struct bw_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bw_log_warn("SYN fold table");
		return NULL;
	}
	c->t = bw_table_new(max, sizeof(struct conn_key), sizeof(struct conn_attempt),
	    bw_table_seed());
	if (c->t == NULL) {
		bw_log_warn("SYN fold table of %zu entries", max);
		free(c);
		return NULL;
	}
	c->fold_ns = fold_ns;
	c->st = st;
	return c;
}

void
bw_conn_free(struct bw_conn *c)
{
	if (c == NULL)
		return;
	bw_table_free(c->t);
	free(c);
}

int
bw_conn_syn(struct bw_conn *c, const struct bw_record *syn)
{
	struct conn_key k;
	struct conn_attempt *a;
	int64_t gap;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, syn->src, sizeof(k.src));
	memcpy(k.dst, syn->dst, sizeof(k.dst));
	k.seq = syn->seq;
	k.sport = syn->sport;
	k.dport = syn->dport;
	k.family = syn->family;

	if ((a = bw_table_find(c->t, &k)) != NULL) {
		gap = syn->ts_ns - a->last_ns;
		if (gap < 0)
			gap = -gap;     /* merged captures may step back in time */
		if (gap <= c->fold_ns) {
			a->last_ns = syn->ts_ns;
			bw_table_touch(c->t, a);
			bw_stats_inc(c->st, BW_STAT_SYN_RETRANSMIT);
			return 0;
		}
		a->last_ns = syn->ts_ns;
		bw_table_touch(c->t, a);
		bw_stats_inc(c->st, BW_STAT_RECORDS);
		return 1;
	}
	if ((a = bw_table_insert(c->t, &k)) == NULL) {
		bw_table_remove(c->t, bw_table_oldest(c->t));
		bw_stats_inc(c->st, BW_STAT_SYN_FOLD_EVICTED);
		a = bw_table_insert(c->t, &k);
	}
	a->last_ns = syn->ts_ns;
	bw_stats_inc(c->st, BW_STAT_RECORDS);
	return 1;
}
