/*
 * stats.c - names and printing of the counters declared in stats.h.   [any thread]
 */
#include <string.h>

#include "brokerwatch/stats.h"

static const char *const stat_names[BW_STAT_COUNT] = {
#define BW_STAT_NAME_(c, n, d) n,
	BW_STATS_LIST(BW_STAT_NAME_)
#undef BW_STAT_NAME_
};

static const char *const stat_descriptions[BW_STAT_COUNT] = {
#define BW_STAT_DESC_(c, n, d) d,
	BW_STATS_LIST(BW_STAT_DESC_)
#undef BW_STAT_DESC_
};

const char *
bw_stats_name(enum bw_stat k)
{
	return (unsigned)k < BW_STAT_COUNT ? stat_names[k] : "?";
}

const char *
bw_stats_description(enum bw_stat k)
{
	return (unsigned)k < BW_STAT_COUNT ? stat_descriptions[k] : "?";
}

enum bw_stat
bw_stats_lookup(const char *name)
{
	for (int k = 0; k < BW_STAT_COUNT; k++)
		if (strcmp(stat_names[k], name) == 0)
			return (enum bw_stat)k;
	return BW_STAT_COUNT;
}

void
bw_stats_print_text(const struct bw_stats *st, FILE *f)
{
	for (int k = 0; k < BW_STAT_COUNT; k++)
		if (st->v[k] != 0)
			fprintf(f, "  %-20s %llu\n", stat_names[k], (unsigned long long)st->v[k]);
}

void
bw_stats_print_json(const struct bw_stats *st, FILE *f)
{
	fputc('{', f);
	for (int k = 0; k < BW_STAT_COUNT; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", stat_names[k],
		    (unsigned long long)st->v[k]);
	fputs("}\n", f);
}

void
bw_stats_publish(struct bw_stats_shared *dst, const struct bw_stats *src)
{
	for (int k = 0; k < BW_STAT_COUNT; k++)
		atomic_store_explicit(&dst->v[k], src->v[k], memory_order_relaxed);
}

void
bw_stats_collect(struct bw_stats *dst, const struct bw_stats_shared *src)
{
	for (int k = 0; k < BW_STAT_COUNT; k++)
		dst->v[k] += atomic_load_explicit(&src->v[k], memory_order_relaxed);
}

void
bw_stats_merge(struct bw_stats *dst, const struct bw_stats *src)
{
	for (int k = 0; k < BW_STAT_COUNT; k++)
		dst->v[k] += src->v[k];
}

void
bw_stats_format_line(const struct bw_stats *st, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int k = 0; k < BW_STAT_COUNT && n < len; k++) {
		if (st->v[k] == 0)
			continue;
		int r = snprintf(buf + n, len - n, "%s%s=%llu", n ? " " : "", stat_names[k],
		    (unsigned long long)st->v[k]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}
