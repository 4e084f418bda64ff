/*
 * format.h - text forms of values that leave the process.
 *
 * Pure functions, any thread, no allocation, no locale. Each writes into a
 * caller's buffer and returns the number of bytes written (no NUL unless said).
 */
#ifndef BW_FORMAT_H
#define BW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Longest text bw_format_addr writes: an IPv6 address, NUL included. */
#define BW_ADDR_TEXT_MAX 46

/*
 * Canonical text of an address, NUL-terminated: dotted quad for family 4;
 * RFC 5952 for family 6 (lower case, no leading zeros, the longest run of two
 * or more zero groups compressed, the first on a tie, IPv4-mapped addresses
 * as ::ffff:a.b.c.d). buf must hold BW_ADDR_TEXT_MAX bytes. Returns the length.
 */
size_t bw_format_addr(int family, const uint8_t *addr, char *buf);

/* Longest text bw_format_time writes, NUL included. */
#define BW_TIME_TEXT_MAX 32

/*
 * ISO 8601 UTC with microseconds, NUL-terminated: 2026-12-04T19:28:00.123456Z.
 * Nanoseconds are truncated, not rounded (the microsecond the packet fell in).
 * Valid for 1970..2262 (every int64 ns >= 0); negative times print as 1970.
 * buf must hold BW_TIME_TEXT_MAX bytes. Returns the length.
 */
size_t bw_format_time(int64_t ts_ns, char *buf);

/* Decimal text of v, no NUL. buf must hold 20 bytes. */
size_t bw_format_u64(uint64_t v, char *buf);

/*
 * Appends s (n bytes, any content) as the inside of a JSON string: quotes,
 * backslash and control bytes escaped, bytes that are not valid UTF-8 written
 * as \u00XX of the byte. Writes at most cap bytes; returns the length written,
 * or 0 if cap is too small for the whole escaped text (then nothing is valid).
 * A cap of 6 * n is always enough.
 */
size_t bw_format_json_string(const char *s, size_t n, char *buf, size_t cap);

#endif
