/*
 * test_conn.c - conn.h: retransmitted SYNs fold into one record.
 *
 * The window: spec.md says a SYN with the same (src, dst, sport, dport, ISN)
 * as one seen "at most 130 s before it" is folded, and conn.h's file comment
 * says "seen at most the fold window before it": a gap of exactly fold_ns
 * folds, fold_ns + 1 ns does not.
 */
#include "brokerwatch/conn.h"
#include "unit.h"

#define S 1000000000LL

static struct bw_record
syn4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, int64_t ts)
{
	struct bw_record r;

	memset(&r, 0, sizeof(r));
	r.ts_ns = ts;
	r.family = 4;
	r.src[0] = (uint8_t)(src >> 24);
	r.src[1] = (uint8_t)(src >> 16);
	r.src[2] = (uint8_t)(src >> 8);
	r.src[3] = (uint8_t)src;
	r.dst[0] = (uint8_t)(dst >> 24);
	r.dst[1] = (uint8_t)(dst >> 16);
	r.dst[2] = (uint8_t)(dst >> 8);
	r.dst[3] = (uint8_t)dst;
	r.sport = sport;
	r.dport = dport;
	r.seq = seq;
	return r;
}

#define HOST 0x0a000001u   /* 10.0.0.1 */
#define BROKER 0xcb007101u /* 203.0.113.1 */

static struct bw_conn *
mkconn(size_t max, struct bw_stats *st)
{
	struct bw_conn *c;

	memset(st, 0, sizeof(*st));
	c = bw_conn_new(max, BW_CONN_FOLD_NS, st);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Linux's tcp_syn_retries = 6 schedule: 1 record, 6 folded. */
START_TEST(linux_retransmissions_fold)
{
	static const int at[] = {0, 1, 3, 7, 15, 31, 63};
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	int64_t t0 = 1796412480LL * S;

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct bw_record r = syn4(HOST, BROKER, 40000, 1883, 0xdeadbeef, t0 + at[i] * S);

		ck_assert_int_eq(bw_conn_syn(c, &r), i == 0 ? 1 : 0);
	}
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 6);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_FOLD_EVICTED], 0);
	bw_conn_free(c);
}
END_TEST

START_TEST(new_isn_is_new_record)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	struct bw_record a = syn4(HOST, BROKER, 40000, 1883, 1000, 10 * S);
	struct bw_record b = syn4(HOST, BROKER, 40000, 1883, 1001, 11 * S);

	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	ck_assert_int_eq(bw_conn_syn(c, &b), 1);
	/* both attempts are remembered */
	a.ts_ns = 12 * S;
	b.ts_ns = 12 * S;
	ck_assert_int_eq(bw_conn_syn(c, &a), 0);
	ck_assert_int_eq(bw_conn_syn(c, &b), 0);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 2);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 2);
	bw_conn_free(c);
}
END_TEST

/* Each field of the tuple on its own makes another attempt. */
START_TEST(each_tuple_field_counts)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	struct bw_record base = syn4(HOST, BROKER, 40000, 1883, 7, 100 * S), r;

	ck_assert_int_eq(bw_conn_syn(c, &base), 1);
	r = base;
	r.src[3] ^= 1;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r = base;
	r.dst[0] ^= 0x80;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r = base;
	r.sport++;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r = base;
	r.dport++;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r = base;
	r.seq ^= 0x80000000u;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	/* src and dst swapped is another attempt too */
	r = syn4(BROKER, HOST, 40000, 1883, 7, 100 * S);
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 7);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 0);
	bw_conn_free(c);
}
END_TEST

/* Where it was seen is not part of the attempt: another VLAN or interface folds. */
START_TEST(vlan_ifname_time_not_in_key)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	struct bw_record a = syn4(HOST, BROKER, 40000, 5222, 99, 5 * S), b;

	a.nvlan = 1;
	a.vlan[0] = 10;
	memcpy(a.ifname, "span0", 6);
	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	b = a;
	b.nvlan = 2;
	b.vlan[0] = 20;
	b.vlan[1] = 30;
	memcpy(b.ifname, "span1", 6);
	b.ts_ns = 5 * S + 1;
	ck_assert_int_eq(bw_conn_syn(c, &b), 0);
	bw_conn_free(c);
}
END_TEST

START_TEST(gap_beyond_window_is_new_record)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	int64_t t0 = 1000 * S;
	struct bw_record r = syn4(HOST, BROKER, 40000, 8883, 5, t0);

	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r.ts_ns = t0 + BW_CONN_FOLD_NS + 1;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	/* the window restarts at the new record */
	r.ts_ns += 100 * S;
	ck_assert_int_eq(bw_conn_syn(c, &r), 0);
	r.ts_ns += 3600 * S;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 3);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 1);
	bw_conn_free(c);
}
END_TEST

/* "at most 130 s before it": exactly the window folds, one ns more does not. */
START_TEST(window_boundary)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	int64_t t0 = 1000 * S;
	struct bw_record r = syn4(HOST, BROKER, 40001, 8883, 5, t0);

	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r.ts_ns = t0 + BW_CONN_FOLD_NS;
	ck_assert_msg(bw_conn_syn(c, &r) == 0, "a SYN exactly fold_ns after the previous one "
					      "must fold (spec: \"at most 130 s before it\")");
	r.ts_ns += BW_CONN_FOLD_NS + 1;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	bw_conn_free(c);

	/* a table with another window uses it */
	memset(&st, 0, sizeof(st));
	c = bw_conn_new(8, 10 * S, &st);
	ck_assert_ptr_nonnull(c);
	r.ts_ns = t0;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	r.ts_ns = t0 + 10 * S;
	ck_assert_int_eq(bw_conn_syn(c, &r), 0);
	r.ts_ns = t0 + 20 * S + 1;
	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	bw_conn_free(c);
}
END_TEST

/* The window is measured from the previous SYN of the attempt, not the first. */
START_TEST(window_from_previous_syn)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	int64_t t0 = 50 * S;
	struct bw_record r = syn4(HOST, BROKER, 40002, 5672, 77, t0);

	ck_assert_int_eq(bw_conn_syn(c, &r), 1);
	for (int i = 1; i <= 10; i++) {
		r.ts_ns = t0 + i * 100 * S;
		ck_assert_msg(bw_conn_syn(c, &r) == 0,
		    "SYN %d, 100 s after the previous and %d s after the first, must fold", i,
		    i * 100);
	}
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 1);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 10);
	bw_conn_free(c);
}
END_TEST

START_TEST(ipv4_and_ipv6_differ)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	struct bw_record a = syn4(HOST, BROKER, 40000, 1883, 1, 10 * S), b;

	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	b = a;
	b.family = 6; /* the same 16 address bytes */
	ck_assert_int_eq(bw_conn_syn(c, &b), 1);
	a.ts_ns = b.ts_ns = 11 * S;
	ck_assert_int_eq(bw_conn_syn(c, &a), 0);
	ck_assert_int_eq(bw_conn_syn(c, &b), 0);
	bw_conn_free(c);
}
END_TEST

START_TEST(ipv6_fold)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(64, &st);
	struct bw_record a;

	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.src[0] = 0x20, a.src[1] = 0x01, a.src[2] = 0x0d, a.src[3] = 0xb8, a.src[15] = 1;
	a.dst[0] = 0x20, a.dst[1] = 0x01, a.dst[2] = 0x0d, a.dst[3] = 0xb8, a.dst[15] = 2;
	a.sport = 50000;
	a.dport = 5223;
	a.seq = 12345;
	a.ts_ns = 7 * S;
	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	a.ts_ns += 1 * S;
	ck_assert_int_eq(bw_conn_syn(c, &a), 0);
	a.dst[15] = 3; /* the last address byte counts */
	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	bw_conn_free(c);
}
END_TEST

/*
 * A full table forgets the attempt seen longest ago (counted); a later
 * retransmission of it is then a record of its own. "Seen" includes
 * retransmissions: a folded SYN makes its attempt recent.
 */
START_TEST(table_full_evicts_least_recently_seen)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(2, &st);
	struct bw_record a = syn4(HOST, BROKER, 1, 1883, 1, 1 * S);
	struct bw_record b = syn4(HOST, BROKER, 2, 1883, 2, 2 * S);
	struct bw_record cc = syn4(HOST, BROKER, 3, 1883, 3, 3 * S);
	struct bw_record d = syn4(HOST, BROKER, 4, 1883, 4, 5 * S);

	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	ck_assert_int_eq(bw_conn_syn(c, &b), 1);
	ck_assert_int_eq(bw_conn_syn(c, &cc), 1); /* a forgotten */
	ck_assert_uint_eq(st.v[BW_STAT_SYN_FOLD_EVICTED], 1);
	b.ts_ns = 4 * S;
	ck_assert_int_eq(bw_conn_syn(c, &b), 0); /* b seen again: now newer than c */
	ck_assert_int_eq(bw_conn_syn(c, &d), 1); /* c forgotten, not b */
	ck_assert_uint_eq(st.v[BW_STAT_SYN_FOLD_EVICTED], 2);
	b.ts_ns = 6 * S;
	ck_assert_int_eq(bw_conn_syn(c, &b), 0);
	cc.ts_ns = 7 * S;
	ck_assert_int_eq(bw_conn_syn(c, &cc), 1); /* forgotten: a record again; d goes */
	ck_assert_uint_eq(st.v[BW_STAT_SYN_FOLD_EVICTED], 3);
	a.ts_ns = 8 * S;
	ck_assert_int_eq(bw_conn_syn(c, &a), 1);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 6);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 2);
	bw_conn_free(c);
}
END_TEST

/* Many attempts through a small table: records + retransmits = SYNs. */
START_TEST(many_attempts)
{
	struct bw_stats st;
	struct bw_conn *c = mkconn(1000, &st);
	uint64_t syns = 0;

	for (int round = 0; round < 3; round++)
		for (uint32_t i = 0; i < 1000; i++) {
			struct bw_record r = syn4(HOST + i, BROKER, (uint16_t)(1024 + i), 1883,
			    i * 2654435761u, (int64_t)(round * 10 + 1) * S + i);

			ck_assert_int_eq(bw_conn_syn(c, &r), round == 0 ? 1 : 0);
			syns++;
		}
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS], 1000);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_RETRANSMIT], 2000);
	ck_assert_uint_eq(st.v[BW_STAT_RECORDS] + st.v[BW_STAT_SYN_RETRANSMIT], syns);
	ck_assert_uint_eq(st.v[BW_STAT_SYN_FOLD_EVICTED], 0);
	bw_conn_free(c);
	bw_conn_free(NULL);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("fold");

	tcase_add_test(tc, linux_retransmissions_fold);
	tcase_add_test(tc, new_isn_is_new_record);
	tcase_add_test(tc, each_tuple_field_counts);
	tcase_add_test(tc, vlan_ifname_time_not_in_key);
	tcase_add_test(tc, gap_beyond_window_is_new_record);
	tcase_add_test(tc, window_boundary);
	tcase_add_test(tc, window_from_previous_syn);
	tcase_add_test(tc, ipv4_and_ipv6_differ);
	tcase_add_test(tc, ipv6_fold);
	tcase_add_test(tc, table_full_evicts_least_recently_seen);
	tcase_add_test(tc, many_attempts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conn_suite());
}
