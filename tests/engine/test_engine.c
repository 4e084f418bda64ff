/*
 * test_engine.c - the detection engine's modules: CIDR sets, the scorer
 * (the reference query's rules, and rules a user writes) and the sliding
 * window (exact counts, both ends of the window, out-of-order times, alert
 * re-arming, realert, eviction under the memory bounds).
 */
#include <arpa/inet.h>
#include <unistd.h>

#include "brokerwatch/cidr.h"
#include "brokerwatch/config.h"
#include "brokerwatch/score.h"
#include "brokerwatch/window.h"
#include "unit.h"

#define SEC 1000000000LL
#define HOUR (3600 * SEC)
#define T0 (1790000000LL * SEC)

/* A record of family 4 or 6 from src port 40000 to dst:dport at ts. */
static struct bw_record
rec(int family, const char *src, const char *dst, uint16_t dport, int64_t ts)
{
	int af = family == 4 ? AF_INET : AF_INET6;
	struct bw_record r;

	memset(&r, 0, sizeof(r));
	r.family = (uint8_t)family;
	ck_assert_int_eq(inet_pton(af, src, r.src), 1);
	ck_assert_int_eq(inet_pton(af, dst, r.dst), 1);
	r.sport = 40000;
	r.dport = dport;
	r.ts_ns = ts;
	return r;
}

/* ------------------------------------------------------------------ cidr */

START_TEST(cidr_parse_and_errors)
{
	struct bw_cidr c;
	char err[128], text[64];

	ck_assert_int_eq(bw_cidr_parse("10.0.0.0/8", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.family, 4);
	ck_assert_int_eq(c.len, 8);
	ck_assert_int_eq(bw_cidr_parse("2001:db8::/32", &c, err, sizeof(err)), 0);
	bw_cidr_format(&c, text);
	ck_assert_str_eq(text, "2001:db8::/32");
	ck_assert_int_eq(bw_cidr_parse("203.0.113.7", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.len, 32);
	ck_assert_int_eq(bw_cidr_parse("::1", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.len, 128);
	ck_assert_int_eq(bw_cidr_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(bw_cidr_parse("10.1.2.3/8", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/8"));
	ck_assert_int_eq(bw_cidr_parse("10.0.0.0/33", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("10.0.0.0/", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("10.0.0.0/-1", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("10.0.0.0/8x", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("10.0.0/8", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("fe80::/129", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("/8", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(bw_cidr_parse("fc00::1/7", &c, err, sizeof(err)), -1);
}
END_TEST

/* The query's ranges, their edges, and the addresses just outside them. */
START_TEST(cidr_set_query_edges)
{
	static const char *nets[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"127.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10"};
	static const struct { const char *a; int in; } v4[] = {
		{"10.0.0.0", 1}, {"10.255.255.255", 1}, {"9.255.255.255", 0}, {"11.0.0.0", 0},
		{"172.16.0.0", 1}, {"172.31.255.255", 1}, {"172.15.255.255", 0},
		{"172.32.0.0", 0}, {"192.168.0.1", 1}, {"192.169.0.1", 0}, {"192.167.255.255", 0},
		{"127.0.0.1", 1}, {"126.255.255.255", 0}, {"128.0.0.0", 0}, {"203.0.113.1", 0},
	};
	static const struct { const char *a; int in; } v6[] = {
		{"::1", 1}, {"::2", 0}, {"fc00::1", 1}, {"fdff:ffff::1", 1}, {"fe00::1", 0},
		{"fe80::1", 1}, {"febf:ffff::1", 1}, {"fec0::1", 0}, {"2001:db8::1", 0},
		{"::ffff:10.0.0.1", 0},
	};
	struct bw_cidr c[7];
	char err[128];
	uint8_t a[16];

	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(bw_cidr_parse(nets[i], &c[i], err, sizeof(err)), 0);
	struct bw_cidr_set *s = bw_cidr_set_new(c, 7);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(a, 0, sizeof(a));
		inet_pton(AF_INET, v4[i].a, a);
		ck_assert_msg((bw_cidr_set_lookup(s, 4, a) >= 0) == v4[i].in, "%s", v4[i].a);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		inet_pton(AF_INET6, v6[i].a, a);
		ck_assert_msg((bw_cidr_set_lookup(s, 6, a) >= 0) == v6[i].in, "%s", v6[i].a);
	}
	bw_cidr_set_free(s);
	ck_assert_int_eq(bw_cidr_set_lookup(NULL, 4, a), -1);
}
END_TEST

/* Longest prefix wins; the first of two equal networks wins; /0 matches all. */
START_TEST(cidr_set_longest_prefix)
{
	static const char *nets[] = {"0.0.0.0/0", "10.1.0.0/16", "10.1.20.0/24", "10.1.20.7",
		"10.1.20.0/24", "::/0", "2001:db8:10::/48"};
	struct bw_cidr c[7];
	char err[128];
	uint8_t a[16] = {0};

	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(bw_cidr_parse(nets[i], &c[i], err, sizeof(err)), 0);
	struct bw_cidr_set *s = bw_cidr_set_new(c, 7);
	inet_pton(AF_INET, "10.1.20.7", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 4, a), 3);
	inet_pton(AF_INET, "10.1.20.8", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 4, a), 2);
	inet_pton(AF_INET, "10.1.21.8", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 4, a), 1);
	inet_pton(AF_INET, "8.8.8.8", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 4, a), 0);
	inet_pton(AF_INET6, "2001:db8:10::5", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 6, a), 6);
	inet_pton(AF_INET6, "2001:db8:11::5", a);
	ck_assert_int_eq(bw_cidr_set_lookup(s, 6, a), 5);
	bw_cidr_set_free(s);
}
END_TEST

/* ------------------------------------------------------------------ scoring */

static struct bw_config cfg;
static struct bw_stats st;

static void
setup_default(void)
{
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(bw_config_default(&cfg), 0);
}

static void
teardown_cfg(void)
{
	bw_config_free(&cfg);
}

/* The reference query's Protocol and Suspicion cases, with the default configuration. */
START_TEST(score_reference_query)
{
	static const struct { uint16_t port; const char *proto; enum bw_level level; } want[] = {
		{1883, "MQTT", BW_LEVEL_HIGH}, {8883, "MQTT", BW_LEVEL_HIGH},
		{5222, "XMPP", BW_LEVEL_HIGH}, {5223, "XMPP", BW_LEVEL_HIGH},
		{5269, "XMPP", BW_LEVEL_HIGH}, {5672, "AMQP", BW_LEVEL_MEDIUM},
		{5671, "AMQP", BW_LEVEL_MEDIUM}, {61613, "STOMP", BW_LEVEL_HIGH},
		{61614, "STOMP", BW_LEVEL_HIGH},
	};
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_score sc;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct bw_record r = rec(4, "10.1.0.5", "203.0.113.9", want[i].port, T0);
		ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 1);
		ck_assert_str_eq(cfg.protocols[sc.proto].name, want[i].proto);
		ck_assert_int_eq(sc.level, want[i].level);
		ck_assert_int_eq(sc.counted, 1);
		ck_assert_ptr_null(sc.computer);
	}
	/* not a watched port: nothing */
	struct bw_record r = rec(4, "10.1.0.5", "203.0.113.9", 443, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 0);
	/* excluded destinations, IPv4 and the IPv6 additions */
	r = rec(4, "10.1.0.5", "192.168.1.1", 1883, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 0);
	r = rec(4, "10.1.0.5", "172.31.255.254", 5222, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 0);
	r = rec(6, "::1", "::1", 1883, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 0);
	r = rec(6, "2001:db8:10::5", "fd00::1", 1883, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 0);
	r = rec(6, "2001:db8:10::5", "2001:db8:ffff::1", 1883, T0);
	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 1);
	ck_assert_int_eq(sc.level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(st.v[BW_STAT_WATCHED], 14);
	ck_assert_uint_eq(st.v[BW_STAT_EXCLUDED], 4);
	ck_assert_uint_eq(st.v[BW_STAT_SCORED_HIGH], 8);
	ck_assert_uint_eq(st.v[BW_STAT_SCORED_MEDIUM], 2);
	bw_scorer_free(s);
}
END_TEST

/* The mosquitto exception: the query's regex, (?i), the .exe suffix, and no process. */
START_TEST(score_mosquitto_regex)
{
	static const struct { const char *image; enum bw_level level; } want[] = {
		{"/usr/bin/mosquitto_pub", BW_LEVEL_LOW}, {"/usr/bin/mosquitto_sub", BW_LEVEL_LOW},
		{"/usr/sbin/mosquitto", BW_LEVEL_LOW},
		{"C:\\Program Files\\mosquitto\\mosquitto_pub.exe", BW_LEVEL_LOW},
		{"C:\\TOOLS\\MOSQUITTO_SUB.EXE", BW_LEVEL_LOW},
		{"/tmp/updater", BW_LEVEL_HIGH}, {"/usr/bin/mosquitto_pub.sh", BW_LEVEL_HIGH},
		{"/usr/bin/mosquitto_passwd", BW_LEVEL_HIGH}, {"", BW_LEVEL_HIGH},
	};
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_score sc;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct bw_record r = rec(4, "10.1.0.5", "203.0.113.9", 1883, T0);
		struct bw_process p;
		memset(&p, 0, sizeof(p));
		snprintf(p.image, sizeof(p.image), "%s", want[i].image);
		ck_assert_int_eq(bw_score(s, &r, &p, &sc), 1);
		ck_assert_msg(sc.level == want[i].level, "'%s': level %d, want %d", want[i].image,
		    sc.level, want[i].level);
		/* low is not an alert level: not counted */
		ck_assert_int_eq(sc.counted, want[i].level != BW_LEVEL_LOW);
	}
	bw_scorer_free(s);
}
END_TEST

/*
 * A pattern that backtracks catastrophically on an attacker-chosen name stops
 * at the match limit and counts as no match: the exception does not hide it.
 */
START_TEST(score_regex_match_limit)
{
	char path[] = "/tmp/bw-engine-XXXXXX";
	int fd = mkstemp(path);
	const char *yaml = "rules:\n"
	    "  - name: pathological-exception\n"
	    "    protocol: [MQTT]\n"
	    "    unless:\n"
	    "      image: '^(a|aa)+$'\n"
	    "    level: high\n"
	    "  - name: default\n"
	    "    level: low\n";
	struct bw_config c;
	struct bw_config_errors errs;
	struct bw_score sc;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	memset(&errs, 0, sizeof(errs));
	ck_assert_int_eq(bw_config_load(path, &c, &errs), 0);
	unlink(path);
	struct bw_scorer *s = bw_scorer_new(&c, &st);
	struct bw_record r = rec(4, "10.1.0.5", "203.0.113.9", 1883, T0);
	struct bw_process p;
	memset(&p, 0, sizeof(p));
	/* matches quickly: the exception holds */
	snprintf(p.image, sizeof(p.image), "aaaa");
	ck_assert_int_eq(bw_score(s, &r, &p, &sc), 1);
	ck_assert_int_eq(sc.level, BW_LEVEL_LOW);
	/* 2^n ways to fail: stopped, no match, high */
	memset(p.image, 'a', 60);
	p.image[60] = 'b';
	p.image[61] = '\0';
	ck_assert_int_eq(bw_score(s, &r, &p, &sc), 1);
	ck_assert_int_eq(sc.level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(st.v[BW_STAT_REGEX_ERRORS], 1);
	bw_scorer_free(s);
	bw_config_free(&c);
}
END_TEST

/* ------------------------------------------------------------------ window */

static struct bw_window *
window_with(size_t max_groups, size_t max_events)
{
	cfg.max_groups = max_groups;
	cfg.max_events = max_events;
	struct bw_window *w = bw_window_new(&cfg, &st);
	ck_assert_ptr_nonnull(w);
	return w;
}

/* Adds a default-scored MQTT connection from src to dst at ts; returns 1 if it alerted. */
static int
add(struct bw_window *w, struct bw_scorer *s, const char *src, const char *dst, int64_t ts,
    struct bw_alert *a)
{
	struct bw_record r = rec(4, src, dst, 8883, ts);
	struct bw_score sc;

	ck_assert_int_eq(bw_score(s, &r, NULL, &sc), 1);
	return bw_window_add(w, &r, NULL, &sc, a);
}

START_TEST(window_counts_and_alerts_once)
{
	struct bw_window *w = window_with(64, 1024);
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_alert a;
	struct bw_report_row *rows;

	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + HOUR, &a), 1);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_int_eq(a.first_ns, T0);
	ck_assert_int_eq(a.last_ns, T0 + HOUR);
	ck_assert_int_eq(a.level, BW_LEVEL_HIGH);
	ck_assert_str_eq(cfg.rules[a.rule].name, "mqtt-unknown-client");
	/* still above the threshold: no second alert */
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + 2 * HOUR, &a), 0);
	/* another destination is another group */
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.10", T0 + 2 * HOUR, &a), 0);
	ck_assert_int_eq(bw_window_report(w, T0 + 2 * HOUR, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 3);
	free(rows);
	ck_assert_uint_eq(st.v[BW_STAT_ALERTS], 1);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* Connections exactly `window` apart are both in the window; one ns more and they are not. */
START_TEST(window_edges_exact)
{
	struct bw_window *w = window_with(64, 1024);
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_alert a;
	struct bw_report_row *rows;

	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + 24 * HOUR, &a), 1);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_int_eq(add(w, s, "10.1.0.6", "203.0.113.9", T0, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.6", "203.0.113.9", T0 + 24 * HOUR + 1, &a), 0);
	/* the report's window ends at its end time, both ends included */
	ck_assert_int_eq(bw_window_report(w, T0 + 24 * HOUR, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 2);
	free(rows);
	ck_assert_int_eq(bw_window_report(w, T0 + 24 * HOUR + 1, &rows), 0);
	free(rows);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* Out-of-order times within a capture are counted where they belong. */
START_TEST(window_out_of_order)
{
	struct bw_window *w = window_with(64, 1024);
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_alert a;
	struct bw_report_row *rows;
	/* 20 times, shuffled across chunk boundaries */
	static const int order[] = {5, 1, 9, 0, 14, 3, 19, 7, 2, 11, 8, 16, 4, 13, 6, 18, 10, 15,
		12, 17};

	for (int i = 0; i < 20; i++)
		add(w, s, "10.1.0.5", "203.0.113.9", T0 + order[i] * HOUR, &a);
	ck_assert_int_eq(bw_window_report(w, T0 + 19 * HOUR, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 20);
	ck_assert_int_eq(rows[0].first_ns, T0);
	ck_assert_int_eq(rows[0].last_ns, T0 + 19 * HOUR);
	free(rows);
	/* 5 h later, the window [T0 + 0.5h .. T0 + 24.5h] has lost the first */
	ck_assert_int_eq(bw_window_report(w, T0 + 24 * HOUR + HOUR / 2, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 19);
	ck_assert_int_eq(rows[0].first_ns, T0 + HOUR);
	free(rows);
	/* a late connection older than the group's window is not counted */
	add(w, s, "10.1.0.5", "203.0.113.9", T0 + 40 * HOUR, &a);
	add(w, s, "10.1.0.5", "203.0.113.9", T0 + 2 * HOUR, &a);
	ck_assert_int_eq(bw_window_report(w, T0 + 40 * HOUR, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 5);    /* 16, 17, 18, 19, 40 h: [16h, 40h] */
	free(rows);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* Falling below the threshold re-arms the alert; realert fires again while above. */
START_TEST(window_rearm_and_realert)
{
	struct bw_window *w;
	struct bw_scorer *s;
	struct bw_alert a;

	cfg.window_ns = 10 * SEC;
	cfg.realert_ns = 0;             /* off */
	w = window_with(64, 1024);
	s = bw_scorer_new(&cfg, &st);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + 1 * SEC, &a), 1);
	for (int i = 2; i < 30; i++)    /* steady: one per second, always >= 2 */
		ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + i * SEC, &a), 0);
	/* silence for 20 s: the next connection finds the count at 0 (below) */
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + 50 * SEC, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0 + 51 * SEC, &a), 1);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_int_eq(a.first_ns, T0 + 50 * SEC);
	bw_window_free(w);
	bw_scorer_free(s);

	cfg.realert_ns = 5 * SEC;
	w = window_with(64, 1024);
	s = bw_scorer_new(&cfg, &st);
	int alerts = 0;
	for (int i = 0; i < 30; i++)
		alerts += add(w, s, "10.1.0.5", "203.0.113.9", T0 + i * SEC, &a);
	/* at 1 s, then every 5 s while above: 1, 6, 11, 16, 21, 26 */
	ck_assert_int_eq(alerts, 6);
	bw_window_free(w);
	bw_scorer_free(s);
}
END_TEST

/* max_groups: the group seen longest ago goes, counted; the newest groups stay exact. */
START_TEST(window_evicts_groups)
{
	struct bw_window *w = window_with(4, 1024);
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_alert a;
	struct bw_report_row *rows;
	char dst[32];

	for (int i = 0; i < 10; i++) {
		snprintf(dst, sizeof(dst), "203.0.113.%d", i + 1);
		add(w, s, "10.1.0.5", dst, T0 + i * SEC, &a);
		add(w, s, "10.1.0.5", dst, T0 + i * SEC + 1, &a);
	}
	ck_assert_uint_eq(bw_window_groups(w), 4);
	ck_assert_uint_eq(st.v[BW_STAT_GROUPS_EVICTED], 6);
	ck_assert_uint_eq(st.v[BW_STAT_EVENTS_EVICTED], 12);
	ck_assert_int_eq(bw_window_report(w, T0 + 10 * SEC, &rows), 4);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(rows[i].count, 2);
	free(rows);
	/* a repeating C2 group keeps its place while one-off groups churn past it */
	for (int i = 0; i < 100; i++) {
		snprintf(dst, sizeof(dst), "198.51.100.%d", i % 250 + 1);
		add(w, s, "10.9.0.1", dst, T0 + 100 * SEC + i * SEC, &a);
		if (i % 2 == 0)
			add(w, s, "10.1.0.66", "203.0.113.66", T0 + 100 * SEC + i * SEC, &a);
	}
	ck_assert_int_eq(bw_window_report(w, T0 + 200 * SEC, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 50);
	free(rows);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* max_events: connection times are bounded too; expired groups go first, uncounted. */
START_TEST(window_bounds_events)
{
	struct bw_window *w;
	struct bw_scorer *s;
	struct bw_alert a;

	cfg.window_ns = 10 * SEC;
	w = window_with(1000, 20);
	s = bw_scorer_new(&cfg, &st);
	/* one group, 100 connections in its window: it keeps the newest 20 */
	for (int i = 0; i < 100; i++)
		add(w, s, "10.1.0.5", "203.0.113.9", T0 + i * (SEC / 100), &a);
	ck_assert_uint_eq(st.v[BW_STAT_EVENTS_EVICTED], 80);
	/* groups that have left the window make room without counting as evictions */
	for (int i = 0; i < 10; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "198.51.100.%d", i + 1);
		add(w, s, "10.1.0.7", dst, T0 + 100 * SEC + i, &a);
	}
	ck_assert_uint_eq(st.v[BW_STAT_GROUPS_EVICTED], 0);
	ck_assert_uint_ge(st.v[BW_STAT_GROUPS_EXPIRED], 1);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* group_by without RemoteAddress: destinations of one host and protocol count together. */
START_TEST(window_group_by_subset)
{
	struct bw_window *w;
	struct bw_scorer *s;
	struct bw_alert a;
	struct bw_report_row *rows;

	cfg.group_by = BW_GF_COMPUTER | BW_GF_PROTOCOL | BW_GF_SUSPICION;
	cfg.ngroup_order = 3;
	cfg.group_order[0] = 0;
	cfg.group_order[1] = 5;
	cfg.group_order[2] = 6;
	w = window_with(64, 1024);
	s = bw_scorer_new(&cfg, &st);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "203.0.113.9", T0, &a), 0);
	ck_assert_int_eq(add(w, s, "10.1.0.5", "198.51.100.9", T0 + SEC, &a), 1);
	ck_assert_int_eq(bw_window_report(w, T0 + SEC, &rows), 1);
	ck_assert_uint_eq(rows[0].count, 2);
	ck_assert_int_eq(rows[0].key.rport, 0);
	free(rows);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

/* Report order: high before medium, then count descending, then FirstSeen. */
START_TEST(report_order)
{
	struct bw_window *w = window_with(64, 1024);
	struct bw_scorer *s = bw_scorer_new(&cfg, &st);
	struct bw_report_row *rows;
	struct bw_alert a;
	struct bw_score sc;

	/* AMQP (medium) with 5, MQTT (high) with 2 and 3 */
	for (int i = 0; i < 5; i++) {
		struct bw_record r = rec(4, "10.1.0.1", "203.0.113.1", 5672, T0 + i);
		bw_score(s, &r, NULL, &sc);
		bw_window_add(w, &r, NULL, &sc, &a);
	}
	for (int i = 0; i < 2; i++)
		add(w, s, "10.1.0.2", "203.0.113.2", T0 + i, &a);
	for (int i = 0; i < 3; i++)
		add(w, s, "10.1.0.3", "203.0.113.3", T0 + 10 + i, &a);
	ck_assert_int_eq(bw_window_report(w, T0 + 100, &rows), 3);
	ck_assert_uint_eq(rows[0].count, 3);
	ck_assert_int_eq(rows[0].key.level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(rows[1].count, 2);
	ck_assert_uint_eq(rows[2].count, 5);
	ck_assert_int_eq(rows[2].key.level, BW_LEVEL_MEDIUM);
	free(rows);
	bw_scorer_free(s);
	bw_window_free(w);
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *su = suite_create("engine");
	TCase *tc = tcase_create("cidr");

	tcase_add_test(tc, cidr_parse_and_errors);
	tcase_add_test(tc, cidr_set_query_edges);
	tcase_add_test(tc, cidr_set_longest_prefix);
	suite_add_tcase(su, tc);
	tc = tcase_create("score");
	tcase_add_checked_fixture(tc, setup_default, teardown_cfg);
	tcase_add_test(tc, score_reference_query);
	tcase_add_test(tc, score_mosquitto_regex);
	tcase_add_test(tc, score_regex_match_limit);
	suite_add_tcase(su, tc);
	tc = tcase_create("window");
	tcase_add_checked_fixture(tc, setup_default, teardown_cfg);
	tcase_add_test(tc, window_counts_and_alerts_once);
	tcase_add_test(tc, window_edges_exact);
	tcase_add_test(tc, window_out_of_order);
	tcase_add_test(tc, window_rearm_and_realert);
	tcase_add_test(tc, window_evicts_groups);
	tcase_add_test(tc, window_bounds_events);
	tcase_add_test(tc, window_group_by_subset);
	tcase_add_test(tc, report_order);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(engine_suite());
}
