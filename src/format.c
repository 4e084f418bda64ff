/*
 * format.c - text forms of addresses, times, numbers and JSON strings.   [any thread]
 *
 * Hand-written rather than snprintf/inet_ntop/gmtime_r: these run once per
 * record and alert, must not depend on the locale or the time zone, and their
 * exact output is part of the record format (DESIGN.md).
 */
#include <string.h>

#include "brokerwatch/format.h"

static const char hexdigits[] = "0123456789abcdef";

size_t
bw_format_u64(uint64_t v, char *buf)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static size_t
format_ipv4(const uint8_t *a, char *buf)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			buf[n++] = '.';
		n += bw_format_u64(a[i], buf + n);
	}
	buf[n] = '\0';
	return n;
}

/* One 16-bit group in lower-case hex without leading zeros. */
static size_t
format_group(unsigned g, char *buf)
{
	size_t n = 0;
	int started = 0;

	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (g >> shift) & 0xf;
		if (d != 0 || started || shift == 0) {
			buf[n++] = hexdigits[d];
			started = 1;
		}
	}
	return n;
}

static size_t
format_ipv6(const uint8_t *a, char *buf)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned g[8];
	int best = -1, bestlen = 0;
	size_t n = 0;

	/* RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad */
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		memcpy(buf, "::ffff:", 7);
		return 7 + format_ipv4(a + 12, buf + 7);
	}
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the longest run of two or more zero groups, the first on a tie (4.2.1-4.2.3) */
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	for (int i = 0; i < 8;) {
		if (i == best) {
			buf[n++] = ':';
			if (i == 0)
				buf[n++] = ':';
			i += bestlen;
			continue;
		}
		n += format_group(g[i], buf + n);
		if (++i < 8)
			buf[n++] = ':';
	}
	buf[n] = '\0';
	return n;
}

size_t
bw_format_addr(int family, const uint8_t *addr, char *buf)
{
	return family == 6 ? format_ipv6(addr, buf) : format_ipv4(addr, buf);
}

/* Fixed-width decimal, zero padded. */
static void
put_digits(char *buf, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		buf[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

size_t
bw_format_time(int64_t ts_ns, char *buf)
{
	int64_t secs, days, z, era, doe, yoe, y, doy, mp, d, m, sod;
	int64_t us;

	if (ts_ns < 0)
		ts_ns = 0;
	secs = ts_ns / 1000000000;
	us = (ts_ns % 1000000000) / 1000;
	days = secs / 86400;
	sod = secs % 86400;
	/* civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms") */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	put_digits(buf, (uint64_t)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, (uint64_t)m, 2);
	buf[7] = '-';
	put_digits(buf + 8, (uint64_t)d, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (uint64_t)(sod / 3600), 2);
	buf[13] = ':';
	put_digits(buf + 14, (uint64_t)(sod / 60 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (uint64_t)(sod % 60), 2);
	buf[19] = '.';
	put_digits(buf + 20, (uint64_t)us, 6);
	buf[26] = 'Z';
	buf[27] = '\0';
	return 27;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;      /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* beyond U+10FFFF */
	} else
		return 0;
	if (len > n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t
bw_format_json_string(const char *str, size_t n, char *buf, size_t cap)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		char esc = 0;
		size_t l;

		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		default: break;
		}
		if (esc) {
			if (cap - o < 2)
				return 0;
			buf[o++] = '\\';
			buf[o++] = esc;
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			if (cap - o < 1)
				return 0;
			buf[o++] = (char)c;
			i++;
		} else if (c >= 0x80 && (l = utf8_len(s + i, n - i)) != 0) {
			if (cap - o < l)
				return 0;
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
		} else {
			/* control bytes, DEL, and bytes that are not UTF-8 */
			if (cap - o < 6)
				return 0;
			memcpy(buf + o, "\\u00", 4);
			buf[o + 4] = hexdigits[c >> 4];
			buf[o + 5] = hexdigits[c & 0xf];
			o += 6;
			i++;
		}
	}
	return o;
}
