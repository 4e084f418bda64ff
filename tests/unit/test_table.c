/*
 * test_table.c - table.h: the bounded hash table in recency order.
 *
 * Fixed cases for each promise, then long seeded random runs against a plain
 * array model (keys in recency order) to catch what fixed cases miss:
 * tombstones, chains, wrap-around, reuse of freed slots.
 */
#include <errno.h>
#include <stdio.h>

#include "brokerwatch/table.h"
#include "unit.h"

struct key {
	uint8_t b[13]; /* odd size: no padding, every byte counts */
};

struct val {
	uint64_t tag;
	uint32_t n;
};

static struct key
mkkey(uint32_t v)
{
	struct key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.b, &v, sizeof(v));
	k.b[12] = (uint8_t)(v * 7);
	return k;
}

static struct bw_table *
mktable(size_t cap)
{
	struct bw_table *t = bw_table_new(cap, sizeof(struct key), sizeof(struct val), 42);

	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(new_rejects_zero_sizes)
{
	errno = 0;
	ck_assert_ptr_null(bw_table_new(0, 8, 8, 1));
	ck_assert_int_ne(errno, 0);
	errno = 0;
	ck_assert_ptr_null(bw_table_new(8, 0, 8, 1));
	ck_assert_int_ne(errno, 0);
	errno = 0;
	ck_assert_ptr_null(bw_table_new(8, 8, 0, 1));
	ck_assert_int_ne(errno, 0);
	bw_table_free(NULL);
}
END_TEST

/* Sizes whose product or rounding overflows are memory that is not available. */
static const size_t impossible[][3] = {
    {1, SIZE_MAX, 8},
    {1, SIZE_MAX - 3, 8},
    {1, 8, SIZE_MAX},
    {1, 8, SIZE_MAX - 6},
    {SIZE_MAX, 8, 8},
    {(size_t)1 << 40, 8, 8},
    {(size_t)1 << 20, (size_t)1 << 62, 8},
};

START_TEST(new_rejects_impossible_sizes)
{
	const size_t *c = impossible[_i];
	struct bw_table *t;

	errno = 0;
	t = bw_table_new(c[0], c[1], c[2], 1);
	ck_assert_msg(t == NULL, "bw_table_new(%zu, %zu, %zu) made a table", c[0], c[1], c[2]);
	ck_assert_int_ne(errno, 0);
}
END_TEST

/* BW_TABLE_MAX_ITEM is the largest key or value a table takes; one byte more is refused. */
START_TEST(max_item_size)
{
	struct bw_table *t;
	uint8_t *key = calloc(1, BW_TABLE_MAX_ITEM);
	uint8_t *v;

	ck_assert_ptr_nonnull(key);
	t = bw_table_new(2, BW_TABLE_MAX_ITEM, 8, 3);
	ck_assert_ptr_nonnull(t);
	key[BW_TABLE_MAX_ITEM - 1] = 1;
	v = bw_table_insert(t, key);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_eq(bw_table_find(t, key), v);
	key[BW_TABLE_MAX_ITEM - 1] = 2;
	ck_assert_ptr_null(bw_table_find(t, key));
	bw_table_free(t);
	t = bw_table_new(2, 8, BW_TABLE_MAX_ITEM, 3);
	ck_assert_ptr_nonnull(t);
	v = bw_table_insert(t, key);
	ck_assert_ptr_nonnull(v);
	v[BW_TABLE_MAX_ITEM - 1] = 7; /* the whole value is ours */
	bw_table_free(t);
	errno = 0;
	ck_assert_ptr_null(bw_table_new(2, BW_TABLE_MAX_ITEM + 1, 8, 3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(bw_table_new(2, 8, BW_TABLE_MAX_ITEM + 1, 3));
	ck_assert_int_eq(errno, EINVAL);
	free(key);
}
END_TEST

START_TEST(sizes)
{
	struct bw_table *t = mktable(100);

	ck_assert_uint_eq(bw_table_capacity(t), 100);
	ck_assert_uint_eq(bw_table_count(t), 0);
	ck_assert_uint_ge(bw_table_memory(t), 100 * (sizeof(struct key) + sizeof(struct val)));
	ck_assert_ptr_null(bw_table_oldest(t));
	bw_table_free(t);
}
END_TEST

START_TEST(insert_find_remove)
{
	struct bw_table *t = mktable(8);
	struct key a = mkkey(1), b = mkkey(2);
	struct val *va, *vb, zero;

	memset(&zero, 0, sizeof(zero));
	ck_assert_ptr_null(bw_table_find(t, &a));
	va = bw_table_insert(t, &a);
	ck_assert_ptr_nonnull(va);
	ck_assert_mem_eq(va, &zero, sizeof(zero));
	va->tag = 0xa;
	vb = bw_table_insert(t, &b);
	ck_assert_ptr_nonnull(vb);
	ck_assert_ptr_ne(va, vb);
	ck_assert_mem_eq(vb, &zero, sizeof(zero));
	vb->tag = 0xb;
	ck_assert_uint_eq(bw_table_count(t), 2);
	ck_assert_ptr_eq(bw_table_find(t, &a), va);
	ck_assert_ptr_eq(bw_table_find(t, &b), vb);
	ck_assert_mem_eq(bw_table_key(t, va), &a, sizeof(a));
	ck_assert_mem_eq(bw_table_key(t, vb), &b, sizeof(b));
	ck_assert_uint_eq(((struct val *)bw_table_find(t, &a))->tag, 0xa);

	bw_table_remove(t, va);
	ck_assert_uint_eq(bw_table_count(t), 1);
	ck_assert_ptr_null(bw_table_find(t, &a));
	ck_assert_ptr_eq(bw_table_find(t, &b), vb);
	ck_assert_uint_eq(vb->tag, 0xb);

	/* a removed key comes back zero-filled */
	va = bw_table_insert(t, &a);
	ck_assert_ptr_nonnull(va);
	ck_assert_mem_eq(va, &zero, sizeof(zero));
	bw_table_free(t);
}
END_TEST

START_TEST(full_returns_null)
{
	struct bw_table *t = mktable(4);
	struct key k;

	for (uint32_t i = 0; i < 4; i++) {
		k = mkkey(i);
		ck_assert_ptr_nonnull(bw_table_insert(t, &k));
	}
	ck_assert_uint_eq(bw_table_count(t), 4);
	k = mkkey(99);
	ck_assert_ptr_null(bw_table_insert(t, &k));
	ck_assert_uint_eq(bw_table_count(t), 4);
	ck_assert_ptr_null(bw_table_find(t, &k));
	/* every old entry is still there */
	for (uint32_t i = 0; i < 4; i++) {
		k = mkkey(i);
		ck_assert_ptr_nonnull(bw_table_find(t, &k));
	}
	/* the caller evicts the oldest and inserts again */
	bw_table_remove(t, bw_table_oldest(t));
	k = mkkey(99);
	ck_assert_ptr_nonnull(bw_table_insert(t, &k));
	k = mkkey(0);
	ck_assert_ptr_null(bw_table_find(t, &k));
	ck_assert_uint_eq(bw_table_count(t), 4);
	bw_table_free(t);
}
END_TEST

/* Walks oldest to newest and checks the order of the tags. */
static void
check_order(struct bw_table *t, const uint64_t *tags, size_t n)
{
	size_t i = 0;

	for (struct val *v = bw_table_oldest(t); v != NULL; v = bw_table_newer(t, v)) {
		ck_assert_uint_lt(i, n);
		ck_assert_msg(v->tag == tags[i], "position %zu: tag %llu, want %llu", i,
		    (unsigned long long)v->tag, (unsigned long long)tags[i]);
		i++;
	}
	ck_assert_uint_eq(i, n);
}

START_TEST(recency_order)
{
	struct bw_table *t = mktable(8);
	struct val *v[4];

	for (uint32_t i = 0; i < 4; i++) {
		struct key k = mkkey(i);

		v[i] = bw_table_insert(t, &k);
		v[i]->tag = i;
	}
	check_order(t, (const uint64_t[]){0, 1, 2, 3}, 4);
	ck_assert_ptr_eq(bw_table_oldest(t), v[0]);
	ck_assert_ptr_null(bw_table_newer(t, v[3]));

	/* find does not change the order */
	{
		struct key k = mkkey(0);

		ck_assert_ptr_eq(bw_table_find(t, &k), v[0]);
	}
	check_order(t, (const uint64_t[]){0, 1, 2, 3}, 4);

	/* touch moves to newest */
	bw_table_touch(t, v[0]);
	check_order(t, (const uint64_t[]){1, 2, 3, 0}, 4);
	bw_table_touch(t, v[2]);
	check_order(t, (const uint64_t[]){1, 3, 0, 2}, 4);
	/* touching the newest changes nothing */
	bw_table_touch(t, v[2]);
	check_order(t, (const uint64_t[]){1, 3, 0, 2}, 4);
	ck_assert_ptr_eq(bw_table_oldest(t), v[1]);

	/* removal from the middle, the head and the tail keeps the links */
	bw_table_remove(t, v[3]);
	check_order(t, (const uint64_t[]){1, 0, 2}, 3);
	bw_table_remove(t, v[1]);
	check_order(t, (const uint64_t[]){0, 2}, 2);
	bw_table_remove(t, v[2]);
	check_order(t, (const uint64_t[]){0}, 1);
	bw_table_remove(t, v[0]);
	ck_assert_ptr_null(bw_table_oldest(t));
	ck_assert_uint_eq(bw_table_count(t), 0);
	bw_table_free(t);
}
END_TEST

START_TEST(key_bytes_exact)
{
	struct bw_table *t = mktable(64);
	struct key base = mkkey(0x01020304);
	struct val *vb;

	vb = bw_table_insert(t, &base);
	vb->tag = 1000;
	/* keys differing from base in exactly one bit, in each byte */
	for (size_t i = 0; i < sizeof(base.b); i++) {
		struct key k = base;
		struct val *v;

		k.b[i] ^= 0x80;
		ck_assert_msg(bw_table_find(t, &k) == NULL, "byte %zu ignored by find", i);
		v = bw_table_insert(t, &k);
		ck_assert_ptr_nonnull(v);
		v->tag = i;
	}
	ck_assert_uint_eq(bw_table_count(t), 1 + sizeof(base.b));
	ck_assert_ptr_eq(bw_table_find(t, &base), vb);
	for (size_t i = 0; i < sizeof(base.b); i++) {
		struct key k = base;
		struct val *v;

		k.b[i] ^= 0x80;
		v = bw_table_find(t, &k);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(v->tag, i);
		ck_assert_mem_eq(bw_table_key(t, v), &k, sizeof(k));
	}
	bw_table_free(t);
}
END_TEST

START_TEST(capacity_one)
{
	struct bw_table *t = mktable(1);
	struct key a = mkkey(1), b = mkkey(2);
	struct val *va, *vb;

	va = bw_table_insert(t, &a);
	ck_assert_ptr_nonnull(va);
	ck_assert_ptr_null(bw_table_insert(t, &b));
	ck_assert_ptr_eq(bw_table_oldest(t), va);
	ck_assert_ptr_null(bw_table_newer(t, va));
	bw_table_touch(t, va);
	ck_assert_ptr_eq(bw_table_oldest(t), va);
	bw_table_remove(t, va);
	ck_assert_uint_eq(bw_table_count(t), 0);
	ck_assert_ptr_null(bw_table_oldest(t));
	vb = bw_table_insert(t, &b);
	ck_assert_ptr_nonnull(vb);
	ck_assert_ptr_eq(bw_table_oldest(t), vb);
	ck_assert_ptr_null(bw_table_find(t, &a));
	ck_assert_ptr_eq(bw_table_find(t, &b), vb);
	for (uint32_t i = 0; i < 1000; i++) {
		struct key k = mkkey(i + 10);

		bw_table_remove(t, bw_table_oldest(t));
		ck_assert_ptr_nonnull(bw_table_insert(t, &k));
		ck_assert_uint_eq(bw_table_count(t), 1);
	}
	bw_table_free(t);
}
END_TEST

/*
 * Insert and remove a new key a great many times in a small table: a table
 * that leaves tombstones behind must still find free slots and must still
 * answer find() for an absent key when every slot has been used.
 */
START_TEST(churn)
{
	struct bw_table *t = mktable(8);
	struct key keep[7];

	for (uint32_t i = 0; i < 7; i++) {
		keep[i] = mkkey(1000000 + i);
		ck_assert_ptr_nonnull(bw_table_insert(t, &keep[i]));
	}
	for (uint32_t i = 0; i < 200000; i++) {
		struct key k = mkkey(i), absent = mkkey(i + 5000000);
		struct val *v = bw_table_insert(t, &k);

		ck_assert_msg(v != NULL, "insert %u failed with 7 of 8 used", i);
		ck_assert_ptr_null(bw_table_find(t, &absent));
		ck_assert_ptr_eq(bw_table_find(t, &k), v);
		bw_table_remove(t, v);
		ck_assert_ptr_null(bw_table_find(t, &k));
	}
	for (uint32_t i = 0; i < 7; i++)
		ck_assert_ptr_nonnull(bw_table_find(t, &keep[i]));
	ck_assert_uint_eq(bw_table_count(t), 7);
	bw_table_free(t);
}
END_TEST

/* The model: keys (as numbers) oldest first, with the tag each value holds. */
struct model {
	uint32_t key[512];
	uint64_t tag[512];
	size_t n;
};

static long
model_find(const struct model *m, uint32_t key)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->key[i] == key)
			return (long)i;
	return -1;
}

static void
model_del(struct model *m, size_t i)
{
	memmove(&m->key[i], &m->key[i + 1], (m->n - i - 1) * sizeof(m->key[0]));
	memmove(&m->tag[i], &m->tag[i + 1], (m->n - i - 1) * sizeof(m->tag[0]));
	m->n--;
}

static void
model_check(struct bw_table *t, const struct model *m)
{
	size_t i = 0;

	ck_assert_uint_eq(bw_table_count(t), m->n);
	for (struct val *v = bw_table_oldest(t); v != NULL; v = bw_table_newer(t, v)) {
		struct key k = mkkey(m->key[i]);

		ck_assert_uint_lt(i, m->n);
		ck_assert_uint_eq(v->tag, m->tag[i]);
		ck_assert_mem_eq(bw_table_key(t, v), &k, sizeof(k));
		i++;
	}
	ck_assert_uint_eq(i, m->n);
}

/* Random find/insert/remove/touch/evict against the model. */
static void
model_run(size_t cap, uint32_t keyspace, uint64_t seed, int steps)
{
	struct bw_table *t = mktable(cap);
	struct unit_rng r = {seed};
	struct model *m = calloc(1, sizeof(*m));
	uint64_t next_tag = 1;

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_le(cap, 512);
	for (int step = 0; step < steps; step++) {
		uint32_t kv = unit_below(&r, keyspace), op = unit_below(&r, 10);
		struct key k = mkkey(kv);
		long at = model_find(m, kv);
		struct val *v = bw_table_find(t, &k);

		ck_assert_msg((v != NULL) == (at >= 0), "step %d: find(%u) disagrees with the model",
		    step, kv);
		if (v != NULL)
			ck_assert_uint_eq(v->tag, m->tag[at]);
		if (op < 5 && at < 0) {
			/* insert, evicting the oldest when full (as the callers do) */
			v = bw_table_insert(t, &k);
			if (m->n == cap) {
				ck_assert_msg(v == NULL, "step %d: insert into a full table", step);
				v = bw_table_oldest(t);
				ck_assert_ptr_nonnull(v);
				ck_assert_uint_eq(v->tag, m->tag[0]);
				bw_table_remove(t, v);
				model_del(m, 0);
				v = bw_table_insert(t, &k);
			}
			ck_assert_ptr_nonnull(v);
			ck_assert_uint_eq(v->tag, 0);
			v->tag = next_tag;
			m->key[m->n] = kv;
			m->tag[m->n] = next_tag++;
			m->n++;
		} else if (op < 7 && at >= 0) {
			bw_table_remove(t, v);
			model_del(m, (size_t)at);
		} else if (op < 9 && at >= 0) {
			uint64_t tag = m->tag[at];

			bw_table_touch(t, v);
			model_del(m, (size_t)at);
			m->key[m->n] = kv;
			m->tag[m->n] = tag;
			m->n++;
		} else if (op == 9 && m->n > 0) {
			v = bw_table_oldest(t);
			ck_assert_uint_eq(v->tag, m->tag[0]);
			bw_table_remove(t, v);
			model_del(m, 0);
		}
		if (step % 64 == 0 || cap <= 4)
			model_check(t, m);
	}
	model_check(t, m);
	free(m);
	bw_table_free(t);
}

START_TEST(model_small)
{
	model_run(4, 10, 1, 100000);
	model_run(1, 3, 2, 20000);
	model_run(2, 5, 3, 50000);
}
END_TEST

START_TEST(model_medium)
{
	model_run(64, 100, 4, 300000);
	model_run(64, 1000, 5, 300000);
	model_run(500, 600, 6, 300000);
}
END_TEST

/* Seeds change only where entries hash to: behaviour is the same. */
START_TEST(model_seeds)
{
	for (uint64_t seed = 10; seed < 20; seed++) {
		struct bw_table *t = bw_table_new(32, sizeof(struct key), sizeof(struct val),
		    seed * 0x9e3779b97f4a7c15ULL);

		ck_assert_ptr_nonnull(t);
		for (uint32_t i = 0; i < 32; i++) {
			struct key k = mkkey(i);

			ck_assert_ptr_nonnull(bw_table_insert(t, &k));
		}
		for (uint32_t i = 0; i < 64; i++) {
			struct key k = mkkey(i);

			ck_assert((bw_table_find(t, &k) != NULL) == (i < 32));
		}
		bw_table_free(t);
	}
	(void)bw_table_seed();
}
END_TEST

/* A big table full to the last slot still finds every key. */
START_TEST(full_large)
{
	struct bw_table *t = mktable(512);

	for (uint32_t i = 0; i < 512; i++) {
		struct key k = mkkey(i * 2654435761u);
		struct val *v = bw_table_insert(t, &k);

		ck_assert_ptr_nonnull(v);
		v->tag = i;
	}
	for (uint32_t i = 0; i < 512; i++) {
		struct key k = mkkey(i * 2654435761u);
		struct val *v = bw_table_find(t, &k);

		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(v->tag, i);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		struct key k = mkkey(i * 2654435761u + 1);

		ck_assert_ptr_null(bw_table_find(t, &k));
	}
	bw_table_free(t);
}
END_TEST

static Suite *
table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc;

	tc = tcase_create("basic");
	tcase_add_test(tc, new_rejects_zero_sizes);
	tcase_add_loop_test(tc, new_rejects_impossible_sizes, 0,
	    (int)(sizeof(impossible) / sizeof(impossible[0])));
	tcase_add_test(tc, max_item_size);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, insert_find_remove);
	tcase_add_test(tc, full_returns_null);
	tcase_add_test(tc, recency_order);
	tcase_add_test(tc, key_bytes_exact);
	tcase_add_test(tc, capacity_one);
	tcase_add_test(tc, full_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, churn);
	tcase_add_test(tc, model_small);
	tcase_add_test(tc, model_medium);
	tcase_add_test(tc, model_seeds);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(table_suite());
}
