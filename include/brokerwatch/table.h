/*
 * table.h - a bounded hash table of fixed-size entries in recency order.
 *
 * Every table in brokerwatch that grows with traffic (fragments being
 * reassembled, SYNs being folded, groups being counted) is one of these: its
 * memory is allocated once at creation, it never holds more than its capacity,
 * and when full the caller evicts the least recently used entry (and counts it).
 * Keys are compared as bytes: callers zero their key structs before filling
 * them, so that padding never differs. Not thread-safe: one owner thread.
 */
#ifndef BW_TABLE_H
#define BW_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct bw_table;

#define BW_TABLE_MAX_ITEM (1u << 20)   /* largest key or value, bytes */

/*
 * A table for capacity entries of key_size key bytes and value_size value
 * bytes. seed keys the hash (so that an attacker cannot aim at one chain).
 * Returns NULL (errno set) if a size is 0, a key or value is larger than
 * BW_TABLE_MAX_ITEM, or the memory is not available.
 */
struct bw_table *bw_table_new(size_t capacity, size_t key_size, size_t value_size, uint64_t seed);

/* A seed for bw_table_new from the kernel's random source (getrandom(2)). */
uint64_t bw_table_seed(void);

/* Frees the table and every entry; NULL is allowed. */
void bw_table_free(struct bw_table *t);

/* The value stored under key, or NULL. Does not change the recency order. */
void *bw_table_find(struct bw_table *t, const void *key);

/*
 * Adds key (which must not be present) as the most recent entry and returns its
 * value, zero-filled. Returns NULL when the table is full: the caller evicts
 * (bw_table_oldest + bw_table_remove), counts that, and inserts again.
 */
void *bw_table_insert(struct bw_table *t, const void *key);

/* Removes the entry whose value is v (as returned by find/insert/oldest). */
void bw_table_remove(struct bw_table *t, void *v);

/* Makes the entry whose value is v the most recent one. */
void bw_table_touch(struct bw_table *t, void *v);

/* The least recent entry's value, or NULL if the table is empty. */
void *bw_table_oldest(const struct bw_table *t);

/* The next more recent entry after v, or NULL: walks oldest to newest. */
void *bw_table_newer(const struct bw_table *t, const void *v);

/* The key of the entry whose value is v. */
const void *bw_table_key(const struct bw_table *t, const void *v);

/* Entries held now, and the capacity given at creation. */
size_t bw_table_count(const struct bw_table *t);
size_t bw_table_capacity(const struct bw_table *t);

/* Bytes the table allocated, for the memory bound the man page states. */
size_t bw_table_memory(const struct bw_table *t);

/* Bytes a table of these sizes allocates (0 if they are impossible). */
size_t bw_table_memory_for(size_t capacity, size_t key_size, size_t value_size);

#endif
