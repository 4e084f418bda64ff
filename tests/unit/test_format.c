/*
 * test_format.c - format.h: address, time, number and JSON string text.
 *
 * Fixed cases from RFC 5952 and the calendar's corners, and differential runs
 * against the C library (inet_ntop, gmtime_r, snprintf) on seeded random input
 * where the C library's answer is the contract's answer.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "brokerwatch/format.h"
#include "unit.h"

/* Formats addr and checks text and returned length. */
static void
check_addr(int family, const uint8_t *addr, const char *want)
{
	char buf[BW_ADDR_TEXT_MAX + 8];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	n = bw_format_addr(family, addr, buf);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_msg(buf[BW_ADDR_TEXT_MAX] == 'X', "wrote past BW_ADDR_TEXT_MAX");
}

/* Checks the IPv6 text of eight 16-bit groups. */
static void
check_addr6(const uint16_t g[8], const char *want)
{
	uint8_t a[16];

	for (int i = 0; i < 8; i++) {
		a[2 * i] = (uint8_t)(g[i] >> 8);
		a[2 * i + 1] = (uint8_t)g[i];
	}
	check_addr(6, a, want);
}

START_TEST(addr_ipv4)
{
	static const uint8_t a[] = {192, 0, 2, 1}, z[] = {0, 0, 0, 0}, m[] = {255, 255, 255, 255},
			     t[] = {10, 24, 82, 188}, s[] = {203, 0, 113, 9};

	check_addr(4, a, "192.0.2.1");
	check_addr(4, z, "0.0.0.0");
	check_addr(4, m, "255.255.255.255");
	check_addr(4, t, "10.24.82.188");
	check_addr(4, s, "203.0.113.9");
}
END_TEST

START_TEST(addr_ipv6_rfc5952)
{
	static const struct {
		uint16_t g[8];
		const char *want;
	} c[] = {
	    {{0, 0, 0, 0, 0, 0, 0, 0}, "::"},
	    {{0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
	    {{1, 0, 0, 0, 0, 0, 0, 0}, "1::"},
	    {{0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}, "2001:db8::1"},
	    {{0x2001, 0xdb8, 0, 0, 0, 0, 0, 0}, "2001:db8::"},
	    /* RFC 5952 4.2.3: equal runs, the first is compressed */
	    {{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}, "2001:db8::1:0:0:1"},
	    /* 4.2.3: the longest run wins even when it is not the first */
	    {{0x2001, 0, 0, 1, 0, 0, 0, 1}, "2001:0:0:1::1"},
	    /* 4.2.2: a single zero group is never "::" */
	    {{0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}, "2001:db8:0:1:1:1:1:1"},
	    {{0x2001, 0xdb8, 1, 1, 1, 1, 1, 0}, "2001:db8:1:1:1:1:1:0"},
	    {{0, 1, 1, 1, 1, 1, 1, 1}, "0:1:1:1:1:1:1:1"},
	    /* 4.1: no leading zeros; 4.3: lower case */
	    {{0x2001, 0x0db8, 0x00aa, 0x000b, 0x0c00, 0xABCD, 0xEF01, 0x0010},
		"2001:db8:aa:b:c00:abcd:ef01:10"},
	    {{0xfe80, 0, 0, 0, 0x0200, 0x5efe, 0xc000, 0x0201}, "fe80::200:5efe:c000:201"},
	    {{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff},
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	    /* 5: IPv4-mapped in mixed notation */
	    {{0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201}, "::ffff:192.0.2.1"},
	    {{0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001}, "::ffff:10.0.0.1"},
	    /* not IPv4-mapped: plain hex */
	    {{0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0201}, "::1:ffff:c000:201"},
	    {{0x2001, 0xdb8, 0, 0, 0, 0xffff, 0xc000, 0x0201}, "2001:db8::ffff:c000:201"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_addr6(c[i].g, c[i].want);
}
END_TEST

/*
 * glibc's inet_ntop follows RFC 5952 except that it writes ::a.b.c.d for the
 * deprecated IPv4-compatible form; random addresses with many zero groups
 * (to make runs and ties) are compared, that form left out.
 */
START_TEST(addr_ipv6_vs_inet_ntop)
{
	struct unit_rng r = {0x5952};
	char want[INET6_ADDRSTRLEN];
	uint16_t g[8];
	uint8_t a[16];

	for (int iter = 0; iter < 20000; iter++) {
		int zero_head = 1;

		for (int i = 0; i < 8; i++) {
			uint32_t k = unit_below(&r, 8);

			g[i] = k < 4 ? 0 : k < 6 ? (uint16_t)unit_below(&r, 16) : (uint16_t)unit_rand(&r);
			a[2 * i] = (uint8_t)(g[i] >> 8);
			a[2 * i + 1] = (uint8_t)g[i];
		}
		for (int i = 0; i < 6; i++)
			if (g[i] != 0)
				zero_head = 0;
		if (zero_head && g[6] != 0)
			continue;
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a, want, sizeof(want)));
		check_addr(6, a, want);
	}
}
END_TEST

START_TEST(addr_ipv4_vs_inet_ntop)
{
	struct unit_rng r = {791};
	char want[INET_ADDRSTRLEN];
	uint8_t a[4];

	for (int iter = 0; iter < 5000; iter++) {
		uint32_t v = (uint32_t)unit_rand(&r);

		memcpy(a, &v, 4);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, a, want, sizeof(want)));
		check_addr(4, a, want);
	}
}
END_TEST

/* Formats ts and checks text and returned length. */
static void
check_time(int64_t ts, const char *want)
{
	char buf[BW_TIME_TEXT_MAX + 8];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	n = bw_format_time(ts, buf);
	ck_assert_msg(strcmp(buf, want) == 0, "time %" PRId64 ": got \"%s\", want \"%s\"", ts, buf,
	    want);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_msg(buf[BW_TIME_TEXT_MAX] == 'X', "wrote past BW_TIME_TEXT_MAX");
}

#define NS 1000000000LL

START_TEST(time_fixed)
{
	check_time(0, "1970-01-01T00:00:00.000000Z");
	check_time(1, "1970-01-01T00:00:00.000000Z");
	check_time(999, "1970-01-01T00:00:00.000000Z");
	check_time(1000, "1970-01-01T00:00:00.000001Z");
	check_time(1796412480LL * NS + 123456000LL, "2026-12-04T19:28:00.123456Z");
	check_time(1796412480LL * NS + 123456789LL, "2026-12-04T19:28:00.123456Z");
	/* truncated, not rounded */
	check_time(1796412480LL * NS + 999999999LL, "2026-12-04T19:28:00.999999Z");
	check_time(1430069159LL * NS + 456549000LL, "2015-04-26T17:25:59.456549Z");
	check_time(946684799LL * NS + 999999999LL, "1999-12-31T23:59:59.999999Z");
	check_time(946684800LL * NS, "2000-01-01T00:00:00.000000Z");
}
END_TEST

START_TEST(time_leap_years)
{
	/* 2000 is a leap year (divisible by 400) */
	check_time(951825600LL * NS, "2000-02-29T12:00:00.000000Z");
	check_time((951825600LL + 12 * 3600) * NS, "2000-03-01T00:00:00.000000Z");
	/* 2100 is not (divisible by 100, not by 400) */
	check_time(4107542399LL * NS, "2100-02-28T23:59:59.000000Z");
	check_time(4107542400LL * NS, "2100-03-01T00:00:00.000000Z");
	/* 2024 is */
	check_time(1709164800LL * NS, "2024-02-29T00:00:00.000000Z");
	check_time((1709164800LL - 1) * NS, "2024-02-28T23:59:59.000000Z");
	check_time((1709164800LL + 86400) * NS, "2024-03-01T00:00:00.000000Z");
	/* the last day of a leap year is day 366 */
	check_time(1735603200LL * NS, "2024-12-31T00:00:00.000000Z");
}
END_TEST

START_TEST(time_limits)
{
	/* INT64_MAX ns is the end of the range: 2262-04-11T23:47:16.854775807 */
	check_time(INT64_MAX, "2262-04-11T23:47:16.854775Z");
	check_time(INT64_MAX - 854775807LL, "2262-04-11T23:47:16.000000Z");
}
END_TEST

START_TEST(time_negative)
{
	char buf[BW_TIME_TEXT_MAX];
	int64_t v[] = {-1, -NS, INT64_MIN};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = bw_format_time(v[i], buf);

		ck_assert_uint_eq(n, strlen(buf));
		ck_assert_uint_eq(n, 27);
		ck_assert_msg(strncmp(buf, "1970-01-01T", 11) == 0, "%" PRId64 " gave %s", v[i], buf);
	}
}
END_TEST

/* Random times against gmtime_r (64-bit time_t covers 2262). */
START_TEST(time_vs_gmtime)
{
	struct unit_rng r = {8601};
	char want[64];

	for (int iter = 0; iter < 20000; iter++) {
		int64_t ts = (int64_t)(unit_rand(&r) >> 1);
		time_t s = (time_t)(ts / NS);
		struct tm tm;

		if (iter % 2)
			ts %= 4200000000LL * NS; /* more of them before 2103 */
		s = (time_t)(ts / NS);
		ck_assert_ptr_nonnull(gmtime_r(&s, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(ts % NS / 1000));
		check_time(ts, want);
	}
}
END_TEST

/* Formats v and compares with snprintf; checks that no NUL is written. */
static void
check_u64(uint64_t v)
{
	char buf[24], want[24];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	snprintf(want, sizeof(want), "%" PRIu64, v);
	n = bw_format_u64(v, buf);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_msg(memcmp(buf, want, n) == 0, "%" PRIu64 ": got %.*s", v, (int)n, buf);
	ck_assert_msg(buf[n] == 'X', "bw_format_u64 wrote a byte after the digits");
}

START_TEST(u64)
{
	struct unit_rng r = {20};

	check_u64(0);
	check_u64(1);
	check_u64(9);
	check_u64(10);
	check_u64(4294967295ULL);
	check_u64(4294967296ULL);
	check_u64(10000000000000000000ULL);
	check_u64(UINT64_MAX);
	for (int i = 0; i < 10000; i++)
		check_u64(unit_rand(&r) >> unit_below(&r, 64));
}
END_TEST

/*
 * Escapes s (n bytes) into a heap buffer of exactly cap bytes (so that ASan
 * sees a write past cap); returns the text, or NULL when it returned 0.
 */
static char *
json(const char *s, size_t n, size_t cap, size_t *outlen)
{
	char *buf = malloc(cap ? cap : 1);
	char *res;
	size_t len;

	ck_assert_ptr_nonnull(buf);
	len = bw_format_json_string(s, n, buf, cap);
	ck_assert_uint_le(len, cap);
	*outlen = len;
	res = malloc(len + 1);
	ck_assert_ptr_nonnull(res);
	memcpy(res, buf, len);
	res[len] = '\0';
	free(buf);
	return res;
}

/* Lower-cases the hex digits of every \uXXXX so that either case compares. */
static void
fold_hex(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'u') {
			for (int i = 2; i < 6 && p[i] != '\0'; i++)
				if (p[i] >= 'A' && p[i] <= 'F')
					p[i] = (char)(p[i] - 'A' + 'a');
			p += 5;
		} else if (p[0] == '\\' && p[1] != '\0') {
			p++;
		}
	}
}

static void
check_json(const char *s, size_t n, const char *want)
{
	size_t len;
	char *got = json(s, n, 6 * n + 1, &len);

	fold_hex(got);
	ck_assert_msg(strcmp(got, want) == 0, "escaped \"%s\", want \"%s\"", got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(got);
}

#define CJ(lit, want) check_json(lit, sizeof(lit) - 1, want)

START_TEST(json_plain_and_specials)
{
	CJ("", "");
	CJ("eth0", "eth0");
	CJ("a\"b", "a\\\"b");
	CJ("a\\b", "a\\\\b");
	CJ("\"\\\"", "\\\"\\\\\\\"");
	CJ("/", "/");
	CJ("\x01", "\\u0001");
	CJ("\x1f", "\\u001f");
	CJ("a\x00z", "a\\u0000z");
	CJ("\x7e", "~");
}
END_TEST

/* \n, \t, \r, \b, \f may be written short or as \u00XX; either is JSON. */
START_TEST(json_short_escapes)
{
	static const struct {
		char c;
		const char *s1, *s2;
	} c[] = {
	    {'\n', "\\n", "\\u000a"},
	    {'\t', "\\t", "\\u0009"},
	    {'\r', "\\r", "\\u000d"},
	    {'\b', "\\b", "\\u0008"},
	    {'\f', "\\f", "\\u000c"},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t len;
		char *got = json(&c[i].c, 1, 6, &len);

		fold_hex(got);
		ck_assert_msg(strcmp(got, c[i].s1) == 0 || strcmp(got, c[i].s2) == 0,
		    "byte 0x%02x escaped as \"%s\"", (unsigned char)c[i].c, got);
		free(got);
	}
}
END_TEST

START_TEST(json_utf8_valid_kept)
{
	CJ("\xc3\xa9", "\xc3\xa9");                   /* U+00E9 */
	CJ("\xc2\x80", "\xc2\x80");                   /* U+0080, lowest 2-byte */
	CJ("\xdf\xbf", "\xdf\xbf");                   /* U+07FF */
	CJ("\xe0\xa0\x80", "\xe0\xa0\x80");           /* U+0800, lowest 3-byte */
	CJ("\xe2\x82\xac", "\xe2\x82\xac");           /* U+20AC euro */
	CJ("\xed\x9f\xbf", "\xed\x9f\xbf");           /* U+D7FF, below the surrogates */
	CJ("\xee\x80\x80", "\xee\x80\x80");           /* U+E000 */
	CJ("\xef\xbf\xbf", "\xef\xbf\xbf");           /* U+FFFF */
	CJ("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");   /* U+10000 */
	CJ("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");   /* U+1F600 */
	CJ("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");   /* U+10FFFF, the last */
	CJ("ab\xc3\xa9-\xe2\x82\xac\"", "ab\xc3\xa9-\xe2\x82\xac\\\"");
}
END_TEST

START_TEST(json_utf8_invalid_escaped)
{
	CJ("\xff", "\\u00ff");
	CJ("\xfe", "\\u00fe");
	CJ("\x80", "\\u0080");                                  /* lone continuation */
	CJ("\xc3", "\\u00c3");                                  /* cut at the end */
	CJ("\xc3(", "\\u00c3(");                                /* bad continuation */
	CJ("\xc0\xaf", "\\u00c0\\u00af");                       /* overlong '/' */
	CJ("\xc1\xbf", "\\u00c1\\u00bf");                       /* overlong */
	CJ("\xe0\x80\xaf", "\\u00e0\\u0080\\u00af");            /* overlong 3-byte */
	CJ("\xf0\x80\x80\xaf", "\\u00f0\\u0080\\u0080\\u00af"); /* overlong 4-byte */
	CJ("\xed\xa0\x80", "\\u00ed\\u00a0\\u0080");            /* U+D800 surrogate */
	CJ("\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf");            /* U+DFFF surrogate */
	CJ("\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"); /* U+110000 */
	CJ("\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080");
	CJ("\xe2\x82" "a", "\\u00e2\\u0082a");                  /* 3-byte cut short */
	CJ("\xf0\x9f\x98" "x", "\\u00f0\\u009f\\u0098x");       /* 4-byte cut short */
	CJ("a\xe2\x82", "a\\u00e2\\u0082");                     /* cut by n */
	CJ("\xc3\xa9\xff\xc3\xa9", "\xc3\xa9\\u00ff\xc3\xa9");
}
END_TEST

/* n bounds the input: bytes after s[n] are never looked at. */
START_TEST(json_respects_n)
{
	const char s[] = "abc\"def";
	char *copy = (char *)unit_exact_copy((const uint8_t *)s, 3);
	size_t len;
	char *got = json(copy, 3, 18, &len);

	ck_assert_str_eq(got, "abc");
	free(got);
	free(copy);
	/* a valid 2-byte sequence cut by n is invalid */
	copy = (char *)unit_exact_copy((const uint8_t *)"\xc3\xa9", 1);
	got = json(copy, 1, 6, &len);
	fold_hex(got);
	ck_assert_str_eq(got, "\\u00c3");
	free(got);
	free(copy);
}
END_TEST

START_TEST(json_cap)
{
	char buf[64];
	size_t len;
	char *got;

	/* exactly enough, one short */
	got = json("a\"b", 3, 4, &len);
	ck_assert_str_eq(got, "a\\\"b");
	free(got);
	got = json("a\"b", 3, 3, &len);
	ck_assert_uint_eq(len, 0);
	free(got);
	got = json("\x01", 1, 6, &len);
	ck_assert_uint_eq(len, 6);
	free(got);
	got = json("\x01", 1, 5, &len);
	ck_assert_uint_eq(len, 0);
	free(got);
	got = json("\xff\xff", 2, 11, &len);
	ck_assert_uint_eq(len, 0);
	free(got);
	got = json("\xc3\xa9", 2, 1, &len);
	ck_assert_uint_eq(len, 0);
	free(got);
	got = json("\xc3\xa9", 2, 2, &len);
	ck_assert_uint_eq(len, 2);
	free(got);
	got = json("abc", 3, 0, &len);
	ck_assert_uint_eq(len, 0);
	free(got);
	/* 6 * n is always enough: the worst case */
	memset(buf, 0xff, 10);
	got = json(buf, 10, 60, &len);
	ck_assert_uint_eq(len, 60);
	free(got);
	memset(buf, 0x01, 10);
	got = json(buf, 10, 60, &len);
	ck_assert_uint_eq(len, 60);
	free(got);
}
END_TEST

/*
 * Random bytes: the output is printable JSON string content (no raw control
 * byte, every backslash starts a known escape, every quote escaped) and
 * decoding the escapes gives the input back for valid UTF-8 input.
 */
START_TEST(json_random_well_formed)
{
	struct unit_rng r = {8259};
	char in[40];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = unit_below(&r, sizeof(in)), len;
		char *got;

		for (size_t i = 0; i < n; i++)
			in[i] = iter % 3 == 0 ? (char)unit_below(&r, 256)
			    : iter % 3 == 1 ? (char)unit_below(&r, 128)
			    : "\"\\\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff a"[unit_below(&r, 16)];
		got = json(in, n, 6 * n, &len);
		ck_assert_msg(n == 0 || len > 0, "cap 6*n was not enough");
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)got[i];

			ck_assert_msg(c >= 0x20, "raw control byte 0x%02x in output", c);
			ck_assert_msg(c != '"', "bare quote"); /* escaped ones are skipped below */
			if (c == '\\') {
				char e = got[i + 1];

				ck_assert_msg(e != '\0' && strchr("\"\\/bfnrtu", e) != NULL,
				    "bad escape \\%c", e);
				i += e == 'u' ? 5 : 1;
				ck_assert_uint_lt(i, len);
			}
		}
		free(got);
	}
}
END_TEST

static Suite *
format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc;

	tc = tcase_create("addr");
	tcase_add_test(tc, addr_ipv4);
	tcase_add_test(tc, addr_ipv6_rfc5952);
	tcase_add_test(tc, addr_ipv6_vs_inet_ntop);
	tcase_add_test(tc, addr_ipv4_vs_inet_ntop);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, time_fixed);
	tcase_add_test(tc, time_leap_years);
	tcase_add_test(tc, time_limits);
	tcase_add_test(tc, time_negative);
	tcase_add_test(tc, time_vs_gmtime);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("u64");
	tcase_add_test(tc, u64);
	suite_add_tcase(s, tc);

	tc = tcase_create("json_string");
	tcase_add_test(tc, json_plain_and_specials);
	tcase_add_test(tc, json_short_escapes);
	tcase_add_test(tc, json_utf8_valid_kept);
	tcase_add_test(tc, json_utf8_invalid_escaped);
	tcase_add_test(tc, json_respects_n);
	tcase_add_test(tc, json_cap);
	tcase_add_test(tc, json_random_well_formed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(format_suite());
}
