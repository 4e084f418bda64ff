/*
 * cidr.h - IPv4/IPv6 networks: parsing, and sets that answer "which is the
 * most specific network holding this address?" in a few hash probes.
 *
 * A set is built once (configuration load) and then only read, by any thread.
 */
#ifndef BW_CIDR_H
#define BW_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct bw_cidr {
	uint8_t family;       /* 4 or 6 */
	uint8_t len;          /* prefix length: 0..32 or 0..128 */
	uint8_t addr[16];     /* network address, host bits zero; IPv4 in the first 4 bytes */
};

/*
 * Parses "a.b.c.d/len", "x:x::x/len", or a bare address (a /32 or /128).
 * Returns 0, or -1 with a message in err: not an address, a bad length, or
 * host bits set ("10.1.2.3/8 has host bits set: 10.0.0.0/8?").
 */
int bw_cidr_parse(const char *text, struct bw_cidr *out, char *err, size_t errlen);

/* Does net hold addr (of family)? */
int bw_cidr_contains(const struct bw_cidr *net, int family, const uint8_t *addr);

/* Canonical text "addr/len" into buf (BW_ADDR_TEXT_MAX + 4 bytes). Returns the length. */
size_t bw_cidr_format(const struct bw_cidr *net, char *buf);

struct bw_cidr_set;

/* A set of n networks; value i belongs to nets[i]. NULL (errno) without memory. */
struct bw_cidr_set *bw_cidr_set_new(const struct bw_cidr *nets, size_t n);

/* Frees the set; NULL is allowed. */
void bw_cidr_set_free(struct bw_cidr_set *s);

/*
 * The index of the most specific network holding addr, or -1. Duplicate
 * networks: the first one given wins. A NULL or empty set holds nothing.
 */
long bw_cidr_set_lookup(const struct bw_cidr_set *s, int family, const uint8_t *addr);

#endif
