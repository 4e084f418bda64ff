/*
 * alert.c - alert lines (JSON, logfmt), the summary (table, JSON rows) and
 * the alert sinks (stdout, a JSON-lines file, syslog).   [worker emits, main opens/closes]
 */
#include <stdarg.h>
#include <string.h>
#include <syslog.h>

#include "brokerwatch/alert.h"
#include "brokerwatch/format.h"
#include "brokerwatch/log.h"
#include "brokerwatch/process.h"

/* A line being built; a write that does not fit marks it failed. */
struct line {
	char *buf;
	size_t len, cap;
	int overflow;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (l->overflow || l->cap - l->len < n) {
		l->overflow = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
put_u64(struct line *l, uint64_t v)
{
	char tmp[20];

	put(l, tmp, bw_format_u64(v, tmp));
}

static void
put_time(struct line *l, int64_t ns)
{
	char tmp[BW_TIME_TEXT_MAX];

	put(l, tmp, bw_format_time(ns, tmp));
}

/* A JSON string value, quotes included. */
static void
put_jstr(struct line *l, const char *s, size_t n)
{
	size_t w;

	put(l, "\"", 1);
	if (l->overflow)
		return;
	if ((w = bw_format_json_string(s, n, l->buf + l->len, l->cap - l->len)) == 0 && n > 0) {
		l->overflow = 1;
		return;
	}
	l->len += w;
	put(l, "\"", 1);
}

/* A logfmt value: bare when it is plain, else quoted with \" \\ and \xHH. */
static void
put_lvalue(struct line *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int plain = n > 0;

	for (size_t i = 0; i < n && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		plain = c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
	}
	if (plain) {
		put(l, s, n);
		return;
	}
	put(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put(l, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			put(l, e, 4);
		} else
			put(l, (const char *)&c, 1);
	}
	put(l, "\"", 1);
}

static size_t
finish(struct line *l)
{
	put(l, "\n", 1);
	return l->overflow ? 0 : l->len;
}

/* ComputerName text: the inventory name, or the source address. */
static void
computer_text(const char *computer, int family, const uint8_t *src, char *buf, size_t cap)
{
	if (computer != NULL) {
		size_t n = strnlen(computer, cap - 1);
		memcpy(buf, computer, n);
		buf[n] = '\0';
	} else
		bw_format_addr(family, src, buf);
}

/* One field of an alert: JSON ("Name":value) or logfmt (Name=value). */
struct emitter {
	struct line *l;
	int json;
	int first;
};

static void
field_name(struct emitter *e, const char *name)
{
	if (e->json) {
		puts_(e->l, e->first ? "\"" : ",\"");
		puts_(e->l, name);
		puts_(e->l, "\":");
	} else {
		puts_(e->l, " ");
		puts_(e->l, name);
		puts_(e->l, "=");
	}
	e->first = 0;
}

static void
field_str(struct emitter *e, const char *name, const char *v, size_t n)
{
	field_name(e, name);
	if (e->json)
		put_jstr(e->l, v, n);
	else
		put_lvalue(e->l, v, n);
}

static void
field_cstr(struct emitter *e, const char *name, const char *v)
{
	field_str(e, name, v, strlen(v));
}

static void
field_u64(struct emitter *e, const char *name, uint64_t v)
{
	field_name(e, name);
	put_u64(e->l, v);
}

static void
field_time(struct emitter *e, const char *name, int64_t ns)
{
	field_name(e, name);
	if (e->json)
		puts_(e->l, "\"");
	put_time(e->l, ns);
	if (e->json)
		puts_(e->l, "\"");
}

static void
field_addr(struct emitter *e, const char *base, int family, const uint8_t *a)
{
	char name[32], text[BW_ADDR_TEXT_MAX];
	size_t n = bw_format_addr(family, a, text);

	snprintf(name, sizeof(name), "%s%s", base, family == 6 ? "IP6" : "IP4");
	field_str(e, name, text, n);
}

/* The alert's fields, in DESIGN.md order, in either form. */
static void
alert_fields(struct emitter *e, const struct bw_config *cfg, const struct bw_alert *a)
{
	const struct bw_record *r = a->rec;
	char comp[BW_NAME_MAX > BW_ADDR_TEXT_MAX ? BW_NAME_MAX : BW_ADDR_TEXT_MAX];

	field_cstr(e, "Suspicion", bw_level_name(a->level));
	field_cstr(e, "Protocol", cfg->protocols[a->proto].name);
	field_u64(e, "ConnectionCount", a->count);
	computer_text(a->computer, r->family, r->src, comp, sizeof(comp));
	field_cstr(e, "ComputerName", comp);
	if (a->proc != NULL) {
		const struct bw_process *p = a->proc;
		if (p->user[0] != '\0')
			field_str(e, "UserName", p->user, strnlen(p->user, sizeof(p->user)));
		if (p->image[0] != '\0')
			field_str(e, "ImageFileName", p->image, strnlen(p->image, sizeof(p->image)));
		if (p->cmdline[0] != '\0')
			field_str(e, "CommandLine", p->cmdline, strnlen(p->cmdline, sizeof(p->cmdline)));
		if (p->pid > 0)
			field_u64(e, "ContextProcessId", (uint64_t)p->pid);
		if (p->ppid > 0)
			field_u64(e, "ParentProcessId", (uint64_t)p->ppid);
		if (p->parent_image[0] != '\0')
			field_str(e, "ParentImageFileName", p->parent_image,
			    strnlen(p->parent_image, sizeof(p->parent_image)));
		field_cstr(e, "AttributionSource",
		    bw_attr_source_name((enum bw_attr_source)p->source));
	}
	field_addr(e, "RemoteAddress", r->family, r->dst);
	field_u64(e, "RemotePort", r->dport);
	field_addr(e, "LocalAddress", r->family, r->src);
	field_u64(e, "LocalPort", r->sport);
	if (r->nvlan > 0)
		field_u64(e, "VlanId", r->vlan[0]);
	field_time(e, "FirstSeen", a->first_ns);
	field_time(e, "LastSeen", a->last_ns);
	if (a->rule >= 0)
		field_str(e, "Rule", cfg->rules[a->rule].name,
		    strnlen(cfg->rules[a->rule].name, BW_NAME_MAX));
}

/* The alert line in either form (the header's fields follow in JSON: not first). */
static size_t
alert_line(const struct bw_config *cfg, const struct bw_alert *a, char *buf, size_t len,
    int json)
{
	struct line l = {.buf = buf, .cap = len};
	struct emitter e = {.l = &l, .json = json, .first = 0};

	if (len < BW_ALERT_LINE_MAX)
		return 0;
	if (json) {
		puts_(&l, "{\"@timestamp\":\"");
		put_time(&l, a->rec->ts_ns);
		puts_(&l, "\",\"event_simpleName\":\"BrokerwatchAlert\"");
	} else
		puts_(&l, "ALERT");
	alert_fields(&e, cfg, a);
	if (json)
		puts_(&l, "}");
	return finish(&l);
}

size_t
bw_alert_format_json(const struct bw_config *cfg, const struct bw_alert *a, char *buf,
    size_t len)
{
	return alert_line(cfg, a, buf, len, 1);
}

size_t
bw_alert_format_text(const struct bw_config *cfg, const struct bw_alert *a, char *buf,
    size_t len)
{
	return alert_line(cfg, a, buf, len, 0);
}

/* The text of one group_by field of a row; "" when the group has no such value. */
static const char *
row_field(const struct bw_config *cfg, const struct bw_report_row *row, int bit, char *buf,
    size_t cap, int *numeric)
{
	const struct bw_group_key *k = &row->key;

	*numeric = 0;
	switch (1 << bit) {
	case BW_GF_COMPUTER:
		bw_window_key_computer(cfg, k, buf, cap);
		return buf;
	case BW_GF_USER:
		return k->user;
	case BW_GF_IMAGE:
		return k->image;
	case BW_GF_REMOTE:
		bw_format_addr(k->family, k->remote, buf);
		return buf;
	case BW_GF_PORT:
		buf[bw_format_u64(k->rport, buf)] = '\0';
		*numeric = 1;
		return buf;
	case BW_GF_PROTOCOL:
		return cfg->protocols[k->proto].name;
	case BW_GF_SUSPICION:
		return bw_level_name((enum bw_level)k->level);
	default:
		return "";
	}
}

/* The output name of a group_by field: RemoteAddress is written IP4 or IP6. */
static const char *
row_field_name(const struct bw_report_row *row, int bit)
{
	if ((1 << bit) == BW_GF_REMOTE)
		return row->key.family == 6 ? "RemoteAddressIP6" : "RemoteAddressIP4";
	return bw_group_field_name((enum bw_group_field)(1 << bit));
}

size_t
bw_report_format_json(const struct bw_config *cfg, const struct bw_report_row *row, char *buf,
    size_t len)
{
	struct line l = {.buf = buf, .cap = len};
	struct emitter e = {.l = &l, .json = 1, .first = 1};
	char tmp[BW_EXE_MAX + BW_ADDR_TEXT_MAX];
	int numeric;

	if (len < BW_ALERT_LINE_MAX)
		return 0;
	puts_(&l, "{");
	for (size_t i = 0; i < cfg->ngroup_order; i++) {
		int bit = cfg->group_order[i];
		const char *v = row_field(cfg, row, bit, tmp, sizeof(tmp), &numeric);
		if (*v == '\0')
			continue;       /* no process: no UserName, no ImageFileName */
		if (numeric) {
			field_name(&e, row_field_name(row, bit));
			puts_(&l, v);
		} else
			field_cstr(&e, row_field_name(row, bit), v);
	}
	field_u64(&e, "ConnectionCount", row->count);
	field_time(&e, "FirstSeen", row->first_ns);
	field_time(&e, "LastSeen", row->last_ns);
	puts_(&l, "}");
	return finish(&l);
}

/* Printable cell: control and non-ASCII bytes of packet origin as '?'. */
static void
cell(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

void
bw_report_print_table(const struct bw_config *cfg, const struct bw_report_row *rows, size_t n,
    FILE *f)
{
	enum { MAXCOL = BW_GF_COUNT + 3 };
	const char *head[MAXCOL];
	size_t width[MAXCOL], ncol = 0;
	char tmp[BW_EXE_MAX + BW_ADDR_TEXT_MAX], c[BW_EXE_MAX + BW_ADDR_TEXT_MAX];
	int numeric;

	for (size_t i = 0; i < cfg->ngroup_order; i++) {
		int bit = cfg->group_order[i];
		head[ncol++] = bw_group_field_name((enum bw_group_field)(1 << bit));
	}
	head[ncol++] = "ConnectionCount";
	head[ncol++] = "FirstSeen";
	head[ncol++] = "LastSeen";
	for (size_t j = 0; j < ncol; j++)
		width[j] = strlen(head[j]);
	if (n > 0)
		width[ncol - 2] = width[ncol - 1] = 27;        /* a time's text */
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < cfg->ngroup_order; i++) {
			size_t w = strlen(row_field(cfg, &rows[r], cfg->group_order[i], tmp,
			    sizeof(tmp), &numeric));
			if (w == 0)
				w = 1;  /* "-" */
			if (w > width[i])
				width[i] = w;
		}
		char num[20];
		size_t w = bw_format_u64(rows[r].count, num);
		if (w > width[ncol - 3])
			width[ncol - 3] = w;
	}
	for (size_t j = 0; j < ncol; j++)
		fprintf(f, "%s%-*s", j ? "  " : "", j + 1 < ncol ? (int)width[j] : 0, head[j]);
	fputc('\n', f);
	for (size_t r = 0; r < n; r++) {
		char t[BW_TIME_TEXT_MAX];
		for (size_t i = 0; i < cfg->ngroup_order; i++) {
			const char *v = row_field(cfg, &rows[r], cfg->group_order[i], tmp,
			    sizeof(tmp), &numeric);
			cell(c, sizeof(c), *v ? v : "-");
			fprintf(f, "%s%-*s", i ? "  " : "", (int)width[i], c);
		}
		fprintf(f, "  %*llu", (int)width[ncol - 3], (unsigned long long)rows[r].count);
		bw_format_time(rows[r].first_ns, t);
		fprintf(f, "  %s", t);
		bw_format_time(rows[r].last_ns, t);
		fprintf(f, "  %s\n", t);
	}
	fprintf(f, "%zu group%s with ConnectionCount >= %llu\n", n, n == 1 ? "" : "s",
	    (unsigned long long)cfg->threshold);
}

void
bw_sinks_open_syslog(struct bw_sinks *s, const struct bw_config *cfg)
{
	(void)cfg;      /* each alert names its facility: a reload may change it */
	openlog("brokerwatch", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	s->syslog = 1;
}

/* A write to what failed: logged the first time only. */
static void
sink_failed(struct bw_sinks *s, const char *what)
{
	if (!s->failed)
		bw_log_warn("%s: write", what);
	s->failed = 1;
}

static void
sink_write(struct bw_sinks *s, FILE *f, const char *what, const char *buf, size_t n)
{
	if (fwrite(buf, 1, n, f) != n)
		sink_failed(s, what);
}

void
bw_sinks_emit(struct bw_sinks *s, const struct bw_config *cfg, const struct bw_alert *a)
{
	char buf[BW_ALERT_LINE_MAX];
	size_t n;

	if (s->json != NULL && (n = bw_alert_format_json(cfg, a, buf, sizeof(buf))) > 0)
		sink_write(s, s->json, s->json_name, buf, n);
	if ((s->text != NULL || s->syslog) && (n = bw_alert_format_text(cfg, a, buf, sizeof(buf))) > 0) {
		if (s->text != NULL)
			sink_write(s, s->text, "standard output", buf, n);
		if (s->syslog) {
			int pri = a->level == BW_LEVEL_HIGH ? LOG_WARNING :
			    a->level == BW_LEVEL_MEDIUM ? LOG_NOTICE : LOG_INFO;
			/* the line is data, never a format */
			syslog(cfg->syslog_facility | pri, "%.*s", (int)(n - 1), buf);
		}
	}
}

int
bw_sinks_close(struct bw_sinks *s)
{
	if (s->json != NULL && fflush(s->json) != 0)
		sink_failed(s, s->json_name);
	if (s->text != NULL && fflush(s->text) != 0)
		sink_failed(s, "standard output");
	s->syslog = 0;  /* the log stays open: operational messages may still use it */
	return s->failed ? -1 : 0;
}
