/*
 * config.c - brokerwatch.yaml: libyaml events into a small tree, the tree
 * checked against one schema table into a struct bw_config.       [main]
 *
 * Owns the tree while a file loads (freed before returning) and the heap
 * parts of every configuration it makes. Every problem is reported, as
 * "file:line: key: message", never only the first.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <yaml.h>

#include "brokerwatch/config.h"
#include "brokerwatch/format.h"
#include "brokerwatch/log.h"

/*
 * Bounds on what a file can make us hold. The node bound leaves room for a
 * full inventory (two nodes an entry) and everything else besides.
 */
#define CFG_FILE_MAX (64u << 20)
#define CFG_DEPTH_MAX 16
#define CFG_NODE_MAX (2u * BW_INVENTORY_MAX + 1000000u)
#define CFG_ERR_MAX 1000
#define CFG_LIST_MAX 65536              /* items of one rule condition */
#define CFG_REGEX_MAX 4096              /* bytes of an image pattern */
#define CFG_FILENAME_MAX 4095           /* outputs.json */
#define CFG_PATH_MAX 1024               /* the dotted key of a message */

#define NS_MS INT64_C(1000000)
#define NS_S INT64_C(1000000000)
#define NS_DAY (86400 * NS_S)
#define CFG_DURATION_MAX (3650 * NS_DAY)

/*
 * The built-in configuration: conf/brokerwatch.yaml without its comments.
 * tests/config proves the two load to equal configurations.
 */
static const char default_yaml[] =
    "protocols:\n"
    "  MQTT: [1883, 8883]\n"
    "  XMPP: [5222, 5223, 5269]\n"
    "  AMQP: [5672, 5671]\n"
    "  STOMP: [61613, 61614]\n"
    "exclude_destinations:\n"
    "  - 10.0.0.0/8\n"
    "  - 172.16.0.0/12\n"
    "  - 192.168.0.0/16\n"
    "  - 127.0.0.0/8\n"
    "  - ::1/128\n"
    "  - fc00::/7\n"
    "  - fe80::/10\n"
    "home_net: []\n"
    "inventory: {}\n"
    "rules:\n"
    "  - name: xmpp-or-stomp\n"
    "    protocol: [XMPP, STOMP]\n"
    "    level: high\n"
    "  - name: mqtt-unknown-client\n"
    "    protocol: [MQTT]\n"
    "    unless:\n"
    "      image: '(?i)(mosquitto_pub|mosquitto_sub|mosquitto)(\\.exe)?$'\n"
    "    level: high\n"
    "  - name: amqp\n"
    "    protocol: [AMQP]\n"
    "    level: medium\n"
    "  - name: default\n"
    "    level: low\n"
    "alert_levels: [high, medium]\n"
    "group_by: [ComputerName, UserName, ImageFileName, RemoteAddress, RemotePort, Protocol,"
    " Suspicion]\n"
    "window: 24h\n"
    "threshold: 2\n"
    "realert: 24h\n"
    "max_groups: 65536\n"
    "max_events: 1048576\n"
    "outputs:\n"
    "  stdout: true\n"
    "  json: \"\"\n"
    "  syslog:\n"
    "    enabled: true\n"
    "    facility: local0\n"
    "capture:\n"
    "  interface: \"\"\n"
    "  snaplen: 2048\n"
    "  promiscuous: true\n"
    "  buffer_mib: 64\n"
    "  immediate: false\n"
    "  ring_size: 16384\n"
    "user: brokerwatch\n"
    "stats:\n"
    "  interval: 1h\n"
    "attribution:\n"
    "  mode: auto\n"
    "  budget: 5ms\n";

static const char *const level_names[BW_LEVEL_COUNT] = {"low", "medium", "high"};
/* as the user reads them: index i is level BW_LEVEL_HIGH - i */
static const char *const level_list[BW_LEVEL_COUNT] = {"high", "medium", "low"};

static const char *const field_names[BW_GF_COUNT] = {"ComputerName", "UserName",
    "ImageFileName", "RemoteAddress", "RemotePort", "Protocol", "Suspicion"};

static const char *const facility_names[] = {"kern", "user", "mail", "daemon", "auth",
    "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7"};
static const int facility_values[] = {LOG_KERN, LOG_USER, LOG_MAIL, LOG_DAEMON, LOG_AUTH,
    LOG_SYSLOG, LOG_LPR, LOG_NEWS, LOG_UUCP, LOG_CRON, LOG_AUTHPRIV, LOG_FTP, LOG_LOCAL0,
    LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
bw_level_name(enum bw_level l)
{
	if ((unsigned)l >= BW_LEVEL_COUNT)
		return "unknown";
	return level_names[l];
}

const char *
bw_group_field_name(enum bw_group_field f)
{
	for (int i = 0; i < BW_GF_COUNT; i++)
		if ((unsigned)f == 1u << i)
			return field_names[i];
	return "unknown";
}

/* ---- the tree ---------------------------------------------------------- */

enum ntype { N_NONE, N_SCALAR, N_SEQ, N_MAP, N_BAD };

/*
 * One value of the file. Nodes live in one array and refer to each other by
 * index (0 = none); a mapping's children alternate key, value.
 */
struct node {
	uint8_t type;
	uint8_t plain;          /* a scalar written without quotes */
	uint8_t skip;           /* reported already (duplicate key, NUL byte): not validated */
	uint32_t line;          /* 1-based */
	uint32_t first;         /* first child */
	uint32_t next;          /* next sibling */
	uint32_t n;             /* children */
	uint32_t len;           /* scalar bytes */
	size_t off;             /* scalar text in tree.text, NUL-terminated */
};

struct tree {
	struct node *v;
	size_t n, cap;
	char *text;
	size_t tlen, tcap;
	uint32_t root;
};

/* Grows an array to hold need elements; NULL (p untouched) without memory. */
static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return p;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return NULL;
		ncap *= 2;
	}
	if ((np = realloc(p, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return np;
}

/* A new node (index), or 0 without memory. */
static uint32_t
node_new(struct tree *t, int type, uint32_t line)
{
	struct node *v = grow(t->v, &t->cap, t->n + 1, sizeof(*t->v));

	if (v == NULL)
		return 0;
	t->v = v;
	memset(&v[t->n], 0, sizeof(v[0]));
	v[t->n].type = (uint8_t)type;
	v[t->n].line = line;
	return (uint32_t)t->n++;
}

static int
node_text(struct tree *t, uint32_t id, const char *s, size_t len)
{
	char *p = grow(t->text, &t->tcap, t->tlen + len + 1, 1);

	if (p == NULL)
		return -1;
	t->text = p;
	memcpy(p + t->tlen, s, len);
	p[t->tlen + len] = '\0';
	t->v[id].off = t->tlen;
	t->v[id].len = (uint32_t)len;
	t->tlen += len + 1;
	return 0;
}

static void
tree_free(struct tree *t)
{
	free(t->v);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

/* ---- errors and the validation context ---------------------------------- */

struct cerr {
	uint32_t line;
	uint32_t seq;
	char *msg;
};

struct vctx {
	const char *file;
	struct tree t;
	struct cerr *errs;
	size_t nerrs, cerrs;
	size_t dropped;
	int oom;
	char path[CFG_PATH_MAX];
	size_t plen;
	uint32_t key_line;              /* of the key whose value a handler is given */
	struct bw_config *c;
	uint32_t *port_line;            /* scratch: line of each port in the list at hand */
	/* protocols given without rules: the built-in rules refer to these names */
	int protocols_given, rules_given;
	uint32_t protocols_line;
	char old_names[BW_PROTO_MAX][BW_PROTO_NAME_MAX];
	size_t nold;
};

static void
err_add(struct vctx *v, uint32_t line, const char *msg)
{
	struct cerr *e;
	char *m;

	if (v->nerrs >= CFG_ERR_MAX) {
		v->dropped++;
		return;
	}
	if ((e = grow(v->errs, &v->cerrs, v->nerrs + 1, sizeof(*e))) == NULL ||
	    (m = strdup(msg)) == NULL) {
		if (e != NULL)
			v->errs = e;
		v->oom = 1;
		return;
	}
	v->errs = e;
	e[v->nerrs].line = line;
	e[v->nerrs].seq = (uint32_t)v->nerrs;
	e[v->nerrs].msg = m;
	v->nerrs++;
}

static void verr(struct vctx *v, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verr_plain(struct vctx *v, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * "file:line: key: message" with a key, else "file:line: message", or
 * "file: message" when line is 0.
 */
static void
verr_va(struct vctx *v, uint32_t line, const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
verr_va(struct vctx *v, uint32_t line, const char *key, const char *fmt, va_list ap)
{
	char msg[1024], full[2048];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (key != NULL)
		snprintf(full, sizeof(full), "%s:%" PRIu32 ": %s: %s", v->file, line, key, msg);
	else if (line == 0)
		snprintf(full, sizeof(full), "%s: %s", v->file, msg);
	else
		snprintf(full, sizeof(full), "%s:%" PRIu32 ": %s", v->file, line, msg);
	err_add(v, line, full);
}

/* "file:line: key: message", the key being the path being validated. */
static void
verr(struct vctx *v, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_va(v, line, v->plen ? v->path : "top level", fmt, ap);
	va_end(ap);
}

/* "file:line: message", or "file: message" when line is 0. */
static void
verr_plain(struct vctx *v, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_va(v, line, NULL, fmt, ap);
	va_end(ap);
}

static void
oom(struct vctx *v)
{
	v->oom = 1;
}

static int
cerr_cmp(const void *a, const void *b)
{
	const struct cerr *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
errs_push(struct bw_config_errors *e, const char *msg)
{
	char **m, *s;

	if (e == NULL)
		return;
	if ((m = grow(e->msg, &e->cap, e->n + 1, sizeof(*m))) == NULL)
		return;
	e->msg = m;
	if ((s = strdup(msg)) == NULL)
		return;
	m[e->n++] = s;
}

/* Hands the errors over, in line order (file-level ones first). */
static void
errs_flush(struct vctx *v, struct bw_config_errors *out)
{
	char buf[512];

	qsort(v->errs, v->nerrs, sizeof(*v->errs), cerr_cmp);
	for (size_t i = 0; i < v->nerrs; i++)
		errs_push(out, v->errs[i].msg);
	if (v->dropped > 0) {
		snprintf(buf, sizeof(buf), "%s: too many errors: %zu more not shown", v->file,
		    v->dropped);
		errs_push(out, buf);
	}
	if (v->oom) {
		snprintf(buf, sizeof(buf), "%s: out of memory", v->file);
		errs_push(out, buf);
	}
}

static void
vctx_init(struct vctx *v, const char *file, struct bw_config *c)
{
	memset(v, 0, sizeof(*v));
	v->file = file;
	v->c = c;
}

static void
vctx_fini(struct vctx *v)
{
	for (size_t i = 0; i < v->nerrs; i++)
		free(v->errs[i].msg);
	free(v->errs);
	free(v->port_line);
	tree_free(&v->t);
}

void
bw_config_errors_free(struct bw_config_errors *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

/* ---- text helpers ------------------------------------------------------- */

#define QBUF 200

/*
 * s as 'text' for a message: at most 40 bytes of it, "..." when cut, bytes
 * that are not printable ASCII as \xHH (a message never carries raw input).
 */
static const char *
quote(char *buf, const char *s, size_t len)
{
	size_t o = 0, i;

	buf[o++] = '\'';
	for (i = 0; i < len && i < 40; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\'' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch >= 0x20 && ch < 0x7f) {
			buf[o++] = (char)ch;
		} else {
			o += (size_t)snprintf(buf + o, QBUF - o, "\\x%02x", ch);
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* The same without the quotes, for names shown bare: &anchor, !!tag, ["key"]. */
static const char *
bare(char *buf, const char *s, size_t len)
{
	size_t n;

	quote(buf, s, len);
	n = strlen(buf);
	memmove(buf, buf + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}

/* A scalar's text; "" for other nodes (the text array may not exist yet). */
static const char *
ntext(const struct vctx *v, const struct node *n)
{
	if (n->type != N_SCALAR || v->t.text == NULL)
		return "";
	return v->t.text + n->off;
}

static struct node *
N(const struct vctx *v, uint32_t id)
{
	return &v->t.v[id];
}

/* A plain empty, ~ or null scalar: YAML's "nothing". */
static int
is_null(const struct vctx *v, const struct node *n)
{
	const char *s;

	if (n->type != N_SCALAR || !n->plain)
		return 0;
	s = ntext(v, n);
	return n->len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* How a node reads in "expected X, found Y". */
static const char *
describe(const struct vctx *v, const struct node *n, char *buf)
{
	switch (n->type) {
	case N_SEQ:
		return "a list";
	case N_MAP:
		return "a mapping";
	case N_BAD:
		return "an alias";
	default:
		if (is_null(v, n))
			return "nothing";
		return quote(buf, ntext(v, n), n->len);
	}
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* Optimal string alignment distance, ignoring case; both at most 64 bytes. */
static size_t
distance(const char *a, size_t la, const char *b, size_t lb)
{
	uint8_t d[65][65];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (uint8_t)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (uint8_t)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = lower(a[i - 1]) != lower(b[j - 1]);
			int m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = (uint8_t)m;
		}
	}
	return d[la][lb];
}

/*
 * The candidate s most likely meant: within one edit (two for names of five
 * bytes or more), or one it is the start of; NULL when none is close.
 */
static const char *
suggest(const char *s, size_t len, const char *const *cand, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	if (len == 0 || len > 64)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t cl = strlen(cand[i]), d, lim;
		if (cl > 64)
			continue;
		d = distance(s, len, cand[i], cl);
		lim = cl < 5 ? 1 : 2;
		/* one is the start of the other: "Remote", "RemoteAddressIP4" */
		if (d > lim && len >= 3 && cl >= 3) {
			size_t k = 0, m = len < cl ? len : cl;
			while (k < m && lower(s[k]) == lower(cand[i][k]))
				k++;
			if (k == m)
				d = lim;
		}
		if (d <= lim && d < bestd) {
			best = cand[i];
			bestd = d;
		}
	}
	return best;
}

/*
 * "unknown THING 'x' (did you mean 'y'?)", or with the list of what is
 * known when nothing is close.
 */
static void
unknown(struct vctx *v, uint32_t line, const char *thing, const char *listname,
    const char *s, size_t len, const char *const *cand, size_t n)
{
	char q[QBUF], list[1024];
	const char *best = suggest(s, len, cand, n);
	size_t o = 0;

	if (best != NULL) {
		verr(v, line, "%s %s (did you mean '%s'?)", thing, quote(q, s, len), best);
		return;
	}
	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", cand[i]);
		if (w < 0 || (size_t)w >= sizeof(list) - o)
			break;
		o += (size_t)w;
	}
	if (n == 0)
		verr(v, line, "%s %s (%s: none)", thing, quote(q, s, len), listname);
	else
		verr(v, line, "%s %s (%s: %s)", thing, quote(q, s, len), listname, list);
}

/* ---- the key path of messages -------------------------------------------- */

static void
path_append(struct vctx *v, const char *s, size_t len)
{
	if (v->plen + len >= sizeof(v->path))
		len = sizeof(v->path) - 1 - v->plen;
	memcpy(v->path + v->plen, s, len);
	v->plen += len;
	v->path[v->plen] = '\0';
}

static int
is_ident(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Appends ".key" (or ["key"] for one that is not a plain name); returns the length to restore. */
static size_t
path_key(struct vctx *v, const char *k, size_t len)
{
	size_t saved = v->plen;
	char q[QBUF];

	if (is_ident(k, len)) {
		if (v->plen > 0)
			path_append(v, ".", 1);
		path_append(v, k, len);
	} else {
		bare(q, k, len);
		path_append(v, "[\"", 2);
		path_append(v, q, strlen(q));
		path_append(v, "\"]", 2);
	}
	return saved;
}

static size_t
path_index(struct vctx *v, size_t i)
{
	size_t saved = v->plen;
	char b[32];

	snprintf(b, sizeof(b), "[%zu]", i);
	path_append(v, b, strlen(b));
	return saved;
}

static void
path_pop(struct vctx *v, size_t saved)
{
	v->plen = saved;
	v->path[saved] = '\0';
}

/* ---- libyaml events into the tree ---------------------------------------- */

static uint32_t
line_of_offset(const unsigned char *buf, size_t len, size_t off)
{
	uint32_t line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/* Anchors, aliases and tags: reported; the node is still built. */
static void
check_props(struct vctx *v, uint32_t line, const yaml_char_t *anchor, const yaml_char_t *tag)
{
	char q[QBUF];

	/* libyaml allows only letters, digits, '-' and '_' in an anchor name */
	if (anchor != NULL)
		verr_plain(v, line, "syntax error: anchors are not supported (&%.40s)",
		    (const char *)anchor);
	if (tag != NULL) {
		const char *t = (const char *)tag, *std = "tag:yaml.org,2002:";
		size_t sl = strlen(std);
		/* libyaml hands "!!str" over resolved; show it as written */
		if (strncmp(t, std, sl) == 0)
			verr_plain(v, line, "syntax error: tags are not supported (!!%s)",
			    bare(q, t + sl, strlen(t + sl)));
		else
			verr_plain(v, line, "syntax error: tags are not supported (%s)",
			    bare(q, t, strlen(t)));
	}
}

struct open {
	uint32_t node, last;
};

static void
attach(struct tree *t, struct open *stack, int depth, uint32_t id)
{
	struct open *o;

	if (depth == 0) {
		if (t->root == 0)
			t->root = id;
		return;
	}
	o = &stack[depth - 1];
	if (o->last)
		t->v[o->last].next = id;
	else
		t->v[o->node].first = id;
	o->last = id;
	t->v[o->node].n++;
}

/*
 * Builds v->t from the text. Returns 0, or -1 when the tree is not whole
 * (a syntax error, too deep, too big, a second document): then it is not
 * validated. Anchors, aliases and tags are errors that let parsing go on.
 */
static int
tree_parse(struct vctx *v, const unsigned char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct open stack[CFG_DEPTH_MAX];
	struct tree *t = &v->t;
	int depth = 0, ndocs = 0, done = 0, ret = 0;

	(void)node_new(t, N_NONE, 0);          /* index 0: "none" */
	if (t->n == 0) {
		oom(v);
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		oom(v);
		return -1;
	}
	yaml_parser_set_input_string(&p, buf, len);
	while (!done) {
		uint32_t id = 0, line;
		int is_node;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				oom(v);
			} else {
				line = p.error == YAML_READER_ERROR ?
				    line_of_offset(buf, len, p.problem_offset) :
				    (uint32_t)p.problem_mark.line + 1;
				verr_plain(v, line, "syntax error: %s",
				    p.problem ? p.problem : "not YAML");
			}
			ret = -1;
			break;
		}
		line = (uint32_t)ev.start_mark.line + 1;
		is_node = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
		if (is_node && t->n > CFG_NODE_MAX) {
			verr_plain(v, line, "syntax error: more than %u values", CFG_NODE_MAX);
			yaml_event_delete(&ev);
			ret = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				verr_plain(v, line, "syntax error: more than one document");
				ret = -1;
				done = 1;
			}
			break;
		case YAML_SCALAR_EVENT:
			check_props(v, line, ev.data.scalar.anchor, ev.data.scalar.tag);
			if ((id = node_new(t, N_SCALAR, line)) == 0 ||
			    node_text(t, id, (const char *)ev.data.scalar.value,
				ev.data.scalar.length) == -1) {
				id = 0;
				break;
			}
			t->v[id].plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			attach(t, stack, depth, id);
			break;
		case YAML_ALIAS_EVENT:
			verr_plain(v, line, "syntax error: aliases are not supported (*%.40s)",
			    (const char *)ev.data.alias.anchor);
			if ((id = node_new(t, N_BAD, line)) != 0)
				attach(t, stack, depth, id);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type == YAML_SEQUENCE_START_EVENT)
				check_props(v, line, ev.data.sequence_start.anchor,
				    ev.data.sequence_start.tag);
			else
				check_props(v, line, ev.data.mapping_start.anchor,
				    ev.data.mapping_start.tag);
			if (depth == CFG_DEPTH_MAX) {
				verr_plain(v, line, "syntax error: more than %d levels of nesting",
				    CFG_DEPTH_MAX);
				ret = -1;
				done = 1;
				break;
			}
			id = node_new(t,
			    ev.type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP, line);
			if (id == 0)
				break;
			attach(t, stack, depth, id);
			stack[depth].node = id;
			stack[depth].last = 0;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (is_node && id == 0 && !done) {
			oom(v);
			ret = -1;
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ret;
}

/* ---- keys: plain, free of NUL, given once --------------------------------- */

struct dkey {
	const void *p;
	size_t len;
	uint32_t line;
	uint32_t idx;
	const struct node *node;
};

static int
dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->p, y->p, m);

	if (r != 0)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sorts the keys and calls report for every one equal to an earlier one
 * (the earlier being first).
 */
static void
find_dups(struct vctx *v, struct dkey *k, size_t n,
    void (*report)(struct vctx *, const struct dkey *dup, const struct dkey *first, void *),
    void *arg)
{
	size_t i = 0;

	qsort(k, n, sizeof(*k), dkey_cmp);
	while (i < n) {
		size_t j = i + 1;
		while (j < n && k[j].len == k[i].len && memcmp(k[j].p, k[i].p, k[i].len) == 0) {
			report(v, &k[j], &k[i], arg);
			j++;
		}
		i = j;
	}
}

static void
report_dup_key(struct vctx *v, const struct dkey *dup, const struct dkey *first, void *arg)
{
	size_t saved = path_key(v, dup->p, dup->len);

	(void)arg;
	verr(v, dup->line, "duplicate key (first at line %" PRIu32 ")", first->line);
	path_pop(v, saved);
	((struct node *)dup->node)->skip = 1;
}

/*
 * Walks the tree once before validation: a scalar holding a NUL byte, a key
 * that is a list or mapping, a key given twice are errors, and those nodes
 * are skipped from then on.
 */
static void
tree_check(struct vctx *v, uint32_t id)
{
	struct node *n = N(v, id);

	if (n->type == N_SCALAR) {
		if (memchr(ntext(v, n), '\0', n->len) != NULL) {
			verr(v, n->line, "contains a NUL byte");
			n->skip = 1;
		}
	} else if (n->type == N_SEQ) {
		size_t i = 0;
		for (uint32_t c = n->first; c; c = N(v, c)->next, i++) {
			size_t saved = path_index(v, i);
			tree_check(v, c);
			path_pop(v, saved);
		}
	} else if (n->type == N_MAP) {
		struct dkey *k = calloc(n->n / 2 + 1, sizeof(*k));
		size_t nk = 0;

		if (k == NULL) {
			oom(v);
			return;
		}
		for (uint32_t c = n->first; c; c = N(v, N(v, c)->next)->next) {
			struct node *key = N(v, c);
			char buf[QBUF];
			if (key->next == 0)
				break;
			if (key->type == N_BAD) {
				key->skip = 1;
			} else if (key->type != N_SCALAR) {
				verr(v, key->line, "a key must be a plain value, not %s",
				    describe(v, key, buf));
				key->skip = 1;
			} else if (memchr(ntext(v, key), '\0', key->len) != NULL) {
				verr(v, key->line, "a key contains a NUL byte");
				key->skip = 1;
			} else {
				k[nk] = (struct dkey){ntext(v, key), key->len, key->line, (uint32_t)nk,
				    key};
				nk++;
			}
		}
		find_dups(v, k, nk, report_dup_key, NULL);
		free(k);
		for (uint32_t c = n->first; c; c = N(v, N(v, c)->next)->next) {
			struct node *key = N(v, c);
			size_t saved;
			if (key->next == 0)
				break;
			if (key->skip)
				continue;
			saved = path_key(v, ntext(v, key), key->len);
			tree_check(v, key->next);
			path_pop(v, saved);
		}
	}
}

/* ---- the schema ---------------------------------------------------------- */

enum scope {
	SC_TOP = 1 << 0,
	SC_OUTPUTS = 1 << 1,
	SC_SYSLOG = 1 << 2,
	SC_RULE = 1 << 3,
	SC_UNLESS = 1 << 4,
	SC_CAPTURE = 1 << 5,
	SC_STATS = 1 << 6,
	SC_ATTRIB = 1 << 7,
};

enum {
	F_REQUIRED = 1 << 0,    /* a mapping of its scope must have it */
	F_FIRST = 1 << 1,       /* validated before the other keys of its mapping */
	F_COND = 1 << 2,        /* a rule condition: written into the struct bw_match */
	F_ONE = 1 << 3,         /* a list for which a single value is a one-item list */
	F_HIDDEN = 1 << 4,      /* not offered in "known keys" */
};

struct schema;
typedef void handler_fn(struct vctx *, const struct schema *, const struct node *, void *);

/*
 * One key: where it may appear, what its value must be (for "expected X"),
 * its range (numbers, durations, lengths, counts), the handler that checks
 * and stores it, and where it goes (offsets into the struct the handler is
 * given: struct bw_config, struct bw_rule, or for F_COND struct bw_match).
 */
struct schema {
	unsigned scope;
	const char *key;
	unsigned flags;
	uint8_t want;
	const char *what;
	int64_t min, max;
	handler_fn *fn;
	size_t off, off2;
	unsigned sub;
};

static handler_fn h_pow2, h_attrib_mode, h_protocols, h_cidrs, h_inventory, h_rules, h_levels, h_group_by,
    h_duration, h_uint, h_bool, h_string, h_facility, h_map, h_name, h_level, h_unless,
    h_nested_unless, h_cond_protocols, h_cond_ports, h_cond_dests, h_cond_image,
    h_cond_strings;

#define CF(m) offsetof(struct bw_config, m)
#define RF(m) offsetof(struct bw_rule, m)
#define MF(m) offsetof(struct bw_match, m)
#define DURATION "a duration (seconds, or a whole number with ms, s, m, h or d)"

static const struct schema schema[] = {
	{SC_TOP, "protocols", F_FIRST, N_MAP, "a mapping of protocol names to lists of ports",
	    0, BW_PROTO_MAX, h_protocols, 0, 0, 0},
	{SC_TOP, "exclude_destinations", 0, N_SEQ, "a list of networks", 0, BW_INVENTORY_MAX,
	    h_cidrs, CF(exclude), CF(nexclude), 0},
	{SC_TOP, "home_net", 0, N_SEQ, "a list of networks", 0, BW_INVENTORY_MAX, h_cidrs,
	    CF(home_net), CF(nhome_net), 0},
	{SC_TOP, "inventory", 0, N_MAP, "a mapping of networks to names", 0, BW_INVENTORY_MAX,
	    h_inventory, 0, 0, 0},
	{SC_TOP, "rules", 0, N_SEQ, "a list of rules", 0, BW_RULE_MAX, h_rules, 0, 0, 0},
	{SC_TOP, "alert_levels", 0, N_SEQ, "a list of levels", 1, BW_LEVEL_COUNT, h_levels, 0,
	    0, 0},
	{SC_TOP, "group_by", 0, N_SEQ, "a list of fields", 1, BW_GF_COUNT, h_group_by, 0, 0, 0},
	{SC_TOP, "window", 0, N_SCALAR, DURATION, NS_MS, CFG_DURATION_MAX, h_duration,
	    CF(window_ns), 0, 0},
	{SC_TOP, "threshold", 0, N_SCALAR, "a whole number", 1, 1000000000, h_uint,
	    CF(threshold), sizeof(uint64_t), 0},
	{SC_TOP, "realert", 0, N_SCALAR, DURATION, 0, CFG_DURATION_MAX, h_duration,
	    CF(realert_ns), 0, 0},
	{SC_TOP, "max_groups", 0, N_SCALAR, "a whole number", 1, 100000000, h_uint,
	    CF(max_groups), sizeof(size_t), 0},
	{SC_TOP, "max_events", 0, N_SCALAR, "a whole number", 1, 1000000000, h_uint,
	    CF(max_events), sizeof(size_t), 0},
	{SC_TOP, "outputs", 0, N_MAP, "a mapping of stdout, json and syslog", 0, 0, h_map, 0,
	    0, SC_OUTPUTS},
	{SC_OUTPUTS, "stdout", 0, N_SCALAR, "true or false", 0, 1, h_bool, CF(out_stdout), 0,
	    0},
	{SC_OUTPUTS, "json", 0, N_SCALAR, "a file name (\"\" for none)", 0, CFG_FILENAME_MAX,
	    h_string, CF(out_json), 0, 0},
	{SC_OUTPUTS, "syslog", 0, N_MAP, "a mapping of enabled and facility", 0, 0, h_map, 0,
	    0, SC_SYSLOG},
	{SC_SYSLOG, "enabled", 0, N_SCALAR, "true or false", 0, 1, h_bool, CF(out_syslog), 0,
	    0},
	{SC_SYSLOG, "facility", 0, N_SCALAR, "a syslog facility", 0, 0, h_facility,
	    CF(syslog_facility), 0, 0},
	{SC_TOP, "capture", 0, N_MAP, "a mapping of interface, snaplen, promiscuous, "
	    "buffer_mib, immediate and ring_size", 0, 0, h_map, 0, 0, SC_CAPTURE},
	{SC_CAPTURE, "interface", 0, N_SCALAR, "an interface name (\"\" for none)", 0, 15,
	    h_string, CF(cap_interface), 0, 0},
	{SC_CAPTURE, "snaplen", 0, N_SCALAR, "a whole number of bytes", 64, 262144, h_uint,
	    CF(cap_snaplen), sizeof(size_t), 0},
	{SC_CAPTURE, "promiscuous", 0, N_SCALAR, "true or false", 0, 1, h_bool,
	    CF(cap_promiscuous), 0, 0},
	{SC_CAPTURE, "buffer_mib", 0, N_SCALAR, "a whole number of MiB", 1, 4096, h_uint,
	    CF(cap_buffer_mib), sizeof(size_t), 0},
	{SC_CAPTURE, "immediate", 0, N_SCALAR, "true or false", 0, 1, h_bool,
	    CF(cap_immediate), 0, 0},
	{SC_CAPTURE, "ring_size", 0, N_SCALAR, "a power of two", 1024, 1048576, h_pow2,
	    CF(ring_size), sizeof(size_t), 0},
	{SC_TOP, "user", 0, N_SCALAR, "a user name (\"\" to stay as started)", 0, 32, h_string,
	    CF(user), 0, 0},
	{SC_TOP, "stats", 0, N_MAP, "a mapping of interval", 0, 0, h_map, 0, 0, SC_STATS},
	{SC_STATS, "interval", 0, N_SCALAR, DURATION, 0, CFG_DURATION_MAX, h_duration,
	    CF(stats_interval_ns), 0, 0},
	{SC_TOP, "attribution", 0, N_MAP, "a mapping of mode and budget", 0, 0, h_map, 0, 0,
	    SC_ATTRIB},
	{SC_ATTRIB, "mode", 0, N_SCALAR, "auto, ebpf, proc or off", 0, 0, h_attrib_mode,
	    CF(attrib_mode), 0, 0},
	{SC_ATTRIB, "budget", 0, N_SCALAR, DURATION, NS_MS / 10, 1000 * NS_MS, h_duration,
	    CF(attrib_budget_ns), 0, 0},
	{SC_RULE, "name", F_REQUIRED, N_SCALAR, "a name", 1, BW_NAME_MAX - 1, h_name, RF(name),
	    0, 0},
	{SC_RULE, "level", F_REQUIRED, N_SCALAR, "a level (high, medium or low)", 0, 0, h_level,
	    RF(level), 0, 0},
	{SC_RULE | SC_UNLESS, "protocol", F_COND | F_ONE, N_SEQ, "a list of protocol names", 1,
	    BW_PROTO_MAX, h_cond_protocols, MF(protocols), 0, 0},
	{SC_RULE | SC_UNLESS, "port", F_COND | F_ONE, N_SEQ, "a list of ports", 1, 65535,
	    h_cond_ports, MF(ports), MF(nports), 0},
	{SC_RULE | SC_UNLESS, "destination", F_COND | F_ONE, N_SEQ, "a list of networks", 0,
	    CFG_LIST_MAX, h_cond_dests, MF(dests), MF(ndests), 0},
	{SC_RULE | SC_UNLESS, "image", F_COND, N_SCALAR, "a regular expression", 1,
	    CFG_REGEX_MAX, h_cond_image, MF(image), MF(image_re), 0},
	{SC_RULE | SC_UNLESS, "image_path", F_COND | F_ONE, N_SEQ, "a list of file names", 1,
	    BW_IMAGE_MAX - 1, h_cond_strings, MF(image_paths), MF(nimage_paths), 0},
	{SC_RULE | SC_UNLESS, "image_deleted", F_COND, N_SCALAR, "true or false", 0, 1,
	    h_bool, MF(image_deleted), 0, 0},
	{SC_RULE | SC_UNLESS, "user", F_COND | F_ONE, N_SEQ, "a list of user names", 1,
	    BW_NAME_MAX - 1, h_cond_strings, MF(users), MF(nusers), 0},
	{SC_RULE, "unless", 0, N_MAP, "a mapping of conditions", 0, 0, h_unless, 0, 0, 0},
	{SC_UNLESS, "unless", F_HIDDEN, 0, NULL, 0, 0, h_nested_unless, 0, 0, 0},
};
#define NSCHEMA NELEM(schema)

static const struct schema *
schema_find(unsigned scope, const char *key, size_t len)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if ((schema[i].scope & scope) && strlen(schema[i].key) == len &&
		    memcmp(schema[i].key, key, len) == 0)
			return &schema[i];
	return NULL;
}

static void *
at(void *obj, size_t off)
{
	return (char *)obj + off;
}

/* Checks the value's shape against the schema; reports and returns 0 when wrong. */
static int
type_ok(struct vctx *v, const struct schema *s, const struct node *n)
{
	char buf[QBUF];

	if (s->want == 0)
		return 1;
	if (n->type == N_BAD)
		return 0;
	if (n->type == s->want && !is_null(v, n))
		return 1;
	if (n->type == N_SCALAR && (s->flags & F_ONE) && !is_null(v, n))
		return 1;
	verr(v, n->line, "expected %s, found %s", s->what, describe(v, n, buf));
	return 0;
}

/*
 * Validates a mapping of the given scope into obj (conditions into m).
 * Returns the number of condition keys it had.
 */
static int
validate_map(struct vctx *v, unsigned scope, const struct node *map, void *obj,
    struct bw_match *m)
{
	uint8_t seen[NSCHEMA];
	int nconds = 0;

	memset(seen, 0, sizeof(seen));
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t c = map->first; c; c = N(v, N(v, c)->next)->next) {
			const struct node *key = N(v, c), *val;
			const struct schema *s;
			size_t saved;
			if (key->next == 0)
				break;
			val = N(v, key->next);
			if (key->skip)
				continue;
			s = schema_find(scope, ntext(v, key), key->len);
			if ((s != NULL && (s->flags & F_FIRST)) != (pass == 0))
				continue;
			saved = path_key(v, ntext(v, key), key->len);
			if (s == NULL) {
				const char *cand[NSCHEMA];
				size_t nc = 0;
				for (size_t i = 0; i < NSCHEMA; i++)
					if ((schema[i].scope & scope) && !(schema[i].flags & F_HIDDEN))
						cand[nc++] = schema[i].key;
				unknown(v, key->line, "unknown key", "known keys", ntext(v, key),
				    key->len, cand, nc);
			} else {
				seen[s - schema] = 1;
				if (s->flags & F_COND)
					nconds++;
				v->key_line = key->line;
				if (!val->skip && type_ok(v, s, val))
					s->fn(v, s, val, (s->flags & F_COND) ? (void *)m : obj);
			}
			path_pop(v, saved);
		}
	}
	for (size_t i = 0; i < NSCHEMA; i++)
		if ((schema[i].scope & scope) && (schema[i].flags & F_REQUIRED) && !seen[i])
			verr(v, map->line, "missing '%s'", schema[i].key);
	return nconds;
}

/* ---- values -------------------------------------------------------------- */

/* Items of a list, or a scalar standing for a one-item list. */
struct items {
	const struct vctx *v;
	const struct node *list;
	uint32_t cur;
	size_t pos, i;
	int single, done;
};

static void
items_init(struct items *it, const struct vctx *v, const struct node *n)
{
	memset(it, 0, sizeof(*it));
	it->v = v;
	it->list = n;
	it->single = n->type != N_SEQ;
	it->cur = it->single ? 0 : n->first;
}

static size_t
items_count(const struct node *n)
{
	return n->type == N_SEQ ? n->n : 1;
}

static const struct node *
items_next(struct items *it)
{
	if (it->single) {
		if (it->done)
			return NULL;
		it->done = 1;
		return it->list;
	}
	while (it->cur) {
		const struct node *n = N(it->v, it->cur);
		it->cur = n->next;
		it->i = it->pos++;
		if (!n->skip)
			return n;
	}
	return NULL;
}

/* Pushes the item's index on the path (nothing for a single value). */
static size_t
item_enter(struct vctx *v, const struct items *it)
{
	return it->single ? v->plen : path_index(v, it->i);
}

/* The text of a scalar that must be a value; else reports and returns NULL. */
static const char *
want_scalar(struct vctx *v, const struct node *n, const char *what)
{
	char buf[QBUF];

	if (n->type == N_BAD)
		return NULL;
	if (n->type != N_SCALAR || is_null(v, n)) {
		verr(v, n->line, "expected %s, found %s", what, describe(v, n, buf));
		return NULL;
	}
	return ntext(v, n);
}

/* A decimal whole number in [min, max]; else reports and returns -1. */
static int
get_uint(struct vctx *v, const struct node *n, const char *what, uint64_t min, uint64_t max,
    uint64_t *out)
{
	const char *s = want_scalar(v, n, what);
	char q[QBUF];
	uint64_t x = 0;
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			break;
		if (x > (UINT64_MAX - 9) / 10)
			x = UINT64_MAX;
		else
			x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (n->len == 0 || i != n->len) {
		verr(v, n->line, "expected %s, found %s", what, quote(q, s, n->len));
		return -1;
	}
	if (n->len > 1 && s[0] == '0') {
		verr(v, n->line, "%s has a leading zero", quote(q, s, n->len));
		return -1;
	}
	if (x < min || x > max) {
		verr(v, n->line, "%s is out of range (%" PRIu64 "..%" PRIu64 ")",
		    quote(q, s, n->len), min, max);
		return -1;
	}
	*out = x;
	return 0;
}

/* The index of s in names[] (exact match), or -1. */
static int
find_name(const char *s, size_t len, const char *const *names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

/*
 * An index into names[] by exact match; else reports "unknown THING" and
 * returns -1.
 */
static int
get_enum(struct vctx *v, const struct node *n, const char *what, const char *thing,
    const char *listname, const char *const *names, size_t nnames)
{
	const char *s = want_scalar(v, n, what);
	int e;

	if (s == NULL)
		return -1;
	if ((e = find_name(s, n->len, names, nnames)) < 0)
		unknown(v, n->line, thing, listname, s, n->len, names, nnames);
	return e;
}

/*
 * An index into names[] by exact match; else reports "expected WHAT, found
 * 'x'" (no suggestion: the list is in WHAT) and returns -1.
 */
static int
get_word(struct vctx *v, const struct node *n, const char *what, const char *const *names,
    size_t nnames)
{
	const char *s = want_scalar(v, n, what);
	char q[QBUF];
	int e;

	if (s == NULL)
		return -1;
	if ((e = find_name(s, n->len, names, nnames)) < 0)
		verr(v, n->line, "expected %s, found %s", what, quote(q, s, n->len));
	return e;
}

/* A name: 1..max printable ASCII bytes. */
static int
check_name(struct vctx *v, const struct node *n, const char *s, size_t max)
{
	char q[QBUF];

	if (n->len == 0) {
		verr(v, n->line, "the name is empty");
		return -1;
	}
	if (n->len > max) {
		verr(v, n->line, "%s is longer than %zu bytes", quote(q, s, n->len), max);
		return -1;
	}
	for (size_t i = 0; i < n->len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			verr(v, n->line, "%s is not printable ASCII", quote(q, s, n->len));
			return -1;
		}
	}
	return 0;
}

static void
report_dup_item(struct vctx *v, const struct dkey *dup, const struct dkey *first, void *arg)
{
	const char *noun = arg;
	char q[QBUF];
	size_t saved;

	saved = path_index(v, dup->idx);
	verr(v, dup->line, "duplicate %s %s (first at line %" PRIu32 ")", noun,
	    quote(q, ntext(v, dup->node), dup->node->len), first->line);
	path_pop(v, saved);
}

/*
 * s (the text of n) as a network: 1 to 64 bytes of printable ASCII that
 * bw_cidr_parse takes; else reports and returns -1.
 */
static int
parse_net(struct vctx *v, const struct node *n, const char *s, struct bw_cidr *out)
{
	char err[256], q[QBUF];
	size_t i;

	for (i = 0; i < n->len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	if (i < n->len || n->len == 0 || n->len > 64) {
		verr(v, n->line, "%s is not an address or network", quote(q, s, n->len));
		return -1;
	}
	if (bw_cidr_parse(s, out, err, sizeof(err)) == -1) {
		verr(v, n->line, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * A list of networks (a scalar is one, when F_ONE allowed it). Duplicates
 * are errors. Returns the networks it could parse.
 */
static void
cidr_list(struct vctx *v, const struct node *n, size_t max, struct bw_cidr **out, size_t *nout)
{
	size_t cnt = items_count(n), k = 0;
	struct bw_cidr *arr;
	struct dkey *keys;
	struct items it;
	const struct node *item;

	*out = NULL;
	*nout = 0;
	if (cnt > max) {
		verr(v, n->line, "more than %zu networks", max);
		return;
	}
	arr = calloc(cnt ? cnt : 1, sizeof(*arr));
	keys = calloc(cnt ? cnt : 1, sizeof(*keys));
	if (arr == NULL || keys == NULL) {
		free(arr);
		free(keys);
		oom(v);
		return;
	}
	items_init(&it, v, n);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		const char *s = want_scalar(v, item, "a network");

		if (s != NULL && parse_net(v, item, s, &arr[k]) == 0) {
			keys[k] = (struct dkey){&arr[k], sizeof(arr[k]), item->line, (uint32_t)it.i,
			    item};
			k++;
		}
		path_pop(v, saved);
	}
	find_dups(v, keys, k, report_dup_item, "network");
	free(keys);
	*out = arr;
	*nout = k;
}

/* ---- top-level handlers -------------------------------------------------- */

static int
valid_proto_name(const char *s, size_t len)
{
	return len >= 1 && len < BW_PROTO_NAME_MAX && is_ident(s, len);
}

static int
need_port_lines(struct vctx *v)
{
	if (v->port_line == NULL && (v->port_line = calloc(65536, sizeof(uint32_t))) == NULL) {
		oom(v);
		return -1;
	}
	return 0;
}

/*
 * The ports of protocol number idx (1-based: np[idx - 1]), the list val.
 * owner[port] is the protocol number a port went to, 0 for none yet; a port
 * is in one protocol only. Returns -1 when memory ran out.
 */
static int
protocol_ports(struct vctx *v, const struct node *val, struct bw_protocol *np, size_t idx,
    uint8_t *owner)
{
	struct bw_protocol *p = &np[idx - 1];
	struct items it;
	const struct node *item;
	char q[QBUF];

	if (val->skip || val->type == N_BAD)
		return 0;
	if (val->type != N_SEQ) {
		verr(v, val->line, "expected a list of ports, found %s", describe(v, val, q));
		return 0;
	}
	if (val->n == 0)
		verr(v, val->line, "expected at least one port");
	if ((p->ports = calloc(val->n ? val->n : 1, sizeof(*p->ports))) == NULL) {
		oom(v);
		return -1;
	}
	items_init(&it, v, val);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		uint64_t port;

		if (get_uint(v, item, "a port (1..65535)", 1, 65535, &port) == 0) {
			if (owner[port] == idx)
				verr(v, item->line, "duplicate port %" PRIu64 " (first at line %" PRIu32
				    ")", port, v->port_line[port]);
			else if (owner[port] != 0)
				verr(v, item->line, "port %" PRIu64 " is already in protocol '%s' (line %"
				    PRIu32 ")", port, np[owner[port] - 1].name, v->port_line[port]);
			else {
				owner[port] = (uint8_t)idx;
				v->port_line[port] = item->line;
				p->ports[p->nports++] = (uint16_t)port;
			}
		}
		path_pop(v, saved);
	}
	return 0;
}

static void
h_protocols(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_config *c = obj;
	struct bw_protocol np[BW_PROTO_MAX];
	uint8_t *owner;
	size_t nnp = 0;
	int too_many = 0;

	memset(np, 0, sizeof(np));
	if (need_port_lines(v) == -1 || (owner = calloc(65536, 1)) == NULL) {
		oom(v);
		return;
	}
	for (uint32_t id = n->first; id; id = N(v, N(v, id)->next)->next) {
		const struct node *key = N(v, id), *val;
		char q[QBUF];
		size_t saved;

		if (key->next == 0)
			break;
		val = N(v, key->next);
		if (key->skip)
			continue;
		saved = path_key(v, ntext(v, key), key->len);
		if (!valid_proto_name(ntext(v, key), key->len)) {
			verr(v, key->line,
			    "%s is not a protocol name (1 to 15 letters, digits, '_' or '-')",
			    quote(q, ntext(v, key), key->len));
		} else if (nnp == (size_t)s->max) {
			if (!too_many)
				verr(v, key->line, "more than %d protocols", BW_PROTO_MAX);
			too_many = 1;
		} else {
			memcpy(np[nnp++].name, ntext(v, key), key->len);
			if (protocol_ports(v, val, np, nnp, owner) == -1) {
				path_pop(v, saved);
				break;
			}
		}
		path_pop(v, saved);
	}
	for (size_t i = 0; i < nnp; i++)
		for (size_t j = 0; j < np[i].nports; j++)
			v->port_line[np[i].ports[j]] = 0;
	free(owner);

	/* the rules resolved so far (the built-in ones) name these */
	v->nold = c->nprotocols;
	for (size_t i = 0; i < c->nprotocols; i++) {
		memcpy(v->old_names[i], c->protocols[i].name, BW_PROTO_NAME_MAX);
		free(c->protocols[i].ports);
	}
	memcpy(c->protocols, np, sizeof(np));
	c->nprotocols = nnp;
	v->protocols_given = 1;
	v->protocols_line = v->key_line;
}

static void
h_cidrs(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_cidr **p = at(obj, s->off);

	free(*p);
	cidr_list(v, n, (size_t)s->max, p, at(obj, s->off2));
}

static void
report_dup_inventory(struct vctx *v, const struct dkey *dup, const struct dkey *first,
    void *arg)
{
	const struct node *k = dup->node, *fk = first->node;
	size_t saved = path_key(v, ntext(v, k), k->len);
	char q[QBUF];

	(void)arg;
	verr(v, dup->line, "the same network as %s (line %" PRIu32 ")",
	    quote(q, ntext(v, fk), fk->len), first->line);
	path_pop(v, saved);
}

static void
h_inventory(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_config *c = obj;
	size_t cnt = n->n / 2, k = 0;
	struct bw_inventory_entry *arr;
	struct dkey *keys;

	if (cnt > (size_t)s->max) {
		verr(v, n->line, "more than %d entries", BW_INVENTORY_MAX);
		return;
	}
	arr = calloc(cnt ? cnt : 1, sizeof(*arr));
	keys = calloc(cnt ? cnt : 1, sizeof(*keys));
	if (arr == NULL || keys == NULL) {
		free(arr);
		free(keys);
		oom(v);
		return;
	}
	for (uint32_t id = n->first; id; id = N(v, N(v, id)->next)->next) {
		const struct node *key = N(v, id), *val;
		const char *ks, *vs;
		size_t saved;
		int ok;

		if (key->next == 0)
			break;
		val = N(v, key->next);
		if (key->skip)
			continue;
		ks = ntext(v, key);
		saved = path_key(v, ks, key->len);
		ok = parse_net(v, key, ks, &arr[k].net) == 0;
		if (!val->skip && (vs = want_scalar(v, val, "a name")) != NULL &&
		    check_name(v, val, vs, BW_NAME_MAX - 1) == 0 && ok) {
			memcpy(arr[k].name, vs, val->len);
			keys[k] = (struct dkey){&arr[k].net, sizeof(arr[k].net), key->line,
			    (uint32_t)k, key};
			k++;
		}
		path_pop(v, saved);
	}
	find_dups(v, keys, k, report_dup_inventory, NULL);
	free(keys);
	free(c->inventory);
	c->inventory = arr;
	c->ninventory = k;
}

static void
match_free(struct bw_match *m)
{
	free(m->ports);
	free(m->dests);
	free(m->image);
	if (m->image_re != NULL)
		pcre2_code_free(m->image_re);
	for (size_t i = 0; i < m->nimage_paths; i++)
		free(m->image_paths[i]);
	free(m->image_paths);
	for (size_t i = 0; i < m->nusers; i++)
		free(m->users[i]);
	free(m->users);
	memset(m, 0, sizeof(*m));
	m->image_deleted = -1;
}

static void
rules_free(struct bw_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		match_free(&r[i].when);
		match_free(&r[i].unless);
	}
	free(r);
}

static void
h_rules(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_config *c = obj;
	size_t cnt = n->n, k = 0, catchall = SIZE_MAX;
	struct bw_rule *rules;
	uint32_t *lines;
	size_t *index;
	uint8_t *conds;
	struct items it;
	const struct node *item;

	v->rules_given = 1;
	if (cnt > (size_t)s->max)
		cnt = (size_t)s->max;
	rules = calloc(cnt ? cnt : 1, sizeof(*rules));
	lines = calloc(cnt ? cnt : 1, sizeof(*lines));
	index = calloc(cnt ? cnt : 1, sizeof(*index));
	conds = calloc(cnt ? cnt : 1, 1);
	if (rules == NULL || lines == NULL || index == NULL || conds == NULL) {
		oom(v);
		goto done;
	}
	for (size_t i = 0; i < cnt; i++)
		rules[i].when.image_deleted = rules[i].unless.image_deleted = -1;
	items_init(&it, v, n);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		char buf[QBUF];

		if (k == cnt) {
			verr(v, item->line, "more than %d rules", BW_RULE_MAX);
			path_pop(v, saved);
			break;
		}
		if (item->type == N_BAD) {
			path_pop(v, saved);
			continue;
		}
		if (item->type != N_MAP) {
			verr(v, item->line, "expected a rule (a mapping of name, level and conditions),"
			    " found %s", describe(v, item, buf));
			path_pop(v, saved);
			continue;
		}
		conds[k] = validate_map(v, SC_RULE, item, &rules[k], &rules[k].when) > 0 ||
		    rules[k].has_unless;
		lines[k] = item->line;
		index[k] = it.i;
		k++;
		path_pop(v, saved);
	}
	/* names are unique; rules after one that matches every record are never reached */
	for (size_t i = 0; i < k; i++) {
		size_t saved;
		for (size_t j = 0; j < i; j++) {
			if (rules[i].name[0] != '\0' && strcmp(rules[i].name, rules[j].name) == 0) {
				char q[QBUF];
				saved = path_index(v, index[i]);
				path_append(v, ".name", 5);
				verr(v, lines[i], "duplicate rule name %s (first at line %" PRIu32 ")",
				    quote(q, rules[i].name, strlen(rules[i].name)), lines[j]);
				path_pop(v, saved);
				break;
			}
		}
		if (catchall == SIZE_MAX && !conds[i] && i + 1 < k) {
			char nor[64] = "";
			catchall = i;
			if (k - i - 2 == 1)
				snprintf(nor, sizeof(nor), ", nor is the rule after it");
			else if (k - i - 2 > 1)
				snprintf(nor, sizeof(nor), ", nor are the %zu rules after it", k - i - 2);
			saved = path_index(v, index[i + 1]);
			if (rules[i].name[0] != '\0')
				verr(v, lines[i + 1], "never reached%s: rules[%zu] ('%s', line %" PRIu32
				    ") matches every record", nor, index[i], rules[i].name, lines[i]);
			else
				verr(v, lines[i + 1], "never reached%s: rules[%zu] (line %" PRIu32
				    ") matches every record", nor, index[i], lines[i]);
			path_pop(v, saved);
		}
	}
done:
	rules_free(c->rules, c->nrules);
	c->rules = rules;
	c->nrules = rules ? k : 0;
	free(lines);
	free(index);
	free(conds);
}

_Static_assert(BW_PROTO_MAX <= 32 && BW_GF_COUNT <= 32 && BW_LEVEL_COUNT <= 32,
    "enum_list keeps the first line of at most 32 names");

/*
 * A list of distinct names out of names[] (at most 32; a scalar is a one-item
 * list), at least one; their indexes go to out in the order given. Returns
 * how many.
 */
static int
enum_list(struct vctx *v, const struct node *n, const char *what, const char *noun,
    const char *thing, const char *listname, const char *const *names, size_t nnames,
    int *out)
{
	uint32_t first[32] = {0};
	struct items it;
	const struct node *item;
	int k = 0;

	if (items_count(n) == 0) {
		verr(v, n->line, "expected at least one %s", noun);
		return 0;
	}
	items_init(&it, v, n);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		int e = get_enum(v, item, what, thing, listname, names, nnames);
		if (e >= 0 && first[e] != 0) {
			verr(v, item->line, "duplicate %s '%s' (first at line %" PRIu32 ")", noun,
			    names[e], first[e]);
		} else if (e >= 0) {
			first[e] = item->line;
			out[k++] = e;
		}
		path_pop(v, saved);
	}
	return k;
}

static void
h_levels(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_config *c = obj;
	int out[BW_LEVEL_COUNT];
	int k;

	(void)s;
	k = enum_list(v, n, "a level", "level", "unknown level", "levels", level_list,
	    BW_LEVEL_COUNT, out);
	c->alert_levels = 0;
	for (int i = 0; i < k; i++)
		c->alert_levels |= 1u << (BW_LEVEL_HIGH - out[i]);
}

static void
h_group_by(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_config *c = obj;
	int out[BW_GF_COUNT];
	int k;

	(void)s;
	k = enum_list(v, n, "a field", "field", "unknown field", "fields", field_names,
	    BW_GF_COUNT, out);
	c->group_by = 0;
	c->ngroup_order = (size_t)k;
	for (int i = 0; i < k; i++) {
		c->group_by |= 1u << out[i];
		c->group_order[i] = (uint8_t)out[i];
	}
}

/* "24h" from ns: the largest unit that divides it (days only past two). */
static void
format_duration(int64_t ns, char *buf, size_t cap)
{
	if (ns == 0)
		snprintf(buf, cap, "0s");
	else if (ns % NS_DAY == 0 && ns / NS_DAY >= 2)
		snprintf(buf, cap, "%" PRId64 "d", ns / NS_DAY);
	else if (ns % (3600 * NS_S) == 0)
		snprintf(buf, cap, "%" PRId64 "h", ns / (3600 * NS_S));
	else if (ns % (60 * NS_S) == 0)
		snprintf(buf, cap, "%" PRId64 "m", ns / (60 * NS_S));
	else if (ns % NS_S == 0)
		snprintf(buf, cap, "%" PRId64 "s", ns / NS_S);
	else
		snprintf(buf, cap, "%" PRId64 "ms", ns / NS_MS);
}

static void
h_duration(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	const char *t = want_scalar(v, n, s->what);
	static const struct {
		const char *suffix;
		int64_t ns;
	} units[] = {{"ms", NS_MS}, {"s", NS_S}, {"m", 60 * NS_S}, {"h", 3600 * NS_S},
	    {"d", NS_DAY}, {"", NS_S}};
	char q[QBUF], lo[32], hi[32];
	uint64_t x = 0;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < n->len && t[i] >= '0' && t[i] <= '9'; i++)
		x = x > UINT64_MAX / 16 ? UINT64_MAX / 16 : x * 10 + (uint64_t)(t[i] - '0');
	for (size_t u = 0; u < NELEM(units); u++) {
		int64_t ns;
		if (i == 0 || strcmp(t + i, units[u].suffix) != 0)
			continue;
		if (i > 1 && t[0] == '0') {
			verr(v, n->line, "%s has a leading zero", quote(q, t, n->len));
			return;
		}
		ns = x > (uint64_t)(CFG_DURATION_MAX / units[u].ns) ? CFG_DURATION_MAX + 1 :
		    (int64_t)x * units[u].ns;
		if (ns < s->min || ns > s->max) {
			format_duration(s->min, lo, sizeof(lo));
			format_duration(s->max, hi, sizeof(hi));
			verr(v, n->line, "%s is out of range (%s..%s)", quote(q, t, n->len), lo, hi);
			return;
		}
		*(int64_t *)at(obj, s->off) = ns;
		return;
	}
	verr(v, n->line, "expected %s, found %s", s->what, quote(q, t, n->len));
}

/* Stores x in the uint64_t or size_t field s->off, as off2 (its size) says. */
static void
store_uint(const struct schema *s, void *obj, uint64_t x)
{
	if (s->off2 == sizeof(uint64_t)) {
		memcpy(at(obj, s->off), &x, sizeof(x));
	} else {
		size_t z = (size_t)x;
		memcpy(at(obj, s->off), &z, sizeof(z));
	}
}

static void
h_uint(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	uint64_t x;

	if (get_uint(v, n, s->what, (uint64_t)s->min, (uint64_t)s->max, &x) == 0)
		store_uint(s, obj, x);
}

static const char *const attrib_modes[] = {"auto", "ebpf", "proc", "off"};

/* attribution.mode: the index is enum bw_attrib_mode. */
static void
h_attrib_mode(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	int e = get_word(v, n, s->what, attrib_modes, NELEM(attrib_modes));

	if (e >= 0)
		*(int *)at(obj, s->off) = e;
}

/* A whole number that must be a power of two (ring sizes). */
static void
h_pow2(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	uint64_t x;

	if (get_uint(v, n, s->what, (uint64_t)s->min, (uint64_t)s->max, &x) == -1)
		return;
	if ((x & (x - 1)) != 0) {
		verr(v, n->line, "%" PRIu64 " is not a power of two", x);
		return;
	}
	store_uint(s, obj, x);
}

/*
 * true or false, stored as 1 or 0; a value that is neither stores nothing (a
 * rule condition left out keeps -1: any).
 */
static void
h_bool(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	static const char *const names[] = {"false", "False", "FALSE", "true", "True", "TRUE"};
	int e = get_word(v, n, s->what, names, NELEM(names));

	if (e >= 0)
		*(int *)at(obj, s->off) = e >= 3;
}

static void
h_string(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	const char *t = want_scalar(v, n, s->what);
	char **p = at(obj, s->off), *d, q[QBUF];

	if (t == NULL)
		return;
	if (n->len > (size_t)s->max) {
		verr(v, n->line, "%s is longer than %" PRId64 " bytes", quote(q, t, n->len), s->max);
		return;
	}
	if ((d = strdup(t)) == NULL) {
		oom(v);
		return;
	}
	free(*p);
	*p = d;
}

static void
h_facility(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	int e = get_enum(v, n, s->what, "unknown facility", "facilities", facility_names,
	    NELEM(facility_names));

	if (e >= 0)
		*(int *)at(obj, s->off) = facility_values[e];
}

static void
h_map(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	validate_map(v, s->sub, n, obj, NULL);
}

/* ---- rules --------------------------------------------------------------- */

static void
h_name(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	const char *t = want_scalar(v, n, s->what);

	if (t == NULL || check_name(v, n, t, (size_t)s->max) == -1)
		return;
	memcpy(at(obj, s->off), t, n->len + 1);
}

static void
h_level(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	int e = get_enum(v, n, s->what, "unknown level", "levels", level_list, BW_LEVEL_COUNT);

	if (e >= 0)
		*(enum bw_level *)at(obj, s->off) = (enum bw_level)(BW_LEVEL_HIGH - e);
}

static void
h_unless(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_rule *r = obj;

	(void)s;
	r->has_unless = 1;
	if (n->n == 0) {
		verr(v, n->line, "expected at least one condition (protocol, port, destination,"
		    " image, image_path, image_deleted, user)");
		return;
	}
	validate_map(v, SC_UNLESS, n, r, &r->unless);
}

static void
h_nested_unless(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	(void)s;
	(void)obj;
	verr(v, n->line, "an unless cannot have an unless of its own");
}

static void
h_cond_protocols(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_match *m = obj;
	const char *names[BW_PROTO_MAX];
	int out[BW_PROTO_MAX], k;

	(void)s;
	if (items_count(n) == 0) {
		verr(v, n->line, "expected at least one protocol (leave the condition out to match"
		    " any)");
		return;
	}
	for (size_t i = 0; i < v->c->nprotocols; i++)
		names[i] = v->c->protocols[i].name;
	k = enum_list(v, n, "a protocol name", "protocol", "undefined protocol",
	    "protocols defined", names, v->c->nprotocols, out);
	for (int i = 0; i < k; i++)
		m->protocols |= UINT64_C(1) << out[i];
}

static void
h_cond_ports(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_match *m = obj;
	size_t cnt = items_count(n);
	struct items it;
	const struct node *item;

	(void)s;
	if (cnt == 0) {
		verr(v, n->line, "expected at least one port (leave the condition out to match"
		    " any)");
		return;
	}
	if (cnt > CFG_LIST_MAX) {
		verr(v, n->line, "more than %d ports", CFG_LIST_MAX);
		return;
	}
	if (need_port_lines(v) == -1)
		return;
	if ((m->ports = calloc(cnt, sizeof(*m->ports))) == NULL) {
		oom(v);
		return;
	}
	items_init(&it, v, n);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		uint64_t port;
		if (get_uint(v, item, "a port (1..65535)", 1, 65535, &port) == 0) {
			if (v->port_line[port] != 0)
				verr(v, item->line,
				    "duplicate port %" PRIu64 " (first at line %" PRIu32 ")", port,
				    v->port_line[port]);
			else {
				v->port_line[port] = item->line;
				m->ports[m->nports++] = (uint16_t)port;
			}
		}
		path_pop(v, saved);
	}
	for (size_t i = 0; i < m->nports; i++)
		v->port_line[m->ports[i]] = 0;
}

static void
h_cond_dests(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_match *m = obj;

	if (items_count(n) == 0) {
		verr(v, n->line, "expected at least one network (leave the condition out to match"
		    " any)");
		return;
	}
	cidr_list(v, n, (size_t)s->max, &m->dests, &m->ndests);
}

/*
 * Patterns are compiled as UTF-8 (a pattern must be valid UTF-8, as every
 * YAML text is) with PCRE2_MATCH_INVALID_UTF, so that an ImageFileName that
 * is not valid UTF-8 is still matched, never an error. JIT when available.
 */
static void
h_cond_image(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	struct bw_match *m = obj;
	const char *t = want_scalar(v, n, s->what);
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	char q[QBUF];
	int code;

	if (t == NULL)
		return;
	if (n->len == 0 || n->len > (size_t)s->max) {
		verr(v, n->line, "expected a regular expression of 1 to %" PRId64 " bytes, found %s",
		    s->max, quote(q, t, n->len));
		return;
	}
	re = pcre2_compile((PCRE2_SPTR)t, n->len,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &off, NULL);
	if (re == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		verr(v, n->line, "bad regular expression at offset %zu: %s", (size_t)off,
		    (const char *)msg);
		return;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if ((m->image = strdup(t)) == NULL) {
		pcre2_code_free(re);
		oom(v);
		return;
	}
	m->image_re = re;
}

static void
h_cond_strings(struct vctx *v, const struct schema *s, const struct node *n, void *obj)
{
	char ***p = at(obj, s->off);
	size_t *np = at(obj, s->off2), cnt = items_count(n), k = 0;
	int users = s->off == MF(users);
	const char *noun = users ? "user" : "file name";
	struct dkey *keys;
	struct items it;
	const struct node *item;

	if (cnt == 0) {
		verr(v, n->line, "expected at least one %s (leave the condition out to match any)",
		    noun);
		return;
	}
	if (cnt > CFG_LIST_MAX) {
		verr(v, n->line, "more than %d values", CFG_LIST_MAX);
		return;
	}
	*p = calloc(cnt, sizeof(**p));
	keys = calloc(cnt, sizeof(*keys));
	if (*p == NULL || keys == NULL) {
		free(keys);
		oom(v);
		return;
	}
	items_init(&it, v, n);
	while ((item = items_next(&it)) != NULL) {
		size_t saved = item_enter(v, &it);
		const char *t = want_scalar(v, item, users ? "a user name" : "a file name");
		char q[QBUF];

		if (t != NULL && item->len > (size_t)s->max) {
			verr(v, item->line, "%s is longer than %" PRId64 " bytes%s",
			    quote(q, t, item->len), s->max,
			    users ? "" : " (an ImageFileName keeps no more)");
		} else if (t != NULL) {
			if (((*p)[k] = strdup(t)) == NULL) {
				oom(v);
				path_pop(v, saved);
				break;
			}
			keys[k] = (struct dkey){(*p)[k], item->len, item->line, (uint32_t)it.i,
			    item};
			k++;
		}
		path_pop(v, saved);
	}
	*np = k;
	find_dups(v, keys, k, report_dup_item, (void *)noun);
	free(keys);
}

/* The index of the protocol called name, or c->nprotocols. */
static size_t
proto_find(const struct bw_config *c, const char *name)
{
	size_t j;

	for (j = 0; j < c->nprotocols; j++)
		if (strcmp(c->protocols[j].name, name) == 0)
			break;
	return j;
}

/* One condition of the rule named rule; missing: old protocols reported already. */
static void
remap_match(struct vctx *v, const struct bw_config *c, struct bw_match *m, const char *rule,
    uint64_t *missing)
{
	uint64_t nw = 0;

	for (size_t b = 0; b < v->nold; b++) {
		size_t j;
		if (!(m->protocols & (UINT64_C(1) << b)))
			continue;
		if ((j = proto_find(c, v->old_names[b])) < c->nprotocols) {
			nw |= UINT64_C(1) << j;
		} else if (!(*missing & (UINT64_C(1) << b))) {
			*missing |= UINT64_C(1) << b;
			path_append(v, "protocols", 9);
			verr(v, v->protocols_line, "'%s' is not defined, but the built-in rule '%s'"
			    " uses it (define it, or give rules)", v->old_names[b], rule);
			path_pop(v, 0);
		}
	}
	m->protocols = nw;
}

/*
 * The file gave protocols but not rules: the built-in rules name protocols
 * by index into the built-in list; move them to the new one, by name.
 */
static void
remap_rules(struct vctx *v, struct bw_config *c)
{
	uint64_t missing = 0;

	for (size_t r = 0; r < c->nrules; r++) {
		remap_match(v, c, &c->rules[r].when, c->rules[r].name, &missing);
		remap_match(v, c, &c->rules[r].unless, c->rules[r].name, &missing);
	}
}

static void
validate(struct vctx *v, struct bw_config *c)
{
	const struct node *root;
	char buf[QBUF];

	if (v->t.root == 0)
		return;         /* an empty file: the defaults */
	root = N(v, v->t.root);
	if (root->type == N_BAD || root->skip || is_null(v, root))
		return;
	if (root->type != N_MAP) {
		verr(v, root->line, "expected a mapping of keys (protocols, rules, ...), found %s",
		    describe(v, root, buf));
		return;
	}
	validate_map(v, SC_TOP, root, c, NULL);
	if (v->protocols_given && !v->rules_given)
		remap_rules(v, c);
}

/* Parses and validates text over the values already in *c. */
static void
load_text(struct vctx *v, const unsigned char *buf, size_t len, struct bw_config *c)
{
	if (tree_parse(v, buf, len) == -1)
		return;
	if (v->t.root != 0)
		tree_check(v, v->t.root);
	validate(v, c);
}

/* ---- the interface ------------------------------------------------------- */

void
bw_config_free(struct bw_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	for (size_t i = 0; i < c->nprotocols && i < BW_PROTO_MAX; i++)
		free(c->protocols[i].ports);
	free(c->exclude);
	free(c->home_net);
	free(c->inventory);
	rules_free(c->rules, c->nrules);
	free(c->out_json);
	free(c->cap_interface);
	free(c->user);
	memset(c, 0, sizeof(*c));
}

int
bw_config_default(struct bw_config *c)
{
	struct vctx v;

	memset(c, 0, sizeof(*c));
	vctx_init(&v, "(built-in)", c);
	load_text(&v, (const unsigned char *)default_yaml, sizeof(default_yaml) - 1, c);
	if (v.nerrs > 0 || v.oom) {
		for (size_t i = 0; i < v.nerrs; i++)
			bw_log_warnx("%s", v.errs[i].msg);
		if (v.oom)
			bw_log_warnx("built-in configuration: out of memory");
		vctx_fini(&v);
		bw_config_free(c);
		return -1;
	}
	vctx_fini(&v);
	return 0;
}

static void
too_large(struct vctx *v)
{
	verr_plain(v, 0, "larger than %u bytes (%u MiB)", CFG_FILE_MAX, CFG_FILE_MAX >> 20);
}

/* The whole file, at most CFG_FILE_MAX bytes; else reports and returns -1. */
static int
read_file(struct vctx *v, const char *path, unsigned char **out, size_t *len)
{
	unsigned char *buf = NULL, *nb;
	size_t n = 0, cap = 0;
	struct stat st;
	int fd;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		verr_plain(v, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)CFG_FILE_MAX) {
		too_large(v);
		goto fail;
	}
	for (;;) {
		ssize_t r;
		if (n > CFG_FILE_MAX) {
			too_large(v);
			goto fail;
		}
		if (n == cap) {
			/* at most one byte past the limit is ever read */
			cap = cap ? cap * 2 : 65536;
			if (cap > CFG_FILE_MAX + 1)
				cap = CFG_FILE_MAX + 1;
			if ((nb = realloc(buf, cap)) == NULL) {
				oom(v);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			verr_plain(v, 0, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
bw_config_load(const char *path, struct bw_config *c, struct bw_config_errors *errs)
{
	struct bw_config nc;
	struct vctx v;
	unsigned char *buf;
	size_t len;

	memset(c, 0, sizeof(*c));
	vctx_init(&v, path, &nc);
	if (bw_config_default(&nc) == -1) {
		oom(&v);
		errs_flush(&v, errs);
		vctx_fini(&v);
		return -1;
	}
	/* realert left out of the file follows the file's window (its default) */
	nc.realert_ns = -1;
	if (read_file(&v, path, &buf, &len) == 0) {
		load_text(&v, buf, len, &nc);
		free(buf);
	}
	if (nc.realert_ns == -1)
		nc.realert_ns = nc.window_ns;
	if (v.nerrs == 0 && !v.oom && (nc.path = strdup(path)) == NULL)
		oom(&v);
	if (v.nerrs > 0 || v.oom || v.dropped > 0) {
		errs_flush(&v, errs);
		vctx_fini(&v);
		bw_config_free(&nc);
		return -1;
	}
	vctx_fini(&v);
	*c = nc;
	return 0;
}

/* ---- dump ---------------------------------------------------------------- */

/*
 * A YAML double-quoted string that reads back to the same bytes: printable
 * ASCII as is, '"' and '\' escaped, and every character YAML does not allow
 * raw (controls, C1, the line and paragraph separators, the BOM, U+FFFE/F)
 * escaped by code point. Strings from a load are valid UTF-8, as libyaml
 * checks; a byte that does not start valid UTF-8 is written as \xHH.
 */
static void
dump_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned ch = *p, cp, need, i;
		if (ch == '"' || ch == '\\') {
			fputc('\\', f);
			fputc((int)ch, f);
			p++;
			continue;
		}
		if (ch >= 0x20 && ch < 0x7f) {
			fputc((int)ch, f);
			p++;
			continue;
		}
		if (ch < 0x80) {
			fprintf(f, "\\x%02x", ch);
			p++;
			continue;
		}
		if (ch >= 0xc2 && ch <= 0xdf) {
			need = 1;
			cp = ch & 0x1f;
		} else if (ch >= 0xe0 && ch <= 0xef) {
			need = 2;
			cp = ch & 0x0f;
		} else if (ch >= 0xf0 && ch <= 0xf4) {
			need = 3;
			cp = ch & 0x07;
		} else {
			fprintf(f, "\\x%02x", ch);
			p++;
			continue;
		}
		for (i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (i <= need || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			fprintf(f, "\\x%02x", ch);
			p++;
			continue;
		}
		if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || cp == 0xfffe ||
		    cp == 0xffff)
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(p, 1, need + 1, f);
		p += need + 1;
	}
	fputc('"', f);
}

/* A facility's name; "local0" (the default) for a value that is none. */
static const char *
facility_name(int value)
{
	for (size_t i = 0; i < NELEM(facility_values); i++)
		if (facility_values[i] == value)
			return facility_names[i];
	return "local0";
}

static void
dump_ports(FILE *f, const uint16_t *ports, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? ", " : "", ports[i]);
	fputc(']', f);
}

static void
dump_cidr(FILE *f, const struct bw_cidr *net)
{
	char buf[BW_ADDR_TEXT_MAX + 8];

	bw_cidr_format(net, buf);
	dump_str(f, buf);
}

static void
dump_cidr_list(FILE *f, const char *indent, const struct bw_cidr *nets, size_t n)
{
	if (n == 0) {
		fputs(" []\n", f);
		return;
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s- ", indent);
		dump_cidr(f, &nets[i]);
		fputc('\n', f);
	}
}

static void
dump_strings(FILE *f, char *const *s, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		dump_str(f, s[i]);
	}
	fputc(']', f);
}

static void
dump_match(FILE *f, const struct bw_config *c, const struct bw_match *m, const char *ind)
{
	if (m->protocols != 0) {
		int first = 1;
		fprintf(f, "%sprotocol: [", ind);
		for (size_t i = 0; i < c->nprotocols; i++) {
			if (!(m->protocols & (UINT64_C(1) << i)))
				continue;
			if (!first)
				fputs(", ", f);
			dump_str(f, c->protocols[i].name);
			first = 0;
		}
		fputs("]\n", f);
	}
	if (m->nports > 0) {
		fprintf(f, "%sport: ", ind);
		dump_ports(f, m->ports, m->nports);
		fputc('\n', f);
	}
	if (m->ndests > 0) {
		fprintf(f, "%sdestination: [", ind);
		for (size_t i = 0; i < m->ndests; i++) {
			if (i)
				fputs(", ", f);
			dump_cidr(f, &m->dests[i]);
		}
		fputs("]\n", f);
	}
	if (m->image != NULL) {
		fprintf(f, "%simage: ", ind);
		dump_str(f, m->image);
		fputc('\n', f);
	}
	if (m->nimage_paths > 0) {
		fprintf(f, "%simage_path: ", ind);
		dump_strings(f, m->image_paths, m->nimage_paths);
		fputc('\n', f);
	}
	if (m->image_deleted >= 0)
		fprintf(f, "%simage_deleted: %s\n", ind, m->image_deleted ? "true" : "false");
	if (m->nusers > 0) {
		fprintf(f, "%suser: ", ind);
		dump_strings(f, m->users, m->nusers);
		fputc('\n', f);
	}
}

void
bw_config_dump(const struct bw_config *c, FILE *f)
{
	char buf[64];
	int first;

	fputs("protocols:", f);
	if (c->nprotocols == 0)
		fputs(" {}", f);
	fputc('\n', f);
	for (size_t i = 0; i < c->nprotocols && i < BW_PROTO_MAX; i++) {
		fputs("  ", f);
		dump_str(f, c->protocols[i].name);
		fputs(": ", f);
		dump_ports(f, c->protocols[i].ports, c->protocols[i].nports);
		fputc('\n', f);
	}
	fputs("exclude_destinations:", f);
	dump_cidr_list(f, "  ", c->exclude, c->nexclude);
	fputs("home_net:", f);
	dump_cidr_list(f, "  ", c->home_net, c->nhome_net);
	fputs("inventory:", f);
	if (c->ninventory == 0)
		fputs(" {}", f);
	fputc('\n', f);
	for (size_t i = 0; i < c->ninventory; i++) {
		fputs("  ", f);
		dump_cidr(f, &c->inventory[i].net);
		fputs(": ", f);
		dump_str(f, c->inventory[i].name);
		fputc('\n', f);
	}
	fputs("rules:", f);
	if (c->nrules == 0)
		fputs(" []", f);
	fputc('\n', f);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct bw_rule *r = &c->rules[i];
		fputs("  - name: ", f);
		dump_str(f, r->name);
		fprintf(f, "\n    level: %s\n", bw_level_name(r->level));
		dump_match(f, c, &r->when, "    ");
		if (r->has_unless) {
			fputs("    unless:\n", f);
			dump_match(f, c, &r->unless, "      ");
		}
	}
	fputs("alert_levels: [", f);
	first = 1;
	for (int l = BW_LEVEL_COUNT - 1; l >= 0; l--) {
		if (c->alert_levels & (1u << l)) {
			fprintf(f, "%s%s", first ? "" : ", ", level_names[l]);
			first = 0;
		}
	}
	fputs("]\ngroup_by: [", f);
	for (size_t i = 0; i < c->ngroup_order && i < BW_GF_COUNT; i++)
		fprintf(f, "%s%s", i ? ", " : "",
		    c->group_order[i] < BW_GF_COUNT ? field_names[c->group_order[i]] : "?");
	fputs("]\n", f);
	format_duration(c->window_ns, buf, sizeof(buf));
	fprintf(f, "window: %s\n", buf);
	fprintf(f, "threshold: %" PRIu64 "\n", c->threshold);
	format_duration(c->realert_ns, buf, sizeof(buf));
	fprintf(f, "realert: %s\n", buf);
	fprintf(f, "max_groups: %zu\n", c->max_groups);
	fprintf(f, "max_events: %zu\n", c->max_events);
	fprintf(f, "outputs:\n  stdout: %s\n  json: ", c->out_stdout ? "true" : "false");
	dump_str(f, c->out_json ? c->out_json : "");
	fprintf(f, "\n  syslog:\n    enabled: %s\n    facility: ",
	    c->out_syslog ? "true" : "false");
	fputs(facility_name(c->syslog_facility), f);
	fputc('\n', f);
	fputs("capture:\n  interface: ", f);
	dump_str(f, c->cap_interface ? c->cap_interface : "");
	fprintf(f, "\n  snaplen: %zu\n  promiscuous: %s\n  buffer_mib: %zu\n"
	    "  immediate: %s\n  ring_size: %zu\n", c->cap_snaplen,
	    c->cap_promiscuous ? "true" : "false", c->cap_buffer_mib,
	    c->cap_immediate ? "true" : "false", c->ring_size);
	fputs("user: ", f);
	dump_str(f, c->user ? c->user : "");
	format_duration(c->stats_interval_ns, buf, sizeof(buf));
	fprintf(f, "\nstats:\n  interval: %s\n", buf);
	format_duration(c->attrib_budget_ns, buf, sizeof(buf));
	fprintf(f, "attribution:\n  mode: %s\n  budget: %s\n",
	    c->attrib_mode >= 0 && (size_t)c->attrib_mode < NELEM(attrib_modes) ?
	    attrib_modes[c->attrib_mode] : "auto", buf);
}
