/*
 * test_frag.c - frag.h: bounded IPv4/IPv6 reassembly, directly through
 * bw_frag_add and end to end through bw_decode.
 *
 * Datagrams are patterned bytes (so that any misplaced fragment shows); each
 * fragment is handed over in a heap block of exactly its captured length.
 */
#include <stdio.h>

#include "brokerwatch/decode.h"
#include "brokerwatch/frag.h"
#include "pkt.h"
#include "unit.h"

#define S 1000000000LL
#define T0 (1700000000LL * S)

static uint8_t dgram[70000];

static void
fill_dgram(uint32_t seed)
{
	struct unit_rng r = {seed | 1};

	for (size_t i = 0; i < sizeof(dgram); i++)
		dgram[i] = (uint8_t)unit_rand(&r);
}

static struct bw_frag_key
key4(uint32_t id)
{
	struct bw_frag_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, A4_HOST, 4);
	memcpy(k.dst, A4_BROKER, 4);
	k.id = id;
	k.family = 4;
	k.proto = 6;
	return k;
}

static struct bw_frag_key
key6(uint32_t id)
{
	struct bw_frag_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, A6_HOST, 16);
	memcpy(k.dst, A6_BROKER, 16);
	k.id = id;
	k.family = 6;
	return k;
}

/* The last piece handed over stays allocated until the next add (out may point anywhere). */
static uint8_t *last_copy;

/*
 * Adds bytes [off, off+len) of src as a fragment, caplen of them captured.
 * Returns the result; *out filled on COMPLETE.
 */
static enum bw_frag_result
addc(struct bw_frag *f, const struct bw_frag_key *k, int64_t now, const uint8_t *src,
    uint32_t off, uint32_t len, uint32_t caplen, int more, struct bw_frag_datagram *out)
{
	struct bw_frag_piece pc;

	free(last_copy);
	last_copy = unit_exact_copy(src + off, caplen);
	memset(&pc, 0, sizeof(pc));
	pc.offset = off;
	pc.len = len;
	pc.caplen = caplen;
	pc.data = last_copy;
	pc.more = more;
	pc.next = 6;
	memset(out, 0, sizeof(*out));
	return bw_frag_add(f, k, now, &pc, out);
}

static enum bw_frag_result
add(struct bw_frag *f, const struct bw_frag_key *k, int64_t now, uint32_t off, uint32_t len,
    int more, struct bw_frag_datagram *out)
{
	return addc(f, k, now, dgram, off, len, len, more, out);
}

static struct bw_frag *
mkfrag(size_t max, struct bw_stats *st)
{
	struct bw_frag *f;

	memset(st, 0, sizeof(*st));
	f = bw_frag_new(max, 60 * S, st);
	ck_assert_ptr_nonnull(f);
	return f;
}

static void
done(struct bw_frag *f)
{
	bw_frag_free(f);
	free(last_copy);
	last_copy = NULL;
}

/* The datagram out holds is dgram[0..len). */
static void
check_complete(const struct bw_frag_datagram *out, uint32_t len)
{
	uint32_t keep = len < BW_FRAG_HEAD ? len : BW_FRAG_HEAD;

	ck_assert_uint_eq(out->len, len);
	ck_assert_uint_eq(out->caplen, keep);
	ck_assert_uint_eq(out->next, 6);
	ck_assert_ptr_nonnull(out->data);
	ck_assert_msg(memcmp(out->data, dgram, keep) == 0, "reassembled bytes differ");
}

/*
 * Feeds the n pieces (offsets off[i], lengths len[i]) in the order given; the
 * last one given must complete, no earlier one.
 */
static void
feed_expect_complete(struct bw_frag *f, const struct bw_frag_key *k, const uint32_t *off,
    const uint32_t *len, const int *order, size_t n, uint32_t total)
{
	struct bw_frag_datagram out;

	for (size_t i = 0; i < n; i++) {
		size_t p = order[i];
		enum bw_frag_result r = add(f, k, T0 + (int64_t)i, off[p], len[p],
		    off[p] + len[p] < total, &out);

		if (i + 1 < n) {
			ck_assert_msg(r == BW_FRAG_HELD, "piece %zu of %zu (offset %u): result %d", i,
			    n, off[p], r);
		} else {
			ck_assert_msg(r == BW_FRAG_COMPLETE, "last piece (offset %u): result %d",
			    off[p], r);
			check_complete(&out, total);
		}
	}
}

static void
split8(uint32_t total, uint32_t *off, uint32_t *len, int *order, size_t *n)
{
	*n = 0;
	for (uint32_t o = 0; o < total; o += 8) {
		off[*n] = o;
		len[*n] = total - o < 8 ? total - o : 8;
		order[*n] = (int)*n;
		(*n)++;
	}
}

static void
shuffle(struct unit_rng *r, int *order, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = unit_below(r, (uint32_t)(i + 1));
		int t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

START_TEST(in_order)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(1);
	uint32_t off[16], len[16];
	int order[16];
	size_t n;

	fill_dgram(1);
	split8(64, off, len, order, &n);
	feed_expect_complete(f, &k, off, len, order, n, 64);
	ck_assert_uint_eq(bw_frag_count(f), 0);
	/* an odd total: the last piece is short */
	split8(61, off, len, order, &n);
	feed_expect_complete(f, &k, off, len, order, n, 61);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP] + st.v[BW_STAT_FRAG_INVALID], 0);
	done(f);
}
END_TEST

START_TEST(reverse_order)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key6(2);
	uint32_t off[16], len[16];
	int order[16];
	size_t n;

	fill_dgram(2);
	split8(64, off, len, order, &n);
	for (size_t i = 0; i < n; i++)
		order[i] = (int)(n - 1 - i);
	feed_expect_complete(f, &k, off, len, order, n, 64);
	ck_assert_uint_eq(bw_frag_count(f), 0);
	done(f);
}
END_TEST

START_TEST(random_order)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct unit_rng r = {815};
	uint32_t off[64], len[64];
	int order[64];
	size_t n;

	fill_dgram(3);
	for (uint32_t trial = 0; trial < 500; trial++) {
		struct bw_frag_key k = trial % 2 ? key4(trial) : key6(trial);
		/* 8 pieces, or 48 (at most 24 disjoint ranges at any time) */
		uint32_t total = trial % 3 ? 64 : 384 - (trial % 8);

		split8(total, off, len, order, &n);
		shuffle(&r, order, n);
		feed_expect_complete(f, &k, off, len, order, n, total);
		ck_assert_uint_eq(bw_frag_count(f), 0);
	}
	done(f);
}
END_TEST

/* Pieces of random sizes (multiples of 8) in random order. */
START_TEST(random_sizes)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct unit_rng r = {2023};
	uint32_t off[64], len[64];
	int order[64];

	fill_dgram(4);
	for (uint32_t trial = 0; trial < 300; trial++) {
		struct bw_frag_key k = key4(trial);
		uint32_t total = 200 + unit_below(&r, 1800), o = 0;
		size_t n = 0;

		while (o < total) {
			uint32_t l = 8 * (1 + unit_below(&r, 40));

			if (n == 31 || o + l > total)
				l = total - o;
			off[n] = o;
			len[n] = l;
			order[n] = (int)n;
			n++;
			o += l;
		}
		shuffle(&r, order, n);
		feed_expect_complete(f, &k, off, len, order, n, total);
	}
	done(f);
}
END_TEST

/* One unfragmented piece (offset 0, no MF) completes at once. */
START_TEST(single_piece)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key6(77);
	struct bw_frag_datagram out;

	fill_dgram(5);
	ck_assert_int_eq(add(f, &k, T0, 0, 40, 0, &out), BW_FRAG_COMPLETE);
	check_complete(&out, 40);
	ck_assert_uint_eq(bw_frag_count(f), 0);
	done(f);
}
END_TEST

START_TEST(duplicate_ignored)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(3);
	struct bw_frag_datagram out;

	fill_dgram(6);
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD); /* first again */
	ck_assert_int_eq(add(f, &k, T0, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 24, 8, 0, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 24, 8, 0, &out), BW_FRAG_HELD); /* last again */
	ck_assert_int_eq(add(f, &k, T0, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_DUPLICATE], 3);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP], 0);
	ck_assert_uint_eq(bw_frag_count(f), 1);
	ck_assert_int_eq(add(f, &k, T0, 16, 8, 1, &out), BW_FRAG_COMPLETE);
	check_complete(&out, 32);
	done(f);
}
END_TEST

/* Any overlap that is not an exact repeat discards the whole datagram (RFC 5722, Linux). */
START_TEST(overlap_drops_datagram)
{
	static uint8_t other[64];
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(4);
	struct bw_frag_datagram out;
	enum bw_frag_result r;

	fill_dgram(7);
	memcpy(other, dgram, sizeof(other));
	other[13] ^= 0xff;
	ck_assert_int_eq(add(f, &k, T0, 0, 16, 1, &out), BW_FRAG_HELD);
	/* [8, 24) overlaps [0, 16) with one different byte */
	ck_assert_int_eq(addc(f, &k, T0, other, 8, 16, 16, 1, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP], 1);
	/* what follows never completes the discarded datagram */
	r = add(f, &k, T0, 16, 8, 1, &out);
	ck_assert_int_ne(r, BW_FRAG_COMPLETE);
	r = add(f, &k, T0, 24, 8, 0, &out);
	ck_assert_int_ne(r, BW_FRAG_COMPLETE);
	done(f);
}
END_TEST

/* The same range again with other content is an overlap, not a duplicate. */
START_TEST(same_range_other_content)
{
	static uint8_t other[64];
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key6(5);
	struct bw_frag_datagram out;

	fill_dgram(8);
	memcpy(other, dgram, sizeof(other));
	other[9] ^= 1;
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(addc(f, &k, T0, other, 8, 8, 8, 1, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP], 1);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_DUPLICATE], 0);
	ck_assert_int_ne(add(f, &k, T0, 16, 8, 0, &out), BW_FRAG_COMPLETE);
	done(f);
}
END_TEST

/* A piece covering two held ones (a superset) is an overlap too. */
START_TEST(superset_overlap)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(6);
	struct bw_frag_datagram out;

	fill_dgram(9);
	ck_assert_int_eq(add(f, &k, T0, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 0, 32, 0, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP], 1);
	done(f);
}
END_TEST

START_TEST(beyond_65535_invalid)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(7);
	struct bw_frag_datagram out;

	fill_dgram(10);
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 65528, 16, 0, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_INVALID], 1);
	/* IPv6 too */
	k = key6(7);
	ck_assert_int_eq(add(f, &k, T0, 65000, 600, 1, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_INVALID], 2);
	done(f);
}
END_TEST

/* The end is fixed by the first last fragment: another end, or data past it, is dropped. */
START_TEST(conflicting_end)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(8);
	struct bw_frag_datagram out;

	fill_dgram(11);
	ck_assert_int_eq(add(f, &k, T0, 56, 8, 0, &out), BW_FRAG_HELD); /* ends at 64 */
	ck_assert_int_eq(add(f, &k, T0, 40, 8, 0, &out), BW_FRAG_DROPPED); /* ends at 48 */
	/* the datagram is gone, [56, 64) with it: the rest does not complete it */
	for (uint32_t o = 0; o < 56; o += 8)
		ck_assert_int_ne(add(f, &k, T0, o, 8, 1, &out), BW_FRAG_COMPLETE);

	/* data past the end */
	k = key4(9);
	ck_assert_int_eq(add(f, &k, T0, 24, 8, 0, &out), BW_FRAG_HELD); /* ends at 32 */
	ck_assert_int_eq(add(f, &k, T0, 32, 8, 1, &out), BW_FRAG_DROPPED);
	/* a last fragment ending before data already held */
	k = key4(10);
	ck_assert_int_eq(add(f, &k, T0, 48, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 16, 8, 0, &out), BW_FRAG_DROPPED);
	done(f);
}
END_TEST

/* An incomplete datagram is dropped timeout_ns after its FIRST fragment (packet time). */
START_TEST(timeout)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(11);
	struct bw_frag_datagram out;

	fill_dgram(12);
	/* in time: completes at 59 s */
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0 + 59 * S, 8, 8, 0, &out), BW_FRAG_COMPLETE);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TIMEOUT], 0);

	/* fragments every 20 s: the last one is 80 s after the first */
	k = key4(12);
	ck_assert_int_eq(add(f, &k, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0 + 20 * S, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0 + 40 * S, 16, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_ne(add(f, &k, T0 + 80 * S, 24, 8, 0, &out), BW_FRAG_COMPLETE);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TIMEOUT], 1);
	done(f);
}
END_TEST

/* Expiry happens on any add, for any datagram. */
START_TEST(timeout_expires_others)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key a = key4(20), b = key6(21);
	struct bw_frag_datagram out;

	fill_dgram(13);
	ck_assert_int_eq(add(f, &a, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &b, T0 + 2 * S, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(bw_frag_count(f), 2);
	ck_assert_int_eq(add(f, &b, T0 + 61 * S, 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TIMEOUT], 1); /* a */
	ck_assert_int_eq(add(f, &a, T0 + 200 * S, 8, 8, 0, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TIMEOUT], 2); /* b */
	ck_assert_uint_eq(bw_frag_count(f), 1);
	done(f);
}
END_TEST

START_TEST(table_full_evicts_oldest)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(2, &st);
	struct bw_frag_key a = key4(30), b = key4(31), c = key4(32);
	struct bw_frag_datagram out;

	fill_dgram(14);
	ck_assert_int_eq(add(f, &a, T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &b, T0 + 1, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &c, T0 + 2, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_EVICTED], 1);
	ck_assert_uint_eq(bw_frag_count(f), 2);
	/* a was evicted: its last fragment does not complete it */
	ck_assert_int_ne(add(f, &a, T0 + 3, 8, 8, 0, &out), BW_FRAG_COMPLETE);
	/* c is still there (a's late fragment may have evicted b) */
	ck_assert_int_eq(add(f, &c, T0 + 4, 8, 8, 0, &out), BW_FRAG_COMPLETE);
	check_complete(&out, 16);
	done(f);
}
END_TEST

/* Up to BW_FRAG_HOLES disjoint ranges are held; one more drops the datagram. */
START_TEST(too_many_holes)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(40);
	struct bw_frag_datagram out;
	uint32_t total = 16 * (BW_FRAG_HOLES + 1);

	fill_dgram(15);
	/* BW_FRAG_HOLES disjoint 8-byte pieces at 0, 16, 32, ...: held */
	for (uint32_t i = 0; i < BW_FRAG_HOLES; i++)
		ck_assert_msg(add(f, &k, T0, 16 * i, 8, 1, &out) == BW_FRAG_HELD,
		    "disjoint range %u of %d dropped", i + 1, BW_FRAG_HOLES);
	/* filling the gaps merges ranges and completes it */
	for (uint32_t i = 0; i < BW_FRAG_HOLES; i++)
		ck_assert_int_eq(add(f, &k, T0, 16 * i + 8, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 16 * BW_FRAG_HOLES, 16, 0, &out), BW_FRAG_COMPLETE);
	check_complete(&out, total);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TOO_MANY], 0);

	/* one disjoint range more */
	k = key4(41);
	for (uint32_t i = 0; i < BW_FRAG_HOLES; i++)
		ck_assert_int_eq(add(f, &k, T0, 16 * i, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 16 * BW_FRAG_HOLES, 8, 1, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TOO_MANY], 1);
	for (uint32_t i = 0; i < BW_FRAG_HOLES; i++)
		ck_assert_int_ne(add(f, &k, T0, 16 * i + 8, 8, 1, &out), BW_FRAG_COMPLETE);
	done(f);
}
END_TEST

/* Only BW_FRAG_HEAD bytes are kept, but the datagram completes with its full length. */
START_TEST(longer_than_head)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(50);
	struct bw_frag_datagram out;
	uint32_t off[16], len[16];
	int order[16] = {4, 0, 3, 1, 2};

	fill_dgram(16);
	for (int i = 0; i < 5; i++) {
		off[i] = (uint32_t)i * 400;
		len[i] = 400;
	}
	feed_expect_complete(f, &k, off, len, order, 5, 2000);

	/* the largest datagram: 65535 bytes in 1480-byte pieces */
	k = key6(51);
	for (uint32_t o = 0, i = 0; o < 65535; o += 1480, i++) {
		uint32_t l = 65535 - o < 1480 ? 65535 - o : 1480;
		enum bw_frag_result r = add(f, &k, T0, o, l, o + l < 65535, &out);

		if (o + l < 65535) {
			ck_assert_int_eq(r, BW_FRAG_HELD);
		} else {
			ck_assert_int_eq(r, BW_FRAG_COMPLETE);
			check_complete(&out, 65535);
		}
	}
	done(f);
}
END_TEST

/*
 * A fragment cut by the capture length still counts for coverage (frag.h);
 * the datagram's captured prefix is what comes out, like a snapped packet.
 */
START_TEST(truncated_fragments)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key4(60);
	struct bw_frag_datagram out;

	fill_dgram(17);
	/* cut beyond the head: nothing missing from what is kept */
	ck_assert_int_eq(add(f, &k, T0, 0, 1024, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(addc(f, &k, T0, dgram, 1024, 1024, 0, 0, &out), BW_FRAG_COMPLETE);
	check_complete(&out, 2048);

	/* cut inside the head: the prefix ends where the first missing byte is */
	k = key4(61);
	ck_assert_int_eq(addc(f, &k, T0, dgram, 0, 64, 20, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TRUNCATED], 1);
	ck_assert_int_eq(add(f, &k, T0, 64, 8, 0, &out), BW_FRAG_COMPLETE);
	ck_assert_uint_eq(out.len, 72);
	ck_assert_uint_eq(out.caplen, 20);
	ck_assert_mem_eq(out.data, dgram, 20);

	/* a middle fragment cut short, the pieces around it whole */
	k = key4(62);
	ck_assert_int_eq(add(f, &k, T0, 128, 8, 0, &out), BW_FRAG_HELD);
	ck_assert_int_eq(add(f, &k, T0, 0, 64, 1, &out), BW_FRAG_HELD);
	ck_assert_int_eq(addc(f, &k, T0, dgram, 64, 64, 10, 1, &out), BW_FRAG_COMPLETE);
	ck_assert_uint_eq(out.len, 136);
	ck_assert_uint_eq(out.caplen, 74);
	ck_assert_mem_eq(out.data, dgram, 74);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TRUNCATED], 2);
	done(f);
}
END_TEST

/* RFC 791/8200: only the last fragment may have a length that is not a multiple of 8. */
START_TEST(non_last_length_not_multiple_of_8)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k = key6(63);
	struct bw_frag_datagram out;

	fill_dgram(19);
	ck_assert_int_eq(add(f, &k, T0, 0, 12, 1, &out), BW_FRAG_DROPPED);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_INVALID], 1);
	ck_assert_int_eq(add(f, &k, T0, 0, 12, 0, &out), BW_FRAG_COMPLETE);
	check_complete(&out, 12);
	done(f);
}
END_TEST

/* Datagrams are told apart by every key field. */
START_TEST(keys_separate)
{
	struct bw_stats st;
	struct bw_frag *f = mkfrag(16, &st);
	struct bw_frag_key k[5];
	struct bw_frag_datagram out;

	fill_dgram(18);
	k[0] = key4(70);
	k[1] = key4(70);
	k[1].proto = 17;
	k[2] = key4(70);
	k[2].src[3] ^= 1;
	k[3] = key4(70);
	k[3].family = 6;
	k[3].proto = 0;
	k[4] = key4(71);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(add(f, &k[i], T0, 0, 8, 1, &out), BW_FRAG_HELD);
	ck_assert_uint_eq(bw_frag_count(f), 5);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_DUPLICATE], 0);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(add(f, &k[i], T0, 8, 8, 0, &out), BW_FRAG_COMPLETE);
		check_complete(&out, 16);
	}
	ck_assert_uint_eq(bw_frag_count(f), 0);
	done(f);
	bw_frag_free(NULL);
}
END_TEST

/* ---- through bw_decode ------------------------------------------------ */

/* The TCP segment being fragmented: a SYN with 20 option bytes and 24 data bytes. */
static size_t
syn_segment(uint8_t *seg)
{
	struct pb b;

	pb_init(&b);
	pb_tcp(&b, 45678, 8883, 0xabcdef01u, TH_SYN, 20);
	pb_fill(&b, 'd', 24);
	memcpy(seg, b.d, b.n);
	return b.n;
}

/* Ethernet / IPv4 fragment of proto carrying seg[off..off+len). */
static void
frag4_pkt(struct pb *b, uint8_t proto, uint16_t id, const uint8_t *seg, uint32_t off,
    uint32_t len, int mf)
{
	size_t ip;

	pb_init(b);
	pb_eth(b, 0x0800);
	ip = pb_ipv4(b, proto, A4_HOST, A4_BROKER, 0);
	pb_ipv4_frag(b, ip, id, off, mf);
	pb_bytes(b, seg + off, len);
	pb_ipv4_end(b, ip);
}

/* Ethernet / IPv6 / (hop-by-hop) / fragment header / seg[off..off+len). */
static void
frag6_pkt(struct pb *b, uint32_t id, const uint8_t *seg, uint32_t off, uint32_t len, int m,
    int hbh)
{
	size_t ip;

	pb_init(b);
	pb_eth(b, 0x86dd);
	ip = pb_ipv6(b, hbh ? 0 : 44, A6_HOST, A6_BROKER);
	if (hbh)
		pb_ext6(b, 44, 0);
	pb_frag6(b, 6, off, m, id);
	pb_bytes(b, seg + off, len);
	pb_ipv6_end(b, ip);
}

static enum bw_decode_result
dec_at(struct bw_decoder *d, const struct pb *b, int64_t ts, struct bw_record *out)
{
	struct bw_packet pkt;
	uint8_t *copy = unit_exact_copy(b->d, b->n);
	enum bw_decode_result r;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_ns = ts;
	pkt.data = copy;
	pkt.caplen = pkt.wirelen = (uint32_t)b->n;
	pkt.link = BW_LINK_ETHERNET;
	memset(out, 0xaa, sizeof(*out));
	r = bw_decode(d, &pkt, out);
	free(copy);
	return r;
}

static struct bw_decoder *
mkdec(struct bw_stats *st)
{
	struct bw_decoder_config cfg;
	struct bw_decoder *d;

	memset(st, 0, sizeof(*st));
	bw_decoder_config_default(&cfg);
	d = bw_decoder_new(&cfg, st);
	ck_assert_ptr_nonnull(d);
	return d;
}

static void
check_syn(const struct bw_record *rec, int family, int64_t ts)
{
	ck_assert_int_eq(rec->family, family);
	ck_assert_mem_eq(rec->src, family == 4 ? A4_HOST : A6_HOST, family == 4 ? 4 : 16);
	ck_assert_mem_eq(rec->dst, family == 4 ? A4_BROKER : A6_BROKER, family == 4 ? 4 : 16);
	ck_assert_uint_eq(rec->sport, 45678);
	ck_assert_uint_eq(rec->dport, 8883);
	ck_assert_uint_eq(rec->seq, 0xabcdef01u);
	ck_assert_int_eq(rec->ts_ns, ts);
	ck_assert_uint_eq(rec->nvlan, 0);
}

/* 8-byte IPv4 fragments in the order given: a SYN at the last, with its time. */
static void
decode_frags4(const int *order, size_t n, uint16_t id)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;

	ck_assert_uint_eq((seglen + 7) / 8, n);
	for (size_t i = 0; i < n; i++) {
		struct pb b;
		uint32_t off = (uint32_t)order[i] * 8;
		uint32_t len = seglen - off < 8 ? (uint32_t)(seglen - off) : 8;
		int64_t ts = T0 + (int64_t)i * 1000;
		enum bw_decode_result r;

		frag4_pkt(&b, 6, id, seg, off, len, off + len < seglen);
		r = dec_at(d, &b, ts, &rec);
		if (i + 1 < n) {
			ck_assert_msg(r == BW_DECODE_NONE, "fragment %zu (offset %u): %d", i, off,
			    r);
		} else {
			ck_assert_msg(r == BW_DECODE_SYN, "completing fragment: %d", r);
			check_syn(&rec, 4, ts);
		}
	}
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_IPV4], n);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_REASSEMBLED], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 1);
	bw_decoder_free(d);
}

START_TEST(decode_ipv4_orders)
{
	int order[8];
	struct unit_rng r = {44};

	for (int i = 0; i < 8; i++)
		order[i] = i;
	decode_frags4(order, 8, 100);
	for (int i = 0; i < 8; i++)
		order[i] = 7 - i;
	decode_frags4(order, 8, 101);
	for (int t = 0; t < 50; t++) {
		shuffle(&r, order, 8);
		decode_frags4(order, 8, (uint16_t)(200 + t));
	}
}
END_TEST

/* The first fragment alone holds the ports, sequence and flags: still no SYN until complete. */
START_TEST(decode_first_fragment_alone)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	struct pb b;

	frag4_pkt(&b, 6, 7, seg, 0, 40, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 0);
	frag4_pkt(&b, 6, 7, seg, 40, (uint32_t)seglen - 40, 0);
	ck_assert_int_eq(dec_at(d, &b, T0 + 5, &rec), BW_DECODE_SYN);
	check_syn(&rec, 4, T0 + 5);
	bw_decoder_free(d);
}
END_TEST

START_TEST(decode_ipv6)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);

	for (int hbh = 0; hbh <= 1; hbh++) {
		struct bw_stats st;
		struct bw_decoder *d = mkdec(&st);
		struct bw_record rec;
		struct pb b;

		/* the second piece arrives first: the first one completes it */
		frag6_pkt(&b, 0x01020304u, seg, 16, (uint32_t)seglen - 16, 0, hbh);
		ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
		frag6_pkt(&b, 0x01020304u, seg, 0, 16, 1, hbh);
		ck_assert_int_eq(dec_at(d, &b, T0 + 777, &rec), BW_DECODE_SYN);
		check_syn(&rec, 6, T0 + 777);
		ck_assert_uint_eq(st.v[BW_STAT_FRAG_IPV6], 2);
		ck_assert_uint_eq(st.v[BW_STAT_FRAG_REASSEMBLED], 1);
		bw_decoder_free(d);
	}
}
END_TEST

START_TEST(decode_overlap_no_syn)
{
	uint8_t seg[128], bad[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	struct pb b;

	memcpy(bad, seg, sizeof(bad));
	bad[20] ^= 0x55;
	frag4_pkt(&b, 6, 9, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 6, 9, bad, 16, 16, 1);
	ck_assert_int_ne(dec_at(d, &b, T0, &rec), BW_DECODE_SYN);
	frag4_pkt(&b, 6, 9, seg, 24, (uint32_t)seglen - 24, 0);
	ck_assert_int_ne(dec_at(d, &b, T0, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_OVERLAP], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 0);
	bw_decoder_free(d);
}
END_TEST

/* Fragments of a protocol the decoder does not follow are not kept. */
START_TEST(decode_icmp_fragments_ignored)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	struct pb b;

	frag4_pkt(&b, 1, 11, seg, 0, 16, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 1, 11, seg, 16, (uint32_t)seglen - 16, 0);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_IGNORED], 2);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_REASSEMBLED], 0);
	bw_decoder_free(d);
}
END_TEST

/* A fragmented VXLAN packet (outer UDP fragments) still gives the inner SYN. */
START_TEST(decode_fragmented_tunnel)
{
	struct pb inner, b;
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	size_t udp, ip;
	uint8_t seg[256];
	size_t seglen;

	pb_init(&inner);
	udp = pb_udp(&inner, 1000, 4789);
	pb_vxlan(&inner, 0x08, 3);
	pb_eth(&inner, 0x0800);
	pb_syn4(&inner, A4_HOST, A4_BROKER, 45678, 8883, 0xabcdef01u, TH_SYN, 0);
	pb_udp_end(&inner, udp);
	seglen = inner.n;
	memcpy(seg, inner.d, seglen);

	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 17, A4_TUN1, A4_TUN2, 0);
	pb_ipv4_frag(&b, ip, 55, 0, 1);
	pb_bytes(&b, seg, 48);
	pb_ipv4_end(&b, ip);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	pb_init(&b);
	pb_eth(&b, 0x0800);
	ip = pb_ipv4(&b, 17, A4_TUN1, A4_TUN2, 0);
	pb_ipv4_frag(&b, ip, 55, 48, 0);
	pb_bytes(&b, seg + 48, seglen - 48);
	pb_ipv4_end(&b, ip);
	ck_assert_int_eq(dec_at(d, &b, T0 + 9, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(rec.sport, 45678);
	ck_assert_mem_eq(rec.src, A4_HOST, 4);
	ck_assert_int_eq(rec.ts_ns, T0 + 9);
	bw_decoder_free(d);
}
END_TEST

/* The decoder's frag_timeout_ns applies, in packet time. */
START_TEST(decode_timeout)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	struct pb b;

	frag4_pkt(&b, 6, 12, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 6, 12, seg, 24, (uint32_t)seglen - 24, 0);
	ck_assert_int_ne(dec_at(d, &b, T0 + 61 * S, &rec), BW_DECODE_SYN);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_TIMEOUT], 1);
	bw_decoder_free(d);
}
END_TEST

/* A first fragment cut in the TCP options still gives the SYN, like a snapped packet. */
START_TEST(decode_truncated_fragment)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_packet pkt;
	struct bw_record rec;
	struct pb b;
	uint8_t *copy;

	frag4_pkt(&b, 6, 13, seg, 0, 40, 1);
	copy = unit_exact_copy(b.d, 14 + 20 + 24); /* TCP fixed header and 4 option bytes */
	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_ns = T0;
	pkt.data = copy;
	pkt.caplen = 14 + 20 + 24;
	pkt.wirelen = (uint32_t)b.n;
	pkt.link = BW_LINK_ETHERNET;
	ck_assert_int_eq(bw_decode(d, &pkt, &rec), BW_DECODE_NONE);
	free(copy);
	frag4_pkt(&b, 6, 13, seg, 40, (uint32_t)seglen - 40, 0);
	ck_assert_int_eq(dec_at(d, &b, T0 + 3, &rec), BW_DECODE_SYN);
	check_syn(&rec, 4, T0 + 3);

	/* cut before the 20 TCP bytes: no SYN */
	frag4_pkt(&b, 6, 14, seg, 0, 40, 1);
	copy = unit_exact_copy(b.d, 14 + 20 + 19);
	pkt.data = copy;
	pkt.caplen = 14 + 20 + 19;
	pkt.wirelen = (uint32_t)b.n;
	ck_assert_int_eq(bw_decode(d, &pkt, &rec), BW_DECODE_NONE);
	free(copy);
	frag4_pkt(&b, 6, 14, seg, 40, (uint32_t)seglen - 40, 0);
	ck_assert_int_ne(dec_at(d, &b, T0 + 4, &rec), BW_DECODE_SYN);
	bw_decoder_free(d);
}
END_TEST

/*
 * Fragments inside fragments: an IP-in-IP packet whose outer datagram is
 * fragmented carries, in each of two outer datagrams, one fragment of the
 * inner datagram. The second outer datagram completes both.
 */
START_TEST(decode_nested_fragments)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	enum bw_decode_result r;

	for (int part = 0; part < 2; part++) {
		struct pb inner, b;
		size_t ip;
		uint32_t off = part == 0 ? 0 : 32, len = part == 0 ? 32 : (uint32_t)seglen - 32;

		/* inner fragment: IPv4 header + seg[off, off+len) */
		pb_init(&inner);
		ip = pb_ipv4(&inner, 6, A4_HOST, A4_BROKER, 0);
		pb_ipv4_frag(&inner, ip, 0x777, off, part == 0);
		pb_bytes(&inner, seg + off, len);
		pb_ipv4_end(&inner, ip);
		/* ... split into two outer fragments of IP-in-IP */
		for (int half = 0; half < 2; half++) {
			uint32_t ooff = half == 0 ? 0 : 24;
			uint32_t olen = half == 0 ? 24 : (uint32_t)inner.n - 24;

			pb_init(&b);
			pb_eth(&b, 0x0800);
			ip = pb_ipv4(&b, 4, A4_TUN1, A4_TUN2, 0);
			pb_ipv4_frag(&b, ip, (uint16_t)(0x100 + part), ooff, half == 0);
			pb_bytes(&b, inner.d + ooff, olen);
			pb_ipv4_end(&b, ip);
			r = dec_at(d, &b, T0 + part * 10 + half, &rec);
			if (part == 1 && half == 1) {
				ck_assert_int_eq(r, BW_DECODE_SYN);
				check_syn(&rec, 4, T0 + 11);
			} else {
				ck_assert_int_eq(r, BW_DECODE_NONE);
			}
		}
	}
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_REASSEMBLED], 3);
	bw_decoder_free(d);
}
END_TEST

/* frag_max and frag_timeout_ns of the decoder's configuration apply. */
START_TEST(decode_config)
{
	uint8_t seg[128];
	size_t seglen = syn_segment(seg);
	struct bw_decoder_config cfg;
	struct bw_stats st;
	struct bw_decoder *d;
	struct bw_record rec;
	struct pb b;

	bw_decoder_config_default(&cfg);
	cfg.frag_max = 1;
	cfg.frag_timeout_ns = 5 * S;
	memset(&st, 0, sizeof(st));
	d = bw_decoder_new(&cfg, &st);
	ck_assert_ptr_nonnull(d);
	/* two datagrams at once: the first is evicted */
	frag4_pkt(&b, 6, 21, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 6, 22, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_EVICTED], 1);
	frag4_pkt(&b, 6, 21, seg, 24, (uint32_t)seglen - 24, 0);
	ck_assert_int_ne(dec_at(d, &b, T0, &rec), BW_DECODE_SYN);
	/* 6 s apart with a 5 s timeout */
	frag4_pkt(&b, 6, 23, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0 + 10 * S, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 6, 23, seg, 24, (uint32_t)seglen - 24, 0);
	ck_assert_int_ne(dec_at(d, &b, T0 + 16 * S, &rec), BW_DECODE_SYN);
	ck_assert_uint_ge(st.v[BW_STAT_FRAG_TIMEOUT], 1);
	/* 4 s apart: fine */
	frag4_pkt(&b, 6, 24, seg, 0, 24, 1);
	ck_assert_int_eq(dec_at(d, &b, T0 + 20 * S, &rec), BW_DECODE_NONE);
	frag4_pkt(&b, 6, 24, seg, 24, (uint32_t)seglen - 24, 0);
	ck_assert_int_eq(dec_at(d, &b, T0 + 24 * S, &rec), BW_DECODE_SYN);
	bw_decoder_free(d);
}
END_TEST

/* IPv6 fragments of ICMPv6 are not kept. */
START_TEST(decode_ipv6_icmp_fragments_ignored)
{
	uint8_t seg[128];
	struct bw_stats st;
	struct bw_decoder *d = mkdec(&st);
	struct bw_record rec;
	struct pb b;
	size_t ip;

	syn_segment(seg);
	pb_init(&b);
	pb_eth(&b, 0x86dd);
	ip = pb_ipv6(&b, 44, A6_HOST, A6_BROKER);
	pb_frag6(&b, 58, 0, 1, 99);
	pb_bytes(&b, seg, 16);
	pb_ipv6_end(&b, ip);
	ck_assert_int_eq(dec_at(d, &b, T0, &rec), BW_DECODE_NONE);
	ck_assert_uint_eq(st.v[BW_STAT_FRAG_IGNORED], 1);
	bw_decoder_free(d);
}
END_TEST

static Suite *
frag_suite(void)
{
	Suite *s = suite_create("frag");
	TCase *tc;

	tc = tcase_create("direct");
	tcase_add_test(tc, in_order);
	tcase_add_test(tc, reverse_order);
	tcase_add_test(tc, random_order);
	tcase_add_test(tc, random_sizes);
	tcase_add_test(tc, single_piece);
	tcase_add_test(tc, duplicate_ignored);
	tcase_add_test(tc, overlap_drops_datagram);
	tcase_add_test(tc, same_range_other_content);
	tcase_add_test(tc, superset_overlap);
	tcase_add_test(tc, beyond_65535_invalid);
	tcase_add_test(tc, conflicting_end);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, timeout_expires_others);
	tcase_add_test(tc, table_full_evicts_oldest);
	tcase_add_test(tc, too_many_holes);
	tcase_add_test(tc, longer_than_head);
	tcase_add_test(tc, truncated_fragments);
	tcase_add_test(tc, non_last_length_not_multiple_of_8);
	tcase_add_test(tc, keys_separate);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, decode_ipv4_orders);
	tcase_add_test(tc, decode_first_fragment_alone);
	tcase_add_test(tc, decode_ipv6);
	tcase_add_test(tc, decode_overlap_no_syn);
	tcase_add_test(tc, decode_icmp_fragments_ignored);
	tcase_add_test(tc, decode_fragmented_tunnel);
	tcase_add_test(tc, decode_timeout);
	tcase_add_test(tc, decode_truncated_fragment);
	tcase_add_test(tc, decode_nested_fragments);
	tcase_add_test(tc, decode_config);
	tcase_add_test(tc, decode_ipv6_icmp_fragments_ignored);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(frag_suite());
}
