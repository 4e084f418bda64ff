/*
 * ring.c - SPSC ring of records.   [capture pushes, worker pops]
 *
 * Owns the slot array. head is written by the producer only, tail by the
 * consumer only; each keeps a private copy of the other's index so that it
 * reads the shared one only when the private copy says the ring is full (or
 * empty).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwatch/ring.h"

#define CACHE_LINE 64

struct bw_ring {
	/* producer's line */
	alignas(CACHE_LINE) _Atomic uint64_t head;  /* next slot to write */
	uint64_t tail_cache;                         /* producer's view of tail */
	/* consumer's line */
	alignas(CACHE_LINE) _Atomic uint64_t tail;  /* next slot to read */
	uint64_t head_cache;                         /* consumer's view of head */
	/* read-only after creation */
	alignas(CACHE_LINE) uint64_t mask;
	struct bw_record *slots;
};

struct bw_ring *
bw_ring_new(size_t capacity)
{
	struct bw_ring *r;

	if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = aligned_alloc(CACHE_LINE, sizeof(*r))) == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	if ((r->slots = calloc(capacity, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = capacity - 1;
	return r;
}

void
bw_ring_free(struct bw_ring *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

size_t
bw_ring_push(struct bw_ring *r, const struct bw_record *recs, size_t n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t cap = r->mask + 1;
	size_t room = (size_t)(cap - (head - r->tail_cache));

	if (room < n) {
		/* acquire: pairs with the consumer's release of tail; its reads of those slots are done */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		room = (size_t)(cap - (head - r->tail_cache));
	}
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++)
		r->slots[(head + i) & r->mask] = recs[i];
	/* release: pairs with the consumer's acquire of head; the slots above are visible first */
	if (n > 0)
		atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

size_t
bw_ring_pop(struct bw_ring *r, struct bw_record *out, size_t n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t avail = (size_t)(r->head_cache - tail);

	if (avail < n) {
		/* acquire: pairs with the producer's release of head; the slots it wrote are visible */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		avail = (size_t)(r->head_cache - tail);
	}
	if (n > avail)
		n = avail;
	for (size_t i = 0; i < n; i++)
		out[i] = r->slots[(tail + i) & r->mask];
	/* release: pairs with the producer's acquire of tail; we are done reading these slots */
	if (n > 0)
		atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

size_t
bw_ring_count(const struct bw_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	return head >= tail ? (size_t)(head - tail) : 0;
}

size_t
bw_ring_capacity(const struct bw_ring *r)
{
	return (size_t)(r->mask + 1);
}
