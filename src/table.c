/*
 * table.c - bounded hash table of fixed-size entries in recency order.   [one owner thread]
 *
 * One allocation at creation: an array of entries (header, key, value) and
 * an array of bucket heads. Entries are chained per bucket and in one
 * doubly-linked recency list, all by 32-bit index. The hash is SipHash-1-3
 * keyed with the caller's seed, so that chains stay short whatever addresses
 * an attacker puts in packets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "brokerwatch/table.h"

#define NIL UINT32_MAX

struct entry_hdr {
	uint32_t chain;   /* next in bucket, or next free */
	uint32_t older;   /* recency list */
	uint32_t newer;
	uint32_t bucket;
};

struct bw_table {
	uint8_t *entries;
	uint32_t *buckets;
	size_t capacity;
	size_t nbuckets;        /* power of two */
	size_t key_size;
	size_t value_size;
	size_t key_off;         /* within an entry */
	size_t value_off;
	size_t stride;
	size_t count;
	uint32_t free_head;     /* entries given back, most recent first */
	uint32_t fresh;         /* entries from here on were never used (nor touched) */
	uint32_t oldest;
	uint32_t newest;
	uint64_t k0, k1;        /* SipHash key */
};

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static inline struct entry_hdr *
hdr_at(const struct bw_table *t, uint32_t i)
{
	return (struct entry_hdr *)(void *)(t->entries + (size_t)i * t->stride);
}

static inline uint32_t
index_of_value(const struct bw_table *t, const void *v)
{
	size_t off = (size_t)((const uint8_t *)v - t->entries) - t->value_off;
	return (uint32_t)(off / t->stride);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                           \
	do {                                                                               \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                  \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                     \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                     \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                  \
	} while (0)

/* SipHash-1-3 (Aumasson, Bernstein) of n bytes at p. */
static uint64_t
siphash13(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)n << 56;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t m;
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
bw_table_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* early boot without entropy: a weaker seed still varies per start */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
}

struct bw_table *
bw_table_new(size_t capacity, size_t key_size, size_t value_size, uint64_t seed)
{
	struct bw_table *t;
	size_t nb = 1;

	/* sizes beyond any real entry would overflow the stride arithmetic */
	if (capacity == 0 || key_size == 0 || value_size == 0 || capacity >= NIL ||
	    key_size > BW_TABLE_MAX_ITEM || value_size > BW_TABLE_MAX_ITEM) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < capacity)
		nb <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->capacity = capacity;
	t->nbuckets = nb;
	t->key_size = key_size;
	t->value_size = value_size;
	t->key_off = align8(sizeof(struct entry_hdr));
	t->value_off = t->key_off + align8(key_size);
	t->stride = t->value_off + align8(value_size);
	if (t->stride > SIZE_MAX / capacity) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->entries = calloc(capacity, t->stride);
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (t->entries == NULL || t->buckets == NULL) {
		bw_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < nb; i++)
		t->buckets[i] = NIL;
	/*
	 * No free list through every entry: the entries' pages stay untouched
	 * (not resident) until the table fills up to them. Taking given-back
	 * entries first, then fresh ones in order, is the order a full list
	 * would give.
	 */
	t->free_head = NIL;
	t->fresh = 0;
	t->oldest = t->newest = NIL;
	t->k0 = seed;
	t->k1 = seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
	return t;
}

void
bw_table_free(struct bw_table *t)
{
	if (t == NULL)
		return;
	free(t->entries);
	free(t->buckets);
	free(t);
}

static uint32_t
bucket_of(const struct bw_table *t, const void *key)
{
	return (uint32_t)(siphash13(t->k0, t->k1, key, t->key_size) & (t->nbuckets - 1));
}

void *
bw_table_find(struct bw_table *t, const void *key)
{
	uint32_t i = t->buckets[bucket_of(t, key)];

	while (i != NIL) {
		uint8_t *e = t->entries + (size_t)i * t->stride;
		if (memcmp(e + t->key_off, key, t->key_size) == 0)
			return e + t->value_off;
		i = hdr_at(t, i)->chain;
	}
	return NULL;
}

static void
list_unlink(struct bw_table *t, uint32_t i)
{
	struct entry_hdr *h = hdr_at(t, i);

	if (h->older != NIL)
		hdr_at(t, h->older)->newer = h->newer;
	else
		t->oldest = h->newer;
	if (h->newer != NIL)
		hdr_at(t, h->newer)->older = h->older;
	else
		t->newest = h->older;
}

static void
list_append(struct bw_table *t, uint32_t i)
{
	struct entry_hdr *h = hdr_at(t, i);

	h->older = t->newest;
	h->newer = NIL;
	if (t->newest != NIL)
		hdr_at(t, t->newest)->newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

void *
bw_table_insert(struct bw_table *t, const void *key)
{
	uint32_t i = t->free_head;
	uint32_t b;
	struct entry_hdr *h;
	uint8_t *e;

	if (i != NIL) {
		h = hdr_at(t, i);
		t->free_head = h->chain;
	} else if (t->fresh < t->capacity) {
		i = t->fresh++;
		h = hdr_at(t, i);
	} else
		return NULL;
	b = bucket_of(t, key);
	h->bucket = b;
	h->chain = t->buckets[b];
	t->buckets[b] = i;
	list_append(t, i);
	e = t->entries + (size_t)i * t->stride;
	memcpy(e + t->key_off, key, t->key_size);
	memset(e + t->value_off, 0, t->value_size);
	t->count++;
	return e + t->value_off;
}

void
bw_table_remove(struct bw_table *t, void *v)
{
	uint32_t i = index_of_value(t, v);
	struct entry_hdr *h = hdr_at(t, i);
	uint32_t *link = &t->buckets[h->bucket];

	while (*link != i)
		link = &hdr_at(t, *link)->chain;
	*link = h->chain;
	list_unlink(t, i);
	h->chain = t->free_head;
	t->free_head = i;
	t->count--;
}

void
bw_table_touch(struct bw_table *t, void *v)
{
	uint32_t i = index_of_value(t, v);

	if (t->newest == i)
		return;
	list_unlink(t, i);
	list_append(t, i);
}

void *
bw_table_oldest(const struct bw_table *t)
{
	if (t->oldest == NIL)
		return NULL;
	return t->entries + (size_t)t->oldest * t->stride + t->value_off;
}

void *
bw_table_newer(const struct bw_table *t, const void *v)
{
	uint32_t n = hdr_at(t, index_of_value(t, v))->newer;

	if (n == NIL)
		return NULL;
	return t->entries + (size_t)n * t->stride + t->value_off;
}

const void *
bw_table_key(const struct bw_table *t, const void *v)
{
	return (const uint8_t *)v - t->value_off + t->key_off;
}

size_t
bw_table_count(const struct bw_table *t)
{
	return t->count;
}

size_t
bw_table_capacity(const struct bw_table *t)
{
	return t->capacity;
}

size_t
bw_table_memory(const struct bw_table *t)
{
	return sizeof(*t) + t->capacity * t->stride + t->nbuckets * sizeof(*t->buckets);
}

size_t
bw_table_memory_for(size_t capacity, size_t key_size, size_t value_size)
{
	size_t nb = 1, stride;

	if (capacity == 0 || capacity >= NIL || key_size > BW_TABLE_MAX_ITEM ||
	    value_size > BW_TABLE_MAX_ITEM)
		return 0;
	while (nb < capacity)
		nb <<= 1;
	stride = align8(sizeof(struct entry_hdr)) + align8(key_size) + align8(value_size);
	return sizeof(struct bw_table) + capacity * stride + nb * sizeof(uint32_t);
}
