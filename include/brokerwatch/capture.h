/*
 * capture.h - the capture thread: packets from a live interface or from
 * capture files, decoded and folded into connection records, pushed into
 * the ring for the scoring worker.
 *
 * Live, it never waits: when the ring is full a record is dropped and
 * counted (ring_dropped). Replaying files, it waits for room instead, so that
 * a replay never loses a record. It owns the pcap handle or the files, the
 * decoder and the fold table.
 */
#ifndef BW_CAPTURE_H
#define BW_CAPTURE_H

#include <stdint.h>

#include "brokerwatch/config.h"
#include "brokerwatch/decode.h"
#include "brokerwatch/ring.h"
#include "brokerwatch/stats.h"

struct bw_capture;

struct bw_capture_opts {
	const char *const *files;      /* replay: these, in order ("-" is standard input) */
	size_t nfiles;
	const char *interface;         /* live: this interface ("any" for all) */
	const struct bw_config *cfg;   /* capture settings and watched ports (read at open) */
	struct bw_decoder_config decoder;
	size_t conn_max;
	int64_t conn_fold_ns;
	struct bw_ring *ring;
	int wake_fd;                   /* eventfd: written when records were pushed */
	struct bw_stats_shared *pub;   /* where its counters are published */
};

/*
 * Prepares the capture: live, opens and activates the interface with the
 * configured snaplen, promiscuous mode, buffer and immediate mode, and sets
 * the kernel filter (needs the privileges the caller is about to drop).
 * NULL with the reason logged. [main]
 */
struct bw_capture *bw_capture_open(const struct bw_capture_opts *o);

/* Starts the thread. 0, or -1 (logged). [main] */
int bw_capture_start(struct bw_capture *c, void (*done)(void *), void *arg);

/*
 * Asks the thread to stop: it finishes the packet at hand, pushes what it
 * has decoded and calls done. Async-signal-unsafe; any thread. [main]
 */
void bw_capture_stop(struct bw_capture *c);

/* Hands a new filter expression to the thread (it takes ownership). [main] */
void bw_capture_set_filter(struct bw_capture *c, char *expr);

/* The live link type (a DLT_ value): the filter depends on it. [main] */
int bw_capture_dlt(const struct bw_capture *c);

/* Waits for the thread (after bw_capture_stop or the end of the files). [main] */
void bw_capture_join(struct bw_capture *c);

/* Waits for the thread and frees everything; NULL is allowed. [main] */
void bw_capture_close(struct bw_capture *c);

/* After the thread ended: its counters, the latest packet time, the exit status of the input. */
const struct bw_stats *bw_capture_stats(const struct bw_capture *c);
int bw_capture_latest(const struct bw_capture *c, int64_t *ts_ns);
int bw_capture_status(const struct bw_capture *c);

/* A counter that grows while the thread runs (watchdog). [any thread] */
uint64_t bw_capture_heartbeat(const struct bw_capture *c);

/* The interface's link type name and the filter, for the readiness message. [main] */
const char *bw_capture_describe(const struct bw_capture *c);

#endif
