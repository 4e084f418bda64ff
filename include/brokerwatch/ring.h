/*
 * ring.h - the single-producer/single-consumer ring between the capture
 * thread and the scoring worker.
 *
 * Lock-free, fixed-size records copied into slots, power-of-two capacity,
 * free-running 64-bit indices masked only to index, producer and consumer
 * indices on separate cache lines, burst operations that publish an index
 * once per burst (ck_ring, DPDK rte_ring). Exactly one thread may push and
 * exactly one may pop; neither ever blocks. Wake-ups are the caller's.
 */
#ifndef BW_RING_H
#define BW_RING_H

#include <stddef.h>

#include "brokerwatch/record.h"

struct bw_ring;

/*
 * A ring of capacity records (a power of two, at least 2). NULL (errno
 * EINVAL or ENOMEM) otherwise. [main, before the threads start]
 */
struct bw_ring *bw_ring_new(size_t capacity);

/* Frees the ring; NULL is allowed. [main, after the threads stopped] */
void bw_ring_free(struct bw_ring *r);

/*
 * Copies up to n records into the ring and publishes them at once. Returns
 * how many fitted (0 when full): the caller drops or retries the rest.
 * [producer only]
 */
size_t bw_ring_push(struct bw_ring *r, const struct bw_record *recs, size_t n);

/* Copies up to n records out of the ring, oldest first. Returns how many. [consumer only] */
size_t bw_ring_pop(struct bw_ring *r, struct bw_record *out, size_t n);

/* Records in the ring now (a snapshot; exact only for the consumer). [any thread] */
size_t bw_ring_count(const struct bw_ring *r);

/* The capacity given at creation. [any thread] */
size_t bw_ring_capacity(const struct bw_ring *r);

#endif
