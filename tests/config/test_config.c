/*
 * test_config.c - config.h: every kind of error, all of them reported, in
 * the form "file:line: key: message" (golden files bad-*.yaml with their
 * bad-*.expected); the defaults equal to conf/brokerwatch.yaml; good files
 * and dump -> load -> dump round trips; hostile input made at run time; and
 * the EXAMPLES of man/brokerwatch.yaml.5, loaded and evaluated.
 *
 * Usage: test_config SRCDIR ROOT (tests/config and the project's root). The
 * golden files are loaded by their base name from SRCDIR, so the expected
 * lines do not depend on where the tree is.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "brokerwatch/config.h"
#include "unit.h"

#define MAXFILES 256

static const char *root;
static char *bad_files[MAXFILES], *good_files[MAXFILES];
static size_t nbad, ngood;

/* ---- helpers ------------------------------------------------------------- */

/* The whole file, NUL-terminated (also when it holds NUL bytes). */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, r;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		r = fread(buf + len, 1, 4096, f);
		len += r;
	} while (r > 0);
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

/* A path in the temporary directory (the build directory under meson). */
static const char *
tmp_path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", unit_tmpdir(), name);
	return buf;
}

static void
spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fwrite(data, 1, len, f) == len);
	ck_assert(fclose(f) == 0);
}

static char *
joined(const struct bw_config_errors *e)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < e->n; i++)
		len += strlen(e->msg[i]) + 1;
	s = malloc(len);
	ck_assert(s != NULL);
	len = 0;
	for (size_t i = 0; i < e->n; i++) {
		size_t l = strlen(e->msg[i]);
		memcpy(s + len, e->msg[i], l);
		s[len + l] = '\n';
		len += l + 1;
	}
	s[len] = '\0';
	return s;
}

static char *
dumped(const struct bw_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert(f != NULL);
	bw_config_dump(c, f);
	ck_assert(fclose(f) == 0);
	return buf;
}

static int
is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * Every error is "FILE: message" or "FILE:LINE: message" with LINE >= 1,
 * and has no byte that is not printable ASCII.
 */
static void
check_format(const struct bw_config_errors *e, const char *file)
{
	size_t fl = strlen(file);

	for (size_t i = 0; i < e->n; i++) {
		const char *m = e->msg[i], *p;
		ck_assert_msg(strncmp(m, file, fl) == 0 && m[fl] == ':', "bad prefix: %s", m);
		p = m + fl + 1;
		if (*p >= '0' && *p <= '9') {
			ck_assert_msg(*p != '0', "line 0: %s", m);
			while (*p >= '0' && *p <= '9')
				p++;
			ck_assert_msg(*p == ':', "no ':' after the line: %s", m);
			p++;
		}
		ck_assert_msg(p[0] == ' ' && p[1] != '\0', "no message: %s", m);
		ck_assert_msg(strlen(m) < 1200, "message too long: %.80s...", m);
		for (const char *q = m; *q; q++)
			ck_assert_msg(*q >= 0x20 && *q < 0x7f, "unprintable byte in: %s", m);
	}
}

/* Two arrays of n and m elements of size bytes differ. */
static int
array_differs(const void *a, size_t n, const void *b, size_t m, size_t size)
{
	return n != m || (n && memcmp(a, b, n * size) != 0);
}

/* Two strings, either NULL, differ. */
static int
str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Two matches are equal: every condition, the pattern text (not the code). */
static int
match_equal(const struct bw_match *a, const struct bw_match *b, char *why, size_t wl,
    const char *where)
{
#define NE(cond, what) \
	do { \
		if (cond) { \
			snprintf(why, wl, "%s: %s differ", where, what); \
			return 0; \
		} \
	} while (0)
	NE(a->protocols != b->protocols, "protocols");
	NE(array_differs(a->ports, a->nports, b->ports, b->nports, sizeof(*a->ports)), "ports");
	NE(array_differs(a->dests, a->ndests, b->dests, b->ndests, sizeof(*a->dests)),
	    "destinations");
	NE(str_differs(a->image, b->image), "image");
	NE((a->image_re == NULL) != (b->image_re == NULL), "image_re");
	NE((a->image != NULL) != (a->image_re != NULL), "image vs image_re");
	NE(a->nimage_paths != b->nimage_paths, "image_path counts");
	for (size_t i = 0; i < a->nimage_paths; i++)
		NE(strcmp(a->image_paths[i], b->image_paths[i]) != 0, "image_paths");
	NE(a->nusers != b->nusers, "user counts");
	for (size_t i = 0; i < a->nusers; i++)
		NE(strcmp(a->users[i], b->users[i]) != 0, "users");
	return 1;
}

/* Two configurations are equal in everything but path. */
static int
config_equal(const struct bw_config *a, const struct bw_config *b, char *why, size_t wl)
{
	char where[64];

	NE(a->nprotocols != b->nprotocols, "nprotocols");
	for (size_t i = 0; i < a->nprotocols; i++) {
		const struct bw_protocol *x = &a->protocols[i], *y = &b->protocols[i];
		NE(strcmp(x->name, y->name) != 0, "protocol names");
		NE(array_differs(x->ports, x->nports, y->ports, y->nports, sizeof(*x->ports)),
		    "protocol ports");
	}
	NE(array_differs(a->exclude, a->nexclude, b->exclude, b->nexclude, sizeof(*a->exclude)),
	    "exclude_destinations");
	NE(array_differs(a->home_net, a->nhome_net, b->home_net, b->nhome_net,
	    sizeof(*a->home_net)), "home_net");
	NE(a->ninventory != b->ninventory, "inventory sizes");
	for (size_t i = 0; i < a->ninventory; i++) {
		NE(memcmp(&a->inventory[i].net, &b->inventory[i].net, sizeof(struct bw_cidr)),
		    "inventory networks");
		NE(strcmp(a->inventory[i].name, b->inventory[i].name) != 0, "inventory names");
	}
	NE(a->nrules != b->nrules, "nrules");
	for (size_t i = 0; i < a->nrules; i++) {
		const struct bw_rule *x = &a->rules[i], *y = &b->rules[i];
		snprintf(where, sizeof(where), "rules[%zu]", i);
		NE(strcmp(x->name, y->name) != 0, "rule names");
		NE(x->level != y->level, "rule levels");
		NE(x->has_unless != y->has_unless, "has_unless");
		if (!match_equal(&x->when, &y->when, why, wl, where))
			return 0;
		if (!match_equal(&x->unless, &y->unless, why, wl, where))
			return 0;
	}
	NE(a->alert_levels != b->alert_levels, "alert_levels");
	NE(a->group_by != b->group_by, "group_by");
	NE(array_differs(a->group_order, a->ngroup_order, b->group_order, b->ngroup_order, 1),
	    "group_order");
	NE(a->window_ns != b->window_ns, "window");
	NE(a->threshold != b->threshold, "threshold");
	NE(a->realert_ns != b->realert_ns, "realert");
	NE(a->max_groups != b->max_groups, "max_groups");
	NE(a->max_events != b->max_events, "max_events");
	NE(a->out_stdout != b->out_stdout, "outputs.stdout");
	NE(str_differs(a->out_json, b->out_json), "outputs.json");
	NE(a->out_syslog != b->out_syslog, "outputs.syslog.enabled");
	NE(a->syslog_facility != b->syslog_facility, "outputs.syslog.facility");
	return 1;
#undef NE
}

static void
load_ok(const char *path, struct bw_config *c)
{
	struct bw_config_errors e = {0};
	int r = bw_config_load(path, c, &e);
	char *j = joined(&e);

	ck_assert_msg(r == 0 && e.n == 0, "%s: load failed:\n%s", path, j);
	free(j);
	bw_config_errors_free(&e);
}

/* Loads text written to a temporary file; returns the result, errors in e. */
static int
load_text(const char *name, const void *text, size_t len, struct bw_config *c,
    struct bw_config_errors *e)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", tmp_path(name));
	spit(path, text, len);
	return bw_config_load(path, c, e);
}

/* dump -> load -> equal -> dump again, byte for byte. */
static void
check_roundtrip(const struct bw_config *c, const char *tag)
{
	struct bw_config c2;
	struct bw_config_errors e = {0};
	char why[256], *d1 = dumped(c), *d2, *j;
	int r = load_text("roundtrip.yaml", d1, strlen(d1), &c2, &e);

	j = joined(&e);
	ck_assert_msg(r == 0, "%s: the dump does not load:\n%s\n%s", tag, j, d1);
	free(j);
	ck_assert_msg(config_equal(c, &c2, why, sizeof(why)), "%s: dump -> load: %s\n%s", tag,
	    why, d1);
	d2 = dumped(&c2);
	ck_assert_msg(strcmp(d1, d2) == 0, "%s: dump -> load -> dump differs:\n%s\n---\n%s",
	    tag, d1, d2);
	free(d1);
	free(d2);
	bw_config_free(&c2);
	bw_config_errors_free(&e);
}

static void
assert_default(const struct bw_config *c, const char *tag)
{
	struct bw_config d;
	char why[256];

	ck_assert_int_eq(bw_config_default(&d), 0);
	ck_assert_msg(config_equal(c, &d, why, sizeof(why)), "%s is not the defaults: %s", tag,
	    why);
	bw_config_free(&d);
}

/* ---- golden files -------------------------------------------------------- */

START_TEST(golden_bad)
{
	const char *name = bad_files[_i];
	char exp_name[512], *want, *got;
	struct bw_config c;
	struct bw_config_errors e = {0};
	size_t nl = strlen(name);

	snprintf(exp_name, sizeof(exp_name), "%.*s.expected", (int)(nl - 5), name);
	want = slurp(exp_name, NULL);
	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(bw_config_load(name, &c, &e), -1);
	ck_assert_msg(is_zero(&c, sizeof(c)), "%s: a failed load left the config non-zero", name);
	got = joined(&e);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n--- got\n%s--- expected\n%s", name, got,
	    want);
	check_format(&e, name);
	bw_config_free(&c);
	bw_config_free(&c);
	free(want);
	free(got);
	bw_config_errors_free(&e);
}
END_TEST

START_TEST(good_roundtrip)
{
	const char *name = good_files[_i];
	struct bw_config c;

	load_ok(name, &c);
	ck_assert_str_eq(c.path, name);
	check_roundtrip(&c, name);
	bw_config_free(&c);
	ck_assert(is_zero(&c, sizeof(c)));
}
END_TEST

/* ---- the defaults -------------------------------------------------------- */

START_TEST(empty_is_default)
{
	struct bw_config c;

	load_ok("good-empty.yaml", &c);
	assert_default(&c, "good-empty.yaml");
	bw_config_free(&c);
	load_ok("good-comments.yaml", &c);
	assert_default(&c, "good-comments.yaml");
	bw_config_free(&c);
}
END_TEST

/* conf/brokerwatch.yaml, the documented defaults, is the built-in configuration. */
START_TEST(conf_is_default)
{
	char path[4096], *d1, *d2;
	struct bw_config c, d;

	snprintf(path, sizeof(path), "%s/conf/brokerwatch.yaml", root);
	load_ok(path, &c);
	assert_default(&c, path);
	ck_assert_int_eq(bw_config_default(&d), 0);
	ck_assert_ptr_null(d.path);
	d1 = dumped(&c);
	d2 = dumped(&d);
	ck_assert_str_eq(d1, d2);
	check_roundtrip(&d, "defaults");
	free(d1);
	free(d2);
	bw_config_free(&c);
	bw_config_free(&d);
}
END_TEST

static int
proto_index(const struct bw_config *c, const char *name)
{
	for (size_t i = 0; i < c->nprotocols; i++)
		if (strcmp(c->protocols[i].name, name) == 0)
			return (int)i;
	return -1;
}

static uint64_t
pbits(const struct bw_config *c, const char *a, const char *b)
{
	uint64_t m = 0;

	if (a != NULL)
		m |= UINT64_C(1) << proto_index(c, a);
	if (b != NULL)
		m |= UINT64_C(1) << proto_index(c, b);
	return m;
}

static void
assert_cidr(const struct bw_cidr *n, const char *text)
{
	struct bw_cidr want;
	char err[128];

	ck_assert_msg(bw_cidr_parse(text, &want, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(memcmp(n, &want, sizeof(want)) == 0, "network is not %s", text);
}

/* The defaults are the reference query (DESIGN.md), independent of conf/. */
START_TEST(default_values)
{
	static const char *excl[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	    "127.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10"};
	static const uint8_t order[] = {0, 1, 2, 3, 4, 5, 6};
	struct bw_config c;
	const struct bw_rule *r;

	ck_assert_int_eq(bw_config_default(&c), 0);
	ck_assert_uint_eq(c.nprotocols, 4);
	ck_assert_str_eq(c.protocols[0].name, "MQTT");
	ck_assert_uint_eq(c.protocols[0].nports, 2);
	ck_assert_uint_eq(c.protocols[0].ports[0], 1883);
	ck_assert_uint_eq(c.protocols[0].ports[1], 8883);
	ck_assert_str_eq(c.protocols[1].name, "XMPP");
	ck_assert_uint_eq(c.protocols[1].nports, 3);
	ck_assert_uint_eq(c.protocols[1].ports[2], 5269);
	ck_assert_str_eq(c.protocols[2].name, "AMQP");
	ck_assert_uint_eq(c.protocols[2].ports[0], 5672);
	ck_assert_uint_eq(c.protocols[2].ports[1], 5671);
	ck_assert_str_eq(c.protocols[3].name, "STOMP");
	ck_assert_uint_eq(c.protocols[3].ports[1], 61614);
	ck_assert_uint_eq(c.nexclude, 7);
	for (size_t i = 0; i < 7; i++)
		assert_cidr(&c.exclude[i], excl[i]);
	ck_assert_uint_eq(c.nhome_net, 0);
	ck_assert_uint_eq(c.ninventory, 0);
	ck_assert_uint_eq(c.nrules, 4);
	r = c.rules;
	ck_assert_str_eq(r[0].name, "xmpp-or-stomp");
	ck_assert_int_eq(r[0].level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(r[0].when.protocols, pbits(&c, "XMPP", "STOMP"));
	ck_assert_int_eq(r[0].has_unless, 0);
	ck_assert_str_eq(r[1].name, "mqtt-unknown-client");
	ck_assert_int_eq(r[1].level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(r[1].when.protocols, pbits(&c, "MQTT", NULL));
	ck_assert_int_eq(r[1].has_unless, 1);
	ck_assert_str_eq(r[1].unless.image, "(?i)(mosquitto_pub|mosquitto_sub|mosquitto)(\\.exe)?$");
	ck_assert_ptr_nonnull(r[1].unless.image_re);
	ck_assert_str_eq(r[2].name, "amqp");
	ck_assert_int_eq(r[2].level, BW_LEVEL_MEDIUM);
	ck_assert_uint_eq(r[2].when.protocols, pbits(&c, "AMQP", NULL));
	ck_assert_str_eq(r[3].name, "default");
	ck_assert_int_eq(r[3].level, BW_LEVEL_LOW);
	ck_assert_uint_eq(r[3].when.protocols, 0);
	ck_assert_uint_eq(c.alert_levels, 1u << BW_LEVEL_HIGH | 1u << BW_LEVEL_MEDIUM);
	ck_assert_uint_eq(c.group_by, 0x7f);
	ck_assert_uint_eq(c.ngroup_order, 7);
	ck_assert_mem_eq(c.group_order, order, 7);
	ck_assert_int_eq(c.window_ns, INT64_C(86400000000000));
	ck_assert_uint_eq(c.threshold, 2);
	ck_assert_int_eq(c.realert_ns, INT64_C(86400000000000));
	ck_assert_uint_eq(c.max_groups, 65536);
	ck_assert_uint_eq(c.max_events, 1048576);
	ck_assert_int_eq(c.out_stdout, 1);
	ck_assert_str_eq(c.out_json, "");
	ck_assert_int_eq(c.out_syslog, 1);
	ck_assert_int_eq(c.syslog_facility, LOG_LOCAL0);
	bw_config_free(&c);
	ck_assert(is_zero(&c, sizeof(c)));
}
END_TEST

/* Every key of the file changed: each value is the file's, none the default's. */
START_TEST(all_changed)
{
	static const uint8_t order[] = {6, 5, 0};
	struct bw_config c, d;
	const struct bw_rule *r;

	load_ok("good-all-changed.yaml", &c);
	ck_assert_int_eq(bw_config_default(&d), 0);
	ck_assert_uint_eq(c.nprotocols, 2);
	ck_assert_str_eq(c.protocols[0].name, "MQTT-TLS");
	ck_assert_uint_eq(c.protocols[0].nports, 1);
	ck_assert_uint_eq(c.protocols[0].ports[0], 8883);
	ck_assert_str_eq(c.protocols[1].name, "nats");
	ck_assert_uint_eq(c.protocols[1].nports, 3);
	ck_assert_uint_eq(c.protocols[1].ports[0], 4222);
	ck_assert_uint_eq(c.protocols[1].ports[2], 1);
	ck_assert_uint_eq(c.nexclude, 2);
	assert_cidr(&c.exclude[0], "100.64.0.0/10");
	assert_cidr(&c.exclude[1], "2001:db8:ffff::/48");
	ck_assert_uint_eq(c.nhome_net, 3);
	assert_cidr(&c.home_net[0], "10.1.0.0/16");
	assert_cidr(&c.home_net[1], "192.0.2.7/32");        /* a bare address */
	assert_cidr(&c.home_net[2], "2001:db8::7/128");
	ck_assert_uint_eq(c.ninventory, 3);
	assert_cidr(&c.inventory[0].net, "10.1.10.21/32");
	ck_assert_str_eq(c.inventory[0].name, "ws01");
	assert_cidr(&c.inventory[1].net, "10.1.20.0/24");
	ck_assert_str_eq(c.inventory[1].name, "lab gateways");
	assert_cidr(&c.inventory[2].net, "2001:db8:1::/64");
	ck_assert_str_eq(c.inventory[2].name, "v6-lab");
	ck_assert_uint_eq(c.nrules, 3);
	r = c.rules;
	ck_assert_str_eq(r[0].name, "quiet gateways");
	ck_assert_int_eq(r[0].level, BW_LEVEL_LOW);
	ck_assert_uint_eq(r[0].when.protocols, pbits(&c, "MQTT-TLS", NULL));
	ck_assert_uint_eq(r[0].when.nports, 1);
	ck_assert_uint_eq(r[0].when.ports[0], 8883);
	ck_assert_uint_eq(r[0].when.ndests, 2);
	assert_cidr(&r[0].when.dests[0], "203.0.113.0/24");
	assert_cidr(&r[0].when.dests[1], "198.51.100.7/32");
	ck_assert_str_eq(r[0].when.image, "(?i)/(hivemq|emqx)[^/]*$");
	ck_assert_ptr_nonnull(r[0].when.image_re);
	ck_assert_uint_eq(r[0].when.nimage_paths, 2);
	ck_assert_str_eq(r[0].when.image_paths[0], "/opt/gw/bin/agent");
	ck_assert_str_eq(r[0].when.image_paths[1], "C:\\Program Files\\gw\\agent.exe");
	ck_assert_uint_eq(r[0].when.nusers, 1);
	ck_assert_str_eq(r[0].when.users[0], "gateway");
	ck_assert_int_eq(r[0].has_unless, 1);
	ck_assert_uint_eq(r[0].unless.nusers, 2);
	ck_assert_str_eq(r[0].unless.users[1], "admin");
	ck_assert_uint_eq(r[0].unless.ndests, 1);
	ck_assert_uint_eq(r[0].unless.nports, 2);
	ck_assert_ptr_nonnull(r[0].unless.image_re);
	ck_assert_uint_eq(r[0].unless.protocols, pbits(&c, "MQTT-TLS", "nats"));
	ck_assert_uint_eq(r[0].unless.nimage_paths, 1);
	ck_assert_str_eq(r[1].name, "nats");
	ck_assert_int_eq(r[1].level, BW_LEVEL_MEDIUM);
	ck_assert_uint_eq(r[1].when.protocols, pbits(&c, "nats", NULL));
	ck_assert_str_eq(r[2].name, "rest");
	ck_assert_int_eq(r[2].level, BW_LEVEL_HIGH);
	ck_assert_uint_eq(c.alert_levels, 1u << BW_LEVEL_LOW | 1u << BW_LEVEL_HIGH);
	ck_assert_uint_eq(c.group_by, BW_GF_SUSPICION | BW_GF_PROTOCOL | BW_GF_COMPUTER);
	ck_assert_uint_eq(c.ngroup_order, 3);
	ck_assert_mem_eq(c.group_order, order, 3);
	ck_assert_int_eq(c.window_ns, INT64_C(90) * 60 * 1000000000);
	ck_assert_uint_eq(c.threshold, 5);
	ck_assert_int_eq(c.realert_ns, 0);
	ck_assert_uint_eq(c.max_groups, 100000000);
	ck_assert_uint_eq(c.max_events, 1);
	ck_assert_int_eq(c.out_stdout, 0);
	ck_assert_str_eq(c.out_json, "/var/log/brokerwatch/alerts.json");
	ck_assert_int_eq(c.out_syslog, 0);
	ck_assert_int_eq(c.syslog_facility, LOG_AUTHPRIV);

	/* and every one of them differs from the default */
	ck_assert(strcmp(c.protocols[0].name, d.protocols[0].name) != 0);
	ck_assert(c.nexclude != d.nexclude && c.nhome_net != d.nhome_net &&
	    c.ninventory != d.ninventory && c.nrules != d.nrules);
	ck_assert(c.alert_levels != d.alert_levels && c.group_by != d.group_by);
	ck_assert(c.window_ns != d.window_ns && c.threshold != d.threshold &&
	    c.realert_ns != d.realert_ns);
	ck_assert(c.max_groups != d.max_groups && c.max_events != d.max_events);
	ck_assert(c.out_stdout != d.out_stdout && strcmp(c.out_json, d.out_json) != 0 &&
	    c.out_syslog != d.out_syslog && c.syslog_facility != d.syslog_facility);
	ck_assert_str_eq(c.cap_interface, "eth1");
	ck_assert_uint_eq(c.cap_snaplen, 96);
	ck_assert_int_eq(c.cap_promiscuous, 0);
	ck_assert_uint_eq(c.cap_buffer_mib, 256);
	ck_assert_int_eq(c.cap_immediate, 1);
	ck_assert_uint_eq(c.ring_size, 1048576);
	ck_assert_str_eq(c.user, "sensor");
	ck_assert_int_eq(c.stats_interval_ns, 0);
	ck_assert(strcmp(c.cap_interface, d.cap_interface) != 0 && c.cap_snaplen != d.cap_snaplen &&
	    c.cap_promiscuous != d.cap_promiscuous && c.cap_buffer_mib != d.cap_buffer_mib &&
	    c.cap_immediate != d.cap_immediate && c.ring_size != d.ring_size &&
	    strcmp(c.user, d.user) != 0 && c.stats_interval_ns != d.stats_interval_ns);
	bw_config_free(&c);
	bw_config_free(&d);
}
END_TEST

/* Keys absent keep their default, at every level of a fixed mapping. */
START_TEST(partial)
{
	struct bw_config c, d;

	load_ok("good-partial.yaml", &c);
	ck_assert_int_eq(bw_config_default(&d), 0);
	ck_assert_int_eq(c.syslog_facility, LOG_DAEMON);
	ck_assert_int_eq(c.threshold, 3);
	c.syslog_facility = d.syslog_facility;
	c.threshold = d.threshold;
	assert_default(&c, "good-partial.yaml with two keys put back");
	bw_config_free(&c);
	bw_config_free(&d);
}
END_TEST

/* realert left out of a file is that file's window; 0 given stays 0 (never). */
START_TEST(realert_follows_window)
{
	struct bw_config c;

	load_ok("good-window-only.yaml", &c);
	ck_assert_int_eq(c.window_ns, 90LL * 60 * 1000000000LL);
	ck_assert_int_eq(c.realert_ns, c.window_ns);
	bw_config_free(&c);
	load_ok("good-realert-zero.yaml", &c);
	ck_assert_int_eq(c.window_ns, 90LL * 60 * 1000000000LL);
	ck_assert_int_eq(c.realert_ns, 0);
	bw_config_free(&c);
}
END_TEST

/* Protocols redefined without rules: the built-in rules follow the names. */
START_TEST(protocols_remap)
{
	struct bw_config c;

	load_ok("good-protocols-remap.yaml", &c);
	ck_assert_uint_eq(c.nprotocols, 5);
	ck_assert_str_eq(c.protocols[0].name, "STOMP");
	ck_assert_uint_eq(c.nrules, 4);
	ck_assert_uint_eq(c.rules[0].when.protocols, pbits(&c, "XMPP", "STOMP"));
	ck_assert_uint_eq(c.rules[1].when.protocols, pbits(&c, "MQTT", NULL));
	ck_assert_uint_eq(c.rules[2].when.protocols, pbits(&c, "AMQP", NULL));
	ck_assert_uint_eq(c.rules[0].when.protocols, (1u << 0) | (1u << 3));
	bw_config_free(&c);
}
END_TEST

/* Strings with quotes, escapes, control and non-ASCII characters survive a dump. */
START_TEST(strings_roundtrip)
{
	struct bw_config c;

	load_ok("good-strings.yaml", &c);
	ck_assert_str_eq(c.rules[0].name, "quote\" back\\slash 'single' #hash: colon");
	ck_assert_str_eq(c.rules[0].when.users[0], "tab\there");
	ck_assert_str_eq(c.rules[0].when.users[1], "caf\xc3\xa9");
	ck_assert_str_eq(c.rules[0].when.users[2], "nel\xc2\x85" "ls\xe2\x80\xa8" "bom\xef\xbb\xbf");
	ck_assert_str_eq(c.rules[0].when.image_paths[0], "/opt/\xf0\x9f\x93\xa1/bin/x");
	ck_assert_str_eq(c.out_json, "/tmp/a b\n\"c\".json");
	check_roundtrip(&c, "good-strings.yaml");
	bw_config_free(&c);
}
END_TEST

/* ---- API corners ---------------------------------------------------------- */

START_TEST(free_is_safe)
{
	struct bw_config c;
	struct bw_config_errors e = {0};

	memset(&c, 0, sizeof(c));
	bw_config_free(&c);
	bw_config_free(NULL);
	ck_assert_int_eq(bw_config_load("bad-types.yaml", &c, &e), -1);
	bw_config_free(&c);
	bw_config_free(&c);
	bw_config_errors_free(&e);
	bw_config_errors_free(&e);
	bw_config_errors_free(NULL);
	ck_assert_int_eq(bw_config_default(&c), 0);
	bw_config_free(&c);
	bw_config_free(&c);
}
END_TEST

START_TEST(missing_file)
{
	struct bw_config c;
	struct bw_config_errors e = {0};

	ck_assert_int_eq(bw_config_load("no-such-file.yaml", &c, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], "no-such-file.yaml: cannot open: No such file or directory");
	bw_config_errors_free(&e);
	ck_assert_int_eq(bw_config_load(".", &c, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], ".: cannot read: Is a directory");
	bw_config_errors_free(&e);
}
END_TEST

/* A load appends to errors already held; a good load adds none. */
START_TEST(errors_append)
{
	struct bw_config c;
	struct bw_config_errors e = {0};

	ck_assert_int_eq(bw_config_load("bad-numbers.yaml", &c, &e), -1);
	size_t n = e.n;
	ck_assert_uint_gt(n, 1);
	ck_assert_int_eq(bw_config_load("bad-syntax.yaml", &c, &e), -1);
	ck_assert_uint_eq(e.n, n + 1);
	ck_assert(strncmp(e.msg[n], "bad-syntax.yaml:", 16) == 0);
	ck_assert_int_eq(bw_config_load("good-empty.yaml", &c, &e), 0);
	ck_assert_uint_eq(e.n, n + 1);
	bw_config_free(&c);
	bw_config_errors_free(&e);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(bw_level_name(BW_LEVEL_LOW), "low");
	ck_assert_str_eq(bw_level_name(BW_LEVEL_MEDIUM), "medium");
	ck_assert_str_eq(bw_level_name(BW_LEVEL_HIGH), "high");
	ck_assert_str_eq(bw_level_name(BW_LEVEL_COUNT), "unknown");
	ck_assert_str_eq(bw_group_field_name(BW_GF_COMPUTER), "ComputerName");
	ck_assert_str_eq(bw_group_field_name(BW_GF_USER), "UserName");
	ck_assert_str_eq(bw_group_field_name(BW_GF_IMAGE), "ImageFileName");
	ck_assert_str_eq(bw_group_field_name(BW_GF_REMOTE), "RemoteAddress");
	ck_assert_str_eq(bw_group_field_name(BW_GF_PORT), "RemotePort");
	ck_assert_str_eq(bw_group_field_name(BW_GF_PROTOCOL), "Protocol");
	ck_assert_str_eq(bw_group_field_name(BW_GF_SUSPICION), "Suspicion");
	ck_assert_str_eq(bw_group_field_name((enum bw_group_field)3), "unknown");
}
END_TEST

/* ---- hostile input ---------------------------------------------------------- */

/* Loads text; expects failure with exactly the one error want (without "NAME:"). */
static void
expect_one(const char *name, const void *text, size_t len, const char *want)
{
	struct bw_config c;
	struct bw_config_errors e = {0};
	char *j, full[4200];
	const char *path;
	int r = load_text(name, text, len, &c, &e);

	path = tmp_path(name);
	snprintf(full, sizeof(full), "%s%s\n", path, want);
	j = joined(&e);
	ck_assert_int_eq(r, -1);
	ck_assert(is_zero(&c, sizeof(c)));
	ck_assert_msg(strcmp(j, full) == 0, "%s:\n--- got\n%s--- expected\n%s", name, j, full);
	check_format(&e, path);
	free(j);
	bw_config_errors_free(&e);
	bw_config_free(&c);
}

static char *
nested(int levels, size_t *len)
{
	char *s = malloc((size_t)levels * 2 + 32);
	size_t o;

	ck_assert(s != NULL);
	memcpy(s, "rules: ", 7);
	o = 7;
	for (int i = 0; i < levels - 1; i++)
		s[o++] = '[';
	for (int i = 0; i < levels - 1; i++)
		s[o++] = ']';
	s[o++] = '\n';
	s[o] = '\0';
	*len = o;
	return s;
}

START_TEST(hostile_nesting)
{
	size_t len;
	char *s;
	struct bw_config c;
	struct bw_config_errors e = {0};

	/* the root mapping and 15 lists: 16 levels, the limit, parse (and fail validation) */
	s = nested(16, &len);
	ck_assert_int_eq(load_text("deep16.yaml", s, len, &c, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(strstr(e.msg[0], "rules[0]: expected a rule") != NULL, "%s", e.msg[0]);
	bw_config_errors_free(&e);
	free(s);
	s = nested(17, &len);
	expect_one("deep17.yaml", s, len, ":1: syntax error: more than 16 levels of nesting");
	free(s);
	s = nested(100000, &len);
	expect_one("deep100000.yaml", s, len, ":1: syntax error: more than 16 levels of nesting");
	free(s);
}
END_TEST

START_TEST(hostile_laughs)
{
	char buf[8192];
	size_t o = 0;
	struct bw_config c;
	struct bw_config_errors e = {0};
	size_t anchors = 0, aliases = 0;

	/* 9^12 "lol"s if aliases were followed: they never are */
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 12; i++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "x%d: &a%d [", i, i);
		for (int j = 0; j < 9; j++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s*a%d", j ? ", " : "", i - 1);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]\n");
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "home_net: *a11\n");
	ck_assert_uint_lt(o, sizeof(buf));
	ck_assert_int_eq(load_text("laughs.yaml", buf, o, &c, &e), -1);
	check_format(&e, tmp_path("laughs.yaml"));
	for (size_t i = 0; i < e.n; i++) {
		anchors += strstr(e.msg[i], "anchors are not supported") != NULL;
		aliases += strstr(e.msg[i], "aliases are not supported") != NULL;
	}
	ck_assert_uint_eq(anchors, 12);
	ck_assert_uint_eq(aliases, 11 * 9 + 1);
	ck_assert_uint_eq(e.n, 12 + 100 + 12);     /* and the 12 unknown keys x0..x11 */
	bw_config_errors_free(&e);
}
END_TEST

START_TEST(hostile_garbage)
{
	struct unit_rng r = {0x9e3779b97f4a7c15ULL};

	for (int round = 0; round < 64; round++) {
		size_t len = 1 + (size_t)(round * 997 % 20000);
		unsigned char *b = malloc(len);
		struct bw_config c;
		struct bw_config_errors e = {0};
		ck_assert(b != NULL);
		for (size_t i = 0; i < len; i++)
			b[i] = (unsigned char)(unit_rand(&r) >> 56);
		if (load_text("garbage.yaml", b, len, &c, &e) == 0)
			bw_config_free(&c);     /* a few bytes can be valid YAML */
		else
			ck_assert_uint_ge(e.n, 1);
		check_format(&e, tmp_path("garbage.yaml"));
		bw_config_errors_free(&e);
		free(b);
	}
}
END_TEST

START_TEST(hostile_nul)
{
	static const char raw[] = "window: 24h\nthreshold: 2\0\nrealert: 1h\n";
	static const char esc[] = "rules:\n  - name: \"a\\0b\"\n    level: high\n";
	static const char utf[] = "window: 24h\nthreshold: \xff\xfe\n";

	expect_one("nul.yaml", raw, sizeof(raw) - 1,
	    ":2: syntax error: control characters are not allowed");
	expect_one("nul-escape.yaml", esc, sizeof(esc) - 1,
	    ":2: rules[0].name: contains a NUL byte");
	expect_one("not-utf8.yaml", utf, sizeof(utf) - 1,
	    ":2: syntax error: invalid leading UTF-8 octet");
}
END_TEST

START_TEST(hostile_huge_scalar)
{
	size_t n = 10u << 20, o;
	char *s = malloc(n + 64);
	struct bw_config c;
	struct bw_config_errors e = {0};

	ck_assert(s != NULL);
	o = (size_t)snprintf(s, 64, "rules:\n  - name: ");
	memset(s + o, 'x', n);
	o += n;
	o += (size_t)snprintf(s + o, 64, "\n    level: high\n");
	expect_one("huge.yaml", s, o,
	    ":2: rules[0].name: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is longer than 63 bytes");
	/* a huge unknown key: quoted short, no suggestion attempted */
	o = 0;
	memset(s, 'k', n);
	o = n;
	o += (size_t)snprintf(s + o, 64, ": 1\n");
	ck_assert_int_eq(load_text("hugekey.yaml", s, o, &c, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	check_format(&e, tmp_path("hugekey.yaml"));
	bw_config_errors_free(&e);
	free(s);
}
END_TEST

START_TEST(hostile_big_file)
{
	const char *path = tmp_path("big.yaml");
	struct bw_config c;
	struct bw_config_errors e = {0};
	char want[4200];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	ck_assert(fd != -1);
	ck_assert(ftruncate(fd, (64 << 20) + 1) == 0);     /* sparse: costs no disk */
	close(fd);
	ck_assert_int_eq(bw_config_load(path, &c, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	snprintf(want, sizeof(want), "%s: larger than 67108864 bytes (64 MiB)", path);
	ck_assert_str_eq(e.msg[0], want);
	bw_config_errors_free(&e);
	unlink(path);
}
END_TEST

/* Text written with stdio into memory, starting with head. */
struct text {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *
text_open(struct text *t, const char *head)
{
	t->buf = NULL;
	t->len = 0;
	t->f = open_memstream(&t->buf, &t->len);
	ck_assert(t->f != NULL);
	fputs(head, t->f);
	return t->f;
}

/* Ends the text: t->buf and t->len hold it, to be freed by the caller. */
static void
text_close(struct text *t)
{
	fclose(t->f);
}

/* Ends the text, expects exactly the one error want from it (expect_one), frees it. */
static void
expect_text(struct text *t, const char *name, const char *want)
{
	text_close(t);
	expect_one(name, t->buf, t->len, want);
	free(t->buf);
}

/* Lists past their bounds: each is one error, not a crash or a huge allocation. */
START_TEST(hostile_limits)
{
	struct text t;
	FILE *f;

	/* 1025 rules */
	f = text_open(&t, "rules:\n");
	for (int i = 0; i < 1025; i++)
		fprintf(f, "  - {name: r%d, level: high, port: %d}\n", i, i + 1);
	expect_text(&t, "rules1025.yaml", ":1026: rules[1024]: more than 1024 rules");

	/* 33 protocols */
	f = text_open(&t, "rules: []\nprotocols:\n");
	for (int i = 0; i < 33; i++)
		fprintf(f, "  P%d: [%d]\n", i, i + 1);
	expect_text(&t, "protocols33.yaml", ":35: protocols.P32: more than 32 protocols");

	/* an inventory of BW_INVENTORY_MAX + 1 entries */
	f = text_open(&t, "inventory:\n");
	for (unsigned i = 0; i <= BW_INVENTORY_MAX; i++)
		fprintf(f, "  10.%u.%u.%u: h\n", i >> 16, (i >> 8) & 255, i & 255);
	expect_text(&t, "inventory-max.yaml", ":2: inventory: more than 1000000 entries");

	/* 1500 errors: the first 1000 (in line order) and a count of the rest */
	{
		struct bw_config c;
		struct bw_config_errors e = {0};
		char want[8192];
		f = text_open(&t, "");
		for (int i = 0; i < 1500; i++)
			fprintf(f, "key%d: 1\n", i);
		text_close(&t);
		ck_assert_int_eq(load_text("errors1500.yaml", t.buf, t.len, &c, &e), -1);
		ck_assert_uint_eq(e.n, 1001);
		snprintf(want, sizeof(want), "%s:1000: key999: unknown key 'key999' (known keys: "
		    "protocols, exclude_destinations, home_net, inventory, rules, alert_levels, "
		    "group_by, window, threshold, realert, max_groups, max_events, outputs, capture, user, stats, attribution)",
		    tmp_path("errors1500.yaml"));
		ck_assert_str_eq(e.msg[999], want);
		snprintf(want, sizeof(want), "%s: too many errors: 500 more not shown",
		    tmp_path("errors1500.yaml"));
		ck_assert_str_eq(e.msg[1000], want);
		check_format(&e, tmp_path("errors1500.yaml"));
		bw_config_errors_free(&e);
		free(t.buf);
	}

	/* more values than the tree holds */
	f = text_open(&t, "home_net: [");
	for (unsigned i = 0; i < 3000001; i++)
		fputs("1,", f);
	fputs("1]\n", f);
	expect_text(&t, "nodes.yaml", ":1: syntax error: more than 3000000 values");
}
END_TEST

/* Loads text that may be good or bad: errors well formed, what loads survives a round trip. */
static void
load_any(const char *name, const char *text, size_t len, const char *tag)
{
	struct bw_config c;
	struct bw_config_errors e = {0};

	if (load_text(name, text, len, &c, &e) == 0) {
		check_roundtrip(&c, tag);
		bw_config_free(&c);
	}
	check_format(&e, tmp_path(name));
	bw_config_errors_free(&e);
}

/*
 * Every prefix of the default file, and seeded mutations of it: a load never
 * crashes, every error is well formed, and what loads survives a round trip.
 */
START_TEST(mutations)
{
	char path[4096], *text;
	size_t len;
	struct unit_rng r = {0x2545F4914F6CDD1DULL};
	static const char alphabet[] = " \n\t:-[]{},'\"#&*!|>%@`0123456789abcdefMQTT.\\/";

	snprintf(path, sizeof(path), "%s/conf/brokerwatch.yaml", root);
	text = slurp(path, &len);
	for (size_t cut = 0; cut <= len; cut += 7)
		load_any("prefix.yaml", text, cut, "prefix");
	for (int round = 0; round < 400; round++) {
		char *m = malloc(len + 1);
		ck_assert(m != NULL);
		memcpy(m, text, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			uint64_t x = unit_rand(&r);
			m[(x >> 8) % len] = alphabet[(x >> 40) % (sizeof(alphabet) - 1)];
		}
		load_any("mutant.yaml", m, len, "mutant");
		free(m);
	}
	free(text);
}
END_TEST

/* ---- the manual's examples --------------------------------------------------- */

/* The .Bd -literal blocks of the EXAMPLES section, unescaped. */
static size_t
man_examples(char **out, size_t max)
{
	char path[4096], *man, *line, *next;
	int in_examples = 0, in_block = 0;
	size_t n = 0;
	FILE *f = NULL;
	char *buf = NULL;
	size_t blen = 0;

	snprintf(path, sizeof(path), "%s/man/brokerwatch.yaml.5", root);
	man = slurp(path, NULL);
	for (line = man; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strncmp(line, ".Sh ", 4) == 0)
			in_examples = strcmp(line, ".Sh EXAMPLES") == 0;
		if (!in_examples)
			continue;
		if (strncmp(line, ".Bd -literal", 12) == 0) {
			ck_assert(!in_block && n < max);
			in_block = 1;
			f = open_memstream(&buf, &blen);
			continue;
		}
		if (strcmp(line, ".Ed") == 0 && in_block) {
			in_block = 0;
			fclose(f);
			out[n++] = buf;
			continue;
		}
		if (!in_block)
			continue;
		for (const char *p = line; *p; p++) {
			if (p[0] == '\\' && p[1] == 'e') {
				fputc('\\', f);
				p++;
			} else if (p[0] == '\\' && p[1] == '&') {
				p++;
			} else if (p[0] == '\\' && p[1] == '-') {
				fputc('-', f);
				p++;
			} else if (strncmp(p, "\\(aq", 4) == 0) {
				fputc('\'', f);
				p += 3;
			} else {
				ck_assert_msg(p[0] != '\\', "unknown escape in an example: %s", line);
				fputc(*p, f);
			}
		}
		fputc('\n', f);
	}
	ck_assert(!in_block);
	free(man);
	return n;
}

/* What a record looks like to the rules (DESIGN.md: first match wins). */
struct rec {
	uint16_t port;
	const char *dest;
	const char *image;      /* NULL: no process (span port, replay) */
	const char *user;
};

static int
match(const struct bw_config *c, const struct bw_match *m, const struct rec *r)
{
	struct bw_cidr d;
	char err[128];
	int proto = -1, ok;

	for (size_t i = 0; i < c->nprotocols; i++)
		for (size_t j = 0; j < c->protocols[i].nports; j++)
			if (c->protocols[i].ports[j] == r->port)
				proto = (int)i;
	ck_assert_int_ge(proto, 0);
	if (m->protocols != 0 && !(m->protocols & (UINT64_C(1) << proto)))
		return 0;
	ok = m->nports == 0;
	for (size_t i = 0; i < m->nports; i++)
		ok |= m->ports[i] == r->port;
	if (!ok)
		return 0;
	ck_assert(bw_cidr_parse(r->dest, &d, err, sizeof(err)) == 0);
	ok = m->ndests == 0;
	for (size_t i = 0; i < m->ndests; i++)
		ok |= bw_cidr_contains(&m->dests[i], d.family, d.addr);
	if (!ok)
		return 0;
	if (m->image_re != NULL) {
		pcre2_match_data *md;
		int rc;
		if (r->image == NULL)
			return 0;
		md = pcre2_match_data_create_from_pattern(m->image_re, NULL);
		rc = pcre2_match(m->image_re, (PCRE2_SPTR)r->image, strlen(r->image), 0, 0, md,
		    NULL);
		pcre2_match_data_free(md);
		if (rc < 0)
			return 0;
	}
	if (m->nimage_paths > 0) {
		ok = 0;
		for (size_t i = 0; r->image != NULL && i < m->nimage_paths; i++)
			ok |= strcmp(m->image_paths[i], r->image) == 0;
		if (!ok)
			return 0;
	}
	if (m->nusers > 0) {
		ok = 0;
		for (size_t i = 0; r->user != NULL && i < m->nusers; i++)
			ok |= strcmp(m->users[i], r->user) == 0;
		if (!ok)
			return 0;
	}
	return 1;
}

static const char *
score(const struct bw_config *c, const struct rec *r, enum bw_level *level)
{
	for (size_t i = 0; i < c->nrules; i++) {
		const struct bw_rule *rule = &c->rules[i];
		if (match(c, &rule->when, r) && !(rule->has_unless && match(c, &rule->unless, r))) {
			*level = rule->level;
			return rule->name;
		}
	}
	*level = BW_LEVEL_LOW;
	return "";
}

struct expect {
	int example;
	struct rec r;
	enum bw_level level;
	const char *rule;
};

/* What each example of the manual promises (its order in EXAMPLES, from 0). */
static const struct expect man_expect[] = {
	/* 0: gateways' MQTT clients, by process */
	{0, {8883, "203.0.113.50", "/usr/sbin/mosquitto", "mosquitto"}, BW_LEVEL_LOW, "mqtt-gateway-clients"},
	{0, {8883, "203.0.113.50", "/opt/hivemq-edge/bin/hivemq-edge", "hivemq"}, BW_LEVEL_LOW, "mqtt-gateway-clients"},
	{0, {1883, "203.0.113.50", "/opt/emqx/bin/EMQX", "emqx"}, BW_LEVEL_LOW, "mqtt-gateway-clients"},
	{0, {8883, "203.0.113.50", "/usr/local/bin/iot-bridge", "iot"}, BW_LEVEL_LOW, "mqtt-gateway-bridge"},
	{0, {8883, "203.0.113.50", "/usr/local/bin/iot-bridge", "www-data"}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{0, {8883, "203.0.113.50", "/tmp/.x/mosquitto-ish", "www-data"}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{0, {8883, "203.0.113.50", NULL, NULL}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{0, {5222, "203.0.113.50", "/usr/sbin/mosquitto", "mosquitto"}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
	{0, {5671, "203.0.113.50", NULL, NULL}, BW_LEVEL_MEDIUM, "amqp"},
	/* 1: gateways seen on a span port: by the vendor cloud's addresses */
	{1, {8883, "198.51.100.20", NULL, NULL}, BW_LEVEL_LOW, "gateways-to-vendor-cloud"},
	{1, {8883, "2001:db8:100::20", NULL, NULL}, BW_LEVEL_LOW, "gateways-to-vendor-cloud"},
	{1, {1883, "198.51.100.20", NULL, NULL}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{1, {8883, "198.51.100.21", NULL, NULL}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{1, {5223, "198.51.100.20", NULL, NULL}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
	/* 2: monitoring agents over AMQP and STOMP */
	{2, {5671, "198.51.100.30", NULL, NULL}, BW_LEVEL_LOW, "monitoring-metrics"},
	{2, {61614, "198.51.100.30", NULL, NULL}, BW_LEVEL_LOW, "monitoring-metrics"},
	{2, {61613, "198.51.100.30", NULL, NULL}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
	{2, {5671, "203.0.113.50", "/usr/sbin/zabbix_agent2", "zabbix"}, BW_LEVEL_LOW, "monitoring-agents"},
	{2, {5672, "203.0.113.50", "/usr/sbin/nagios", "nagios"}, BW_LEVEL_LOW, "monitoring-agents"},
	{2, {61614, "203.0.113.50", "/usr/sbin/zabbix_agent2", "zabbix"}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
	{2, {5671, "203.0.113.50", "/usr/sbin/zabbix_agent2", "root"}, BW_LEVEL_MEDIUM, "amqp"},
	{2, {5671, "203.0.113.50", NULL, NULL}, BW_LEVEL_MEDIUM, "amqp"},
	{2, {5222, "198.51.100.30", NULL, NULL}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
	/* 3: developers' MQTT tools to public sandboxes */
	{3, {1883, "192.0.2.10", NULL, NULL}, BW_LEVEL_LOW, "mqtt-public-sandboxes"},
	{3, {8883, "2001:db8:5::10", "/opt/MQTT Explorer/mqtt-explorer", "dev"}, BW_LEVEL_LOW, "mqtt-public-sandboxes"},
	{3, {8883, "192.0.2.11", "/usr/bin/mqttx", "dev"}, BW_LEVEL_LOW, "mqtt-public-sandboxes"},
	{3, {8883, "203.0.113.50", "/usr/bin/mqttx", "dev"}, BW_LEVEL_HIGH, "mqtt-unknown-client"},
	{3, {8883, "203.0.113.50", "/usr/bin/mosquitto_sub", "dev"}, BW_LEVEL_LOW, "default"},
	{3, {5222, "192.0.2.10", NULL, NULL}, BW_LEVEL_HIGH, "xmpp-or-stomp"},
};

START_TEST(man_examples_load)
{
	char *ex[16], name[64];
	size_t n = man_examples(ex, 16);
	int last = -1;

	for (size_t i = 0; i < sizeof(man_expect) / sizeof(man_expect[0]); i++)
		if (man_expect[i].example > last)
			last = man_expect[i].example;
	ck_assert_uint_eq(n, (size_t)last + 1);
	for (size_t i = 0; i < n; i++) {
		struct bw_config c;
		struct bw_config_errors e = {0};
		char *j;
		int r;
		snprintf(name, sizeof(name), "man-example-%zu.yaml", i);
		r = load_text(name, ex[i], strlen(ex[i]), &c, &e);
		j = joined(&e);
		ck_assert_msg(r == 0, "EXAMPLES block %zu does not load:\n%s\n%s", i, j, ex[i]);
		free(j);
		bw_config_errors_free(&e);
		ck_assert_msg(strstr(ex[i], "rules:") != NULL, "block %zu has no rules", i);
		for (size_t k = 0; k < sizeof(man_expect) / sizeof(man_expect[0]); k++) {
			const struct expect *x = &man_expect[k];
			enum bw_level level;
			const char *rule;
			if (x->example != (int)i)
				continue;
			rule = score(&c, &x->r, &level);
			ck_assert_msg(level == x->level && strcmp(rule, x->rule) == 0,
			    "example %zu, port %u to %s, image %s: %s by '%s', expected %s by '%s'", i,
			    x->r.port, x->r.dest, x->r.image ? x->r.image : "(none)",
			    bw_level_name(level), rule, bw_level_name(x->level), x->rule);
		}
		check_roundtrip(&c, name);
		bw_config_free(&c);
		free(ex[i]);
	}
}
END_TEST

/* ---- running -------------------------------------------------------------- */

static int
strptrcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
scan(void)
{
	DIR *d = opendir(".");
	struct dirent *de;

	if (d == NULL) {
		perror("opendir");
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 5, ".yaml") != 0)
			continue;
		if (strncmp(de->d_name, "bad-", 4) == 0 && nbad < MAXFILES)
			bad_files[nbad++] = strdup(de->d_name);
		else if (strncmp(de->d_name, "good-", 5) == 0 && ngood < MAXFILES)
			good_files[ngood++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(bad_files, nbad, sizeof(char *), strptrcmp);
	qsort(good_files, ngood, sizeof(char *), strptrcmp);
}

int
main(int argc, char **argv)
{
	Suite *s = suite_create("config");
	TCase *t;

	if (argc != 3) {
		fprintf(stderr, "usage: test_config SRCDIR ROOT\n");
		return 2;
	}
	root = realpath(argv[2], NULL);
	if (root == NULL || chdir(argv[1]) == -1) {
		perror(argv[1]);
		return 1;
	}
	scan();
	if (nbad == 0 || ngood == 0) {
		fprintf(stderr, "no golden files in %s\n", argv[1]);
		return 1;
	}

	t = tcase_create("golden");
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, golden_bad, 0, (int)nbad);
	tcase_add_loop_test(t, good_roundtrip, 0, (int)ngood);
	suite_add_tcase(s, t);

	t = tcase_create("defaults");
	tcase_add_test(t, empty_is_default);
	tcase_add_test(t, conf_is_default);
	tcase_add_test(t, default_values);
	tcase_add_test(t, all_changed);
	tcase_add_test(t, partial);
	tcase_add_test(t, realert_follows_window);
	tcase_add_test(t, protocols_remap);
	tcase_add_test(t, strings_roundtrip);
	suite_add_tcase(s, t);

	t = tcase_create("api");
	tcase_add_test(t, free_is_safe);
	tcase_add_test(t, missing_file);
	tcase_add_test(t, errors_append);
	tcase_add_test(t, names);
	suite_add_tcase(s, t);

	t = tcase_create("hostile");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, hostile_nesting);
	tcase_add_test(t, hostile_laughs);
	tcase_add_test(t, hostile_garbage);
	tcase_add_test(t, hostile_nul);
	tcase_add_test(t, hostile_huge_scalar);
	tcase_add_test(t, hostile_big_file);
	tcase_add_test(t, hostile_limits);
	tcase_add_test(t, mutations);
	suite_add_tcase(s, t);

	t = tcase_create("manual");
	tcase_add_test(t, man_examples_load);
	suite_add_tcase(s, t);

	return unit_run(s);
}
