/*
 * test_stats.c - stats.h: counter names, lookup and the two printed forms.
 *
 * The names are spec.md's list, in its order: --stats JSON is an interface.
 */
#include <stdio.h>

#include "brokerwatch/stats.h"
#include "unit.h"

static const char *const spec_names[] = {
    "packets", "bytes", "bytes_wire", "link_ethernet", "link_sll", "link_sll2", "link_raw",
    "link_null", "link_loop", "link_unsupported", "ts_invalid", "no_timestamp", "vlan_tagged",
    "not_ip", "ipv4", "ipv4_options", "ipv6", "ipv6_ext", "ip_other", "tcp", "udp", "gre",
    "erspan", "vxlan", "ipip", "tunnel_too_deep", "truncated", "invalid", "link_truncated",
    "link_invalid", "vlan_too_many", "ipv4_truncated", "ipv4_invalid", "ipv6_truncated",
    "ipv6_invalid", "ipv6_ext_too_many", "tcp_truncated", "tcp_invalid", "udp_truncated",
    "udp_invalid", "tunnel_truncated", "tunnel_invalid", "tunnel_unsupported", "frag_ipv4",
    "frag_ipv6", "frag_ignored", "frag_reassembled", "frag_duplicate", "frag_overlap",
    "frag_invalid", "frag_truncated", "frag_too_many", "frag_timeout", "frag_evicted", "syn",
    "syn_retransmit", "syn_fold_evicted", "records", "watched", "excluded", "scored_high",
    "scored_medium", "scored_low", "regex_errors", "counted", "alerts", "groups", "groups_expired",
    "groups_evicted", "events_evicted", "kernel_received", "kernel_dropped",
    "interface_dropped", "ring_dropped", "ring_full_waits", "attrib_ebpf", "attrib_proc",
    "attrib_uid_only", "attrib_none", "attrib_timeout", "attrib_pid_reused", "attrib_events",
    "attrib_events_lost", "attrib_kernel_lost", "attrib_known",
};

#define NSPEC (sizeof(spec_names) / sizeof(spec_names[0]))

START_TEST(names_are_the_spec_list)
{
	ck_assert_uint_eq(BW_STAT_COUNT, NSPEC);
	for (size_t k = 0; k < NSPEC; k++) {
		ck_assert_str_eq(bw_stats_name((enum bw_stat)k), spec_names[k]);
		ck_assert_int_eq(bw_stats_lookup(spec_names[k]), (int)k);
		ck_assert_ptr_nonnull(bw_stats_description((enum bw_stat)k));
		ck_assert_uint_gt(strlen(bw_stats_description((enum bw_stat)k)), 0);
	}
	ck_assert_int_eq(bw_stats_lookup("nope"), BW_STAT_COUNT);
	ck_assert_int_eq(bw_stats_lookup(""), BW_STAT_COUNT);
	ck_assert_int_eq(bw_stats_lookup("Packets"), BW_STAT_COUNT);
	ck_assert_int_eq(bw_stats_lookup("packets "), BW_STAT_COUNT);
	ck_assert_int_eq(BW_STAT_RECORDS, bw_stats_lookup("records"));
}
END_TEST

/* Everything f received, NUL-terminated (the caller frees it). */
static char *
slurp(FILE *f)
{
	long n;
	char *s;

	ck_assert_int_eq(fflush(f), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	return s;
}

/* One JSON object on one line with every counter, zeros too, in list order. */
START_TEST(json_all_counters)
{
	struct bw_stats st;
	char want[8192], *got;
	size_t w = 0;
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	memset(&st, 0, sizeof(st));
	for (size_t k = 0; k < NSPEC; k++)
		st.v[k] = k % 3 == 0 ? 0 : (uint64_t)k * 1000003ULL;
	st.v[BW_STAT_BYTES] = UINT64_MAX;
	bw_stats_print_json(&st, f);
	w += (size_t)snprintf(want + w, sizeof(want) - w, "{");
	for (size_t k = 0; k < NSPEC; k++)
		w += (size_t)snprintf(want + w, sizeof(want) - w, "%s\"%s\":%llu", k ? "," : "",
		    spec_names[k], (unsigned long long)st.v[k]);
	snprintf(want + w, sizeof(want) - w, "}\n");
	got = slurp(f);
	ck_assert_str_eq(got, want);
	free(got);
	fclose(f);
}
END_TEST

/* Text: one "name value" line per non-zero counter, none for zeros. */
START_TEST(text_non_zero_only)
{
	struct bw_stats st;
	char *got, *line, *end;
	FILE *f = tmpfile();
	int lines = 0;

	ck_assert_ptr_nonnull(f);
	memset(&st, 0, sizeof(st));
	st.v[BW_STAT_PACKETS] = 12;
	st.v[BW_STAT_SYN] = 3;
	st.v[BW_STAT_RECORDS] = 18446744073709551615ULL;
	bw_stats_print_text(&st, f);
	got = slurp(f);
	for (line = got; *line != '\0'; line = end + 1) {
		char name[64];
		unsigned long long v;
		enum bw_stat k;

		end = strchr(line, '\n');
		ck_assert_msg(end != NULL, "last line not ended: \"%s\"", line);
		*end = '\0';
		ck_assert_msg(sscanf(line, " %63s %llu", name, &v) == 2, "line \"%s\"", line);
		k = bw_stats_lookup(name);
		ck_assert_msg(k != BW_STAT_COUNT, "unknown counter \"%s\"", name);
		ck_assert_uint_eq(v, st.v[k]);
		ck_assert_uint_ne(v, 0);
		lines++;
	}
	ck_assert_int_eq(lines, 3);
	free(got);
	fclose(f);

	/* all zero: nothing */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	memset(&st, 0, sizeof(st));
	bw_stats_print_text(&st, f);
	got = slurp(f);
	ck_assert_str_eq(got, "");
	free(got);
	fclose(f);
}
END_TEST

START_TEST(inc_add)
{
	struct bw_stats st;

	memset(&st, 0, sizeof(st));
	bw_stats_inc(&st, BW_STAT_SYN);
	bw_stats_inc(&st, BW_STAT_SYN);
	bw_stats_add(&st, BW_STAT_BYTES, 1500);
	bw_stats_add(&st, BW_STAT_BYTES, 60);
	ck_assert_uint_eq(st.v[BW_STAT_SYN], 2);
	ck_assert_uint_eq(st.v[BW_STAT_BYTES], 1560);
	ck_assert_uint_eq(st.v[BW_STAT_PACKETS], 0);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("counters");

	tcase_add_test(tc, names_are_the_spec_list);
	tcase_add_test(tc, json_all_counters);
	tcase_add_test(tc, text_non_zero_only);
	tcase_add_test(tc, inc_add);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(stats_suite());
}
