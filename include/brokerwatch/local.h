/*
 * local.h - this host's name and addresses: a record whose source is one of
 * them was made here, and its ComputerName is the host's name.
 *
 * A snapshot is taken by the main thread (getifaddrs, gethostname) and handed
 * to the worker, which owns it from then on. Replays never use one: in a
 * replay no source is local.
 */
#ifndef BW_LOCAL_H
#define BW_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "brokerwatch/cidr.h"

struct bw_local {
	char hostname[256];
	struct bw_cidr *addrs;      /* each a /32 or /128 */
	size_t n;
};

/* The host's addresses now. NULL (logged) when they cannot be read. [main] */
struct bw_local *bw_local_snapshot(void);

/* A copy of snapshot l (for another owner). NULL (logged) without memory. */
struct bw_local *bw_local_copy(const struct bw_local *l);

/* Do two snapshots hold the same name and addresses (in any order)? */
int bw_local_equal(const struct bw_local *a, const struct bw_local *b);

/*
 * Address changes as they happen: a non-blocking rtnetlink socket in the
 * IPv4 and IPv6 address groups, or -1 (logged). Open it before the first
 * snapshot so that no change falls between the two. [main]
 */
int bw_local_watch_open(void);

/* Reads what is queued; 1 when an address came or went (or messages were lost). */
int bw_local_watch_drain(int fd);

/* Frees a snapshot; NULL is allowed. */
void bw_local_free(struct bw_local *l);

#endif
