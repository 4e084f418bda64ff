/*
 * test_record.c - record.h: the JSON line of a connection record.
 *
 * The expected lines are spec.md's exact bytes: fixed key order, no spaces,
 * VlanId/VlanIds only with tags, InterfaceName only when known.
 */
#include <stdio.h>

#include "brokerwatch/record.h"
#include "unit.h"

#define NS 1000000000LL

static struct bw_record
rec4(const char *src, const char *dst, uint16_t sport, uint16_t dport, int64_t ts)
{
	struct bw_record r;
	unsigned a[4], b[4];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]), 4);
	ck_assert_int_eq(sscanf(dst, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]), 4);
	for (int i = 0; i < 4; i++) {
		r.src[i] = (uint8_t)a[i];
		r.dst[i] = (uint8_t)b[i];
	}
	r.family = 4;
	r.sport = sport;
	r.dport = dport;
	r.ts_ns = ts;
	return r;
}

/* Formats r into a heap buffer of exactly BW_RECORD_JSON_MAX bytes and compares. */
static void
check_line(const struct bw_record *r, const char *want)
{
	char *buf = malloc(BW_RECORD_JSON_MAX);
	size_t n;

	ck_assert_ptr_nonnull(buf);
	n = bw_record_format_json(r, NULL, NULL, buf, BW_RECORD_JSON_MAX);
	ck_assert_uint_lt(n, BW_RECORD_JSON_MAX);
	ck_assert_msg(n == strlen(want) && memcmp(buf, want, n) == 0, "got  %.*s\nwant %s", (int)n,
	    buf, want);
	free(buf);
}

START_TEST(spec_example)
{
	struct bw_record r = rec4("10.24.82.188", "203.205.147.215", 48489, 80,
	    1430069159LL * NS + 456549000LL);

	check_line(&r, "{\"@timestamp\":\"2015-04-26T17:25:59.456549Z\",\"event_simpleName\":"
		       "\"NetworkConnectIP4\",\"ComputerName\":\"10.24.82.188\",\"LocalAddressIP4\":"
		       "\"10.24.82.188\",\"LocalPort\":48489,\"RemoteAddressIP4\":\"203.205.147.215\","
		       "\"RemotePort\":80,\"Protocol\":6}\n");
}
END_TEST

/* Nanoseconds are truncated to microseconds; the seq is not part of the line. */
START_TEST(time_truncated)
{
	struct bw_record r = rec4("10.0.0.1", "198.51.100.2", 1, 65535,
	    1796412480LL * NS + 999999999LL);

	r.seq = 12345;
	check_line(&r, "{\"@timestamp\":\"2026-12-04T19:28:00.999999Z\",\"event_simpleName\":"
		       "\"NetworkConnectIP4\",\"ComputerName\":\"10.0.0.1\",\"LocalAddressIP4\":"
		       "\"10.0.0.1\",\"LocalPort\":1,\"RemoteAddressIP4\":\"198.51.100.2\","
		       "\"RemotePort\":65535,\"Protocol\":6}\n");
}
END_TEST

START_TEST(ipv6)
{
	struct bw_record r;

	memset(&r, 0, sizeof(r));
	r.family = 6;
	r.src[0] = 0x20, r.src[1] = 0x01, r.src[2] = 0x0d, r.src[3] = 0xb8, r.src[15] = 1;
	r.dst[10] = 0xff, r.dst[11] = 0xff, r.dst[12] = 192, r.dst[13] = 0, r.dst[14] = 2,
	r.dst[15] = 1;
	r.sport = 50000;
	r.dport = 8883;
	r.ts_ns = 0;
	check_line(&r, "{\"@timestamp\":\"1970-01-01T00:00:00.000000Z\",\"event_simpleName\":"
		       "\"NetworkConnectIP6\",\"ComputerName\":\"2001:db8::1\",\"LocalAddressIP6\":"
		       "\"2001:db8::1\",\"LocalPort\":50000,\"RemoteAddressIP6\":\"::ffff:192.0.2.1\","
		       "\"RemotePort\":8883,\"Protocol\":6}\n");
}
END_TEST

#define HEAD                                                                               \
	"{\"@timestamp\":\"1970-01-01T00:00:01.000000Z\",\"event_simpleName\":"             \
	"\"NetworkConnectIP4\",\"ComputerName\":\"10.0.0.1\",\"LocalAddressIP4\":"          \
	"\"10.0.0.1\",\"LocalPort\":2,\"RemoteAddressIP4\":\"203.0.113.3\",\"RemotePort\":4,"  \
	"\"Protocol\":6"

START_TEST(vlans)
{
	struct bw_record r = rec4("10.0.0.1", "203.0.113.3", 2, 4, NS);

	r.nvlan = 1;
	r.vlan[0] = 30;
	check_line(&r, HEAD ",\"VlanId\":30}\n");
	r.vlan[0] = 0; /* VID 0 is a tag */
	check_line(&r, HEAD ",\"VlanId\":0}\n");
	r.nvlan = 3;
	r.vlan[0] = 30;
	r.vlan[1] = 20;
	r.vlan[2] = 10;
	check_line(&r, HEAD ",\"VlanId\":30,\"VlanIds\":[30,20,10]}\n");
	r.nvlan = 2;
	check_line(&r, HEAD ",\"VlanId\":30,\"VlanIds\":[30,20]}\n");
	r.nvlan = BW_VLAN_MAX;
	for (int i = 0; i < BW_VLAN_MAX; i++)
		r.vlan[i] = (uint16_t)(4095 - i);
	check_line(&r, HEAD ",\"VlanId\":4095,\"VlanIds\":[4095,4094,4093,4092,4091,4090,4089,"
			    "4088]}\n");
}
END_TEST

START_TEST(interface_name)
{
	struct bw_record r = rec4("10.0.0.1", "203.0.113.3", 2, 4, NS);

	memcpy(r.ifname, "eth0", 5);
	check_line(&r, HEAD ",\"InterfaceName\":\"eth0\"}\n");
	r.nvlan = 2;
	r.vlan[0] = 7;
	r.vlan[1] = 8;
	check_line(&r, HEAD ",\"VlanId\":7,\"VlanIds\":[7,8],\"InterfaceName\":\"eth0\"}\n");
	r.nvlan = 0;
	/* bytes from a file are escaped */
	memcpy(r.ifname, "a\"b\\c\x01\xff", sizeof("a\"b\\c\x01\xff"));
	check_line(&r, HEAD ",\"InterfaceName\":\"a\\\"b\\\\c\\u0001\\u00ff\"}\n");
	/* 31 bytes, the most a record holds */
	memset(r.ifname, 'n', BW_IFNAME_MAX - 1);
	r.ifname[BW_IFNAME_MAX - 1] = '\0';
	check_line(&r, HEAD ",\"InterfaceName\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\"}\n");
}
END_TEST

START_TEST(short_buffer)
{
	struct bw_record r = rec4("10.0.0.1", "203.0.113.3", 2, 4, NS);
	char *buf = malloc(BW_RECORD_JSON_MAX - 1);

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(bw_record_format_json(&r, NULL, NULL, buf, BW_RECORD_JSON_MAX - 1), 0);
	ck_assert_uint_eq(bw_record_format_json(&r, NULL, NULL, buf, 0), 0);
	free(buf);
}
END_TEST

/* The longest record fits, ends in "}\n", and holds no raw control byte. */
START_TEST(worst_case_fits)
{
	struct bw_record r;
	char *buf = malloc(BW_RECORD_JSON_MAX);
	size_t n;

	ck_assert_ptr_nonnull(buf);
	memset(&r, 0, sizeof(r));
	r.family = 6;
	memset(r.src, 0xff, 16);
	memset(r.dst, 0xee, 16);
	r.sport = r.dport = 65535;
	r.ts_ns = INT64_MAX;
	r.nvlan = BW_VLAN_MAX;
	for (int i = 0; i < BW_VLAN_MAX; i++)
		r.vlan[i] = 4095;
	memset(r.ifname, 0x01, BW_IFNAME_MAX - 1);
	n = bw_record_format_json(&r, NULL, NULL, buf, BW_RECORD_JSON_MAX);
	ck_assert_uint_gt(n, 2);
	ck_assert_uint_lt(n, BW_RECORD_JSON_MAX);
	ck_assert(buf[n - 2] == '}' && buf[n - 1] == '\n');
	for (size_t i = 0; i + 1 < n; i++)
		ck_assert_msg((unsigned char)buf[i] >= 0x20, "raw byte 0x%02x at %zu",
		    (unsigned char)buf[i], i);
	{
		char *line = strndup(buf, n); /* the line has no NUL of its own */

		ck_assert_ptr_nonnull(line);
		ck_assert_ptr_nonnull(strstr(line, "\"@timestamp\":\"2262-04-11T23:47:16.854775Z\""));
		ck_assert_ptr_nonnull(strstr(line, "\"LocalAddressIP6\":\"ffff:ffff:ffff:ffff:ffff:"
						   "ffff:ffff:ffff\""));
		ck_assert_ptr_nonnull(strstr(line, "\"VlanIds\":[4095,4095,4095,4095,4095,4095,4095,"
						   "4095]"));
		free(line);
	}
	free(buf);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, spec_example);
	tcase_add_test(tc, time_truncated);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, vlans);
	tcase_add_test(tc, interface_name);
	tcase_add_test(tc, short_buffer);
	tcase_add_test(tc, worst_case_fits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(record_suite());
}
