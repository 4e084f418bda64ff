/*
 * config.h - brokerwatch.yaml: what is watched, how it is scored, grouped,
 * alerted and where alerts go.
 *
 * A struct bw_config is a plain value with owned heap parts: made by
 * bw_config_default or bw_config_load, given up by bw_config_free. Once
 * made it is only read (by any thread); a reload makes a new one. Its
 * defaults are exactly conf/brokerwatch.yaml, the reference LogScale query.
 */
#ifndef BW_CONFIG_H
#define BW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "brokerwatch/cidr.h"

#define BW_CONFIG_DEFAULT_PATH BW_SYSCONFDIR "/brokerwatch/brokerwatch.yaml"

#define BW_PROTO_MAX 32          /* protocols */
#define BW_PROTO_NAME_MAX 16     /* name bytes, NUL included */
#define BW_NAME_MAX 64           /* rule and inventory names, user names, NUL included */
#define BW_IMAGE_MAX 256         /* ImageFileName bytes kept, NUL included */
#define BW_RULE_MAX 1024
#define BW_INVENTORY_MAX 1000000

enum bw_level {
	BW_LEVEL_LOW = 0,
	BW_LEVEL_MEDIUM,
	BW_LEVEL_HIGH,
	BW_LEVEL_COUNT
};

/* "low", "medium", "high". */
const char *bw_level_name(enum bw_level l);

/* Fields a group key can hold (the query's groupBy), as bits of group_by. */
enum bw_group_field {
	BW_GF_COMPUTER = 1 << 0,   /* ComputerName */
	BW_GF_USER = 1 << 1,       /* UserName */
	BW_GF_IMAGE = 1 << 2,      /* ImageFileName */
	BW_GF_REMOTE = 1 << 3,     /* RemoteAddress (IPv4 or IPv6) */
	BW_GF_PORT = 1 << 4,       /* RemotePort */
	BW_GF_PROTOCOL = 1 << 5,   /* Protocol */
	BW_GF_SUSPICION = 1 << 6,  /* Suspicion */
};
#define BW_GF_COUNT 7

/* The field's name in group_by and in output ("ComputerName", ...). */
const char *bw_group_field_name(enum bw_group_field f);

struct bw_protocol {
	char name[BW_PROTO_NAME_MAX];
	uint16_t *ports;
	size_t nports;
};

/*
 * Conditions of a rule: each one given must match (an absent one matches
 * anything). A record without a process (span port, replay) has no image and
 * no user: image, image_path and user conditions do not match it.
 */
struct bw_match {
	uint64_t protocols;         /* bit i: protocol i; 0 = any */
	uint16_t *ports;            /* destination ports; none = any */
	size_t nports;
	struct bw_cidr *dests;      /* destination networks; none = any */
	size_t ndests;
	char *image;                /* PCRE2 pattern on ImageFileName, or NULL */
	void *image_re;             /* its compiled pcre2_code (owned) */
	char **image_paths;         /* exact ImageFileName values; none = any */
	size_t nimage_paths;
	int image_deleted;          /* 1: a deleted/memfd executable, 0: not, -1: any */
	char **users;               /* exact UserName values; none = any */
	size_t nusers;
};

struct bw_rule {
	char name[BW_NAME_MAX];
	struct bw_match when;
	struct bw_match unless;     /* matches nothing when it has no condition */
	int has_unless;
	enum bw_level level;
};

struct bw_inventory_entry {
	struct bw_cidr net;
	char name[BW_NAME_MAX];
};

struct bw_config {
	char *path;                         /* the file it came from; NULL: built in */

	struct bw_protocol protocols[BW_PROTO_MAX];
	size_t nprotocols;
	struct bw_cidr *exclude;            /* exclude_destinations */
	size_t nexclude;
	struct bw_cidr *home_net;           /* none = every source */
	size_t nhome_net;
	struct bw_inventory_entry *inventory;
	size_t ninventory;
	struct bw_rule *rules;
	size_t nrules;

	uint32_t alert_levels;              /* bit per enum bw_level */
	uint32_t group_by;                  /* enum bw_group_field bits */
	uint8_t group_order[BW_GF_COUNT];   /* the fields in the order given (bit index) */
	size_t ngroup_order;
	int64_t window_ns;
	uint64_t threshold;                 /* alert when ConnectionCount >= threshold */
	int64_t realert_ns;
	size_t max_groups;
	size_t max_events;

	int out_stdout;
	char *out_json;                     /* "" = none */
	int out_syslog;
	int syslog_facility;                /* LOG_LOCAL0 ... */

	/* the live sensor */
	char *cap_interface;                /* "" = none (-i gives it) */
	size_t cap_snaplen;                 /* bytes captured per packet */
	int cap_promiscuous;
	size_t cap_buffer_mib;              /* kernel buffer */
	int cap_immediate;                  /* deliver each packet at once */
	size_t ring_size;                   /* records between capture and scoring, power of two */
	char *user;                         /* run as after opening the capture; "" = as started */
	int64_t stats_interval_ns;          /* 0 = only at exit and on SIGUSR1 */
	int attrib_mode;                    /* enum bw_attrib_mode (attrib.h) */
	int64_t attrib_budget_ns;           /* longest /proc search per record */
};

/* Error messages of a load, each "file:line: key: message". */
struct bw_config_errors {
	char **msg;
	size_t n;
	size_t cap;
};

void bw_config_errors_free(struct bw_config_errors *e);

/*
 * The built-in configuration: conf/brokerwatch.yaml's values. Returns 0, or
 * -1 (logged) when memory runs out. [main]
 */
int bw_config_default(struct bw_config *c);

/*
 * Loads path: keys absent from the file keep their default. Every problem is
 * appended to errs (unknown keys, wrong types, bad networks, bad regexes,
 * ports out of range, unknown protocol or level names, ...), not just the
 * first. Returns 0 with *c filled, or -1 (then *c holds nothing to free and
 * errs says why; a file that cannot be read is one error). [main]
 */
int bw_config_load(const char *path, struct bw_config *c, struct bw_config_errors *errs);

/* Frees what *c owns and zeroes it; a zeroed config is allowed. */
void bw_config_free(struct bw_config *c);

/*
 * Writes the configuration as YAML that bw_config_load reads back to an
 * equal configuration: every key, fixed order, no comments. [any]
 */
void bw_config_dump(const struct bw_config *c, FILE *f);

#endif
