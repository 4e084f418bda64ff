/*
 * test_ring.c - the SPSC ring: single-thread semantics (empty, full, wrap,
 * bursts) and a two-thread stress test in which every sequence number must
 * arrive exactly once and in order. Also run under ThreadSanitizer (CI).
 */
#include <errno.h>
#include <pthread.h>

#include "brokerwatch/ring.h"
#include "unit.h"

static void
mark(struct bw_record *r, uint64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = (int64_t)seq;
	r->seq = (uint32_t)(seq * 2654435761u);  /* a second copy, to catch torn slots */
	r->ifname[0] = (char)('a' + seq % 26);
	r->ifname[BW_IFNAME_MAX - 2] = (char)('A' + seq % 26);
}

static int
is_mark(const struct bw_record *r, uint64_t seq)
{
	return r->ts_ns == (int64_t)seq && r->seq == (uint32_t)(seq * 2654435761u) &&
	    r->ifname[0] == (char)('a' + seq % 26) &&
	    r->ifname[BW_IFNAME_MAX - 2] == (char)('A' + seq % 26);
}

START_TEST(rejects_bad_capacity)
{
	ck_assert_ptr_null(bw_ring_new(0));
	ck_assert_ptr_null(bw_ring_new(1));
	ck_assert_ptr_null(bw_ring_new(3));
	errno = 0;
	ck_assert_ptr_null(bw_ring_new(1000));
	ck_assert_int_eq(errno, EINVAL);
	struct bw_ring *r = bw_ring_new(2);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(bw_ring_capacity(r), 2);
	bw_ring_free(r);
	bw_ring_free(NULL);
}
END_TEST

START_TEST(empty_and_full)
{
	struct bw_ring *r = bw_ring_new(8);
	struct bw_record in[16], out[16];

	ck_assert_uint_eq(bw_ring_pop(r, out, 16), 0);
	ck_assert_uint_eq(bw_ring_count(r), 0);
	for (int i = 0; i < 16; i++)
		mark(&in[i], (uint64_t)i);
	/* a burst larger than the room: only what fits */
	ck_assert_uint_eq(bw_ring_push(r, in, 16), 8);
	ck_assert_uint_eq(bw_ring_count(r), 8);
	ck_assert_uint_eq(bw_ring_push(r, in + 8, 1), 0);
	ck_assert_uint_eq(bw_ring_pop(r, out, 3), 3);
	for (int i = 0; i < 3; i++)
		ck_assert(is_mark(&out[i], (uint64_t)i));
	ck_assert_uint_eq(bw_ring_push(r, in + 8, 8), 3);
	ck_assert_uint_eq(bw_ring_pop(r, out, 16), 8);
	for (int i = 0; i < 8; i++)
		ck_assert(is_mark(&out[i], (uint64_t)(i + 3)));
	ck_assert_uint_eq(bw_ring_pop(r, out, 16), 0);
	ck_assert_uint_eq(bw_ring_push(r, in, 0), 0);
	ck_assert_uint_eq(bw_ring_pop(r, out, 0), 0);
	bw_ring_free(r);
}
END_TEST

/* Many laps around a small ring with bursts of every size: order and content kept. */
START_TEST(wrap_and_bursts)
{
	struct bw_ring *r = bw_ring_new(16);
	struct bw_record in[32], out[32];
	uint64_t next_in = 0, next_out = 0;

	for (int round = 0; round < 20000; round++) {
		size_t want = (size_t)(round * 7 % 21);
		for (size_t i = 0; i < want; i++)
			mark(&in[i], next_in + i);
		size_t pushed = bw_ring_push(r, in, want);
		ck_assert_uint_le(pushed, want);
		next_in += pushed;
		ck_assert_uint_eq(bw_ring_count(r), next_in - next_out);
		size_t got = bw_ring_pop(r, out, (size_t)(round * 5 % 19));
		for (size_t i = 0; i < got; i++)
			ck_assert_msg(is_mark(&out[i], next_out + i), "round %d: slot %zu", round, i);
		next_out += got;
	}
	ck_assert_uint_gt(next_out, 16 * 1000);   /* it went around many times */
	bw_ring_free(r);
}
END_TEST

#define STRESS_N 3000000ull

struct stress {
	struct bw_ring *r;
	uint64_t failures;
};

static void *
producer(void *arg)
{
	struct stress *s = arg;
	struct bw_record batch[37];
	uint64_t seq = 0;

	while (seq < STRESS_N) {
		size_t n = (size_t)(1 + seq % 37);
		if (n > STRESS_N - seq)
			n = (size_t)(STRESS_N - seq);
		for (size_t i = 0; i < n; i++)
			mark(&batch[i], seq + i);
		size_t done = 0;
		while (done < n)        /* full: try again (a replay's back-pressure) */
			done += bw_ring_push(s->r, batch + done, n - done);
		seq += n;
	}
	return NULL;
}

START_TEST(two_threads_every_number_once_in_order)
{
	struct stress s = {.r = bw_ring_new(64)};
	struct bw_record out[29];
	pthread_t t;
	uint64_t next = 0;

	ck_assert_int_eq(pthread_create(&t, NULL, producer, &s), 0);
	while (next < STRESS_N) {
		size_t got = bw_ring_pop(s.r, out, 1 + next % 29);
		for (size_t i = 0; i < got; i++)
			if (!is_mark(&out[i], next + i))
				s.failures++;
		next += got;
	}
	pthread_join(t, NULL);
	ck_assert_uint_eq(s.failures, 0);
	ck_assert_uint_eq(bw_ring_pop(s.r, out, 29), 0);
	bw_ring_free(s.r);
}
END_TEST

static Suite *
ring_suite(void)
{
	Suite *su = suite_create("ring");
	TCase *tc = tcase_create("ring");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rejects_bad_capacity);
	tcase_add_test(tc, empty_and_full);
	tcase_add_test(tc, wrap_and_bursts);
	tcase_add_test(tc, two_threads_every_number_once_in_order);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(ring_suite());
}
