/*
 * frag.c - IPv4/IPv6 fragment reassembly in a bounded table.   [capture]
 *
 * Owns the table of datagrams being reassembled (bw_table, sized once) and a
 * scratch buffer that holds the last completed datagram until the next call.
 * Only the first BW_FRAG_HEAD bytes are stored; coverage of the whole
 * datagram is kept as a short sorted list of received ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/frag.h"
#include "brokerwatch/log.h"
#include "brokerwatch/table.h"

#define FRAG_MAX_END 65535u  /* an IP payload is at most 65535 bytes long */

struct frag_range {
	uint32_t lo, hi;     /* [lo, hi) */
};

struct frag_dgram {
	int64_t first_ns;    /* packet time of its first fragment: timeouts */
	uint32_t end;        /* length, once the last fragment (MF clear) is seen */
	uint8_t have_end;
	uint8_t next;
	uint8_t nranges;
	struct frag_range r[BW_FRAG_HOLES];
	uint8_t head[BW_FRAG_HEAD];
	uint64_t captured[BW_FRAG_HEAD / 64];   /* which head bytes were captured */
};

struct bw_frag {
	struct bw_table *t;
	int64_t timeout_ns;
	struct bw_stats *st;
	uint8_t out[BW_FRAG_HEAD];
};

struct bw_frag *
bw_frag_new(size_t max, int64_t timeout_ns, struct bw_stats *st)
{
	struct bw_frag *f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		bw_log_warn("fragment table");
		return NULL;
	}
	f->t = bw_table_new(max, sizeof(struct bw_frag_key), sizeof(struct frag_dgram),
	    bw_table_seed());
	if (f->t == NULL) {
		bw_log_warn("fragment table of %zu datagrams", max);
		free(f);
		return NULL;
	}
	f->timeout_ns = timeout_ns;
	f->st = st;
	return f;
}

void
bw_frag_free(struct bw_frag *f)
{
	if (f == NULL)
		return;
	bw_table_free(f->t);
	free(f);
}

size_t
bw_frag_count(const struct bw_frag *f)
{
	return bw_table_count(f->t);
}

/* Drops every datagram whose first fragment is older than the timeout. */
static void
frag_expire(struct bw_frag *f, int64_t now)
{
	struct frag_dgram *d;

	while ((d = bw_table_oldest(f->t)) != NULL && now - d->first_ns > f->timeout_ns) {
		bw_table_remove(f->t, d);
		bw_stats_inc(f->st, BW_STAT_FRAG_TIMEOUT);
	}
}

static enum bw_frag_result
frag_discard(struct bw_frag *f, struct frag_dgram *d, enum bw_stat why)
{
	bw_table_remove(f->t, d);
	bw_stats_inc(f->st, why);
	return BW_FRAG_DROPPED;
}

static int
bit_get(const uint64_t *m, uint32_t i)
{
	return (int)(m[i / 64] >> (i % 64) & 1);
}

static void
bit_set(uint64_t *m, uint32_t i)
{
	m[i / 64] |= 1ull << (i % 64);
}

/* Do the bytes [lo, hi) that both the datagram and the fragment captured agree? */
static int
same_bytes(const struct frag_dgram *d, uint32_t lo, uint32_t hi, const uint8_t *data)
{
	for (uint32_t i = lo; i < hi; i++)
		if (bit_get(d->captured, i) && d->head[i] != data[i - lo])
			return 0;
	return 1;
}

/* The length of the captured prefix of the head: how far the decoder can read. */
static uint32_t
captured_prefix(const struct frag_dgram *d, uint32_t limit)
{
	uint32_t i = 0;

	while (i < limit && bit_get(d->captured, i))
		i++;
	return i;
}

/* Adds [lo, hi) to the sorted disjoint ranges, merging neighbours; -1 if too many. */
static int
range_add(struct frag_dgram *d, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	while (i < d->nranges && d->r[i].hi < lo)
		i++;
	/* ranges do not overlap [lo, hi) here; they may touch it */
	if (i < d->nranges && d->r[i].hi == lo) {
		d->r[i].hi = hi;
		if (i + 1 < d->nranges && d->r[i + 1].lo == hi) {
			d->r[i].hi = d->r[i + 1].hi;
			memmove(&d->r[i + 1], &d->r[i + 2],
			    (d->nranges - i - 2) * sizeof(d->r[0]));
			d->nranges--;
		}
		return 0;
	}
	if (i < d->nranges && d->r[i].lo == hi) {
		d->r[i].lo = lo;
		return 0;
	}
	if (d->nranges == BW_FRAG_HOLES)
		return -1;
	memmove(&d->r[i + 1], &d->r[i], (d->nranges - i) * sizeof(d->r[0]));
	d->r[i].lo = lo;
	d->r[i].hi = hi;
	d->nranges++;
	return 0;
}

enum bw_frag_result
bw_frag_add(struct bw_frag *f, const struct bw_frag_key *key, int64_t now,
    const struct bw_frag_piece *p, struct bw_frag_datagram *out)
{
	struct frag_dgram *d;
	uint32_t lo = p->offset, hi, headhi, caphi;

	frag_expire(f, now);

	/* RFC 791/8200: only the last fragment may be other than a multiple of 8 */
	if (p->len == 0 || p->offset > FRAG_MAX_END || p->len > FRAG_MAX_END - p->offset ||
	    (p->more && p->len % 8 != 0)) {
		bw_stats_inc(f->st, BW_STAT_FRAG_INVALID);
		return BW_FRAG_DROPPED;
	}
	hi = lo + p->len;
	/*
	 * Of the bytes that fall in the kept head, those the capture length cut
	 * off are simply not known: a SYN needs only its first header bytes.
	 */
	headhi = hi < BW_FRAG_HEAD ? hi : BW_FRAG_HEAD;
	caphi = lo;
	if (lo < headhi) {
		caphi = p->caplen < headhi - lo ? lo + p->caplen : headhi;
		if (caphi < headhi)
			bw_stats_inc(f->st, BW_STAT_FRAG_TRUNCATED);
	}

	if ((d = bw_table_find(f->t, key)) == NULL) {
		if ((d = bw_table_insert(f->t, key)) == NULL) {
			bw_table_remove(f->t, bw_table_oldest(f->t));
			bw_stats_inc(f->st, BW_STAT_FRAG_EVICTED);
			d = bw_table_insert(f->t, key);
		}
		d->first_ns = now;
	}

	if (!p->more) {
		if ((d->have_end && d->end != hi) ||
		    (d->nranges > 0 && d->r[d->nranges - 1].hi > hi))
			return frag_discard(f, d, BW_STAT_FRAG_INVALID);
		d->have_end = 1;
		d->end = hi;
	} else if (d->have_end && hi > d->end)
		return frag_discard(f, d, BW_STAT_FRAG_INVALID);

	for (unsigned i = 0; i < d->nranges; i++) {
		const struct frag_range *r = &d->r[i];
		if (lo >= r->hi || hi <= r->lo)
			continue;
		/* RFC 5722: exact repeats are ignored, any other overlap kills the datagram */
		if (lo >= r->lo && hi <= r->hi && (lo >= caphi || same_bytes(d, lo, caphi, p->data))) {
			bw_stats_inc(f->st, BW_STAT_FRAG_DUPLICATE);
			return BW_FRAG_HELD;
		}
		return frag_discard(f, d, BW_STAT_FRAG_OVERLAP);
	}
	if (range_add(d, lo, hi) < 0)
		return frag_discard(f, d, BW_STAT_FRAG_TOO_MANY);
	if (lo < caphi) {
		memcpy(d->head + lo, p->data, caphi - lo);
		for (uint32_t i = lo; i < caphi; i++)
			bit_set(d->captured, i);
	}
	if (lo == 0)
		d->next = p->next;

	if (!d->have_end || d->nranges != 1 || d->r[0].lo != 0 || d->r[0].hi != d->end)
		return BW_FRAG_HELD;
	out->len = d->end;
	out->caplen = captured_prefix(d, d->end < BW_FRAG_HEAD ? d->end : BW_FRAG_HEAD);
	out->next = d->next;
	memcpy(f->out, d->head, out->caplen);
	out->data = f->out;
	bw_table_remove(f->t, d);
	bw_stats_inc(f->st, BW_STAT_FRAG_REASSEMBLED);
	return BW_FRAG_COMPLETE;
}
